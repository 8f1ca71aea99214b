//! The configured scopes, resolved against Drive: My Drive, shared drives
//! (by id or name, or all of them) and folders (with the drive they are in).

use std::collections::BTreeSet;

use chrono::SecondsFormat;
use connector_core::{DocumentFailure, Error, ErrorKind, Result, TimeWindow};
use futures::StreamExt;

use crate::client::{DriveClient, Feed, Query, explain};
use crate::config::GoogleDriveConfig;
use crate::model::{FOLDER, File, SharedDrive};

/// One unit of listing and of changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// The files the user owns outside shared drives.
    MyDrive,
    /// A shared drive.
    SharedDrive { id: String, name: String },
    /// The files under a folder; `drive_id` when it is in a shared drive.
    Folder {
        id: String,
        drive_id: Option<String>,
    },
}

/// The pending marker of a scope listed in one query.
pub(crate) const WHOLE: &str = "*";

impl Scope {
    /// The key of its state in the checkpoint.
    pub fn key(&self) -> String {
        match self {
            Scope::MyDrive => "my_drive".into(),
            Scope::SharedDrive { id, .. } => format!("drive:{id}"),
            Scope::Folder { id, .. } => format!("folder:{id}"),
        }
    }

    /// What to call it in errors.
    pub fn label(&self) -> String {
        match self {
            Scope::MyDrive => "My Drive".into(),
            Scope::SharedDrive { name, .. } => format!("shared drive {name}"),
            Scope::Folder { id, .. } => format!("folder {id}"),
        }
    }

    /// Whose changes it reads.
    pub fn feed(&self) -> Feed {
        match self {
            Scope::MyDrive | Scope::Folder { drive_id: None, .. } => Feed::User,
            Scope::SharedDrive { id, .. }
            | Scope::Folder {
                drive_id: Some(id), ..
            } => Feed::Drive(id.clone()),
        }
    }

    /// Where a listing starts: the whole scope, or the root folder.
    pub fn first_pending(&self) -> Vec<String> {
        match self {
            Scope::Folder { id, .. } => vec![id.clone()],
            _ => vec![WHOLE.into()],
        }
    }

    pub fn is_folder(&self) -> bool {
        matches!(self, Scope::Folder { .. })
    }

    /// The listing query of `pending` (a folder id, or [`WHOLE`]), inside
    /// `window` (files modified in it; folders always, to walk them).
    pub fn query(&self, pending: &str, window: &TimeWindow) -> Query {
        let time = (!window.is_full()).then(|| {
            format!(
                "modifiedTime >= '{}' and modifiedTime < '{}'",
                window.start.to_rfc3339_opts(SecondsFormat::Millis, true),
                window.end.to_rfc3339_opts(SecondsFormat::Millis, true)
            )
        });
        let not_folder = format!("mimeType != '{FOLDER}'");
        let files = match &time {
            Some(t) => format!("{not_folder} and {t}"),
            None => not_folder.clone(),
        };
        match self {
            Scope::MyDrive => Query {
                q: format!("'me' in owners and trashed = false and {files}"),
                drive_id: None,
            },
            Scope::SharedDrive { id, .. } => Query {
                q: format!("trashed = false and {files}"),
                drive_id: Some(id.clone()),
            },
            Scope::Folder { drive_id, .. } => {
                let kinds = match &time {
                    Some(t) => format!(" and (mimeType = '{FOLDER}' or ({t}))"),
                    None => String::new(),
                };
                Query {
                    q: format!("'{}' in parents and trashed = false{kinds}", quote(pending)),
                    drive_id: drive_id.clone(),
                }
            }
        }
    }

    /// Whether a (not trashed) file belongs to this scope; `folders` are
    /// the folder scope's known folders.
    pub fn holds(&self, file: &File, folders: &BTreeSet<String>) -> bool {
        match self {
            Scope::MyDrive => file.owned_by_me == Some(true) && file.drive_id.is_none(),
            Scope::SharedDrive { id, .. } => file.drive_id.as_deref() == Some(id),
            Scope::Folder { id, .. } => {
                file.id != *id && file.parents.iter().any(|p| folders.contains(p))
            }
        }
    }
}

/// A string inside single quotes of a Drive query.
fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

/// What the configuration names, resolved; and the shared drives it names
/// that the user cannot see, as failures when `all_shared_drives` is off.
pub(crate) async fn resolve(
    client: &DriveClient,
    config: &GoogleDriveConfig,
) -> Result<Vec<Scope>> {
    let mut scopes = Vec::new();
    if config.my_drive {
        scopes.push(Scope::MyDrive);
    }
    if config.all_shared_drives || !config.shared_drives.is_empty() {
        let mut all: Vec<SharedDrive> = Vec::new();
        let mut pages = client.shared_drives();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| explain(e, "the shared drive list"))?;
            for record in page.items {
                match record {
                    Ok(d) => all.push(d),
                    Err(bad) => {
                        return Err(Error::new(
                            ErrorKind::Decode,
                            format!(
                                "shared drive {} is not in the expected shape: {}",
                                bad.id(),
                                bad.reason
                            ),
                        ));
                    }
                }
            }
        }
        let mut chosen: Vec<&SharedDrive> = Vec::new();
        if config.all_shared_drives {
            chosen.extend(all.iter());
        }
        for wanted in &config.shared_drives {
            let found = all.iter().find(|d| d.id == *wanted).or_else(|| {
                all.iter().find(|d| {
                    d.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
                })
            });
            match found {
                Some(d) if !chosen.iter().any(|c| c.id == d.id) => chosen.push(d),
                Some(_) => {}
                None => {
                    return Err(Error::config(format!(
                        "shared_drives: no shared drive {wanted} among the {} the user is a member of (give its id or exact name)",
                        all.len()
                    )));
                }
            }
        }
        scopes.extend(chosen.into_iter().map(|d| Scope::SharedDrive {
            id: d.id.clone(),
            name: d.name.clone().unwrap_or_else(|| d.id.clone()),
        }));
    }
    for id in &config.folders {
        let folder = client
            .file(id)
            .await
            .map_err(|e| explain(e, &format!("folder {id}")))?;
        if !folder.is_folder() || folder.trashed {
            return Err(Error::config(format!(
                "folders: {id} is not a folder (or is in the trash)"
            )));
        }
        scopes.push(Scope::Folder {
            id: folder.id,
            drive_id: folder.drive_id,
        });
    }
    Ok(scopes)
}

/// A record of a listing or a feed that does not decode.
pub(crate) fn bad_record(id: &str, what: &str, reason: &str) -> DocumentFailure {
    DocumentFailure::new(id, format!("{what} is not in the expected shape: {reason}"))
}
