#!/usr/bin/env bash
# kill -9 at random points during an fs sync, again and again, then resume:
# checks that nothing is lost and nothing delivered twice.
#
#   bash tests/kill-resume.sh                # 30,000 files, 20 kills
#   bash tests/kill-resume.sh 100000 50      # files, kills
#   SYNC_KILL_SEED=1234 bash tests/kill-resume.sh   # replay a schedule
#
# CI runs the same test with 3,000 files and 5 kills.
set -euo pipefail
cd "$(dirname "$0")/.."
SYNC_KILL_FILES="${1:-30000}" SYNC_KILL_TIMES="${2:-20}" \
  exec cargo test -p connector-examples --test sync_kill -- --nocapture
