//! [`ConfluenceClient`]: the Confluence REST calls the connector makes,
//! over the core HTTP layer (credentials, quota, retry, redirects).
//!
//! Two kinds of links come back for the next page, and they are resolved
//! differently: REST v2 (`_links.next` and the `Link` header) is relative to
//! the *site root* (`/wiki/api/v2/…?cursor=…`), REST v1 is relative to the
//! *base URL* (`/rest/api/…?start=…`, under `/wiki` or a context path).

use std::sync::Arc;

use secrecy::SecretString;

use connector_core::credentials::{Basic, Bearer, SharedCredentials};
use connector_core::http::{HttpClient, Response, next_link};
use connector_core::rate::RateLimit;
use connector_core::{Error, ErrorKind, Result};

use crate::config::{ConfluenceConfig, Deployment};
use crate::model::{
    ContentArray, MultiEntityResult, SearchPage, V1Space, V1User, V2Comment, V2Content, V2Space,
};

/// How the connector authenticates.
///
/// ```
/// use connector_confluence::ConfluenceAuth;
/// let cloud = ConfluenceAuth::basic("me@acme.com", "api-token");
/// let dc = ConfluenceAuth::bearer("personal-access-token");
/// assert!(!format!("{cloud:?} {dc:?}").contains("api-token"));
/// ```
#[derive(Debug, Clone)]
pub struct ConfluenceAuth(SharedCredentials);

impl ConfluenceAuth {
    /// Cloud: the account's email and an API token.
    pub fn basic(email: impl Into<String>, api_token: impl Into<SecretString>) -> Self {
        Self(Arc::new(Basic::new(email, api_token)))
    }

    /// Data Center personal access token, or an OAuth 2.0 access token.
    pub fn bearer(token: impl Into<SecretString>) -> Self {
        Self(Arc::new(Bearer::new(token)))
    }

    /// Any credential provider (an OAuth 2.0 refresh-token flow, say).
    pub fn provider(provider: SharedCredentials) -> Self {
        Self(provider)
    }
}

/// Pages or blog posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    /// A page (`type=page`, `/pages`).
    Page,
    /// A blog post (`type=blogpost`, `/blogposts`).
    #[serde(rename = "blogpost")]
    BlogPost,
}

impl ContentKind {
    /// The v1 / CQL type name: `page`, `blogpost`.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Page => "page",
            ContentKind::BlogPost => "blogpost",
        }
    }

    /// The v2 collection: `pages`, `blogposts`.
    pub fn collection(self) -> &'static str {
        match self {
            ContentKind::Page => "pages",
            ContentKind::BlogPost => "blogposts",
        }
    }

    /// From a v1 type name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "page" => Some(ContentKind::Page),
            "blogpost" => Some(ContentKind::BlogPost),
            _ => None,
        }
    }
}

/// A space as the connector needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceInfo {
    /// Numeric id (v2 needs it; Data Center may not say).
    pub id: Option<String>,
    /// Key (`ENG`).
    pub key: String,
    /// Display name.
    pub name: String,
}

/// One page of a listing, whichever API answered.
#[derive(Debug, Default)]
pub struct ListPage {
    /// The items, raw.
    pub results: Vec<serde_json::Value>,
    /// v2: the next page's link (site-root relative or absolute); v1: the
    /// `_links.next` (base relative).
    pub next: Option<String>,
    /// v1: items on this page as the server counted them.
    pub size: Option<u64>,
}

/// What v1 expands on pages and blog posts (listing on Data Center, CQL search).
pub const V1_EXPAND: &str = "body.storage,version,history,ancestors,space,metadata.labels,children.attachment,restrictions.read.restrictions.user,restrictions.read.restrictions.group";

/// What the Cloud enrichment search expands (everything v2 lists lack).
pub const ENRICH_EXPAND: &str = "content.version,content.history,content.ancestors,content.space,content.metadata.labels,content.children.attachment,content.restrictions.read.restrictions.user,content.restrictions.read.restrictions.group";

/// The Confluence REST calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ConfluenceClient {
    http: HttpClient,
    deployment: Deployment,
    origin: String,
}

