//! [`ConfluenceClient`]: the Confluence REST calls the connector makes,
//! over the core HTTP layer (credentials, rate control, retry, redirects).
//! Each listing call returns one [`Page`] of raw records for a core
//! [`Pager`]; the records are decoded one by one by whoever reads them, so
//! one malformed item is one failure, and an answer without its `results`
//! array is a decode error, never an empty page.
//!
//! Two kinds of links come back for the next page, and they are resolved
//! differently: REST v2 (`_links.next` and the `Link` header) is relative to
//! the *site root* (`/wiki/api/v2/…?cursor=…`), REST v1 is relative to the
//! *base URL* (`/rest/api/…?start=…`, under `/wiki` or a context path).

use std::sync::Arc;

use secrecy::SecretString;
use serde_json::Value;

use connector_core::credentials::{Basic, Bearer, SharedCredentials};
use connector_core::deployment::Deployment;
use connector_core::http::{HttpClient, Request};
use connector_core::json::{RawRecord, SplitPage};
use connector_core::paging::{Capped, Page, PageCursor, Pager, collect_capped};
use connector_core::url::segment;
use connector_core::{Error, ErrorKind, Result};

use crate::config::{ConfluenceConfig, DEFAULT_RATE};
use crate::model::{V1User, V2Content};

/// How the connector authenticates.
///
/// ```
/// use connector_confluence::ConfluenceAuth;
/// let cloud = ConfluenceAuth::basic("me@acme.com", "api-token");
/// let dc = ConfluenceAuth::bearer("personal-access-token");
/// assert!(!format!("{cloud:?} {dc:?}").contains("api-token"));
/// ```
#[derive(Debug, Clone)]
pub struct ConfluenceAuth(pub(crate) SharedCredentials);

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

/// What v1 expands on pages and blog posts (listing on Data Center, CQL search).
pub(crate) const V1_EXPAND: &str = "body.storage,version,history,ancestors,space,metadata.labels,children.attachment,restrictions.read.restrictions.user,restrictions.read.restrictions.group";

/// What the Cloud enrichment search expands (everything v2 lists lack).
pub(crate) const ENRICH_EXPAND: &str = "content.version,content.history,content.ancestors,content.space,content.metadata.labels,content.children.attachment,content.restrictions.read.restrictions.user,content.restrictions.read.restrictions.group";

/// Data Center pages by offset: each page starts this many items before the
/// end of the previous one (content removed mid-listing shifts later items
/// left), and the last id delivered drops the repeats.
pub(crate) const DC_PAGE_OVERLAP: u64 = 5;

/// Spaces asked for per page: v2's maximum (Cloud), and v1's (Data Center).
const V2_SPACE_PAGE_SIZE: u32 = 250;
const V1_SPACE_PAGE_SIZE: u32 = 200;

/// Accounts asked for per bulk user lookup.
pub(crate) const USER_BATCH: usize = 100;

/// The Confluence REST calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ConfluenceClient {
    http: HttpClient,
    deployment: Deployment,
    origin: String,
}

