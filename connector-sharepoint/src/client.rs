//! [`GraphClient`]: the Microsoft Graph calls the connector makes, over the
//! core HTTP layer (app-only token, quota, retry on 429/503 with
//! `Retry-After`, redirects that drop `Authorization` on another host).

use std::fmt;
use std::sync::Arc;

use secrecy::SecretString;

use connector_core::credentials::{ClientAuth, ClientCredentials, SharedCredentials};
use connector_core::http::HttpClient;
use connector_core::paging::{Page, PageCursor, Pager};
use connector_core::rate::RateLimit;
use connector_core::{Error, ErrorKind, Result};
use futures::StreamExt;

use crate::config::{SharePointConfig, site_path};
use crate::model::{Collection, Drive, DriveItem, Permission, Site, SitePage};

/// Pages of a site, drive or permission listing at most.
const MAX_LISTING_PAGES: u64 = 100_000;

/// How the connector signs in to Microsoft Entra ID: app-only (client
/// credentials) tokens for Microsoft Graph.
///
/// A client secret is built in; a certificate (client assertion) or any
/// other token source plugs in through [`SharePointAuth::provider`], which
/// takes any core [`CredentialProvider`](connector_core::credentials::CredentialProvider)
/// producing `Bearer …` values for Graph.
///
/// ```
/// use connector_sharepoint::SharePointAuth;
/// let auth = SharePointAuth::client_secret("11111111-2222-3333-4444-555555555555", "s3cret~value");
/// assert!(!format!("{auth:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct SharePointAuth(AuthKind);

#[derive(Clone)]
enum AuthKind {
    Secret {
        client_id: String,
        secret: SecretString,
    },
    Provider(SharedCredentials),
}

impl fmt::Debug for SharePointAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            AuthKind::Secret { client_id, .. } => f
                .debug_struct("SharePointAuth::ClientSecret")
                .field("client_id", client_id)
                .field("secret", &format_args!("[REDACTED]"))
                .finish(),
            AuthKind::Provider(p) => f.debug_tuple("SharePointAuth::Provider").field(p).finish(),
        }
    }
}

impl SharePointAuth {
    /// The app registration's client id and a client secret.
    pub fn client_secret(client_id: impl Into<String>, secret: impl Into<SecretString>) -> Self {
        Self(AuthKind::Secret {
            client_id: client_id.into().trim().to_owned(),
            secret: secret.into(),
        })
    }

    /// Any credential provider yielding `Bearer …` Graph tokens (a
    /// certificate-based client assertion, a managed identity, a test token).
    pub fn provider(provider: SharedCredentials) -> Self {
        Self(AuthKind::Provider(provider))
    }

    fn credentials(&self, config: &SharePointConfig) -> Result<SharedCredentials> {
        match &self.0 {
            AuthKind::Provider(p) => Ok(p.clone()),
            AuthKind::Secret { client_id, secret } => {
                let provider = ClientCredentials::new(&config.token_url(), client_id.clone(), secret.clone())
                    .map_err(|e| e.context("SharePoint app credentials (SHAREPOINT_CLIENT_ID, SHAREPOINT_CLIENT_SECRET)"))?
                    .scopes([config.scope.clone()])
                    .client_auth(ClientAuth::RequestBody);
                Ok(Arc::new(provider))
            }
        }
    }
}

/// The Graph calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GraphClient {
    http: HttpClient,
}

