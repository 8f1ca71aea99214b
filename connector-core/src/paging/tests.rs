#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;

use super::*;

fn token_pages(
    pages: Vec<(Vec<u32>, Option<&'static str>)>,
) -> impl FnMut(Option<PageCursor>) -> futures::future::Ready<Result<Page<u32>>> {
    let mut pages = pages.into_iter();
    move |_| {
        let page = pages
            .next()
            .map(|(items, next)| Page::new(items, next.map(|t| PageCursor::Token(t.into()))))
            .ok_or_else(|| Error::new(ErrorKind::Other, "asked past the last page"));
        futures::future::ready(page)
    }
}

async fn sizes(stream: PageStream<u32>) -> Vec<Result<usize>> {
    stream.map(|p| p.map(|p| p.items.len())).collect().await
}

fn message(result: &Result<usize>) -> String {
    result.as_ref().unwrap_err().to_string()
}

#[tokio::test]
async fn token_pages_end_on_the_last_with_and_without_read_ahead() {
    for ahead in [0, 1, 3] {
        let pages = Pager::new("list").read_ahead(ahead).pages(
            None,
            token_pages(vec![
                (vec![1, 2], Some("a")),
                (vec![3], Some("b")),
                (vec![4], None),
            ]),
        );
        let got: Vec<usize> = sizes(pages).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(got, [2, 1, 1], "read-ahead {ahead}");
    }
}

#[tokio::test]
async fn fetched_pages_name_their_cursor_and_the_next() {
    let pages: Vec<Fetched<u32>> = Pager::new("list")
        .pages(
            Some(PageCursor::Token("start".into())),
            token_pages(vec![(vec![1], Some("a")), (vec![2], None)]),
        )
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(pages[0].at, Some(PageCursor::Token("start".into())));
    assert_eq!(pages[0].next, Some(PageCursor::Token("a".into())));
    assert_eq!(pages[1].at, Some(PageCursor::Token("a".into())));
    assert_eq!(pages[1].next, None);
}

#[tokio::test]
async fn a_token_cycle_of_any_length_ends_with_an_error() {
    // 17 distinct tokens, then the first again: a short memory misses it.
    let mut n = 0u64;
    let pages = Pager::new("Jira search").pages(None, move |_| {
        n += 1;
        let next = format!("t{}", n % 17);
        futures::future::ready(Ok(Page::new(vec![n as u32], Some(PageCursor::Token(next)))))
    });
    let got = sizes(pages).await;
    assert_eq!(got.len(), 18);
    assert!(got[..17].iter().all(Result::is_ok));
    let err = message(&got[17]);
    assert!(
        err.contains("Jira search") && err.contains("already returned"),
        "{err}"
    );
}

#[tokio::test]
async fn fresh_tokens_over_the_same_items_end_with_an_error() {
    let mut n = 0u64;
    let pages = Pager::new("list")
        .ids(|item: &u32| Some(item.to_string()))
        .pages(None, move |_| {
            n += 1;
            futures::future::ready(Ok(Page::new(
                vec![1, 2, 3],
                Some(PageCursor::Token(format!("fresh-{n}"))),
            )))
        });
    let got = sizes(pages).await;
    assert_eq!(got.len(), 2);
    assert!(
        message(&got[1]).contains("same page again"),
        "{}",
        message(&got[1])
    );
}

#[tokio::test]
async fn fresh_tokens_forever_stop_at_the_page_cap() {
    let mut n = 0u32;
    let pages = Pager::new("list").max_pages(50).pages(None, move |_| {
        n += 1;
        futures::future::ready(Ok(Page::new(
            vec![n],
            Some(PageCursor::Token(format!("t{n}"))),
        )))
    });
    let got = sizes(pages).await;
    assert_eq!(got.len(), 51);
    assert!(
        message(&got[50]).contains("passed 50 pages"),
        "{}",
        message(&got[50])
    );
}

#[tokio::test]
async fn offset_paging_checks_progress() {
    // The same page forever, whatever offset is asked for.
    let same = Pager::new("DC search")
        .ids(|item: &u32| Some(item.to_string()))
        .pages(None, |cursor| {
            let start = match cursor {
                Some(PageCursor::Offset(n)) => n,
                _ => 0,
            };
            futures::future::ready(Ok(Page::from_offset(vec![1, 2, 3], start, u64::MAX)))
        });
    let got = sizes(same).await;
    assert_eq!(got.len(), 2);
    assert!(
        message(&got[1]).contains("same page again"),
        "{}",
        message(&got[1])
    );

    // A page that only repeats items of the previous one (an overlap that
    // never moves on).
    let mut calls = 0;
    let stuck = Pager::new("DC search")
        .ids(|item: &u32| Some(item.to_string()))
        .pages(None, move |cursor| {
            calls += 1;
            let start = match cursor {
                Some(PageCursor::Offset(n)) => n,
                _ => 0,
            };
            let items = if calls == 1 {
                vec![1, 2, 3]
            } else {
                vec![2, 3]
            };
            futures::future::ready(Ok(Page::new(items, Some(PageCursor::Offset(start + 1)))))
        });
    let got = sizes(stuck).await;
    assert!(
        message(got.last().unwrap()).contains("without any item"),
        "{:?}",
        got.last()
    );

    // An offset that does not move forward.
    let back = Pager::new("list").pages(Some(PageCursor::Offset(10)), |_| {
        futures::future::ready(Ok(Page::new(vec![1u32], Some(PageCursor::Offset(10)))))
    });
    let got = sizes(back).await;
    assert!(
        message(&got[0]).contains("does not move past"),
        "{}",
        message(&got[0])
    );
}

#[tokio::test]
async fn empty_pages_that_name_a_next_page_are_allowed_a_few_times() {
    let mut n = 0u32;
    let pages = Pager::new("delta")
        .max_empty_pages(3)
        .pages(None, move |_| {
            n += 1;
            let items = if n == 2 { vec![7] } else { vec![] };
            futures::future::ready(Ok(Page::new(
                items,
                Some(PageCursor::Token(format!("t{n}"))),
            )))
        });
    let got = sizes(pages).await;
    // 1 empty, 1 full, 3 empty allowed, the 4th in a row fails.
    assert_eq!(got.len(), 6);
    assert!(got[..5].iter().all(Result::is_ok));
    assert!(message(&got[5]).contains("empty pages in a row"));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn read_ahead_overlaps_fetching_with_consuming_and_stays_bounded() {
    let fetched = Arc::new(AtomicU64::new(0));
    let counter = fetched.clone();
    let pages = Pager::new("list").read_ahead(1).pages(None, move |cursor| {
        let counter = counter.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let next = (n < 10).then(|| PageCursor::Token(format!("t{n}")));
            let _ = cursor;
            Ok(Page::new(vec![n as u32], next))
        }
    });
    let started = tokio::time::Instant::now();
    let mut pages = pages;
    let mut received = 0u64;
    while let Some(page) = pages.next().await {
        page.unwrap();
        received += 1;
        // At most one page beyond the one in hand is fetched or fetching.
        assert!(fetched.load(Ordering::SeqCst) <= received + 1);
        tokio::time::sleep(Duration::from_millis(100)).await; // converting the page
    }
    assert_eq!(received, 10);
    // Sequential would take 10 × (100 + 100) ms; overlapped about 11 × 100 ms.
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1300), "{took:?}");
}

