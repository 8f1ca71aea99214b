//! The spaces in scope: the configured keys (each must be visible), or
//! every space the user can see, in key order — the order a full listing
//! walks and its checkpoints count in.

use connector_core::{Error, ErrorKind, Result};

use crate::checkpoint::ListingPosition;
use crate::client::{ConfluenceClient, ContentKind, SpaceInfo};

/// The spaces in scope, sorted by key.
pub(crate) async fn resolve(client: &ConfluenceClient, keys: &[String]) -> Result<Vec<SpaceInfo>> {
    let spaces = client.spaces(keys).await?;
    check(spaces, keys, client)
}

/// `spaces` narrowed to `keys` (each must be there), sorted by key.
pub(crate) fn check(
    mut spaces: Vec<SpaceInfo>,
    keys: &[String],
    client: &ConfluenceClient,
) -> Result<Vec<SpaceInfo>> {
    for (i, key) in keys.iter().enumerate() {
        if !spaces.iter().any(|s| &s.key == key) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "spaces[{i}]: space {key} does not exist or is not visible to this user at {}",
                    client.http().base_url()
                ),
            ));
        }
    }
    if !keys.is_empty() {
        spaces.retain(|s| keys.contains(&s.key));
    }
    spaces.sort_by(|a, b| a.key.cmp(&b.key));
    spaces.dedup_by(|a, b| a.key == b.key);
    Ok(spaces)
}

/// Every listing (space × kind) from `from` on, in order: the first one
/// resumes at the checkpoint's page; a space gone from scope since is
/// skipped to the next key after it.
pub(crate) fn listings(
    spaces: &[SpaceInfo],
    kinds: &[ContentKind],
    from: Option<ListingPosition>,
) -> Vec<ListingPosition> {
    let all = spaces.iter().enumerate().flat_map(|(i, s)| {
        kinds
            .iter()
            .map(move |kind| ListingPosition::first(i, &s.key, *kind))
    });
    let Some(from) = from else {
        return all.collect();
    };
    match spaces.iter().position(|s| s.key == from.space_key) {
        Some(i) => {
            let kind = from.kind;
            let resumed = ListingPosition { space: i, ..from };
            let rest = all.skip_while(|p| p.space != i || p.kind != kind).skip(1);
            std::iter::once(resumed).chain(rest).collect()
        }
        None => all.skip_while(|p| p.space_key < from.space_key).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(key: &str) -> SpaceInfo {
        SpaceInfo {
            id: None,
            key: key.into(),
            name: key.into(),
        }
    }

    #[test]
    fn listings_resume_at_the_checkpoint_or_the_next_key() {
        let spaces = [space("ENG"), space("OPS")];
        let kinds = [ContentKind::Page, ContentKind::BlogPost];
        assert_eq!(listings(&spaces, &kinds, None).len(), 4);
        let mut from = ListingPosition::first(7, "ENG", ContentKind::BlogPost);
        from.start = 95;
        let resumed = listings(&spaces, &kinds, Some(from));
        assert_eq!(resumed.len(), 3);
        assert_eq!((resumed[0].space, resumed[0].start), (0, 95));
        assert_eq!(
            resumed[1],
            ListingPosition::first(1, "OPS", ContentKind::Page)
        );
        let gone = ListingPosition::first(0, "DOCS", ContentKind::BlogPost);
        let next = listings(&spaces, &kinds, Some(gone));
        assert_eq!(next[0], ListingPosition::first(0, "ENG", ContentKind::Page));
        let past = ListingPosition::first(0, "ZZZ", ContentKind::Page);
        assert!(listings(&spaces, &kinds, Some(past)).is_empty());
    }
}
