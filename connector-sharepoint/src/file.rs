//! One file of a library → its document: the text of text-like files, the
//! bytes of others when asked for, and its permissions when they are read.

use connector_core::paging::collect_capped;
use connector_core::{
    Access, DocumentFailure, Error, ErrorKind, Item, MetadataValue, Result, SlimDocument,
};

use crate::client::GraphClient;
use crate::convert::{self, Body, Library, access_from_permissions, file_document, is_text};
use crate::model::DriveItem;
use crate::sites::Ctx;

/// Permission records read per item at most; more are cut and the
/// document says so (`truncated: ["permissions"]`).
const MAX_PERMISSIONS: usize = 5_000;

/// One file → a document, or a per-document failure; `Err` only when the
/// whole source failed.
pub(crate) async fn file_item(
    ctx: &Ctx,
    library: &Library,
    folder: &str,
    item: &DriveItem,
) -> Result<Item> {
    let id = convert::file_id(&library.drive_id, &item.id);
    let name = item.name.clone().unwrap_or_default();
    let mime = item.file.as_ref().and_then(|f| f.mime_type.clone());
    let config = &ctx.config;
    let text = is_text(&name, mime.as_deref());
    let extract = !text && extracts(config.extract, &name, mime.as_deref());
    let attachment_cap = config.options.attachment_max_bytes;
    let needs_requests = text || extract || attachment_cap.is_some() || config.permissions;
    let _permit = if needs_requests {
        Some(ctx.downloads.acquire().await.map_err(|e| {
            Error::new(ErrorKind::Cancelled, "the sync is shutting down").with_source(e)
        })?)
    } else {
        None
    };
    let failure = |why: String| Ok(Item::Failure(DocumentFailure::new(id.clone(), why)));
    let mut extracted = None;
    let body = if extract {
        let limit = extract_limit();
        if let Some(size) = item.size.filter(|s| *s > limit) {
            return failure(format!(
                "{folder}/{name}: {size} bytes is over the {limit}-byte extraction cap; set `extract` to false or leave the folder out"
            ));
        }
        let bytes = match ctx.client.content(&library.drive_id, &item.id, limit).await {
            Ok(bytes) => bytes,
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => return failure(format!("{folder}/{name}: could not read the file: {e}")),
        };
        match extract_text(&bytes, &name, mime.as_deref()).await {
            Ok(text) => extracted = text,
            Err(why) => return failure(format!("{folder}/{name}: {why}")),
        }
        let keep = attachment_cap.is_some_and(|cap| bytes.len() as u64 <= cap);
        Body::Attachment(keep.then_some(bytes))
    } else if text {
        if let Some(size) = item.size.filter(|s| *s > config.max_text_bytes) {
            return failure(format!(
                "{folder}/{name}: text file of {size} bytes is over the {}-byte limit (max_text_bytes)",
                config.max_text_bytes
            ));
        }
        match ctx
            .client
            .content(&library.drive_id, &item.id, config.max_text_bytes)
            .await
        {
            Ok(bytes) => Body::Text(convert::file_text(&name, mime.as_deref(), &bytes)),
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => return failure(format!("{folder}/{name}: could not read the file: {e}")),
        }
    } else {
        match attachment_cap.filter(|cap| item.size.unwrap_or(0) <= *cap) {
            Some(cap) => match ctx.client.content(&library.drive_id, &item.id, cap).await {
                Ok(bytes) => Body::Attachment(Some(bytes)),
                Err(e) if e.ends_stream() => return Err(e),
                Err(e) => {
                    return failure(format!("{folder}/{name}: could not download the file: {e}"));
                }
            },
            None => Body::Attachment(None),
        }
    };
    let (access, truncated) = if config.permissions {
        match permissions(&ctx.client, &library.drive_id, &item.id).await {
            Ok((access, truncated)) => (Some(access), truncated),
            Err(e) if e.ends_stream() => return Err(e),
            Err(e) => {
                return failure(format!(
                    "{folder}/{name}: could not read its permissions: {e}"
                ));
            }
        }
    } else {
        (None, false)
    };
    let mut doc = file_document(library, folder, item, body, access);
    fill(&mut doc, extracted);
    if truncated {
        doc.metadata.insert(
            "truncated".into(),
            MetadataValue::Many(vec!["permissions".into()]),
        );
    }
    Ok(Item::from(doc))
}

#[cfg(feature = "extract")]
type Extracted = connector_extract::Extracted;
#[cfg(not(feature = "extract"))]
type Extracted = std::convert::Infallible;

/// Whether a file goes through text extraction: asked for, and a format
/// the extraction crate reads.
fn extracts(on: bool, name: &str, mime: Option<&str>) -> bool {
    #[cfg(feature = "extract")]
    return on && connector_extract::Extractor::supports(name, mime);
    #[cfg(not(feature = "extract"))]
    {
        let _ = (on, name, mime);
        false
    }
}

/// The largest file downloaded for extraction.
fn extract_limit() -> u64 {
    #[cfg(feature = "extract")]
    return connector_extract::ExtractOptions::default().max_input_bytes;
    #[cfg(not(feature = "extract"))]
    0
}

/// The file's text, on the blocking pool within the time budget; the
/// reason when it cannot be read.
async fn extract_text(
    bytes: &[u8],
    name: &str,
    mime: Option<&str>,
) -> std::result::Result<Option<Extracted>, String> {
    #[cfg(feature = "extract")]
    return connector_extract::Extractor::default()
        .extract(bytes.to_vec(), name, mime)
        .await
        .map(Some)
        .map_err(|e| e.to_string());
    #[cfg(not(feature = "extract"))]
    {
        let _ = (bytes, name, mime);
        Ok(None)
    }
}

/// Sections, authors and extraction metadata into the file's document.
fn fill(doc: &mut connector_core::Document, extracted: Option<Extracted>) {
    #[cfg(feature = "extract")]
    if let Some(extracted) = extracted {
        let link = doc.url.clone();
        extracted.fill(doc, link.as_deref());
    }
    #[cfg(not(feature = "extract"))]
    let _ = (doc, extracted);
}

/// Who may see an item, and whether its permission list was cut at
/// [`MAX_PERMISSIONS`]. A permission record that does not decode fails the
/// item: dropping it would state less access than there is.
pub(crate) async fn permissions(
    client: &GraphClient,
    drive_id: &str,
    item_id: &str,
) -> Result<(Access, bool)> {
    let listing = client.permissions(drive_id, item_id)?;
    let capped = collect_capped(listing, MAX_PERMISSIONS).await?;
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
    Ok((access_from_permissions(&records), capped.truncated))
}

/// The slim entry of a file: its id, and its access when permissions are read.
pub(crate) async fn slim_file(ctx: &Ctx, drive_id: &str, item_id: &str) -> Result<SlimDocument> {
    let mut slim = SlimDocument::new(convert::file_id(drive_id, item_id));
    if ctx.config.permissions {
        match permissions(&ctx.client, drive_id, item_id).await {
            Ok((access, _)) => slim.access = Some(access),
            Err(e) if e.ends_stream() => return Err(e),
            // The id still counts as present; access stays unknown.
            Err(e) => tracing::debug!(error = %e, "permissions unreadable"),
        }
    }
    Ok(slim)
}