impl GraphClient {
    /// A client for `config` authenticating with `auth`.
    pub fn new(config: &SharePointConfig, auth: &SharePointAuth) -> Result<Self> {
        let limit = RateLimit::per_second(config.requests_per_second)
            .with_burst((config.requests_per_second * 2.0).ceil().max(1.0) as u32);
        let http = HttpClient::builder("sharepoint", config.graph_url.as_str())
            .shared_credentials(auth.credentials(config)?)
            .rate_limit(limit)
            .build()?;
        Ok(Self { http })
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The site at `url` (`GET /sites/{host}:{path}`; the root site is
    /// `GET /sites/{host}`).
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

    /// Sites the app can see (`GET /sites?search=*`), every page.
    pub async fn search_sites(&self) -> Result<Vec<Site>> {
        self.all(
            "/sites",
            &[("search", "*"), ("$select", "id,name,displayName,webUrl")],
        )
        .await
        .map_err(|e| explain(e, "the site list"))
    }

    /// The document libraries of a site (`GET /sites/{id}/drives`).
    pub async fn drives(&self, site: &Site) -> Result<Vec<Drive>> {
        self.all(
            &format!("/sites/{}/drives", site.id),
            &[("$select", "id,name,driveType,webUrl")],
        )
        .await
        .map_err(|e| explain(e, &format!("the libraries of site {}", site.label())))
    }

    /// Every item of a listing, following `@odata.nextLink` through the
    /// core [`paginate`] helper (which stops a server that loops).
    async fn all<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>> {
        let http = self.http.clone();
        let path = path.to_owned();
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let pages = Pager::new(format!("listing {path}"))
            .max_pages(MAX_LISTING_PAGES)
            .pages(None, move |cursor| {
                let (http, path, query) = (http.clone(), path.clone(), query.clone());
                async move {
                    let page: Collection<T> = match cursor {
                        Some(PageCursor::Url(next)) => http.get(&next).fetch_json().await?,
                        _ => http.get(&path).query(&query).fetch_json().await?,
                    };
                    Ok(Page {
                        items: page.value,
                        next: page.next_link.map(PageCursor::Url),
                    })
                }
            });
        let mut pages = std::pin::pin!(pages);
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            out.extend(page?.items);
        }
        Ok(out)
    }

    /// One page of a drive's delta: the first (`GET /drives/{id}/root/delta`,
    /// or `?token=<timestamp>` for changes since then), or a stored
    /// `@odata.nextLink` / `@odata.deltaLink`. Items come raw: each is
    /// decoded on its own, so one odd item is a per-document failure.
    pub async fn delta_page(&self, at: &DeltaStart) -> Result<Collection<serde_json::Value>> {
        let request = match at {
            DeltaStart::Link(link) => self.http.get(link),
            DeltaStart::Fresh { drive_id, since } => {
                let request = self.http.get(&format!("/drives/{drive_id}/root/delta"));
                match since {
                    Some(t) => request.query(&[(
                        "token",
                        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    )]),
                    None => request,
                }
            }
        };
        request.fetch_json().await
    }

    /// One item's metadata (`GET /drives/{d}/items/{i}`): to learn a
    /// folder's path when a delta page did not say it.
    pub async fn item(&self, drive_id: &str, item_id: &str) -> Result<DriveItem> {
        self.http
            .get(&format!("/drives/{drive_id}/items/{item_id}"))
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
            .get(&format!("/drives/{drive_id}/items/{item_id}/content"))
            .send()
            .await?;
        Ok(response.bytes_capped(cap).await?.to_vec())
    }

    /// The permissions of an item (`GET /drives/{d}/items/{i}/permissions`).
    pub async fn permissions(&self, drive_id: &str, item_id: &str) -> Result<Vec<Permission>> {
        self.all(
            &format!("/drives/{drive_id}/items/{item_id}/permissions"),
            &[],
        )
        .await
    }

    /// One page of a site's modern pages with their layout
    /// (`GET /sites/{id}/pages/microsoft.graph.sitePage?$expand=canvasLayout`).
    /// Pages come raw: each is decoded on its own.
    pub async fn pages(
        &self,
        site_id: &str,
        next: Option<&str>,
    ) -> Result<Collection<serde_json::Value>> {
        let request = match next {
            Some(link) => self.http.get(link),
            None => self
                .http
                .get(&format!("/sites/{site_id}/pages/microsoft.graph.sitePage"))
                .query(&[("$expand", "canvasLayout")]),
        };
        request.fetch_json().await
    }

    /// Page ids only, for the slim listing.
    pub async fn page_ids(
        &self,
        site_id: &str,
        next: Option<&str>,
    ) -> Result<Collection<SitePage>> {
        let request = match next {
            Some(link) => self.http.get(link),
            None => self
                .http
                .get(&format!("/sites/{site_id}/pages/microsoft.graph.sitePage"))
                .query(&[("$select", "id")]),
        };
        request.fetch_json().await
    }
}

/// Where a delta request starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaStart {
    /// From scratch (`since: None`) or from a point in time.
    Fresh {
        /// The drive.
        drive_id: String,
        /// Changes since this instant (`?token=<timestamp>`).
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A stored `@odata.nextLink` or `@odata.deltaLink`.
    Link(String),
}

/// Whether Graph says a delta token is no longer usable: `410 Gone`, or
/// the `resyncRequired` error codes.
pub fn is_resync(e: &Error) -> bool {
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
            "Microsoft Entra ID refused the app's credentials (check --tenant, SHAREPOINT_CLIENT_ID and SHAREPOINT_CLIENT_SECRET)",
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