impl ConfluenceClient {
    /// A client for `config` (validated) authenticating with `auth`.
    pub(crate) fn new(config: &ConfluenceConfig, auth: SharedCredentials) -> Result<Self> {
        let http = HttpClient::builder("confluence", config.base_url.as_str())
            .options(&config.options, DEFAULT_RATE)
            .shared_credentials(auth)
            .build()?;
        // v2 links are relative to the site root: `/wiki/api/v2/…`. Behind a
        // gateway (`https://api.atlassian.com/ex/confluence/<cloud id>/wiki`)
        // the root is the part of the base path before `/wiki`.
        let base_path = http.base_url().path().trim_end_matches('/');
        let prefix = base_path.strip_suffix("/wiki").unwrap_or("");
        let origin = format!("{}{prefix}", http.base_url().origin().ascii_serialization());
        Ok(Self {
            http,
            deployment: config.resolved_deployment(),
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

    pub(crate) fn cloud(&self) -> bool {
        self.deployment == Deployment::Cloud
    }

    /// A v2 link (relative to the site root) as an absolute URL.
    ///
    /// ```
    /// # fn main() -> connector_core::Result<()> {
    /// use connector_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceConnector};
    /// let wiki = ConfluenceConnector::new(ConfluenceConfig::new("https://acme.atlassian.net"), ConfluenceAuth::bearer("t"))?;
    /// assert_eq!(
    ///     wiki.client().site_link("/wiki/api/v2/spaces/1/pages?cursor=abc"),
    ///     "https://acme.atlassian.net/wiki/api/v2/spaces/1/pages?cursor=abc"
    /// );
    /// // Through the OAuth gateway, the site root is the path before /wiki.
    /// let gateway = ConfluenceConfig::new("https://api.atlassian.com/ex/confluence/1a2b/wiki");
    /// let wiki = ConfluenceConnector::new(gateway, ConfluenceAuth::bearer("t"))?;
    /// assert_eq!(
    ///     wiki.client().site_link("/wiki/api/v2/pages?cursor=abc"),
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
        let client = self.clone();
        let keys: Arc<[String]> = keys.into();
        let pages = Pager::new("the space listing")
            .read_ahead(0)
            .ids(|r: &RawRecord| r.string_field("key"))
            .pages(None, move |cursor| {
                let (client, keys) = (client.clone(), keys.clone());
                async move { client.spaces_page(&keys, cursor.as_ref()).await }
            });
        let all = collect_capped(pages, usize::MAX).await?;
        Ok(all
            .items
            .iter()
            .filter_map(|raw| {
                let s: crate::model::V1Space = raw.decode().ok()?;
                (!s.key.is_empty()).then(|| SpaceInfo {
                    name: s.name.unwrap_or_else(|| s.key.clone()),
                    id: s.id,
                    key: s.key,
                })
            })
            .collect())
    }

    async fn spaces_page(
        &self,
        keys: &[String],
        cursor: Option<&PageCursor>,
    ) -> Result<Page<RawRecord>> {
        if self.cloud() {
            let request = match cursor {
                Some(PageCursor::Url(link)) => self.http.get(&self.site_link(link)),
                None => {
                    let mut query = vec![("limit", V2_SPACE_PAGE_SIZE.to_string())];
                    if !keys.is_empty() {
                        query.push(("keys", keys.join(",")));
                    }
                    self.http.get("/api/v2/spaces").query(&query)
                }
                Some(other) => return Err(wrong_cursor(other)),
            };
            return self.v2_page(request).await;
        }
        let start = offset(cursor)?;
        let mut query: Vec<(&str, String)> = vec![
            ("start", start.to_string()),
            ("limit", V1_SPACE_PAGE_SIZE.to_string()),
        ];
        for key in keys {
            query.push(("spaceKey", key.clone()));
        }
        let page = self
            .v1_page(
                self.http.get("/rest/api/space").query(&query),
                "/rest/api/space",
            )
            .await?;
        Ok(v1_offset_page(page, start, 0))
    }

    /// A page of v2 results: the records under `results`, the next page
    /// from `_links.next`, else the `Link` header's `rel="next"`.
    async fn v2_page(&self, request: Request<'_>) -> Result<Page<RawRecord>> {
        let page = request.fetch_page("results").await?;
        let next = links_next(&page.envelope).or(page.link_next);
        Ok(Page::new(page.records, next.map(PageCursor::Url)))
    }

    /// A v1 answer: records under `results`, and the `_links` every v1
    /// list carries (where its continuation is): an answer without them is
    /// not a Confluence list.
    async fn v1_page(&self, request: Request<'_>, shown: &str) -> Result<SplitPage> {
        let page = request.fetch_page("results").await?;
        if !page.envelope.get("_links").is_some_and(Value::is_object) {
            return Err(Error::new(
                ErrorKind::Decode,
                "the page is not the JSON expected: no `_links` (where the next page would be named)",
            )
            .with_request("GET", shown));
        }
        Ok(page)
    }

    /// One page of a space's pages or blog posts through v2
    /// (`GET /api/v2/spaces/{id}/pages|blogposts`), sorted by id; `cursor`
    /// is the link of a previous page, `None` for the first.
    pub(crate) async fn list_v2(
        &self,
        space_id: &str,
        kind: ContentKind,
        cursor: Option<&PageCursor>,
        limit: u32,
        body: bool,
        archived: bool,
    ) -> Result<Page<RawRecord>> {
        let request = match cursor {
            Some(PageCursor::Url(link)) => self.http.get(&self.site_link(link)),
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
                    .get(&format!(
                        "/api/v2/spaces/{}/{}",
                        segment(space_id)?,
                        kind.collection()
                    ))
                    .query(&query)
            }
            Some(other) => return Err(wrong_cursor(other)),
        };
        self.v2_page(request).await
    }

    /// One page of a space's pages or blog posts through v1
    /// (`GET /rest/api/content?spaceKey=…&type=…&start=…&limit=…`); the next
    /// page starts `overlap` items before this one's end.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn list_v1(
        &self,
        space_key: &str,
        kind: ContentKind,
        cursor: Option<&PageCursor>,
        limit: u32,
        expand: Option<&str>,
        archived: bool,
        overlap: u64,
    ) -> Result<Page<RawRecord>> {
        let start = offset(cursor)?;
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
        let page = self
            .v1_page(
                self.http.get("/rest/api/content").query(&query),
                "/rest/api/content",
            )
            .await?;
        Ok(v1_offset_page(page, start, overlap))
    }

