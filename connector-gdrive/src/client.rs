//! [`DriveClient`]: the Drive API v3 calls of the connector, over the core
//! HTTP layer (token renewal, adaptive rate, retry with backoff on `429` and
//! on Drive's `403 userRateLimitExceeded`/`rateLimitExceeded`), and every
//! listing as a core [`Pager`] stream.

use connector_core::credentials::SharedCredentials;
use connector_core::http::HttpClient;
use connector_core::json::{RawRecord, SplitPage};
use connector_core::paging::{Page, PageCursor, PageStream, Pager};
use connector_core::url::segment;
use connector_core::{Error, ErrorKind, Result};
use serde::de::DeserializeOwned;

use crate::config::{DEFAULT_RATE, GoogleDriveConfig};
use crate::model::{
    Change, FILE_FIELDS, FILE_FIELDS_WITH_PERMISSIONS, File, PERMISSION_FIELDS, Permission,
    SharedDrive, StartPageToken,
};

/// Items per listing page (Drive's maximum for files and changes).
const PAGE_SIZE: &str = "1000";

/// Empty change pages in a row that may still name a next page: Drive
/// filters changes per user after paging, so runs of empty pages happen.
const MAX_EMPTY_CHANGE_PAGES: u32 = 256;

/// A record that decoded, or why it did not (with its id when readable).
pub(crate) type Record<T> = std::result::Result<T, BadRecord>;

/// A record that does not decode.
#[derive(Debug, Clone)]
pub(crate) struct BadRecord {
    pub id: Option<String>,
    pub reason: String,
}

impl BadRecord {
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or("?")
    }
}

fn decode<T: DeserializeOwned>(raw: &RawRecord, key: &str) -> Record<T> {
    raw.decode().map_err(|reason| BadRecord {
        id: raw.string_field(key),
        reason,
    })
}

/// Which files a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    /// The `q` expression.
    pub q: String,
    /// `corpora=drive&driveId=…` when set, else `corpora=user`.
    pub drive_id: Option<String>,
}

/// Whose changes a feed reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Feed {
    /// The user's: My Drive and files shared with them.
    User,
    /// One shared drive's.
    Drive(String),
}

/// One page of a changes feed: its changes, and on the last page the token
/// where the next sync starts.
#[derive(Debug)]
pub(crate) struct ChangesPage {
    pub changes: Vec<Record<Change>>,
    pub new_start: Option<String>,
}

/// The Drive calls of the connector. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct DriveClient {
    http: HttpClient,
    file_fields: &'static str,
}

impl DriveClient {
    pub fn new(config: &GoogleDriveConfig, credentials: SharedCredentials) -> Result<Self> {
        let http = HttpClient::builder("gdrive", config.api_url.as_str())
            .shared_credentials(credentials)
            .options(&config.options, DEFAULT_RATE)
            .build()?;
        Ok(Self {
            http,
            file_fields: if config.permissions {
                FILE_FIELDS_WITH_PERMISSIONS
            } else {
                FILE_FIELDS
            },
        })
    }

    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The files matching `query` (`GET /files`), from the page at `first`.
    pub fn files(
        &self,
        what: String,
        query: &Query,
        first: Option<String>,
        fields: Option<&'static str>,
    ) -> PageStream<Record<File>> {
        let client = self.clone();
        let fields = match fields {
            Some(f) => f.to_owned(),
            None => format!("nextPageToken,incompleteSearch,files({})", self.file_fields),
        };
        let mut params: Vec<(&'static str, String)> = vec![
            ("q", query.q.clone()),
            ("fields", fields),
            ("pageSize", PAGE_SIZE.into()),
            ("supportsAllDrives", "true".into()),
        ];
        match &query.drive_id {
            Some(drive) => {
                params.push(("corpora", "drive".into()));
                params.push(("driveId", drive.clone()));
                params.push(("includeItemsFromAllDrives", "true".into()));
            }
            None => params.push(("corpora", "user".into())),
        }
        Pager::new(what)
            .ids(|r: &Record<File>| match r {
                Ok(f) => Some(f.id.clone()),
                Err(b) => b.id.clone(),
            })
            .pages(first.map(PageCursor::Token), move |cursor| {
                let (client, params) = (client.clone(), params.clone());
                async move {
                    let (page, next) = client.token_page("/files", params, cursor, "files").await?;
                    if page
                        .envelope
                        .get("incompleteSearch")
                        .and_then(|v| v.as_bool())
                        == Some(true)
                    {
                        tracing::warn!("Drive says the listing is incomplete (incompleteSearch)");
                    }
                    Ok(Page::new(decode_all(&page, "id"), next))
                }
            })
    }

