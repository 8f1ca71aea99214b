use std::collections::VecDeque;
use std::future::Future;

use futures::Stream;
use futures::stream;
use reqwest::header::HeaderMap;

use crate::{Error, ErrorKind, Result};

/// Where the next page starts, in the three shapes sources use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageCursor {
    /// A token from the body (`nextPageToken`, `cursor`).
    Token(String),
    /// A URL from a `Link` header or a `next` link in the body.
    Url(String),
    /// An item offset (`startAt`, `start`, `offset`).
    Offset(u64),
}

impl PageCursor {
    fn key(&self) -> String {
        match self {
            PageCursor::Token(t) => format!("t:{t}"),
            PageCursor::Url(u) => format!("u:{u}"),
            PageCursor::Offset(o) => format!("o:{o}"),
        }
    }
}

/// One page: its items and where the next one starts (`None` on the last).
#[derive(Debug)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The next page's cursor.
    pub next: Option<PageCursor>,
}

impl<T> Page<T> {
    /// A page of an offset-paged listing: the next offset is
    /// `start + items.len()` while that is below `total`.
    pub fn from_offset(items: Vec<T>, start: u64, total: u64) -> Self {
        let end = start + items.len() as u64;
        let next = (!items.is_empty() && end < total).then_some(PageCursor::Offset(end));
        Self { items, next }
    }
}

/// The `rel="next"` target of a `Link` header (RFC 8288), as Confluence
/// Cloud and GitHub send it. Targets may contain commas (`keys=ENG,OPS`), so
/// the header is read by its `<…>` brackets, not split on commas.
///
/// ```
/// use connector_core::http::next_link;
/// use reqwest::header::{HeaderMap, HeaderValue, LINK};
/// let mut headers = HeaderMap::new();
/// headers.insert(LINK, HeaderValue::from_static(r#"</wiki/api/v2/spaces?keys=ENG,OPS&cursor=b2s>; rel="next", </wiki>; rel="base""#));
/// assert_eq!(next_link(&headers).as_deref(), Some("/wiki/api/v2/spaces?keys=ENG,OPS&cursor=b2s"));
/// ```
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_in_link_value)
}

fn next_in_link_value(value: &str) -> Option<String> {
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
        let is_next = after[close + 1..params_end].split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        if is_next && !target.is_empty() {
            return Some(target.to_owned());
        }
        rest = &after[params_end..];
    }
    None
}

