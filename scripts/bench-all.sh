#!/usr/bin/env bash
# Runs every fanout scenario of docs/benchmarks.md (issue 13) one after another, keeps each
# run's JSON and prints the summary tables. Each run creates its own workspace in the database
# and removes it; nothing else in the database is touched.
#
#   scripts/bench-all.sh [output directory]
#
# Environment: DATABASE_URL (default: onboard's, postgres://postgres@127.0.0.1:5432/onboard;
# the database must exist, -serve migrates it), DURATION (each mutating run, default 20s),
# QUIET (each idle window, default 60s; an idle run takes two), ONLY (a regular expression of
# scenario names to run, default all). Needs go and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
go build -o "$out/onboard" ./cmd/onboard
bin="$out/onboard"
d=${DURATION:-20s}
q=${QUIET:-60s}
only=${ONLY:-.}

scenario() { # name, then the arguments of `onboard bench`
  local name=$1; shift
  [[ $name =~ $only ]] || return 0
  echo "== $name: onboard bench $* (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$bin" bench "$@" -json >"$out/$name.json" 2>"$out/$name.log" || { echo "   failed, see $out/$name.log" >&2; return 0; }
}

scenario live-1000    fanout -serve -clients 1000 -drafts 1 -rate 50 -duration "$d"
scenario whole-1000   fanout -serve -clients 1000 -drafts 1 -rate 50 -duration "$d" -deltas=false
scenario raw-1000     fanout -mode raw -clients 1000 -rate 50 -duration "$d" -settle 60s
scenario raw-1000-2k  fanout -mode raw -clients 1000 -rate 50 -duration "$d" -settle 60s -raw-size 2000
scenario live-1000-10drafts fanout -serve -clients 1000 -drafts 10 -rate 500 -duration "$d"
scenario live-5000    fanout -serve -clients 5000 -drafts 1 -rate 50 -duration "$d"
scenario whole-5000   fanout -serve -clients 5000 -drafts 1 -rate 50 -duration "$d" -deltas=false
scenario live-5000-10drafts fanout -serve -clients 5000 -drafts 10 -rate 200 -duration "$d"
scenario raw-5000     fanout -mode raw -clients 5000 -rate 50 -duration "$d" -settle 60s
scenario raw-5000-2k  fanout -mode raw -clients 5000 -rate 50 -duration "$d" -settle 60s -raw-size 2000
scenario cohorts-1000 fanout -serve -clients 1000 -drafts 1 -cohorts 3 -rate 50 -duration "$d"
scenario cohorts-5000 fanout -serve -clients 5000 -drafts 1 -cohorts 3 -rate 50 -duration "$d"
scenario procs2-1000  fanout -serve -processes 2 -clients 1000 -drafts 1 -rate 50 -duration "$d"
scenario procs2-5000  fanout -serve -processes 2 -clients 5000 -drafts 1 -rate 50 -duration "$d"
scenario idle-live-10000 fanout -serve -clients 10000 -drafts 10 -rate 0 -duration "$q"
scenario idle-poll-10000 fanout -serve -mode poll -clients 10000 -drafts 10 -rate 0 -duration "$q"
scenario idle-poll-1000  fanout -serve -mode poll -clients 1000 -drafts 10 -rate 0 -duration "$q"
scenario idle-raw-10000  fanout -mode raw -clients 10000 -rate 0 -duration "$q"
scenario notify-8     notify -writers 8 -duration 10s
scenario storm-restart-10000  storm -tabs 10000 -drafts 100 -cohorts 3 -scenario restart
scenario storm-listener-10000 storm -tabs 10000 -drafts 100 -cohorts 3 -scenario listener

echo
echo "| run | deltas | load avg | tabs | processes | cohorts | mutations/s asked → done | frames/s | expected = received + superseded [+ lost] (+ unaccounted) | bytes/frame | p50 / p99 ms sent→frame | p50 / p99 ms ack→frame | renders/mutation | CPU µs/frame | KiB/conn | goroutines/conn | db/s | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for f in "$out"/*.json; do
  name=$(basename "$f" .json)
  [[ $name == notify-* || $name == storm-* ]] && continue
  jq -r --arg name "$name" '
    def n(x; p): if x == null then "n/a" else (x * p | round) / p | tostring end;
    "| \($name) | \(.deltas // false) | \(n(.load_avg_1m[0]; 10)) | \(.connections) | \((.processes // []) | length) | \(.cohorts) | \(.rate_requested) → \(n(.mutations_per_s; 10)) | \(n(.frames_per_s; 1)) | \(.frames_expected) = \(.frames_received) + \(.dropped)\(if (.frames_lost // 0) > 0 then " + \(.frames_lost) lost" else "" end) (+ \(.frames_unaccounted)) | \(n(.frame_bytes_avg; 1)) | \(n(.latency_ms.p50; 10)) / \(n(.latency_ms.p99; 10)) | \(if .ack_latency_ms then "\(n(.ack_latency_ms.p50; 10)) / \(n(.ack_latency_ms.p99; 10))" else "n/a" end) | \(n(.renders_per_mutation; 100)) | \(n(.cpu_us_per_frame; 10)) | \(n(.rss_per_conn_kib; 10)) | \(n(.goroutines_per_conn; 100)) | \(n(.db_statements_per_s; 10))\(if .db_statements_per_s_without_tabs != null then " (\(n(.db_statements_per_s_without_tabs; 10)) without tabs)" else "" end) \(.db_statements_source // "") | \((.errors // []) | length) |"
  ' "$f"
done
if [[ -f $out/notify-8.json ]]; then
  jq -r '"\nNOTIFY commit serialisation, \(.writers) writers (load avg \(.load_avg_1m[0])): \(.plain_commits_per_s | round) commits/s without trigger, \(.trigger_commits_per_s | round) with it, \(.trigger_async_commits_per_s | round) with it and synchronous_commit off"' "$out/notify-8.json"
fi
storms=("$out"/storm-*.json)
if [[ -f ${storms[0]} ]]; then
  echo
  echo "| storm | tabs | drafts | cohorts | every tab current p50 / p99 / max s | not current | refused dials | db work | snapshot queries | renders | session cache hits / misses |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for f in "${storms[@]}"; do
    jq -r '"| \(.scenario) | \(.tabs) | \(.drafts) | \(.cohorts) | \(.current_p50_s * 100 | round / 100) / \(.current_p99_s * 100 | round / 100) / \(.current_max_s * 100 | round / 100) | \(.not_current) | \(.refused_dials) | \(.db_work) \(.db_work_source) | \(.snapshot_queries) | \(.renders) | \(.session_cache_hits) / \(.session_cache_misses) |"' "$f"
  done
fi
echo "JSON and logs: $out" >&2