    /// Where a feed's changes start now (`GET /changes/startPageToken`).
    pub async fn start_token(&self, feed: &Feed) -> Result<String> {
        let mut request = self
            .http
            .get("/changes/startPageToken")
            .query(&[("supportsAllDrives", "true")]);
        if let Feed::Drive(id) = feed {
            request = request.query(&[("driveId", id.as_str())]);
        }
        let token: StartPageToken = request.fetch_json().await?;
        Ok(token.start_page_token)
    }

    /// A feed's changes from `token` (`GET /changes`). An answer with
    /// neither `nextPageToken` nor `newStartPageToken` is a decode error:
    /// never a silent end.
    pub fn changes(&self, what: String, feed: &Feed, token: String) -> PageStream<ChangesPage> {
        let client = self.clone();
        let mut params: Vec<(&'static str, String)> = vec![
            (
                "fields",
                format!(
                    "nextPageToken,newStartPageToken,changes(changeType,removed,fileId,file({}))",
                    self.file_fields
                ),
            ),
            ("pageSize", PAGE_SIZE.into()),
            ("includeRemoved", "true".into()),
            ("supportsAllDrives", "true".into()),
        ];
        match feed {
            Feed::Drive(id) => {
                params.push(("driveId", id.clone()));
                params.push(("includeItemsFromAllDrives", "true".into()));
            }
            Feed::User => params.push(("includeItemsFromAllDrives", "false".into())),
        }
        Pager::new(what)
            .max_empty_pages(MAX_EMPTY_CHANGE_PAGES)
            .ids(|page: &ChangesPage| {
                let ids: Vec<&str> = page
                    .changes
                    .iter()
                    .filter_map(|c| c.as_ref().ok().and_then(|c| c.file_id.as_deref()))
                    .collect();
                (!ids.is_empty()).then(|| ids.join("\n"))
            })
            .pages(Some(PageCursor::Token(token)), move |cursor| {
                let (client, params) = (client.clone(), params.clone());
                async move {
                    let (page, next) = client
                        .token_page("/changes", params, cursor, "changes")
                        .await?;
                    let changes = decode_all(&page, "fileId");
                    let new_start = next_token(&page.envelope, "newStartPageToken")?;
                    match (next, new_start) {
                        (Some(next), _) => Ok(Page::new(
                            vec![ChangesPage {
                                changes,
                                new_start: None,
                            }],
                            Some(next),
                        )),
                        (None, Some(new_start)) => Ok(Page::last(vec![ChangesPage {
                            changes,
                            new_start: Some(new_start),
                        }])),
                        (None, None) => Err(Error::new(
                            ErrorKind::Decode,
                            "the changes answer has neither nextPageToken nor newStartPageToken",
                        )),
                    }
                }
            })
    }

    /// The shared drives the user is a member of (`GET /drives`).
    pub fn shared_drives(&self) -> PageStream<Record<SharedDrive>> {
        let client = self.clone();
        Pager::new("the shared drive list").pages(None, move |cursor| {
            let client = client.clone();
            async move {
                let params = vec![
                    ("pageSize", "100".to_owned()),
                    ("fields", "nextPageToken,drives(id,name)".to_owned()),
                ];
                let (page, next) = client
                    .token_page("/drives", params, cursor, "drives")
                    .await?;
                Ok(Page::new(decode_all(&page, "id"), next))
            }
        })
    }