    /// One page of a CQL search: Cloud `GET /rest/api/search` (results wrap
    /// the content: expansions are prefixed `content.`), Data Center
    /// `GET /rest/api/content/search`. The next page is the `_links.next`
    /// the answer gives.
    pub(crate) async fn search(
        &self,
        cql: &str,
        cursor: Option<&PageCursor>,
        limit: u32,
        expand: &str,
    ) -> Result<Page<RawRecord>> {
        let path = if self.cloud() {
            "/rest/api/search"
        } else {
            "/rest/api/content/search"
        };
        let request = match cursor {
            Some(PageCursor::Url(link)) => self.http.get(link),
            None => self.http.get(path).query(&[
                ("cql", cql.to_owned()),
                ("limit", limit.to_string()),
                ("expand", expand.to_owned()),
            ]),
            Some(other) => return Err(wrong_cursor(other)),
        };
        let page = self.v1_page(request, path).await.map_err(|e| {
            if e.status() == Some(400) {
                e.context("Confluence rejected the CQL search; check the `spaces` keys")
            } else {
                e
            }
        })?;
        let next = links_next(&page.envelope).filter(|_| !page.records.is_empty());
        Ok(Page::new(page.records, next.map(PageCursor::Url)))
    }

    /// One page or blog post with its storage body through v2
    /// (`GET /api/v2/pages/{id}?body-format=storage`).
    pub(crate) async fn content_v2(&self, kind: ContentKind, id: &str) -> Result<V2Content> {
        self.http
            .get(&format!("/api/v2/{}/{}", kind.collection(), segment(id)?))
            .query(&[("body-format", "storage")])
            .fetch_json()
            .await
    }

    /// One page or blog post with the v1 expansions (`GET /rest/api/content/{id}`).
    pub(crate) async fn content_v1(&self, id: &str) -> Result<Value> {
        self.http
            .get(&format!("/rest/api/content/{}", segment(id)?))
            .query(&[("expand", V1_EXPAND)])
            .fetch_json()
            .await
    }

    /// A page's footer comments, at most `cap`: v2
    /// (`GET /api/v2/pages/{id}/footer-comments?body-format=storage`,
    /// cursor links) on Cloud, v1
    /// (`GET /rest/api/content/{id}/child/comment?location=footer`,
    /// `start`/`limit`) on Data Center.
    pub(crate) async fn footer_comments(
        &self,
        kind: ContentKind,
        id: &str,
        cap: usize,
    ) -> Result<Capped<RawRecord>> {
        let client = self.clone();
        let path = if self.cloud() {
            format!(
                "/api/v2/{}/{}/footer-comments",
                kind.collection(),
                segment(id)?
            )
        } else {
            format!("/rest/api/content/{}/child/comment", segment(id)?)
        };
        let pages = sub_pager(format!("the comments of {id}"), cap).pages(None, move |cursor| {
            let (client, path) = (client.clone(), path.clone());
            async move { client.comments_page(&path, cursor.as_ref()).await }
        });
        collect_capped(pages, cap).await
    }

    async fn comments_page(
        &self,
        path: &str,
        cursor: Option<&PageCursor>,
    ) -> Result<Page<RawRecord>> {
        if self.cloud() {
            let request = match cursor {
                Some(PageCursor::Url(link)) => self.http.get(&self.site_link(link)),
                None => self
                    .http
                    .get(path)
                    .query(&[("body-format", "storage"), ("limit", "250")]),
                Some(other) => return Err(wrong_cursor(other)),
            };
            return self.v2_page(request).await;
        }
        let start = offset(cursor)?;
        let request = self.http.get(path).query(&[
            ("location", "footer".to_owned()),
            ("expand", "body.storage,version,history".to_owned()),
            ("start", start.to_string()),
            ("limit", "100".to_owned()),
        ]);
        let page = self.v1_page(request, path).await?;
        Ok(v1_offset_page(page, start, 0))
    }

    /// The rest of a v1 list an expansion cut short (attachments past the
    /// 25 expanded, labels past 200), from its `_links.next` (base
    /// relative), at most `cap` items.
    pub(crate) async fn rest_of_v1_list(
        &self,
        what: String,
        next: String,
        cap: usize,
    ) -> Result<Capped<RawRecord>> {
        let client = self.clone();
        let pages = sub_pager(what, cap).pages(Some(PageCursor::Url(next)), move |cursor| {
            let client = client.clone();
            async move {
                let Some(PageCursor::Url(link)) = cursor else {
                    return Ok(Page::last(Vec::new()));
                };
                let page = client.v1_page(client.http.get(&link), "a v1 list").await?;
                let next = links_next(&page.envelope).filter(|_| !page.records.is_empty());
                Ok(Page::new(page.records, next.map(PageCursor::Url)))
            }
        });
        collect_capped(pages, cap).await
    }

