//! What to sync and how to reach it: [`GitHubConfig`], a serde shape a host
//! reads from JSON or TOML, checked once by
//! [`GitHubConnector::new`](crate::GitHubConnector::new).

use connector_core::credentials::{Bearer, ExposeSecret, SecretString, SharedCredentials};
use connector_core::options::SourceOptions;
use connector_core::{Error, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::app::{AppInstallation, GitHubAppConfig};
use serde::{Deserialize, Serialize};

/// Where GitHub.com's REST API answers.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";

/// Requests per second at most when `options.rate` is unset: GitHub's
/// secondary limit allows 900 points a minute on REST endpoints (a `GET`
/// is one point). The rate control also slows down as
/// `x-ratelimit-remaining` runs low and waits out any limit GitHub reports.
pub(crate) const DEFAULT_RATE: f64 = 15.0;

/// Issues whose comments are read at once when `options.concurrency` is
/// unset. GitHub's secondary limits frown on many concurrent requests from
/// one token; a handful keeps well inside them.
pub(crate) const DEFAULT_CONCURRENCY: usize = 4;

/// Settings of a [`GitHubConnector`](crate::GitHubConnector).
///
/// ```
/// use connector_github::GitHubConfig;
///
/// let config: GitHubConfig = serde_json::from_value(serde_json::json!({
///     "token": "github_pat_…",
///     "repositories": ["acme/widgets"],
///     "owners": ["acme-labs"],
///     "exclude": ["acme-labs/*-archive"],
///     "options": {"concurrency": 4}
/// }))?;
/// assert_eq!(config.base_url, "https://api.github.com");
/// assert!(!serde_json::to_string(&config)?.contains("github_pat_"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GitHubConfig {
    /// The REST API's base URL: `https://api.github.com` (default), or a
    /// GitHub Enterprise Server's `https://ghe.acme.com/api/v3`.
    #[serde(default = "default_base_url", alias = "url")]
    pub base_url: String,
    /// A personal access token (classic or fine-grained) or an installation
    /// token; unset: give a provider to
    /// [`GitHubConnector::with_credentials`](crate::GitHubConnector::with_credentials).
    /// Never serialized.
    #[serde(default, skip_serializing)]
    pub token: Option<SecretString>,
    /// Sign in as a GitHub App installation instead of with `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<GitHubAppConfig>,
    /// Repositories by name, `owner/name`; synced as named, whatever the
    /// filters below say.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// Organizations or users whose repositories are synced (filtered by
    /// `include`, `exclude`, `archived` and `forks`).
    #[serde(default)]
    pub owners: Vec<String>,
    /// Globs on `owner/name` an owner's repository must match (any of
    /// them); empty: every repository.
    #[serde(default)]
    pub include: Vec<String>,
    /// Globs on `owner/name` that leave an owner's repository out.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Sync an owner's archived repositories too.
    #[serde(default)]
    pub archived: bool,
    /// Sync an owner's forks too.
    #[serde(default)]
    pub forks: bool,
    /// Sync issues (default on).
    #[serde(default = "yes")]
    pub issues: bool,
    /// Sync pull requests (default on).
    #[serde(default = "yes")]
    pub pull_requests: bool,
    /// Read pull requests' review comments (the comments on lines of the
    /// diff): one more request per pull request (default on).
    #[serde(default = "yes")]
    pub review_comments: bool,
    /// Sync discussions (GraphQL), with their comments and replies
    /// (default off).
    #[serde(default)]
    pub discussions: bool,
    /// Give the documents of private repositories the repository's
    /// collaborators (`users`, logins) and teams (`groups`, `org/slug`) as
    /// their access, listed once per repository in each sync; the token must be
    /// allowed to list them (push access, or an App's Metadata and Members
    /// permissions). Off: their access is left unknown.
    #[serde(default)]
    pub private_access: bool,
    /// Sync the documentation files of each repository's default branch
    /// (default on).
    #[serde(default = "yes")]
    pub files: bool,
    /// Globs on a file's path in the repository that make it a document;
    /// default `**/*.md`, `**/*.mdx`, `**/*.rst`, `**/*.txt`, `**/*.adoc`.
    #[serde(default = "default_file_globs")]
    pub file_globs: Vec<String>,
    /// Files larger than this many bytes are passed over (default 1 MiB).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// Comments read per issue or pull request at most (default 1 000);
    /// past it the document's `truncated` metadata says `comments`.
    #[serde(default = "default_max_comments")]
    pub max_comments: usize,
    /// Rate, concurrency, retry, timeouts, TLS roots, proxy.
    #[serde(default)]
    pub options: SourceOptions,
}

