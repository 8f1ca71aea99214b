//! Streaming `ListObjectsV2`: a task pages through each prefix in turn with
//! continuation tokens and hands pages over a small bounded channel, so the
//! next page is fetched while this one downloads, a slow consumer slows the
//! listing, and at most a few pages of keys are ever in memory. Dropping
//! the stream stops the task.

use futures::Stream;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use connector_core::Result;

use crate::client::{Listed, S3Api};

/// Pages listed ahead of the consumer.
const PAGES_AHEAD: usize = 2;

/// Where a listing starts: prefix `index`, strictly after key `after`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListFrom {
    pub index: usize,
    pub after: Option<String>,
}

/// One listed key and the index of the prefix it was listed under.
pub(crate) type Entry = (usize, Listed);

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every key under `prefixes[from.index..]`, in key order within each
/// prefix, starting after `from.after`. A failed page ends the stream with
/// its error.
pub(crate) fn objects(
    api: S3Api,
    prefixes: Arc<Vec<String>>,
    from: ListFrom,
) -> impl Stream<Item = Result<Entry>> + Send + 'static {
    let (tx, mut rx) = mpsc::channel::<Result<(usize, Vec<Listed>)>>(PAGES_AHEAD);
    let task = tokio::spawn(async move {
        for (index, prefix) in prefixes.iter().enumerate().skip(from.index) {
            let mut start_after = if index == from.index {
                from.after.clone()
            } else {
                None
            };
            let mut token: Option<String> = None;
            loop {
                let page = match api
                    .list_page(prefix, None, token.take(), start_after.take())
                    .await
                {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                let next = page.next_token;
                if tx.send(Ok((index, page.objects))).await.is_err() {
                    return; // the stream was dropped
                }
                match next {
                    Some(t) => token = Some(t),
                    None => break,
                }
            }
        }
    });
    let guard = AbortOnDrop(task);
    let mut current: std::vec::IntoIter<Listed> = Vec::new().into_iter();
    let mut current_index = 0usize;
    futures::stream::poll_fn(move |cx| {
        let _keep_task_alive = &guard;
        loop {
            if let Some(obj) = current.next() {
                return std::task::Poll::Ready(Some(Ok((current_index, obj))));
            }
            match rx.poll_recv(cx) {
                std::task::Poll::Ready(Some(Ok((index, page)))) => {
                    current_index = index;
                    current = page.into_iter();
                }
                std::task::Poll::Ready(Some(Err(e))) => {
                    return std::task::Poll::Ready(Some(Err(e)));
                }
                std::task::Poll::Ready(None) => return std::task::Poll::Ready(None),
                std::task::Poll::Pending => return std::task::Poll::Pending,
            }
        }
    })
}
