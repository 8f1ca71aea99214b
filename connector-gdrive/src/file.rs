//! One file → its document: shortcuts resolved to their target, Google
//! Workspace files exported, other files downloaded within the caps and
//! passed to the extraction crate, permissions read into access.

use std::sync::Arc;

use connector_core::paging::collect_capped;
use connector_core::{Access, DocumentFailure, Error, ErrorKind, Item, MetadataValue, Result};
use tokio::sync::Semaphore;

use crate::client::DriveClient;
use crate::config::GoogleDriveConfig;
use crate::convert::{self, Content};
use crate::model::{FOLDER, File, SHORTCUT};

/// Permission records read per file at most; more are cut and the
/// document says so (`truncated: ["permissions"]`).
const MAX_PERMISSIONS: usize = 5_000;

/// Drive's export limit: larger exports fail with `exportSizeLimitExceeded`.
const EXPORT_LIMIT: u64 = 10 * 1024 * 1024;

/// What reading a file needs.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub client: DriveClient,
    pub config: GoogleDriveConfig,
    /// Bounds the files read at once across the stream.
    pub reads: Semaphore,
}

impl Ctx {
    pub fn new(client: DriveClient, config: GoogleDriveConfig) -> Arc<Self> {
        let concurrency = config
            .options
            .concurrency_or(crate::config::DEFAULT_CONCURRENCY);
        Arc::new(Self {
            client,
            config,
            reads: Semaphore::new(concurrency),
        })
    }
}

/// `file` → a document, a deletion (a shortcut whose target is gone) or a
/// per-document failure; `Err` only when the whole source failed.
pub(crate) async fn file_item(ctx: &Ctx, file: File) -> Result<Item> {
    let _permit = ctx.reads.acquire().await.map_err(|e| {
        Error::new(ErrorKind::Cancelled, "the sync is shutting down").with_source(e)
    })?;
    let id = file.id.clone();
    let failure = |why: String| Ok(Item::Failure(DocumentFailure::new(id.clone(), why)));
    let name = file.name.clone().unwrap_or_else(|| file.id.clone());
    let (file, shortcut) = if file.mime() == SHORTCUT {
        let Some(details) = &file.shortcut_details else {
            return failure(format!("shortcut {name} names no target"));
        };
        // A shortcut to a folder is not a document.
        if details.target_mime_type.as_deref() == Some(FOLDER) {
            return Ok(Item::Deleted(id));
        }
        let target = details.target_id.clone();
        match ctx.client.file(&target).await {
            Ok(t) if t.trashed => return Ok(Item::Deleted(id)),
            // A shortcut to a folder is not a document.
            Ok(t) if t.is_folder() => return Ok(Item::Deleted(id)),
            Ok(t) => (t, Some(file)),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Item::Deleted(id)),
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => return failure(format!("shortcut {name}: cannot read its target: {e}")),
        }
    } else {
        (file, None)
    };
    let (access, truncated) = if ctx.config.permissions {
        match permissions(&ctx.client, &file).await {
            Ok(found) => (Some(found.0), found.1),
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => return failure(format!("{name}: could not read its permissions: {e}")),
        }
    } else {
        (None, false)
    };
    let mut doc = convert::document(&id, &file, access);
    if let Some(shortcut) = &shortcut {
        doc.title = shortcut.name.clone().unwrap_or(doc.title);
        doc.metadata.insert(
            "shortcut_target".into(),
            MetadataValue::from(file.id.as_str()),
        );
    }
    if truncated {
        doc.metadata.insert(
            "truncated".into(),
            MetadataValue::Many(vec!["permissions".into()]),
        );
    }
    let config = &ctx.config;
    let content = convert::content_of(&file, config.docs_format.mime(), config.extract);
    let read = |e: Error, verb: &str| -> Result<Item> {
        if e.ends_stream() {
            return Err(e);
        }
        if e.message().contains("too large to be exported")
            || e.message().contains("exportSizeLimitExceeded")
        {
            return failure(format!(
                "{name}: Drive exports at most 10 MB and this file is larger (exportSizeLimitExceeded)"
            ));
        }
        failure(format!("{name}: could not {verb} the file: {e}"))
    };
    match content {
        Content::ExportText(mime) => {
            let cap = config.max_text_bytes.min(EXPORT_LIMIT);
            match ctx.client.export(&file.id, mime, cap).await {
                Ok(bytes) => convert::text_body(&mut doc, &String::from_utf8_lossy(&bytes)),
                Err(e) => return read(e, "export"),
            }
            doc.metadata
                .insert("exported_as".into(), MetadataValue::from(mime));
        }
        Content::ExportExtract(mime) => {
            let bytes = match ctx.client.export(&file.id, mime, EXPORT_LIMIT).await {
                Ok(bytes) => bytes,
                Err(e) => return read(e, "export"),
            };
            doc.metadata
                .insert("exported_as".into(), MetadataValue::from(mime));
            if let Err(e) = extract(&mut doc, &bytes, &format!("{name}.xlsx"), Some(mime)).await {
                return failure(format!("{name}: {e}"));
            }
        }
        Content::DownloadText => {
            if let Some(size) = file.size.filter(|s| *s > config.max_text_bytes) {
                return failure(format!(
                    "{name}: text file of {size} bytes is over the {}-byte limit (max_text_bytes)",
                    config.max_text_bytes
                ));
            }
            match ctx.client.download(&file.id, config.max_text_bytes).await {
                Ok(bytes) => convert::text_body(&mut doc, &String::from_utf8_lossy(&bytes)),
                Err(e) => return read(e, "download"),
            }
        }
        Content::DownloadExtract => {
            let cap = extract_cap();
            if let Some(size) = file.size.filter(|s| *s > cap) {
                return failure(format!(
                    "{name}: {size} bytes is over the {cap}-byte extraction cap; set `extract` to false or leave the file out"
                ));
            }
            let bytes = match ctx.client.download(&file.id, cap).await {
                Ok(bytes) => bytes,
                Err(e) => return read(e, "download"),
            };
            if let Err(e) = extract(&mut doc, &bytes, &name, file.mime_type.as_deref()).await {
                return failure(format!("{name}: {e}"));
            }
        }
        Content::Attachment => {
            let bytes = match config
                .options
                .attachment_max_bytes
                .filter(|cap| file.size.unwrap_or(0) <= *cap)
            {
                Some(cap) => match ctx.client.download(&file.id, cap).await {
                    Ok(bytes) => Some(bytes),
                    Err(e) => return read(e, "download"),
                },
                None => None,
            };
            convert::attachment(&mut doc, &file, bytes);
        }
        Content::None => {}
    }
    Ok(Item::from(doc))
}

