//! What a sync reads and how: the [`Ctx`] every part shares, and a
//! configured site resolved to its libraries.

use std::sync::Arc;

use connector_core::paging::PageStream;
use connector_core::{DocumentFailure, Error, ErrorKind, Result, TimeWindow};
use futures::StreamExt;

use crate::client::{GraphClient, explain};
use crate::config::{DEFAULT_CONCURRENCY, SharePointConfig};
use crate::convert::Library;
use crate::model::{Drive, Site};

/// What one stream reads and how.
pub(crate) struct Ctx {
    pub client: GraphClient,
    /// The validated configuration.
    pub config: SharePointConfig,
    pub window: TimeWindow,
    /// Files whose document needs requests, at most this many at once.
    pub downloads: tokio::sync::Semaphore,
    pub concurrency: usize,
}

impl Ctx {
    pub fn new(client: GraphClient, config: SharePointConfig, window: TimeWindow) -> Arc<Self> {
        let concurrency = config.options.concurrency_or(DEFAULT_CONCURRENCY);
        Arc::new(Self {
            client,
            config,
            window,
            downloads: tokio::sync::Semaphore::new(concurrency),
            concurrency,
        })
    }
}

/// A configured site: the site, its libraries in scope, and a failure for
/// each library record that does not decode.
pub(crate) struct SiteLibraries {
    pub site: Site,
    pub libraries: Vec<Library>,
    pub failures: Vec<DocumentFailure>,
}

/// Resolve a site URL and pick its libraries. A library named in the
/// configuration that the site does not have is a `NotFound` error.
pub(crate) async fn site_libraries(ctx: &Ctx, url: &str) -> Result<SiteLibraries> {
    let site = ctx.client.site_by_url(url).await?;
    let listing = ctx.client.drives(&site)?;
    let records = collect(listing)
        .await
        .map_err(|e| explain(e, &format!("the libraries of site {}", site.label())))?;
    let mut drives = Vec::new();
    let mut failures = Vec::new();
    for record in records {
        match record {
            Ok(drive) => drives.push(drive),
            Err(bad) => failures.push(DocumentFailure::new(
                format!("sites/{}/drives/{}", site.id, bad.id()),
                format!(
                    "a library of site {} is not in the expected shape: {}",
                    site.label(),
                    bad.reason
                ),
            )),
        }
    }
    let libraries = pick_libraries(&ctx.config, &site, drives)?;
    Ok(SiteLibraries {
        site,
        libraries,
        failures,
    })
}

/// Every item of a listing (bounded by the pager's page cap).
pub(crate) async fn collect<T: Send + 'static>(mut pages: PageStream<T>) -> Result<Vec<T>> {
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.extend(page?.items);
    }
    Ok(out)
}

fn pick_libraries(
    config: &SharePointConfig,
    site: &Site,
    drives: Vec<Drive>,
) -> Result<Vec<Library>> {
    let named = |d: &Drive, wanted: &str| {
        d.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(wanted.trim()))
    };
    for wanted in &config.libraries {
        if !drives.iter().any(|d| named(d, wanted)) {
            let names: Vec<String> = drives.iter().map(Drive::label).collect();
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "library {wanted:?} does not exist in site {} (libraries: {})",
                    site.label(),
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(drives
        .into_iter()
        .filter(|d| config.libraries.is_empty() || config.libraries.iter().any(|w| named(d, w)))
        .map(|d| Library {
            name: d.label(),
            drive_id: d.id,
            site: site.clone(),
        })
        .collect())
}
