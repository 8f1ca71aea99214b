//! [`GraphClient`]: the Microsoft Graph calls the connector makes, over the
//! core HTTP layer (app-only token, adaptive rate, retry on 429/503 with
//! `Retry-After`, redirects that drop `Authorization` on another host), and
//! every listing as a core [`Pager`] stream.

use std::sync::Arc;

use connector_core::credentials::{ClientAuth, ClientCredentials, SharedCredentials};
use connector_core::http::HttpClient;
use connector_core::paging::{Page, PageCursor, PageStream, Pager};
use connector_core::url::{Url, segment, without_query};
use connector_core::{Error, ErrorKind, Result};
use reqwest::header::{HeaderName, HeaderValue};
use serde::de::DeserializeOwned;

use crate::config::{DEFAULT_RATE, SharePointConfig, site_path};
use crate::model::{
    Drive, DriveItem, Envelope, IdOnly, Keyed, Permission, Record, Site, SitePage, decode,
    record_key,
};

/// What a delta request asks for when permissions are read: items whose
/// sharing changed come back marked `@microsoft.graph.sharedChanged`
/// (which Graph only offers together with the first two), and sharing
/// information only where a permission hierarchy starts.
const PREFER_SHARING: &str = "deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges, hierarchicalsharing";

/// The Graph calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct GraphClient {
    http: HttpClient,
    /// Ask delta for sharing changes (permissions are read).
    sharing: bool,
}

/// Where a delta read starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeltaStart {
    /// From scratch (`since: None`), or the changes since an instant
    /// (`?token=<timestamp>`).
    Fresh {
        /// The drive.
        drive_id: String,
        /// Changes since this instant.
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A stored `@odata.nextLink` or `@odata.deltaLink`.
    Link(String),
}

/// One delta answer: its items, and on the last page of a round the
/// `@odata.deltaLink` where the next round starts.
#[derive(Debug)]
pub(crate) struct DeltaPage {
    /// The changed items.
    pub items: Vec<Record<DriveItem>>,
    /// Set on the last page.
    pub delta_link: Option<String>,
}

impl GraphClient {
    /// A client for `config` (validated) with `credentials`; `None` takes
    /// the client secret of the configuration.
    pub fn new(config: &SharePointConfig, credentials: Option<SharedCredentials>) -> Result<Self> {
        let credentials = match credentials {
            Some(c) => c,
            None => client_secret(config)?,
        };
        let http = HttpClient::builder("sharepoint", config.graph_url.as_str())
            .shared_credentials(credentials)
            .options(&config.options, DEFAULT_RATE)
            .build()?;
        Ok(Self {
            http,
            sharing: config.permissions,
        })
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The site at `url` (`GET /sites/{host}:{path}`; the root site is
    /// `GET /sites/{host}`). Host and path come from the configuration,
    /// already in URL form.
    pub async fn site_by_url(&self, url: &str) -> Result<Site> {
        let (host, path) = site_path(url)?;
        let request = if path == "/" {
            format!("/sites/{host}")
        } else {
            format!("/sites/{host}:{path}")
        };
        self.http
            .get(&request)
            .query(&[("$select", "id,name,displayName,webUrl")])
            .fetch_json()
            .await
            .map_err(|e| explain(e, &format!("site {url}")))
    }

    /// Sites the app can see (`GET /sites?search=*`).
    pub fn sites(&self) -> PageStream<Record<Site>> {
        self.listing(
            "the site list".into(),
            "/sites".into(),
            vec![("search", "*"), ("$select", "id,name,displayName,webUrl")],
            0,
        )
    }

    /// The document libraries of a site (`GET /sites/{id}/drives`).
    pub fn drives(&self, site: &Site) -> Result<PageStream<Record<Drive>>> {
        Ok(self.listing(
            format!("the libraries of site {}", site.label()),
            format!("/sites/{}/drives", segment(&site.id)?),
            vec![("$select", "id,name,driveType,webUrl")],
            0,
        ))
    }

    /// A site's modern pages with their layout
    /// (`GET /sites/{id}/pages/microsoft.graph.sitePage?$expand=canvasLayout`).
    pub fn pages(&self, site: &Site) -> Result<PageStream<Record<SitePage>>> {
        self.site_pages(site, ("$expand", "canvasLayout"))
    }

    /// A site's page ids only.
    pub fn page_ids(&self, site: &Site) -> Result<PageStream<Record<IdOnly>>> {
        self.site_pages(site, ("$select", "id"))
    }

    fn site_pages<T: DeserializeOwned + Keyed + Send + 'static>(
        &self,
        site: &Site,
        query: (&'static str, &'static str),
    ) -> Result<PageStream<Record<T>>> {
        Ok(self.listing(
            format!("the pages of site {}", site.label()),
            format!(
                "/sites/{}/pages/microsoft.graph.sitePage",
                segment(&site.id)?
            ),
            vec![query],
            1,
        ))
    }

    /// The permissions of an item (`GET /drives/{d}/items/{i}/permissions`).
    pub fn permissions(
        &self,
        drive_id: &str,
        item_id: &str,
    ) -> Result<PageStream<Record<Permission>>> {
        Ok(self.listing(
            format!("the permissions of item {item_id}"),
            format!(
                "/drives/{}/items/{}/permissions",
                segment(drive_id)?,
                segment(item_id)?
            ),
            Vec::new(),
            // One page nearly always: no task to fetch ahead.
            0,
        ))
    }

    /// Every page of a collection, following `@odata.nextLink` (absent on
    /// the last page); a page without `value` is a decode error.
    fn listing<T: DeserializeOwned + Keyed + Send + 'static>(
        &self,
        what: String,
        path: String,
        query: Vec<(&'static str, &'static str)>,
        read_ahead: usize,
    ) -> PageStream<Record<T>> {
        let client = self.clone();
        Pager::new(what)
            .read_ahead(read_ahead)
            .ids(record_key)
            .pages(None, move |cursor| {
                let (client, path, query) = (client.clone(), path.clone(), query.clone());
                async move {
                    let url = match cursor {
                        Some(PageCursor::Url(next)) => next,
                        _ => {
                            let mut url = client.http.url(&path)?;
                            url.query_pairs_mut().extend_pairs(&query);
                            url.to_string()
                        }
                    };
                    let page = client.envelope(&url, false).await?;
                    Ok(Page::new(
                        page.value.iter().map(|raw| decode(raw)).collect(),
                        page.next_link.map(PageCursor::Url),
                    ))
                }
            })
    }

