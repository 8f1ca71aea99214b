//! The repositories in scope: those named, and those of the owners that
//! pass the filters, sorted by name (the order checkpoints rely on).

use connector_core::json::RawRecord;
use connector_core::paging::PageStream;
use connector_core::url::segment;
use connector_core::{Error, ErrorKind, Result};
use futures::StreamExt;

use crate::client::{GitHubClient, PER_PAGE};
use crate::config::{GitHubConfig, RepoFilter};
use crate::model::Repo;

/// Every repository in scope, sorted by `full_name` (case-insensitively),
/// each once.
pub(crate) async fn in_scope(
    client: &GitHubClient,
    config: &GitHubConfig,
    filter: &RepoFilter,
) -> Result<Vec<Repo>> {
    let mut repos: Vec<Repo> = Vec::new();
    for (i, name) in config.repositories.iter().enumerate() {
        let path = GitHubClient::repo_path(name)?;
        let repo: Repo = client.http().get(&path).fetch_json().await.map_err(|e| {
            client
                .explain(&format!("repository {name}"), e)
                .context(format_args!("repositories[{i}]"))
        })?;
        repos.push(repo);
    }
    let installation = config.signs_in_as_installation();
    for (i, owner) in config.owners.iter().enumerate() {
        let listed = owner_repos(client, owner, installation)
            .await
            .map_err(|e| e.context(format_args!("owners[{i}]")))?;
        repos.extend(
            listed
                .into_iter()
                .filter(|r| filter.keeps(&r.full_name, r.archived, r.fork)),
        );
    }
    repos.sort_by_key(|r| r.full_name.to_ascii_lowercase());
    repos.dedup_by(|a, b| a.full_name.eq_ignore_ascii_case(&b.full_name));
    Ok(repos)
}

/// An owner's repositories: an organization's (`/orgs/{org}/repos`), or,
/// when there is no such organization, a user's: for an App installation
/// those of the installation's repositories (`/installation/repositories`)
/// the user owns; for a token, the signed-in user's own (`/user/repos`),
/// private ones included, anyone else's public ones (`/users/{user}/repos`).
async fn owner_repos(client: &GitHubClient, owner: &str, installation: bool) -> Result<Vec<Repo>> {
    let org = format!("/orgs/{}/repos", segment(owner)?);
    let query = vec![("type", "all".to_owned())];
    match collect(client, format!("organization {owner}"), org, query).await {
        Err(e) if e.kind() == ErrorKind::NotFound && installation => {
            installed_repos_of(client, owner).await
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if signed_in_as(client)
                .await
                .is_some_and(|me| me.eq_ignore_ascii_case(owner))
            {
                let query = vec![("affiliation", "owner".to_owned())];
                return collect(
                    client,
                    format!("user {owner}"),
                    "/user/repos".to_owned(),
                    query,
                )
                .await;
            }
            let user = format!("/users/{}/repos", segment(owner)?);
            let query = vec![("type", "owner".to_owned())];
            collect(client, format!("user {owner}"), user, query).await
        }
        other => other,
    }
}

/// The installation's repositories owned by `owner`. An installation
/// token has no user behind it (`/user/repos` is refused) and
/// `/users/{user}/repos` would show public repositories only: the
/// installation's own listing holds every repository the App may read.
async fn installed_repos_of(client: &GitHubClient, owner: &str) -> Result<Vec<Repo>> {
    let what = "the App installation".to_owned();
    let query = vec![("per_page", PER_PAGE.to_owned())];
    let pages = client.link_pages_conditional_in(
        format!("GitHub repositories of {what}"),
        "/installation/repositories".to_owned(),
        query,
        "repositories",
    );
    let repos: Vec<Repo> = decoded(client, &what, pages)
        .await?
        .into_iter()
        .filter(|r| {
            r.full_name
                .split_once('/')
                .is_some_and(|(o, _)| o.eq_ignore_ascii_case(owner))
        })
        .collect();
    if repos.is_empty() {
        return Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "{owner} is no organization, and the App installation reads no repository of a user {owner}: install the App on that account, or check the name"
            ),
        ));
    }
    Ok(repos)
}

/// The signed-in user's login; `None` for an installation token, which
/// has no user.
async fn signed_in_as(client: &GitHubClient) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Me {
        login: String,
    }
    client
        .http()
        .get("/user")
        .fetch_json::<Me>()
        .await
        .ok()
        .map(|me| me.login)
}

async fn collect(
    client: &GitHubClient,
    what: String,
    path: String,
    mut query: Vec<(&'static str, String)>,
) -> Result<Vec<Repo>> {
    query.push(("per_page", PER_PAGE.to_owned()));
    let pages =
        client.link_pages_conditional(format!("GitHub repositories of {what}"), path, query);
    decoded(client, &what, pages).await
}

/// The repositories of a listing; an unreadable one is skipped with a
/// warning.
async fn decoded(
    client: &GitHubClient,
    what: &str,
    mut pages: PageStream<RawRecord>,
) -> Result<Vec<Repo>> {
    let mut repos = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| client.explain(&format!("the repositories of {what}"), e))?;
        for raw in page.items {
            match raw.decode::<Repo>() {
                Ok(repo) => repos.push(repo),
                Err(reason) => tracing::warn!(%what, "a repository is unreadable: {reason}"),
            }
        }
    }
    Ok(repos)
}
