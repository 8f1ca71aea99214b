//! Benchmark: sync trees of small files with `connector-fs` into a JSONL
//! file and print docs/s and peak RSS; then measure what the content index
//! costs per id at a million ids.
//!
//! ```text
//! cargo run --release --example bench_fs                 # 10 000 and 100 000 files, 1 000 000 ids
//! cargo run --release --example bench_fs -- 5000 20000   # other tree sizes
//! ```
//!
//! Peak RSS is the process's high-water mark (`VmHWM`), read after each
//! step: if memory grew with the tree it would rise between the sizes.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use connector_core::checkpoint::FileCheckpointStore;
use connector_core::content_index::ContentIndex;
use connector_core::runner::{SyncMode, SyncRunner};
use connector_core::sink::JsonlSink;
use connector_fs::{FsConfig, FsConnector};

/// A memory figure of this process from `/proc/self/status`, in MiB.
fn proc_status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn mib(field: &str) -> String {
    proc_status_mib(field)
        .map(|m| format!("{m:.1} MiB"))
        .unwrap_or_else(|| "n/a".into())
}

/// `n` files of about 300 bytes in directories of 100.
fn make_tree(root: &Path, n: usize) -> std::io::Result<()> {
    for i in 0..n {
        let dir = root.join(format!("d{:04}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&dir)?;
        }
        let body = format!(
            "# Note {i}\n\n{}\n",
            "Lorem ipsum dolor sit amet. ".repeat(10)
        );
        std::fs::write(dir.join(format!("note-{i:07}.md")), body)?;
    }
    Ok(())
}

async fn sync_tree(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let tree = scratch.path().join("tree");
    std::fs::create_dir_all(&tree)?;
    make_tree(&tree, n)?;
    let connector = FsConnector::new(&tree, FsConfig::default())?;
    let store = Arc::new(FileCheckpointStore::open(scratch.path().join("state"))?);
    let runner = SyncRunner::new("bench", store);
    let mut sink = JsonlSink::create(scratch.path().join("out.jsonl"))?;

    let started = Instant::now();
    let report = runner
        .run(&connector, &mut sink, SyncMode::Incremental)
        .await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fs full sync    {n:>7} files: {:>7} docs in {secs:>6.2}s = {:>8.0} docs/s, {:>6.1} MB/s out; peak RSS so far {}",
        report.documents_processed,
        report.documents_processed as f64 / secs,
        sink.len() as f64 / secs / 1e6,
        mib("VmHWM:")
    );

    let started = Instant::now();
    let report = runner.run(&connector, &mut sink, SyncMode::Full).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fs re-sync      {n:>7} files: {:>7} unchanged in {secs:>6.2}s = {:>8.0} docs/s; peak RSS so far {}",
        report.documents_skipped,
        report.documents_skipped as f64 / secs,
        mib("VmHWM:")
    );
    Ok(())
}

/// What the content index holds in memory per id, at `n` ids.
async fn index_cost(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let store = FileCheckpointStore::open(scratch.path())?;
    let before = proc_status_mib("VmRSS:").unwrap_or(0.0);
    let mut index = ContentIndex::load(&store, "ids", 0).await?;
    let started = Instant::now();
    for i in 0..n {
        // Ids shaped like a real source's: site + project + key.
        index.stage(
            &format!("https://example.atlassian.net/browse/PROJ-{i}"),
            &format!("{:032x}", (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        );
        if index.staged_len() == 1000 {
            index.commit(&store, "ids").await?;
        }
    }
    index.commit(&store, "ids").await?;
    let build_secs = started.elapsed().as_secs_f64();
    let after = proc_status_mib("VmRSS:").unwrap_or(0.0);
    let log_bytes = std::fs::metadata(scratch.path().join("ids.index"))?.len();

    let started = Instant::now();
    let reloaded = ContentIndex::load(&store, "ids", log_bytes).await?;
    let load_secs = started.elapsed().as_secs_f64();
    println!(
        "content index {n:>9} ids: +{:.1} MiB RSS ({:.0} bytes/id), log {:.1} MiB on disk, built in {build_secs:.2}s, reloaded in {load_secs:.2}s ({} ids)",
        after - before,
        (after - before) * 1024.0 * 1024.0 / n as f64,
        log_bytes as f64 / 1024.0 / 1024.0,
        reloaded.len()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("tree sizes must be whole numbers: {e}"))?;
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for n in sizes {
            sync_tree(n).await?;
        }
        index_cost(1_000_000).await
    })
}