fn default_base_url() -> String {
    DEFAULT_BASE_URL.to_owned()
}

fn yes() -> bool {
    true
}

/// The documentation files synced when `file_globs` is not set.
pub const DEFAULT_FILE_GLOBS: &[&str] =
    &["**/*.md", "**/*.mdx", "**/*.rst", "**/*.txt", "**/*.adoc"];

fn default_file_globs() -> Vec<String> {
    DEFAULT_FILE_GLOBS.iter().map(|g| (*g).to_owned()).collect()
}

fn default_max_file_bytes() -> u64 {
    1 << 20
}

fn default_max_comments() -> usize {
    1_000
}

impl GitHubConfig {
    /// Defaults: GitHub.com, no repositories yet.
    pub fn new() -> Self {
        Self {
            base_url: default_base_url(),
            token: None,
            app: None,
            repositories: Vec::new(),
            owners: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            archived: false,
            forks: false,
            issues: true,
            pull_requests: true,
            review_comments: true,
            discussions: false,
            private_access: false,
            files: true,
            file_globs: default_file_globs(),
            max_file_bytes: default_max_file_bytes(),
            max_comments: default_max_comments(),
            options: SourceOptions::default(),
        }
    }

    /// Reach the API at `url` (a GitHub Enterprise Server's `…/api/v3`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sign in with this token.
    pub fn token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sign in as this GitHub App installation.
    pub fn app(mut self, app: GitHubAppConfig) -> Self {
        self.app = Some(app);
        self
    }

    /// Sync these repositories (`owner/name`).
    pub fn repositories<I, S>(mut self, repositories: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.repositories = repositories.into_iter().map(Into::into).collect();
        self
    }

    /// Sync these organizations' or users' repositories.
    pub fn owners<I, S>(mut self, owners: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.owners = owners.into_iter().map(Into::into).collect();
        self
    }

    /// Read pull requests' review comments.
    pub fn review_comments(mut self, on: bool) -> Self {
        self.review_comments = on;
        self
    }

    /// Sync discussions.
    pub fn discussions(mut self, on: bool) -> Self {
        self.discussions = on;
        self
    }

    /// List private repositories' collaborators and teams as their access.
    pub fn private_access(mut self, on: bool) -> Self {
        self.private_access = on;
        self
    }

    /// Sync the repositories' documentation files.
    pub fn files(mut self, on: bool) -> Self {
        self.files = on;
        self
    }

    /// Which files are documents (globs on their path).
    pub fn file_globs<I, S>(mut self, globs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.file_globs = globs.into_iter().map(Into::into).collect();
        self
    }

    /// Read at most `max` comments per issue or pull request.
    pub fn max_comments(mut self, max: usize) -> Self {
        self.max_comments = max;
        self
    }

    /// Replace the shared options (rate, concurrency, retry, …).
    pub fn options(mut self, options: SourceOptions) -> Self {
        self.options = options;
        self
    }

    /// The API's base URL, without a trailing slash.
    pub(crate) fn api_url(&self) -> Result<String> {
        let url = self.base_url.trim().trim_end_matches('/').to_owned();
        connector_core::url::check_base_url("base_url", &url)?;
        Ok(url)
    }