    /// One collection answer at `url`. The body is read as text (invalid
    /// UTF-8 replaced, echoed credentials cut) and its items kept raw, so
    /// nothing in one record can fail the page.
    async fn envelope(&self, url: &str, delta: bool) -> Result<Envelope> {
        let mut request = self.http.get(url);
        if delta && self.sharing {
            request = request.header(
                HeaderName::from_static("prefer"),
                HeaderValue::from_static(PREFER_SHARING),
            );
        }
        let body = request.fetch_text().await?;
        serde_json::from_str(&body).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("the response is not the JSON expected: {e}"),
            )
            .with_request("GET", &shown(url))
        })
    }

    /// The pages of one round of a drive's delta from `start`: the first
    /// (`GET /drives/{id}/root/delta`, or `?token=<timestamp>` for changes
    /// since then), or a stored `@odata.nextLink` / `@odata.deltaLink`.
    /// An answer without `value`, or with neither link, is a decode error
    /// naming the request: never an empty or a final page.
    pub fn delta(&self, what: String, start: DeltaStart) -> Result<PageStream<DeltaPage>> {
        let (first, fresh) = match start {
            DeltaStart::Link(link) => (Some(PageCursor::Url(link)), None),
            DeltaStart::Fresh { drive_id, since } => {
                let mut url = self
                    .http
                    .url(&format!("/drives/{}/root/delta", segment(&drive_id)?))?;
                if let Some(t) = since {
                    url.query_pairs_mut().append_pair(
                        "token",
                        &t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    );
                }
                (None, Some(url.to_string()))
            }
        };
        let client = self.clone();
        let fresh: Arc<str> = fresh.unwrap_or_default().into();
        Ok(Pager::new(what)
            .ids(|page: &DeltaPage| {
                let ids: Vec<String> = page.items.iter().filter_map(record_key).collect();
                (!ids.is_empty()).then(|| ids.join("\n"))
            })
            .pages(first, move |cursor| {
                let client = client.clone();
                let url = match cursor {
                    Some(PageCursor::Url(link)) => link,
                    _ => fresh.to_string(),
                };
                async move { client.delta_page(&url).await }
            }))
    }

    async fn delta_page(&self, url: &str) -> Result<Page<DeltaPage>> {
        let answer = self.envelope(url, true).await?;
        let items: Vec<Record<DriveItem>> = answer.value.iter().map(|raw| decode(raw)).collect();
        match (answer.next_link, answer.delta_link) {
            (Some(next), _) if items.is_empty() => {
                Ok(Page::new(Vec::new(), Some(PageCursor::Url(next))))
            }
            (Some(next), _) => Ok(Page::new(
                vec![DeltaPage {
                    items,
                    delta_link: None,
                }],
                Some(PageCursor::Url(next)),
            )),
            (None, Some(delta_link)) => Ok(Page::last(vec![DeltaPage {
                items,
                delta_link: Some(delta_link),
            }])),
            (None, None) => Err(Error::new(
                ErrorKind::Decode,
                "the delta answer has neither @odata.nextLink nor @odata.deltaLink",
            )
            .with_request("GET", &shown(url))),
        }
    }

    /// One item's metadata (`GET /drives/{d}/items/{i}`): to learn a
    /// folder's path when a delta page did not say it.
    pub async fn item(&self, drive_id: &str, item_id: &str) -> Result<DriveItem> {
        self.http
            .get(&format!(
                "/drives/{}/items/{}",
                segment(drive_id)?,
                segment(item_id)?
            ))
            .query(&[("$select", "id,name,parentReference,root,folder")])
            .fetch_json()
            .await
    }

    /// A file's bytes (`GET /drives/{d}/items/{i}/content`, which redirects
    /// to a pre-authenticated URL on another host: the token stays behind),
    /// refused when over `cap` bytes.
    pub async fn content(&self, drive_id: &str, item_id: &str, cap: u64) -> Result<Vec<u8>> {
        let response = self
            .http
            .get(&format!(
                "/drives/{}/items/{}/content",
                segment(drive_id)?,
                segment(item_id)?
            ))
            .send()
            .await?;
        Ok(response.bytes_capped(cap).await?.to_vec())
    }
}