/// Pages a listing as a stream, guarding against servers that never end:
/// a cursor seen before, an empty page that still names a next page, an
/// offset that does not move forward, or more than `max_pages` pages each
/// end the stream with an error instead of looping.
///
/// ```
/// use connector_core::http::{Page, PageCursor, paginate};
/// use futures::StreamExt;
/// # async fn demo() {
/// // A listing of 250 numbers served 100 at a time by offset.
/// let pages = paginate(None, 1_000, |cursor| async move {
///     let start = match cursor { Some(PageCursor::Offset(n)) => n, _ => 0 };
///     let items: Vec<u64> = (start..(start + 100).min(250)).collect();
///     Ok(Page::from_offset(items, start, 250))
/// });
/// let sizes: Vec<usize> = pages.map(|p| p.unwrap().items.len()).collect().await;
/// assert_eq!(sizes, [100, 100, 50]);
/// # }
/// # tokio::runtime::Runtime::new().unwrap().block_on(demo());
/// ```
pub fn paginate<T, F, Fut>(
    first: Option<PageCursor>,
    max_pages: u64,
    fetch: F,
) -> impl Stream<Item = Result<Page<T>>>
where
    F: FnMut(Option<PageCursor>) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    struct State<F> {
        fetch: F,
        cursor: Option<PageCursor>,
        done: bool,
        pages: u64,
        recent: VecDeque<String>,
    }
    let state = State {
        fetch,
        cursor: first,
        done: false,
        pages: 0,
        recent: VecDeque::new(),
    };
    stream::unfold(state, move |mut s| async move {
        if s.done {
            return None;
        }
        if s.pages >= max_pages {
            s.done = true;
            let e = Error::new(
                ErrorKind::Http,
                format!(
                    "listing passed {max_pages} pages; stopping (raise the page cap if the source is that large)"
                ),
            );
            return Some((Err(e), s));
        }
        s.pages += 1;
        let cursor = s.cursor.take();
        let page = match (s.fetch)(cursor.clone()).await {
            Ok(page) => page,
            Err(e) => {
                s.done = true;
                return Some((Err(e), s));
            }
        };
        match &page.next {
            None => s.done = true,
            Some(next) => {
                let problem = if page.items.is_empty() {
                    Some("an empty page that still names a next page")
                } else if s.recent.contains(&next.key()) || cursor.as_ref() == Some(next) {
                    Some("a next-page cursor it had already returned")
                } else if let (Some(PageCursor::Offset(now)), PageCursor::Offset(then)) =
                    (&cursor, next)
                {
                    (then <= now).then_some("a next offset that does not move forward")
                } else {
                    None
                };
                if let Some(problem) = problem {
                    s.done = true;
                    let e = Error::new(
                        ErrorKind::Http,
                        format!("the server returned {problem}; stopping instead of looping"),
                    );
                    return Some((Err(e), s));
                }
                s.recent.push_back(next.key());
                if s.recent.len() > 64 {
                    s.recent.pop_front();
                }
                s.cursor = Some(next.clone());
            }
        }
        Some((Ok(page), s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    async fn run(pages: Vec<Page<u32>>) -> Vec<Result<usize>> {
        let mut pages = pages.into_iter();
        paginate(None, 10, move |_| {
            let page = pages.next();
            async move { page.ok_or_else(|| Error::new(ErrorKind::Other, "no more")) }
        })
        .map(|p| p.map(|p| p.items.len()))
        .collect()
        .await
    }

    fn token(items: Vec<u32>, next: Option<&str>) -> Page<u32> {
        Page {
            items,
            next: next.map(|t| PageCursor::Token(t.into())),
        }
    }

    #[test]
    fn link_header_values() {
        assert_eq!(next_in_link_value(""), None);
        assert_eq!(
            next_in_link_value(r#"<https://acme.atlassian.net/wiki>; rel="base""#),
            None
        );
        assert_eq!(
            next_in_link_value(
                r#"<https://x/wiki>; rel="base", </wiki/api/v2/pages?cursor=a%2Cb>; rel=next"#
            )
            .as_deref(),
            Some("/wiki/api/v2/pages?cursor=a%2Cb")
        );
        assert_eq!(
            next_in_link_value(r#"</wiki/api/v2/pages; rel="next""#),
            None,
            "no closing bracket"
        );
        assert_eq!(next_in_link_value(r#"<>; rel="next""#), None);
    }

    #[tokio::test]
    async fn token_pages_end_on_the_last() {
        let got = run(vec![
            token(vec![1, 2], Some("a")),
            token(vec![3], Some("b")),
            token(vec![4], None),
        ])
        .await;
        assert_eq!(
            got.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [2, 1, 1]
        );
    }

    #[tokio::test]
    async fn a_repeated_token_ends_with_an_error() {
        let got = run(vec![
            token(vec![1], Some("a")),
            token(vec![2], Some("b")),
            token(vec![3], Some("a")),
        ])
        .await;
        assert_eq!(got.len(), 3);
        let err = got[2].as_ref().unwrap_err();
        assert!(err.to_string().contains("already returned"), "{err}");
    }

    #[tokio::test]
    async fn an_empty_page_with_a_token_ends_with_an_error() {
        let got = run(vec![token(vec![], Some("a"))]).await;
        assert!(
            got[0]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("empty page")
        );
    }

    #[tokio::test]
    async fn the_page_cap_is_the_last_guard() {
        let mut n = 0u32;
        let got: Vec<Result<Page<u32>>> = paginate(None, 5, move |_| {
            n += 1;
            let page = token(vec![n], Some(&format!("t{n}")));
            async move { Ok(page) }
        })
        .collect()
        .await;
        assert_eq!(got.len(), 6);
        assert!(
            got[5]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("passed 5 pages")
        );
    }

    #[tokio::test]
    async fn offsets_must_move_forward() {
        let got: Vec<Result<Page<u32>>> = paginate(Some(PageCursor::Offset(10)), 5, |_| async {
            Ok(Page {
                items: vec![1],
                next: Some(PageCursor::Offset(10)),
            })
        })
        .collect()
        .await;
        assert!(got[0].is_err());
    }
}