    /// Check every field; errors name the field and the fix.
    pub(crate) fn validated(mut self) -> Result<Self> {
        self.api_url()?;
        if self.repositories.is_empty() && self.owners.is_empty() {
            return Err(Error::config(
                "repositories and owners are both empty; name repositories (acme/widgets) or owners (an organization or a user)",
            ));
        }
        for (i, repo) in self.repositories.iter_mut().enumerate() {
            *repo = repo.trim().to_owned();
            if !is_full_name(repo) {
                return Err(Error::config(format!(
                    "repositories[{i}]: {repo:?} is not owner/name (e.g. acme/widgets)"
                )));
            }
        }
        for (i, owner) in self.owners.iter_mut().enumerate() {
            *owner = owner.trim().to_owned();
            if !is_name(owner) {
                return Err(Error::config(format!(
                    "owners[{i}]: {owner:?} is not an organization or user name"
                )));
            }
        }
        globs("include", &self.include)?;
        globs("exclude", &self.exclude)?;
        if !self.issues && !self.pull_requests && !self.discussions && !self.files {
            return Err(Error::config(
                "issues, pull_requests, discussions and files are all off; turn at least one on",
            ));
        }
        if self.files && self.file_globs.is_empty() {
            return Err(Error::config(
                "file_globs is empty; name the files to sync (**/*.md) or set files to false",
            ));
        }
        file_globs(&self.file_globs)?;
        if self.max_comments == 0 {
            return Err(Error::config(
                "max_comments must be at least 1 (comments past it are cut and reported in `truncated`)",
            ));
        }
        self.options
            .validate()
            .map_err(|e| Error::config(format!("options.{}", e.message())))?;
        Ok(self)
    }

    /// The credential provider `token` or `app` describes.
    pub(crate) fn provider(&self) -> Result<SharedCredentials> {
        match (&self.token, &self.app) {
            (Some(_), Some(_)) => Err(Error::config(
                "token and app are both set; sign in with one of them",
            )),
            (Some(token), None) => Ok(std::sync::Arc::new(Bearer::new(token.clone()))),
            (None, Some(app)) => Ok(std::sync::Arc::new(AppInstallation::new(
                &self.api_url()?,
                app,
                &self.options,
            )?)),
            (None, None) => Err(Error::config(
                "token: set a personal access token (classic or fine-grained) with read access to the repositories' issues and pull requests, or app: a GitHub App installation",
            )),
        }
    }

    /// Whether requests carry an App installation token: `app`, or a
    /// `token` of the installation kind (`ghs_…`). Such a token has no user
    /// behind it.
    pub(crate) fn signs_in_as_installation(&self) -> bool {
        self.app.is_some()
            || self
                .token
                .as_ref()
                .is_some_and(|t| t.expose_secret().starts_with("ghs_"))
    }

    /// The owners' repository filter.
    pub(crate) fn filter(&self) -> Result<RepoFilter> {
        Ok(RepoFilter {
            include: globs("include", &self.include)?,
            exclude: globs("exclude", &self.exclude)?,
            archived: self.archived,
            forks: self.forks,
        })
    }
}

impl Default for GitHubConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Which of an owner's repositories are synced.
#[derive(Debug, Clone)]
pub(crate) struct RepoFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
    archived: bool,
    forks: bool,
}

impl RepoFilter {
    /// Whether the repository `full_name` is synced.
    pub(crate) fn keeps(&self, full_name: &str, archived: bool, fork: bool) -> bool {
        let name = full_name.to_ascii_lowercase();
        (self.archived || !archived)
            && (self.forks || !fork)
            && self.include.as_ref().is_none_or(|g| g.is_match(&name))
            && !self.exclude.as_ref().is_some_and(|g| g.is_match(&name))
    }
}

/// The files' globs as one set (paths are case-sensitive; `*` stays
/// inside one directory, `**/` spans them).
pub(crate) fn file_globs(patterns: &[String]) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for (i, p) in patterns.iter().enumerate() {
        let glob = globset::GlobBuilder::new(p.trim())
            .literal_separator(true)
            .build()
            .map_err(|e| Error::config(format!("file_globs[{i}]: {p:?} is not a glob: {e}")))?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| Error::config(format!("file_globs: {e}")))
}