    /// An attachment's bytes from its download link (relative to the base
    /// URL), refused over `cap`. Cloud redirects to its media host; the
    /// credentials do not follow the redirect.
    pub(crate) async fn attachment(&self, download: &str, cap: u64) -> Result<Vec<u8>> {
        let bytes = self
            .http
            .get(download)
            .send()
            .await?
            .bytes_capped(cap)
            .await?;
        Ok(bytes.to_vec())
    }

    /// Display names of Cloud accounts (`GET /rest/api/user/bulk?accountId=a,b`,
    /// at most [`USER_BATCH`] at once), as `(account id, name)` pairs.
    pub(crate) async fn user_names(&self, account_ids: &[String]) -> Result<Vec<(String, String)>> {
        let page = self
            .http
            .get("/rest/api/user/bulk")
            .query(&[
                ("accountId", account_ids.join(",")),
                ("limit", account_ids.len().clamp(1, 200).to_string()),
            ])
            .fetch_page("results")
            .await?;
        Ok(page
            .records
            .iter()
            .filter_map(|raw| {
                let user: V1User = raw.decode().ok()?;
                let id = user.account_id.clone()?;
                Some((id, user.label()?))
            })
            .collect())
    }

    /// The display name of a Data Center user by user key
    /// (`GET /rest/api/user?key=…`).
    pub(crate) async fn user_by_key(&self, key: &str) -> Result<Option<String>> {
        let user: V1User = self
            .http
            .get("/rest/api/user")
            .query(&[("key", key)])
            .fetch_json()
            .await?;
        Ok(user.label())
    }
}

/// A pager for a sub-listing of one parent: nothing fetched ahead (there
/// are many parents at once), and a page cap past which the cap of items
/// cannot be the reason to go on (a page that names a next one holds at
/// least one item, or counts towards the empty-page limit).
fn sub_pager(what: String, cap: usize) -> Pager<RawRecord> {
    let max_pages = (cap as u64)
        .saturating_add(u64::from(connector_core::paging::DEFAULT_MAX_EMPTY_PAGES))
        .saturating_add(2);
    Pager::new(what)
        .read_ahead(0)
        .max_pages(max_pages)
        .ids(|r: &RawRecord| r.string_field("id"))
}

/// `_links.next` of a page's envelope.
fn links_next(envelope: &Value) -> Option<String> {
    envelope
        .pointer("/_links/next")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A v1 page at `start` as a pager page: more follow while it names a
/// `_links.next` and has items; the next page starts `overlap` items before
/// this one's end (always forward).
fn v1_offset_page(page: SplitPage, start: u64, overlap: u64) -> Page<RawRecord> {
    let fetched = page.records.len() as u64;
    let next = (links_next(&page.envelope).is_some() && fetched > 0)
        .then(|| PageCursor::Offset(start + fetched - overlap.min(fetched.saturating_sub(1))));
    Page::new(page.records, next)
}

fn offset(cursor: Option<&PageCursor>) -> Result<u64> {
    match cursor {
        None => Ok(0),
        Some(PageCursor::Offset(start)) => Ok(*start),
        Some(other) => Err(wrong_cursor(other)),
    }
}

fn wrong_cursor(cursor: &PageCursor) -> Error {
    Error::new(
        ErrorKind::Other,
        format!("a {cursor:?} cannot continue this Confluence listing"),
    )
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

    #[test]
    fn offset_pages_overlap_but_always_move_forward() {
        let page = |n: usize, next: bool| {
            let records: Vec<String> = (0..n).map(|i| format!("{{\"id\": {i}}}")).collect();
            let links = if next {
                r#"{"next": "/rest/api/content?start=x"}"#
            } else {
                "{}"
            };
            let body = format!(
                r#"{{"results": [{}], "_links": {links}}}"#,
                records.join(",")
            );
            connector_core::json::split_page(body.as_bytes(), "results").unwrap()
        };
        assert_eq!(
            v1_offset_page(page(100, true), 200, 5).next,
            Some(PageCursor::Offset(295))
        );
        assert_eq!(
            v1_offset_page(page(1, true), 200, 5).next,
            Some(PageCursor::Offset(201))
        );
        assert_eq!(v1_offset_page(page(0, true), 200, 5).next, None);
        assert_eq!(v1_offset_page(page(100, false), 200, 5).next, None);
    }
}
