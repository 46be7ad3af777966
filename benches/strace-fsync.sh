#!/usr/bin/env bash
# Checks the durability claims of W1, W4 and W5 instead of assuming them: runs each store's
# writes under strace and counts the sync calls (fsync, fdatasync, msync, sync_file_range,
# syncfs, sync) that touch the store's files, per workload, and checks for every acknowledged
# write (W1: every acknowledged chunk of 10,000) that a sync of the store's files STARTED after
# the write was issued and FINISHED before its promise resolved.
#
#   W1  3 chunks of 10,000 puts, each chunk a durable batch (every store's bulk-load path)
#   W4  200 puts, one awaited at a time
#   W5  10,000 puts in flight at once
#
# The probe (benches/js/strace-probe.ts) writes "P<i>" to /dev/null just before issuing write i
# and "A<i>" just after its promise resolves; benches/js/strace-analyze.ts matches those markers
# with the sync calls in the `strace -f -ttt -T -y` log. Expect "acks after a completed sync" to
# equal "acked" for a store whose promises mean durable; syncs/ack shows group commit (< 1).
#
# Usage: bash benches/strace-fsync.sh [--stores=a,b] [--workloads=W4,W5] [--json-dir=DIR]
# Needs strace (Debian: apt-get install strace) and the peers (npm --prefix benches/js ci).
# Run from anywhere; takes about half a minute. (`--require tsx/cjs`: tsx's CommonJS hook, which
# starts faster than `--import tsx` and, under strace -f, traces no ESM loader thread.)
set -euo pipefail
cd "$(dirname "$0")/.."

stores=chronokv,lmdb,classic-level,better-sqlite3
workloads=W1,W4,W5
json_dir=
for arg in "$@"; do
  case "$arg" in
    --stores=*) stores=${arg#--stores=} ;;
    --workloads=*) workloads=${arg#--workloads=} ;;
    --json-dir=*) json_dir=${arg#--json-dir=} ;;
    *) echo "unknown argument $arg" >&2; exit 2 ;;
  esac
done

if ! command -v strace >/dev/null; then
  echo "strace is not installed (apt-get install strace)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
IFS=, read -ra store_list <<<"$stores"
IFS=, read -ra workload_list <<<"$workloads"
for workload in "${workload_list[@]}"; do
  for store in "${store_list[@]}"; do
    log="$work/$store-$workload.strace"
    strace -f -ttt -T -y -qq -e signal=none \
      -e trace=fsync,fdatasync,msync,sync_file_range,syncfs,sync,write \
      -o "$log" node --require tsx/cjs benches/js/strace-probe.ts --store="$store" --workload="$workload" \
      >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
    dir=$(sed -n 's/^DIR //p' "$work/out")
    json=()
    [ -n "$json_dir" ] && json=(--json="$json_dir/$store-$workload.json")
    node --require tsx/cjs benches/js/strace-analyze.ts "$log" "$dir" "$store" "$workload" "${json[@]}"
  done
done
