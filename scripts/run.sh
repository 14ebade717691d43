#!/usr/bin/env bash
# make run: find or start PostgreSQL, then migrate, load demo data into an empty database and
# serve the console with its workers. DATABASE_URL wins; else 127.0.0.1:5432 if it answers;
# else a private cluster under .data/postgres started with the system's initdb/pg_ctl.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir="$PWD/.data"
mkdir -p "$data_dir"

# A stable key for provider secrets at rest, created once for this checkout.
if [ -z "${SECRET_KEY:-}" ]; then
  key_file="$data_dir/secret-key"
  if [ ! -s "$key_file" ]; then
    (umask 077; head -c 32 /dev/urandom | base64 > "$key_file")
  fi
  SECRET_KEY="$(cat "$key_file")"
  export SECRET_KEY
fi

pg_bin() {
  local b
  b="$(command -v "$1" 2>/dev/null || true)"
  if [ -z "$b" ]; then
    b="$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n1 || true)"
  fi
  echo "$b"
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

answers() { # host port
  if command -v pg_isready >/dev/null 2>&1 || [ -n "$(pg_bin pg_isready)" ]; then
    "$(pg_bin pg_isready)" -q -h "$1" -p "$2" -t 2
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

ensure_database() { # admin url, database name
  local psql
  psql="$(pg_bin psql)"
  if [ -n "$psql" ]; then
    if ! "$psql" "$1" -tAc "SELECT 1 FROM pg_database WHERE datname = '$2'" | grep -q 1; then
      "$psql" "$1" -qc "CREATE DATABASE $2" >/dev/null
    fi
  fi
}

if [ -n "${DATABASE_URL:-}" ]; then
  echo "make run: using DATABASE_URL"
elif answers 127.0.0.1 5432; then
  echo "make run: using PostgreSQL on 127.0.0.1:5432 (database onboard)"
  ensure_database "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" onboard
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/onboard?sslmode=disable"
else
  initdb="$(pg_bin initdb)"
  pg_ctl="$(pg_bin pg_ctl)"
  if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
    echo "make run: no PostgreSQL answers on 127.0.0.1:5432 and no initdb/pg_ctl found." >&2
    echo "Install PostgreSQL (Debian/Ubuntu: apt-get install -y postgresql) or set DATABASE_URL." >&2
    exit 1
  fi
  pgdata="$data_dir/postgres"
  port="${PGPORT_PRIVATE:-54329}"
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "make run: running as root needs a 'postgres' user to run the private cluster (apt-get install -y postgresql creates one)." >&2
      exit 1
    fi
    mkdir -p "$pgdata"
    chown postgres "$data_dir" "$pgdata"
  fi
  if [ ! -s "$pgdata/PG_VERSION" ]; then
    echo "make run: creating a private PostgreSQL cluster in $pgdata"
    as_pg "$initdb" -D "$pgdata" -U postgres -A trust >/dev/null
  fi
  if ! answers 127.0.0.1 "$port"; then
    echo "make run: starting the private cluster on 127.0.0.1:$port"
    as_pg "$pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w -o "-p $port -k $pgdata -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  ensure_database "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" onboard
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/onboard?sslmode=disable"
fi

export MIGRATE=true DEMO="${DEMO:-if-empty}"
exec go run ./cmd/onboard serve "$@"