fn extract_cap() -> u64 {
    #[cfg(feature = "extract")]
    return connector_extract::Extractor::default().download_cap();
    #[cfg(not(feature = "extract"))]
    0
}

#[cfg(feature = "extract")]
async fn extract(
    doc: &mut connector_core::Document,
    bytes: &[u8],
    name: &str,
    mime: Option<&str>,
) -> Result<()> {
    connector_extract::Extractor::default()
        .file_into(doc, bytes, name, mime)
        .await
}

#[cfg(not(feature = "extract"))]
async fn extract(
    _doc: &mut connector_core::Document,
    _bytes: &[u8],
    _name: &str,
    _mime: Option<&str>,
) -> Result<()> {
    Err(Error::new(
        ErrorKind::Other,
        "this build has no extraction (feature `extract`)",
    ))
}

/// Who may see `file`, and whether its permission list was cut. The
/// permissions in the file resource when Drive gave them (My Drive files
/// the user may share), else `permissions.list`. A permission record that
/// does not decode fails the file: dropping it would state less access
/// than there is.
pub(crate) async fn permissions(client: &DriveClient, file: &File) -> Result<(Access, bool)> {
    if let Some(inline) = &file.permissions {
        return Ok((convert::access_of(inline), false));
    }
    let capped = collect_capped(client.permissions(&file.id)?, MAX_PERMISSIONS).await?;
    let mut records = Vec::with_capacity(capped.items.len());
    for record in capped.items {
        records.push(record.map_err(|bad| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "permission {} is not in the expected shape: {}",
                    bad.id(),
                    bad.reason
                ),
            )
        })?);
    }
    Ok((convert::access_of(&records), capped.truncated))
}
