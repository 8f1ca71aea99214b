//! # connector-sdk
//!
//! The connector SDK in one dependency: `connector-core` as [`core`], each
//! source crate behind a feature of its name, and
//! [`connector_from_config`] — the one way a host (a CLI, a sync service)
//! turns a kind and a configuration it stored as JSON or TOML into a
//! `Box<dyn Connector>` at run time.
//!
//! ```
//! use connector_sdk::connector_from_config;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let connector = connector_from_config(
//!     "fs",
//!     serde_json::json!({"path": dir.path(), "ignore_patterns": ["*.log"]}),
//! )?;
//! assert_eq!(connector.kind(), "fs");
//!
//! let typo = connector_from_config("fs", serde_json::json!({"path": dir.path(), "ignore": []}));
//! let err = typo.err().expect("an unknown field is refused");
//! assert!(err.to_string().contains("unknown field `ignore`"), "{err}");
//! # Ok::<(), connector_sdk::core::Error>(())
//! ```
//!
//! Each source's configuration is its crate's config type, field for field
//! (its documentation lists them), with the options every source shares
//! under `options` and credentials where the source takes them.

#![cfg_attr(docsrs, feature(doc_cfg))]

use connector_core::{Connector, Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

#[cfg(feature = "confluence")]
pub use connector_confluence as confluence;
pub use connector_core as core;
#[cfg(feature = "fs")]
pub use connector_fs as fs;
#[cfg(feature = "gdrive")]
pub use connector_gdrive as gdrive;
#[cfg(feature = "github")]
pub use connector_github as github;
#[cfg(feature = "jira")]
pub use connector_jira as jira;
#[cfg(feature = "s3")]
pub use connector_s3 as s3;
#[cfg(feature = "servicenow")]
pub use connector_servicenow as servicenow;
#[cfg(feature = "sharepoint")]
pub use connector_sharepoint as sharepoint;
#[cfg(feature = "web")]
pub use connector_web as web;

/// The connector kinds this build knows, by the features compiled in.
pub const KINDS: &[&str] = &[
    #[cfg(feature = "fs")]
    "fs",
    #[cfg(feature = "jira")]
    "jira",
    #[cfg(feature = "confluence")]
    "confluence",
    #[cfg(feature = "sharepoint")]
    "sharepoint",
    #[cfg(feature = "servicenow")]
    "servicenow",
    #[cfg(feature = "s3")]
    "s3",
    #[cfg(feature = "github")]
    "github",
    #[cfg(feature = "gdrive")]
    "gdrive",
    #[cfg(feature = "web")]
    "web",
];

/// Build the connector of `kind` from its configuration. Errors name the
/// field and the fix; an unknown kind names the kinds compiled in.
pub fn connector_from_config(kind: &str, config: Value) -> Result<Box<dyn Connector>> {
    match kind {
        #[cfg(feature = "fs")]
        "fs" => fs_connector(config),
        #[cfg(feature = "jira")]
        "jira" => Ok(Box::new(connector_jira::JiraConnector::new(parse(
            "jira", config,
        )?)?)),
        #[cfg(feature = "confluence")]
        "confluence" => Ok(Box::new(
            connector_confluence::ConfluenceConnector::from_config(parse("confluence", config)?)?,
        )),
        #[cfg(feature = "sharepoint")]
        "sharepoint" => Ok(Box::new(connector_sharepoint::SharePointConnector::new(
            parse("sharepoint", config)?,
        )?)),
        #[cfg(feature = "servicenow")]
        "servicenow" => Ok(Box::new(connector_servicenow::ServiceNowConnector::new(
            parse("servicenow", config)?,
        )?)),
        #[cfg(feature = "s3")]
        "s3" => Ok(Box::new(connector_s3::S3Connector::new(parse(
            "s3", config,
        )?)?)),
        #[cfg(feature = "github")]
        "github" => Ok(Box::new(connector_github::GitHubConnector::new(parse(
            "github", config,
        )?)?)),
        #[cfg(feature = "gdrive")]
        "gdrive" => Ok(Box::new(connector_gdrive::GoogleDriveConnector::new(
            parse("gdrive", config)?,
        )?)),
        #[cfg(feature = "web")]
        "web" => Ok(Box::new(connector_web::WebConnector::new(parse(
            "web", config,
        )?)?)),
        _ => Err(Error::config(format!(
            "unknown connector kind {kind:?}; this build knows: {}",
            KINDS.join(", ")
        ))),
    }
}

/// A configuration of type `T`, the error naming the kind and the field.
fn parse<T: DeserializeOwned>(kind: &str, config: Value) -> Result<T> {
    serde_json::from_value(config).map_err(|e| Error::config(format!("{kind} configuration: {e}")))
}

/// Take `field` out of `config` (a field the connector's constructor takes
/// apart from its config type).
#[cfg(feature = "fs")]
fn take<T: DeserializeOwned>(kind: &str, config: &mut Value, field: &str) -> Result<T> {
    let value = config
        .as_object_mut()
        .ok_or_else(|| Error::config(format!("{kind} configuration must be an object")))?
        .remove(field)
        .ok_or_else(|| Error::config(format!("{kind} configuration: missing field `{field}`")))?;
    serde_json::from_value(value)
        .map_err(|e| Error::config(format!("{kind} configuration: `{field}`: {e}")))
}

#[cfg(feature = "fs")]
fn fs_connector(mut config: Value) -> Result<Box<dyn Connector>> {
    let path: std::path::PathBuf = take("fs", &mut config, "path")?;
    let config: connector_fs::FsConfig = parse("fs", config)?;
    Ok(Box::new(connector_fs::FsConnector::new(path, config)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(kind: &str, config: Value) -> String {
        match connector_from_config(kind, config) {
            Ok(c) => panic!("built a `{}` connector", c.kind()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unknown_kinds_and_shapes_are_clear_errors() {
        let err = error("gopher", Value::Null);
        assert!(
            err.contains(
                "this build knows: fs, jira, confluence, sharepoint, servicenow, s3, github, gdrive, web"
            ),
            "{err}"
        );
        let err = error("fs", serde_json::json!([]));
        assert!(err.contains("must be an object"), "{err}");
        let err = error("fs", serde_json::json!({}));
        assert!(err.contains("missing field `path`"), "{err}");
        let err = error(
            "jira",
            serde_json::json!({"base_url": "https://acme.atlassian.net", "project": ["ENG"]}),
        );
        assert!(
            err.contains("jira configuration") && err.contains("project"),
            "{err}"
        );
    }

    #[test]
    fn saas_connectors_from_json() {
        let jira = connector_from_config(
            "jira",
            serde_json::json!({
                "base_url": "https://acme.atlassian.net",
                "credentials": {"email": "me@acme.com", "api_token": "t"},
                "projects": ["ENG"],
                "options": {"rate": 5.0},
            }),
        );
        assert_eq!(
            jira.map(|c| c.kind().to_owned()).ok().as_deref(),
            Some("jira")
        );
        let sharepoint = connector_from_config(
            "sharepoint",
            serde_json::json!({
                "tenant": "contoso.onmicrosoft.com",
                "sites": ["https://contoso.sharepoint.com/sites/Eng"],
                "credentials": {"client_id": "app", "client_secret": "s"},
            }),
        );
        match sharepoint {
            Ok(c) => assert_eq!(c.kind(), "sharepoint"),
            Err(e) => panic!("{e}"),
        }
        let confluence = connector_from_config(
            "confluence",
            serde_json::json!({
                "base_url": "https://wiki.acme.com",
                "deployment": "data_center",
                "credentials": {"token": "pat"},
                "spaces": ["ENG"],
            }),
        );
        match confluence {
            Ok(c) => assert_eq!(c.kind(), "confluence"),
            Err(e) => panic!("{e}"),
        }
        let servicenow = connector_from_config(
            "servicenow",
            serde_json::json!({
                "instance": "acme",
                "credentials": {"user": "svc", "password": "p"},
                "tables": ["kb_knowledge", "incident"],
            }),
        );
        match servicenow {
            Ok(c) => assert_eq!(c.kind(), "servicenow"),
            Err(e) => panic!("{e}"),
        }
        let s3 = connector_from_config(
            "s3",
            serde_json::json!({"bucket": "docs", "region": "eu-west-1", "credentials": "anonymous"}),
        );
        match s3 {
            Ok(c) => assert_eq!(c.kind(), "s3"),
            Err(e) => panic!("{e}"),
        }
        let github = connector_from_config(
            "github",
            serde_json::json!({"token": "github_pat_x", "repositories": ["acme/widgets"]}),
        );
        match github {
            Ok(c) => assert_eq!(c.kind(), "github"),
            Err(e) => panic!("{e}"),
        }
        let gdrive = connector_from_config(
            "gdrive",
            serde_json::json!({
                "credentials": {"oauth": {"client_id": "c", "client_secret": "s", "refresh_token": "1//r"}},
                "shared_drives": ["Engineering"]
            }),
        );
        match gdrive {
            Ok(c) => assert_eq!(c.kind(), "gdrive"),
            Err(e) => panic!("{e}"),
        }
        let web = connector_from_config(
            "web",
            serde_json::json!({"urls": ["https://docs.example.com/"], "max_pages": 10}),
        );
        match web {
            Ok(c) => assert_eq!(c.kind(), "web"),
            Err(e) => panic!("{e}"),
        }
        let err = error(
            "web",
            serde_json::json!({"urls": ["https://docs.example.com/"], "depth": 3}),
        );
        assert!(
            err.contains("web configuration") && err.contains("depth"),
            "{err}"
        );
    }
}
