#!/usr/bin/env bash
# Regenerates .sqlx/ (the offline query cache that lets the crate build without a database)
# against a throwaway PostgreSQL cluster, so no running server is needed.
#
#   scripts/sqlx-prepare.sh          # rewrite .sqlx/
#   scripts/sqlx-prepare.sh --check  # fail if .sqlx/ is out of date (what CI runs)
#
# Needs the PostgreSQL server binaries. Rewriting also needs sqlx-cli:
#   cargo install sqlx-cli --version "~0.8" --no-default-features --features postgres,rustls
# The check does without it: it applies the migrations with psql, has the query macros write
# their cache afresh into a scratch directory while the crate is checked, and compares.
set -euo pipefail
cd "$(dirname "$0")/.."

bindir=""
for candidate in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then bindir=$candidate; break; fi
done
[ -n "$bindir" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

dir=$(mktemp -d /tmp/warmline-sqlx.XXXXXX)
as_owner=()
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
  --auth-local=trust --auth-host=reject --no-sync >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w \
  -o "-c listen_addresses= -k $dir -c fsync=off" start >/dev/null

export DATABASE_URL="postgres://postgres@localhost:5432/warmline?host=$dir"
if [ "${1:-}" != "--check" ]; then
  sqlx database create
  sqlx migrate run
  cargo sqlx prepare "$@" -- --all-targets
  exit 0
fi

"$bindir/psql" -q -h "$dir" -U postgres -d postgres -c "create database warmline"
for migration in migrations/*.sql; do
  "$bindir/psql" -q -X -1 -v ON_ERROR_STOP=1 -h "$dir" -U postgres -d warmline -f "$migration" >/dev/null
done
mkdir "$dir/queries"
# Every target of the crate is compiled again, with the database to describe its queries.
find src tests benches -name '*.rs' -exec touch {} +
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$dir/queries" cargo check --all-targets --quiet
if ! diff -r .sqlx "$dir/queries" >"$dir/diff"; then
  echo ".sqlx/ is out of date: run scripts/sqlx-prepare.sh and commit the result" >&2
  head -40 "$dir/diff" >&2
  exit 1
fi
echo ".sqlx/ matches the queries ($(ls .sqlx | wc -l) of them)"