impl ConfluenceClient {
    /// A client for `config` authenticating with `auth`.
    pub fn new(config: &ConfluenceConfig, auth: ConfluenceAuth) -> Result<Self> {
        let limit = RateLimit::per_second(config.requests_per_second)
            .with_burst((config.requests_per_second * 2.0).ceil().max(1.0) as u32);
        let http = HttpClient::builder("confluence", config.base_url.as_str())
            .shared_credentials(auth.0)
            .rate_limit(limit)
            .build()?;
        // v2 links are relative to the site root: `/wiki/api/v2/…`. Behind a
        // gateway (`https://api.atlassian.com/ex/confluence/<cloud id>/wiki`)
        // the root is the part of the base path before `/wiki`.
        let base_path = http.base_url().path().trim_end_matches('/');
        let prefix = base_path.strip_suffix("/wiki").unwrap_or("");
        let origin = format!("{}{prefix}", http.base_url().origin().ascii_serialization());
        Ok(Self {
            http,
            deployment: config.deployment,
            origin,
        })
    }

    /// The HTTP client (its counters: requests, retries, throttled time).
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Cloud or Data Center.
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// A v2 link (relative to the site root) as an absolute URL.
    ///
    /// ```
    /// # fn main() -> connector_core::Result<()> {
    /// use connector_confluence::{ConfluenceAuth, ConfluenceClient, ConfluenceConfig};
    /// let config = ConfluenceConfig::new("https://acme.atlassian.net");
    /// let client = ConfluenceClient::new(&config, ConfluenceAuth::bearer("t"))?;
    /// assert_eq!(
    ///     client.site_link("/wiki/api/v2/spaces/1/pages?cursor=abc"),
    ///     "https://acme.atlassian.net/wiki/api/v2/spaces/1/pages?cursor=abc"
    /// );
    /// // Through the OAuth gateway, the site root is the path before /wiki.
    /// let config = ConfluenceConfig::new("https://api.atlassian.com/ex/confluence/1a2b/wiki");
    /// let client = ConfluenceClient::new(&config, ConfluenceAuth::bearer("t"))?;
    /// assert_eq!(
    ///     client.site_link("/wiki/api/v2/pages?cursor=abc"),
    ///     "https://api.atlassian.com/ex/confluence/1a2b/wiki/api/v2/pages?cursor=abc"
    /// );
    /// # Ok(()) }
    /// ```
    pub fn site_link(&self, link: &str) -> String {
        if link.starts_with("https://") || link.starts_with("http://") {
            link.to_owned()
        } else {
            format!("{}/{}", self.origin, link.trim_start_matches('/'))
        }
    }