/// What errors may show of a URL: no query (a token or signature may be in it).
fn shown(url: &str) -> String {
    Url::parse(url).map_or_else(
        |_| "a link the server gave".to_owned(),
        |u| without_query(&u),
    )
}

/// The built-in sign-in: the configuration's client id and secret.
fn client_secret(config: &SharePointConfig) -> Result<SharedCredentials> {
    let app = config.credentials.as_ref().ok_or_else(|| {
        Error::config(
            "credentials is missing: give the app registration's client_id and client_secret",
        )
    })?;
    let provider = ClientCredentials::new(
        &config.token_url(),
        app.client_id.clone(),
        app.client_secret.clone(),
    )
    .map_err(|e| e.context("credentials"))?
    .scopes([config.scope.clone()])
    .client_auth(ClientAuth::RequestBody);
    Ok(Arc::new(provider))
}

/// Whether Graph says a delta token is no longer usable: `410 Gone`, or
/// the `resyncRequired` error codes.
pub(crate) fn is_resync(e: &Error) -> bool {
    e.status() == Some(410)
        || e.message().contains("resyncRequired")
        || e.message().contains("resyncChangesApplyDifferences")
        || e.message().contains("resyncChangesUploadDifferences")
}

/// One clear line for the failures a person can fix.
pub(crate) fn explain(e: Error, what: &str) -> Error {
    let e = one_line(e);
    match e.kind() {
        ErrorKind::Auth => e.context(
            "Microsoft Entra ID refused the app's credentials (check tenant, credentials.client_id and credentials.client_secret)",
        ),
        ErrorKind::Forbidden => e.context(format!(
            "the app may not read {what} (grant Sites.Read.All and Files.Read.All application permissions with admin consent, or Sites.Selected with access to this site)"
        )),
        ErrorKind::NotFound => e.context(format!("{what} does not exist or is not visible to the app")),
        _ => e,
    }
}

/// The same error with line breaks in its message folded into spaces
/// (Entra ID error descriptions carry `\r\n`-separated trace ids).
fn one_line(e: Error) -> Error {
    if !e.to_string().contains(['\n', '\r']) {
        return e;
    }
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    // Display is `kind: message (request): source`: keep all but the kind.
    let shown = e.to_string();
    let message = shown
        .strip_prefix(&format!("{}: ", e.kind()))
        .unwrap_or(&shown);
    let mut out = Error::new(e.kind(), flat(message));
    if let Some(status) = e.status() {
        out = out.with_status(status);
    }
    if let Some(wait) = e.retry_after() {
        out = out.with_retry_after(wait);
    }
    out
}