    /// One file's metadata (`GET /files/{id}`).
    pub async fn file(&self, id: &str) -> Result<File> {
        self.http
            .get(&format!("/files/{}", segment(id)?))
            .query(&[("fields", self.file_fields), ("supportsAllDrives", "true")])
            .fetch_json()
            .await
    }

    /// A file's permissions (`GET /files/{id}/permissions`).
    pub fn permissions(&self, id: &str) -> Result<PageStream<Record<Permission>>> {
        let client = self.clone();
        let path = format!("/files/{}/permissions", segment(id)?);
        Ok(Pager::new(format!("the permissions of file {id}"))
            // One page nearly always: no task to fetch ahead.
            .read_ahead(0)
            .pages(None, move |cursor| {
                let (client, path) = (client.clone(), path.clone());
                async move {
                    let params = vec![
                        ("supportsAllDrives", "true".to_owned()),
                        ("pageSize", "100".to_owned()),
                        ("fields", PERMISSION_FIELDS.to_owned()),
                    ];
                    let (page, next) = client
                        .token_page(&path, params, cursor, "permissions")
                        .await?;
                    Ok(Page::new(decode_all(&page, "id"), next))
                }
            }))
    }

    /// A Google Workspace file exported as `mime` (`GET /files/{id}/export`),
    /// refused when over `cap` bytes.
    pub async fn export(&self, id: &str, mime: &str, cap: u64) -> Result<Vec<u8>> {
        let path = format!("/files/{}/export", segment(id)?);
        self.bytes(&path, &[("mimeType", mime)], cap).await
    }

    /// A file's bytes (`GET /files/{id}?alt=media`), refused when over `cap`.
    pub async fn download(&self, id: &str, cap: u64) -> Result<Vec<u8>> {
        let path = format!("/files/{}", segment(id)?);
        let query = [("alt", "media"), ("supportsAllDrives", "true")];
        self.bytes(&path, &query, cap).await
    }

    async fn bytes(&self, path: &str, query: &[(&str, &str)], cap: u64) -> Result<Vec<u8>> {
        let response = self.http.get(path).query(query).send().await?;
        Ok(response.bytes_capped(cap).await?.to_vec())
    }

    /// One page of a `pageToken` listing: the `key` records at `path` with
    /// `params`, from `cursor`, and the cursor of the next page.
    async fn token_page(
        &self,
        path: &str,
        mut params: Vec<(&'static str, String)>,
        cursor: Option<PageCursor>,
        key: &str,
    ) -> Result<(SplitPage, Option<PageCursor>)> {
        if let Some(PageCursor::Token(token)) = cursor {
            params.push(("pageToken", token));
        }
        let page = self.http.get(path).query(&params).fetch_page(key).await?;
        let next = next_token(&page.envelope, "nextPageToken")?;
        Ok((page, next.map(PageCursor::Token)))
    }
}

fn decode_all<T: DeserializeOwned>(page: &SplitPage, id_key: &str) -> Vec<Record<T>> {
    page.records.iter().map(|r| decode(r, id_key)).collect()
}

/// A page token field: absent, or a non-empty string; anything else is a
/// decode error (a wrong shape must never read as "the last page").
fn next_token(envelope: &serde_json::Value, key: &str) -> Result<Option<String>> {
    match envelope.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(Error::new(
            ErrorKind::Decode,
            format!("`{key}` is not a page token"),
        )),
    }
}

/// One clear line for the failures a person can fix.
pub(crate) fn explain(e: Error, what: &str) -> Error {
    match e.kind() {
        ErrorKind::Auth => e.context(
            "Google refused the credentials (check the key or refresh token, the subject, and that domain-wide delegation grants drive.readonly)",
        ),
        ErrorKind::Forbidden => e.context(format!("the user may not read {what}")),
        ErrorKind::NotFound => e.context(format!(
            "{what} does not exist or is not visible to the user"
        )),
        _ => e,
    }
}