    /// The authenticated user (`GET /rest/api/user/current`): checks the
    /// credentials and gives the time zone CQL dates are read in.
    pub async fn current_user(&self) -> Result<V1User> {
        self.http
            .get("/rest/api/user/current")
            .fetch_json()
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::Auth {
                    e.context("Confluence refused the credentials (for Cloud: email + API token; for Data Center: a personal access token)")
                } else {
                    e
                }
            })
    }

    /// Spaces the user can see; only `keys` when not empty. Cloud:
    /// `GET /api/v2/spaces?keys=…` (cursor paging); Data Center:
    /// `GET /rest/api/space?spaceKey=…` (`start`/`limit`).
    pub async fn spaces(&self, keys: &[String]) -> Result<Vec<SpaceInfo>> {
        let mut spaces = Vec::new();
        match self.deployment {
            Deployment::Cloud => {
                let mut next: Option<String> = None;
                for _ in 0..100_000 {
                    let page = match &next {
                        None => {
                            let mut query = vec![("limit", "250".to_owned())];
                            if !keys.is_empty() {
                                query.push(("keys", keys.join(",")));
                            }
                            self.v2_page(self.http.get("/api/v2/spaces").query(&query))
                                .await?
                        }
                        Some(link) => self.v2_page(self.http.get(&self.site_link(link))).await?,
                    };
                    for raw in page.results {
                        if let Ok(s) = serde_json::from_value::<V2Space>(raw) {
                            if s.key.is_empty() {
                                continue;
                            }
                            spaces.push(SpaceInfo {
                                name: s.name.unwrap_or_else(|| s.key.clone()),
                                id: Some(s.id).filter(|id| !id.is_empty()),
                                key: s.key,
                            });
                        }
                    }
                    match page.next {
                        Some(link) if Some(&link) != next.as_ref() => next = Some(link),
                        _ => break,
                    }
                }
            }
            Deployment::DataCenter => {
                let mut start = 0u64;
                loop {
                    let mut query: Vec<(&str, String)> =
                        vec![("start", start.to_string()), ("limit", "200".to_owned())];
                    for key in keys {
                        query.push(("spaceKey", key.clone()));
                    }
                    let page: ContentArray = self
                        .http
                        .get("/rest/api/space")
                        .query(&query)
                        .fetch_json()
                        .await?;
                    let fetched = page.results.len() as u64;
                    for raw in page.results {
                        if let Ok(s) = serde_json::from_value::<V1Space>(raw) {
                            if s.key.is_empty() {
                                continue;
                            }
                            spaces.push(SpaceInfo {
                                name: s.name.unwrap_or_else(|| s.key.clone()),
                                id: s.id,
                                key: s.key,
                            });
                        }
                    }
                    if fetched == 0 || page.links.next.is_none() {
                        break;
                    }
                    start += fetched;
                }
            }
        }
        Ok(spaces)
    }

    /// A page of v2 results: `_links.next`, or the `Link` header's `rel="next"`.
    async fn v2_page(&self, request: connector_core::http::Request<'_>) -> Result<ListPage> {
        let response: Response = request.send().await?;
        let header_next = next_link(response.headers());
        let page: MultiEntityResult = response.json().await?;
        Ok(ListPage {
            results: page.results,
            next: page.links.next.or(header_next),
            size: None,
        })
    }

    /// One page of a space's pages or blog posts through v2
    /// (`GET /api/v2/spaces/{id}/pages|blogposts`), sorted by id; `next` is
    /// the link of a previous page, `None` for the first.
    pub async fn list_v2(
        &self,
        space_id: &str,
        kind: ContentKind,
        next: Option<&str>,
        limit: u32,
        body: bool,
        archived: bool,
    ) -> Result<ListPage> {
        let request = match next {
            Some(link) => self.http.get(&self.site_link(link)),
            None => {
                let mut query = vec![
                    ("limit", limit.to_string()),
                    ("sort", "id".to_owned()),
                    ("status", "current".to_owned()),
                ];
                if archived && kind == ContentKind::Page {
                    query.push(("status", "archived".to_owned()));
                }
                if body {
                    query.push(("body-format", "storage".to_owned()));
                }
                self.http
                    .get(&format!("/api/v2/spaces/{space_id}/{}", kind.collection()))
                    .query(&query)
            }
        };
        self.v2_page(request).await
    }

    /// One page of a space's pages or blog posts through v1
    /// (`GET /rest/api/content?spaceKey=…&type=…&start=…&limit=…`).
    pub async fn list_v1(
        &self,
        space_key: &str,
        kind: ContentKind,
        start: u64,
        limit: u32,
        expand: Option<&str>,
        archived: bool,
    ) -> Result<ListPage> {
        let mut query = vec![
            ("spaceKey", space_key.to_owned()),
            ("type", kind.as_str().to_owned()),
            ("start", start.to_string()),
            ("limit", limit.to_string()),
            ("status", "current".to_owned()),
        ];
        if archived {
            query.push(("status", "archived".to_owned()));
        }
        if let Some(expand) = expand {
            query.push(("expand", expand.to_owned()));
        }
        let page: ContentArray = self
            .http
            .get("/rest/api/content")
            .query(&query)
            .fetch_json()
            .await?;
        Ok(ListPage {
            size: page.size.or(Some(page.results.len() as u64)),
            results: page.results,
            next: page.links.next,
        })
    }

    /// One page of a CQL search: Cloud `GET /rest/api/search` (results wrap
    /// the content: expansions are prefixed `content.`), Data Center
    /// `GET /rest/api/content/search`. `next` is the `_links.next` of the
    /// previous page.
    pub async fn search(
        &self,
        cql: &str,
        next: Option<&str>,
        limit: u32,
        expand: &str,
    ) -> Result<SearchPage> {
        let request = match next {
            Some(link) => self.http.get(link),
            None => {
                let path = match self.deployment {
                    Deployment::Cloud => "/rest/api/search",
                    Deployment::DataCenter => "/rest/api/content/search",
                };
                self.http.get(path).query(&[
                    ("cql", cql.to_owned()),
                    ("limit", limit.to_string()),
                    ("expand", expand.to_owned()),
                ])
            }
        };
        request.fetch_json().await.map_err(|e| {
            if e.status() == Some(400) {
                e.context("Confluence rejected the CQL search; check the --space keys")
            } else {
                e
            }
        })
    }

    /// One page or blog post with its storage body through v2
    /// (`GET /api/v2/pages/{id}?body-format=storage`).
    pub async fn content_v2(&self, kind: ContentKind, id: &str) -> Result<V2Content> {
        self.http
            .get(&format!("/api/v2/{}/{id}", kind.collection()))
            .query(&[("body-format", "storage")])
            .fetch_json()
            .await
    }

    /// One page or blog post with the v1 expansions (`GET /rest/api/content/{id}`).
    pub async fn content_v1(&self, id: &str) -> Result<serde_json::Value> {
        self.http
            .get(&format!("/rest/api/content/{id}"))
            .query(&[("expand", V1_EXPAND)])
            .fetch_json()
            .await
    }

    /// Every footer comment of a page or blog post through v2
    /// (`GET /api/v2/pages/{id}/footer-comments?body-format=storage`).
    pub async fn footer_comments_v2(&self, kind: ContentKind, id: &str) -> Result<Vec<V2Comment>> {
        let mut comments = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..10_000 {
            let request = match &next {
                None => self
                    .http
                    .get(&format!(
                        "/api/v2/{}/{id}/footer-comments",
                        kind.collection()
                    ))
                    .query(&[("body-format", "storage"), ("limit", "250")]),
                Some(link) => self.http.get(&self.site_link(link)),
            };
            let page = self.v2_page(request).await?;
            comments.extend(
                page.results
                    .into_iter()
                    .filter_map(|raw| serde_json::from_value::<V2Comment>(raw).ok()),
            );
            match page.next {
                Some(link) if Some(&link) != next.as_ref() => next = Some(link),
                _ => break,
            }
        }
        Ok(comments)
    }

    /// Every footer comment through v1
    /// (`GET /rest/api/content/{id}/child/comment?location=footer`), raw.
    pub async fn footer_comments_v1(&self, id: &str) -> Result<Vec<serde_json::Value>> {
        let mut comments = Vec::new();
        let mut start = 0u64;
        loop {
            let page: ContentArray = self
                .http
                .get(&format!("/rest/api/content/{id}/child/comment"))
                .query(&[
                    ("location", "footer".to_owned()),
                    ("expand", "body.storage,version,history".to_owned()),
                    ("start", start.to_string()),
                    ("limit", "100".to_owned()),
                ])
                .fetch_json()
                .await?;
            let fetched = page.results.len() as u64;
            comments.extend(page.results);
            if fetched == 0 || page.links.next.is_none() || comments.len() > 100_000 {
                return Ok(comments);
            }
            start += fetched;
        }
    }

    /// An attachment's bytes from its download link (relative to the base
    /// URL), refused over `cap`. Cloud redirects to its media host; the
    /// credentials do not follow the redirect.
    pub async fn attachment(&self, download: &str, cap: u64) -> Result<Vec<u8>> {
        let bytes = self
            .http
            .get(download)
            .send()
            .await?
            .bytes_capped(cap)
            .await?;
        Ok(bytes.to_vec())
    }

    /// Display names of Cloud accounts (`GET /rest/api/user/bulk?accountId=a,b`),
    /// as `(account id, name)` pairs.
    pub async fn user_names(&self, account_ids: &[String]) -> Result<Vec<(String, String)>> {
        let page: ContentArray = self
            .http
            .get("/rest/api/user/bulk")
            .query(&[
                ("accountId", account_ids.join(",")),
                ("limit", account_ids.len().clamp(1, 200).to_string()),
            ])
            .fetch_json()
            .await?;
        Ok(page
            .results
            .into_iter()
            .filter_map(|raw| {
                let user: V1User = serde_json::from_value(raw).ok()?;
                let id = user.account_id.clone()?;
                Some((id, user.label()?))
            })
            .collect())
    }

    /// The rest of a v1 list (attachments past the expanded ones), following
    /// `_links.next` (base relative) from `next`.
    pub async fn rest_of_v1_list(&self, mut next: String) -> Result<Vec<serde_json::Value>> {
        let mut items = Vec::new();
        for _ in 0..10_000 {
            let page: ContentArray = self.http.get(&next).fetch_json().await?;
            let fetched = page.results.len();
            items.extend(page.results);
            match page.links.next {
                Some(link) if fetched > 0 && link != next => next = link,
                _ => break,
            }
        }
        Ok(items)
    }
}

/// A listing request for a space failed: say which space, keep the kind
/// (401 / 403 / 404 stay Auth / Forbidden / NotFound).
pub(crate) fn space_error(e: Error, space: &str) -> Error {
    match e.kind() {
        ErrorKind::NotFound => e.context(format!(
            "space {space} does not exist or is not visible to this user"
        )),
        ErrorKind::Forbidden => e.context(format!("no permission to read space {space}")),
        ErrorKind::Auth => e.context(format!("reading space {space}")),
        _ => e.context(format!("listing space {space}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in [ContentKind::Page, ContentKind::BlogPost] {
            assert_eq!(ContentKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(ContentKind::parse("comment"), None);
    }
}
