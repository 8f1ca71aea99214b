//! `kill -9` at random points during an fs sync, again and again, then a
//! resume: nothing may be lost and nothing repeated.
//!
//! CI runs a small variant (3,000 files, 5 kills). The full one is the same
//! test with more of both — `bash tests/kill-resume.sh`, which runs (see
//! docs/architecture.md):
//!
//! ```text
//! SYNC_KILL_FILES=30000 SYNC_KILL_TIMES=20 \
//!   cargo test -p connector-examples --test sync_kill -- --nocapture
//! ```
//!
//! `SYNC_KILL_SEED` replays one schedule of kill points (the seed of every
//! run is printed).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sync_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir
        .join("examples")
        .join(format!("sync{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test`, which builds the examples",
        bin.display()
    );
    bin
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        })
        .unwrap_or(default)
}

/// xorshift64*: enough randomness to place kills, and replayable by seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

fn sync(tree: &Path, out: &Path, state: &Path) -> Command {
    let mut cmd = Command::new(sync_binary());
    cmd.arg("fs")
        .arg("--path")
        .arg(tree)
        .arg("--out")
        .arg(out)
        .arg("--state")
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Each id in a JSONL file and how often it occurs; panics on a torn line.
fn id_counts(out: &Path) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for line in std::fs::read_to_string(out).unwrap().lines() {
        let doc: serde_json::Value = serde_json::from_str(line).expect("every line is whole JSON");
        *counts
            .entry(doc["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

#[test]
fn sigkill_at_random_points_then_resume_loses_and_repeats_nothing() {
    let files = setting("SYNC_KILL_FILES", 3_000) as usize;
    let kills = setting("SYNC_KILL_TIMES", 5);
    let seed = setting(
        "SYNC_KILL_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1,
    );
    let mut rng = Rng(seed);
    println!("kill schedule seed: SYNC_KILL_SEED={seed}");

    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("tree");
    for i in 0..files {
        let dir = tree.join(format!("d{:03}", i / 200));
        if i % 200 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(
            dir.join(format!("f{i:05}.txt")),
            format!("file number {i}\n"),
        )
        .unwrap();
    }

    // How long one uninterrupted sync takes here, to spread the kills over it.
    let started = Instant::now();
    let output = sync(
        &tree,
        &scratch.path().join("calibration.jsonl"),
        &scratch.path().join("calibration-state"),
    )
    .output()
    .unwrap();
    assert!(output.status.success());
    let whole = started.elapsed();

    let (out, state) = (
        scratch.path().join("out.jsonl"),
        scratch.path().join("state"),
    );
    let mut landed = 0;
    for _ in 0..kills {
        // Uniform over twice a fair share of the sync, so that most kills
        // land while documents flow and some during start-up and restore.
        let span = whole.as_micros() as u64 * 2 / kills.max(1);
        let delay = Duration::from_micros(rng.below(span));
        let mut child = sync(&tree, &out, &state).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL: no handler runs
            landed += 1;
        }
        child.wait().unwrap();
    }

    let output = sync(&tree, &out, &state).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let counts = id_counts(&out);
    let repeated = counts.values().filter(|&&n| n > 1).count();
    let lost = files - counts.len();
    println!(
        "{files} files, a whole sync {:.2}s, {landed} of {kills} kills landed mid-run: \
         {lost} lost, {repeated} repeated",
        whole.as_secs_f64()
    );
    assert_eq!((lost, repeated), (0, 0), "seed {seed}");
    assert!(
        landed >= kills.div_ceil(2),
        "only {landed} kills landed (seed {seed})"
    );

    // A further run has nothing to do.
    let output = sync(&tree, &out, &state).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "0 documents written to {}, 0 failures, {files} skipped unchanged",
            out.display()
        )),
        "{stderr}"
    );
}
