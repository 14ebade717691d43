#!/usr/bin/env bash
# Domain packages import only the standard library and other domain packages; adapters do not
# import each other (cmd/onboard wires them), save that web routes /live and /live/poll to the
# live endpoint (liveedge), which knows no adapter; only the web edge knows the presentation
# (views, static, web, liveedge, presenter): postgres, worker and the domain packages never
# import them.
# The hub (live) is stdlib-only like the domain, but the database does not feed it directly:
# postgres emits its own LiveEvent and livesource, the adapter between them, converts it.
set -euo pipefail
cd "$(dirname "$0")/.."
mod="$(go list -m)"
domain="fault access account membership invitation onboarding operation provider live presence"
adapters="postgres web worker livemetrics liveedge smtpmail"
fail=0
for p in $domain; do
  for imp in $(go list -f '{{join .Imports " "}}' "./internal/$p"); do
    case "$imp" in
      "$mod"/internal/fault|"$mod"/internal/access|"$mod"/internal/account|"$mod"/internal/membership|"$mod"/internal/invitation|"$mod"/internal/onboarding|"$mod"/internal/operation|"$mod"/internal/provider|"$mod"/internal/live) ;;
      *.*/*) echo "internal/$p imports $imp: domain packages use the standard library only"; fail=1 ;;
    esac
  done
done
for p in $adapters; do
  [ -d "internal/$p" ] || continue
  for imp in $(go list -f '{{join .Imports " "}}' "./internal/$p"); do
    for q in $adapters; do
      if [ "$q" != "$p" ] && [ "$imp" = "$mod/internal/$q" ] && [ "$p/$q" != "web/liveedge" ]; then
        echo "internal/$p imports internal/$q: adapters do not import each other"; fail=1
      fi
    done
  done
done
presentation="views static internal/web internal/liveedge internal/presenter"
for p in $domain postgres worker; do
  [ -d "internal/$p" ] || continue
  for imp in $(go list -f '{{join .Imports " "}}' "./internal/$p"); do
    for q in $presentation; do
      case "$imp" in
        "$mod/$q"|"$mod/$q"/*) echo "internal/$p imports $imp: only the web edge knows views, static, web, liveedge and presenter"; fail=1 ;;
      esac
    done
  done
done
for p in postgres worker; do
  for imp in $(go list -f '{{join .Imports " "}}' "./internal/$p"); do
    case "$imp" in
      "$mod"/internal/live|"$mod"/internal/livesource) echo "internal/$p imports $imp: postgres and worker do not know the hub (livesource converts)"; fail=1 ;;
    esac
  done
done
# livesource joins postgres, the presenter and the hub for the push path; it is wired by cmd
# and knows no other adapter (web, liveedge, worker, livemetrics).
for imp in $(go list -f '{{join .Imports " "}}' ./internal/livesource); do
  for q in web liveedge worker livemetrics; do
    if [ "$imp" = "$mod/internal/$q" ]; then
      echo "internal/livesource imports internal/$q: livesource knows postgres, the presenter and the hub only"; fail=1
    fi
  done
done
# The presenter maps the read model to views for pages and the push path alike: it knows the
# domain and views, never an adapter.
for imp in $(go list -f '{{join .Imports " "}}' ./internal/presenter); do
  for q in $adapters livesource; do
    if [ "$imp" = "$mod/internal/$q" ]; then
      echo "internal/presenter imports internal/$q: the presenter knows no adapter"; fail=1
    fi
  done
done
exit $fail