#[tokio::test]
async fn a_panicking_fetch_is_an_error_not_the_last_page() {
    let mut n = 0u32;
    let pages = Pager::new("list").read_ahead(1).pages(None, move |_| {
        n += 1;
        let n = n;
        async move {
            assert!(n < 2, "the fetch broke");
            Ok(Page::new(vec![n], Some(PageCursor::Token(format!("t{n}")))))
        }
    });
    let got = sizes(pages).await;
    assert_eq!(got.len(), 2);
    assert!(
        message(&got[1]).contains("page fetch failed"),
        "{}",
        message(&got[1])
    );
}

#[tokio::test]
async fn dropping_the_stream_stops_fetching() {
    let fetched = Arc::new(AtomicU64::new(0));
    let counter = fetched.clone();
    let mut pages = Pager::new("list").read_ahead(2).pages(None, move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(Page::new(
                vec![n as u32],
                Some(PageCursor::Token(format!("t{n}"))),
            ))
        }
    });
    pages.next().await.unwrap().unwrap();
    drop(pages);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let after_drop = fetched.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(fetched.load(Ordering::SeqCst), after_drop);
    assert!(after_drop <= 4, "{after_drop}");
}

#[tokio::test]
async fn a_capped_sub_listing_stops_fetching_at_the_cap() {
    let fetched = Arc::new(AtomicU64::new(0));
    let counter = fetched.clone();
    // A server claiming a trillion comments.
    let pages = Pager::new("comments")
        .read_ahead(0)
        .pages(None, move |cursor| {
            counter.fetch_add(1, Ordering::SeqCst);
            let start = match cursor {
                Some(PageCursor::Offset(n)) => n,
                _ => 0,
            };
            let items: Vec<u64> = (start..start + 100).collect();
            futures::future::ready(Ok(Page::from_offset(items, start, 1_000_000_000_000)))
        });
    let capped = collect_capped(pages, 250).await.unwrap();
    assert_eq!(capped.items.len(), 250);
    assert!(capped.truncated);
    assert_eq!(fetched.load(Ordering::SeqCst), 3);

    let exact = Pager::new("comments").pages(None, |_| {
        futures::future::ready(Ok(Page::last(vec![1u32, 2, 3])))
    });
    let capped = collect_capped(exact, 3).await.unwrap();
    assert_eq!((capped.items.len(), capped.truncated), (3, false));
}