/// `patterns` as one set (case-insensitive, as GitHub's names are);
/// `None` when empty.
fn globs(field: &str, patterns: &[String]) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for (i, p) in patterns.iter().enumerate() {
        let glob = Glob::new(&p.trim().to_ascii_lowercase())
            .map_err(|e| Error::config(format!("{field}[{i}]: {p:?} is not a glob: {e}")))?;
        set.add(glob);
    }
    set.build()
        .map(Some)
        .map_err(|e| Error::config(format!("{field}: {e}")))
}

/// An owner or repository name: letters, digits, `-`, `_` and `.`.
fn is_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 100
        && raw != "."
        && raw != ".."
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `owner/name`.
fn is_full_name(raw: &str) -> bool {
    raw.split_once('/')
        .is_some_and(|(owner, name)| is_name(owner) && is_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: serde_json::Value) -> Result<GitHubConfig> {
        serde_json::from_value::<GitHubConfig>(json)
            .map_err(|e| Error::config(e.to_string()))?
            .validated()
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (serde_json::json!({}), "repositories and owners"),
            (
                serde_json::json!({"repositories": ["widgets"]}),
                "repositories[0]",
            ),
            (serde_json::json!({"owners": ["a/b"]}), "owners[0]"),
            (
                serde_json::json!({"owners": ["acme"], "include": ["a[b"]}),
                "include[0]",
            ),
            (
                serde_json::json!({"owners": ["acme"], "base_url": "ftp://x"}),
                "base_url",
            ),
            (
                serde_json::json!({"owners": ["acme"], "issues": false, "pull_requests": false, "files": false}),
                "pull_requests",
            ),
            (
                serde_json::json!({"owners": ["acme"], "file_globs": ["a[b"]}),
                "file_globs[0]",
            ),
            (
                serde_json::json!({"owners": ["acme"], "max_comments": 0}),
                "max_comments",
            ),
        ];
        for (json, field) in cases {
            let e = config(json.clone()).unwrap_err();
            assert!(e.to_string().contains(field), "{json} → {e}");
        }
        let e = serde_json::from_value::<GitHubConfig>(serde_json::json!({"owner": ["a"]}))
            .unwrap_err();
        assert!(e.to_string().contains("owner"), "{e}");
    }

    #[test]
    fn enterprise_server_and_filters() {
        let c = config(serde_json::json!({
            "base_url": "https://ghe.acme.com/api/v3/",
            "owners": ["Acme"],
            "include": ["acme/*"],
            "exclude": ["acme/*-old"],
            "forks": true
        }))
        .unwrap();
        assert_eq!(c.api_url().unwrap(), "https://ghe.acme.com/api/v3");
        let f = c.filter().unwrap();
        assert!(f.keeps("Acme/Widgets", false, true));
        assert!(!f.keeps("acme/widgets-old", false, false));
        assert!(!f.keeps("acme/widgets", true, false), "archived is opt-in");
        assert!(!f.keeps("other/widgets", false, false));
        let none = config(serde_json::json!({"owners": ["acme"]})).unwrap();
        assert!(!none.filter().unwrap().keeps("acme/fork", false, true));
    }

    #[test]
    fn the_token_is_never_serialized_nor_shown() {
        let c = config(serde_json::json!({"owners": ["acme"], "token": "ghp_SECRET"})).unwrap();
        assert!(!serde_json::to_string(&c).unwrap().contains("ghp_SECRET"));
        assert!(!format!("{c:?}").contains("ghp_SECRET"));
        assert!(c.provider().is_ok());
        let e = config(serde_json::json!({"owners": ["acme"]}))
            .unwrap()
            .provider()
            .unwrap_err();
        assert!(e.to_string().contains("token"), "{e}");
    }
}
