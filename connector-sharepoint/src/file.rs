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
        #[cfg(feature = "extract")]
        let limit = connector_extract::Extractor::default().download_cap();
        #[cfg(not(feature = "extract"))]
        let limit = 0;
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
        extracted = Some(bytes.clone());
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
    #[cfg(feature = "extract")]
    if let Some(bytes) = extracted {
        let extractor = connector_extract::Extractor::default();
        if let Err(e) = extractor
            .file_into(&mut doc, &bytes, &name, mime.as_deref())
            .await
        {
            return failure(format!("{folder}/{name}: {e}"));
        }
    }
    #[cfg(not(feature = "extract"))]
    let _ = extracted;
    if truncated {
        doc.metadata.insert(
            "truncated".into(),
            MetadataValue::Many(vec!["permissions".into()]),
        );
    }
    Ok(Item::from(doc))
}

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
