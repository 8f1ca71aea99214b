//! Who may read a private repository: its collaborators and teams, listed
//! once per repository and run (opt-in, `private_access`), where the token
//! may list them.

use std::collections::HashMap;
use std::sync::Arc;

use connector_core::{Access, ErrorKind, Result};
use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::client::{GitHubClient, PER_PAGE};
use crate::model::Repo;

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
struct Team {
    slug: String,
}

/// The readers of private repositories, read once each.
#[derive(Debug, Default)]
pub(crate) struct Readers {
    // A tokio mutex held through a listing: one listing per repository,
    // however many documents wait for it.
    known: Mutex<HashMap<String, Option<Arc<Access>>>>,
}

impl Readers {
    /// Forget what was listed: each sync lists the readers afresh.
    pub(crate) async fn forget(&self) {
        self.known.lock().await.clear();
    }

    /// The access of `repo`'s documents: public for a public repository;
    /// for a private one, its collaborators and teams (`None` when the
    /// token may not list them).
    pub(crate) async fn of(
        &self,
        client: &GitHubClient,
        repo: &Repo,
    ) -> Result<Option<Arc<Access>>> {
        if !repo.private {
            return Ok(Some(Arc::new(Access {
                public: true,
                ..Access::default()
            })));
        }
        let mut known = self.known.lock().await;
        if let Some(access) = known.get(&repo.full_name) {
            return Ok(access.clone());
        }
        let access = match list(client, repo).await {
            Ok(access) => Some(Arc::new(access)),
            Err(e) if matches!(e.kind(), ErrorKind::Forbidden | ErrorKind::NotFound) => {
                tracing::warn!(
                    repository = %repo.full_name,
                    "{e}; its documents carry no access list (listing collaborators needs push access, or an App's Metadata and Members permissions)"
                );
                None
            }
            Err(e) => return Err(e),
        };
        known.insert(repo.full_name.clone(), access.clone());
        Ok(access)
    }
}

async fn list(client: &GitHubClient, repo: &Repo) -> Result<Access> {
    let base = GitHubClient::repo_path(&repo.full_name)?;
    let owner = repo.full_name.split('/').next().unwrap_or_default();
    let mut access = Access::default();
    let mut pages = client.link_pages(
        format!("collaborators of {}", repo.full_name),
        format!("{base}/collaborators"),
        vec![
            ("affiliation", "all".to_owned()),
            ("per_page", PER_PAGE.to_owned()),
        ],
    );
    while let Some(page) = pages.next().await {
        access.users.extend(
            page?
                .items
                .iter()
                .filter_map(|r| r.decode::<Login>().ok())
                .map(|u| u.login),
        );
    }
    let mut pages = client.link_pages(
        format!("teams of {}", repo.full_name),
        format!("{base}/teams"),
        vec![("per_page", PER_PAGE.to_owned())],
    );
    while let Some(page) = pages.next().await {
        access.groups.extend(
            page?
                .items
                .iter()
                .filter_map(|r| r.decode::<Team>().ok())
                .map(|t| format!("{owner}/{}", t.slug)),
        );
    }
    access.users.sort();
    access.users.dedup();
    access.groups.sort();
    access.groups.dedup();
    Ok(access)
}
