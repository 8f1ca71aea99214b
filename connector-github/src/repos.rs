//! The repositories in scope: those named, and those of the owners that
//! pass the filters, sorted by name (the order checkpoints rely on).

use connector_core::paging::PageStream;
use connector_core::url::segment;
use connector_core::{ErrorKind, Result};
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
    for (i, owner) in config.owners.iter().enumerate() {
        let listed = owner_repos(client, owner)
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
/// when there is no such organization, a user's: the signed-in user's own
/// (`/user/repos`, private ones included), anyone else's public ones
/// (`/users/{user}/repos`).
async fn owner_repos(client: &GitHubClient, owner: &str) -> Result<Vec<Repo>> {
    let org = format!("/orgs/{}/repos", segment(owner)?);
    let query = vec![("type", "all".to_owned())];
    match collect(client, format!("organization {owner}"), org, query).await {
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
    let mut pages: PageStream<_> =
        client.link_pages_conditional(format!("GitHub repositories of {what}"), path, query);
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
