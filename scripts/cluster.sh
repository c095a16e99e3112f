#!/usr/bin/env bash
# Several updraftd on one PostgreSQL database behind nginx, all on loopback
# (docs/design.md, "Deploying at scale"): starts a private PostgreSQL (initdb in
# a temp dir), N updraftd nodes sharing it and one data directory, and nginx
# balancing over them, then prints the URL and waits. Ctrl-C (or SIGTERM to the
# script) stops everything and deletes the temp dir (KEEP=1 keeps it).
# Usage: scripts/cluster.sh [N]   (default 2; needs a build: cmake --build --preset release)
# UPDRAFTD_ARGS adds options to every node (e.g. "--tick-ms 200 --poll-seconds 5").
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${1:-2}
updraftd=${UPDRAFTD:-build/release/server/updraftd}
[ -x "$updraftd" ] || { echo "cluster: build first (cmake --preset release && cmake --build --preset release)" >&2; exit 2; }
bindir=$(pg_config --bindir 2>/dev/null || true)
[ -x "$bindir/initdb" ] || bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bindir/initdb" ] || { echo "cluster: PostgreSQL not installed (scripts/setup.sh installs it)" >&2; exit 2; }
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "cluster: nginx not installed" >&2; exit 2; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

dir=$(mktemp -d /tmp/updraft-cluster-XXXXXX)
chmod 755 "$dir"
pids=()
as_pg=()
if [ "$(id -u)" = 0 ]; then  # PostgreSQL refuses to run as root
  mkdir -p "$dir/pg" && chown postgres: "$dir/pg"
  as_pg=(runuser -u postgres --)
else
  mkdir -p "$dir/pg"
fi
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] && echo "cluster: kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; echo "cluster: $2 did not start; see $3" >&2; exit 1; }

pg_port=$(free_port)
"${as_pg[@]}" "$bindir/initdb" -D "$dir/pg/data" -U updraft --auth=trust --no-locale -E UTF8 >"$dir/pg/initdb.log"
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1" start >/dev/null
"$bindir/psql" -q -h 127.0.0.1 -p "$pg_port" -U updraft -d postgres -c "CREATE DATABASE updraft"
store="postgresql://updraft@127.0.0.1:$pg_port/updraft"
echo "cluster: PostgreSQL on $store"

# One node at a time, each up before the next: simple to follow in the logs (nodes
# may also start together: the keys are made once, under a lock).
upstreams=""
for n in $(seq "$nodes"); do
  mkdir -p "$dir/node-$n"
  # shellcheck disable=SC2086  # UPDRAFTD_ARGS is a list of options
  "$updraftd" --data "$dir/data" --store "$store" --port 0 --port-file "$dir/node-$n/port" \
    ${UPDRAFTD_ARGS:-} >"$dir/node-$n/updraftd.log" 2>&1 &
  pids+=($!)
  wait_for "$dir/node-$n/port" "node $n" "$dir/node-$n/updraftd.log"
  echo "cluster: node $n pid $! on 127.0.0.1:$(cat "$dir/node-$n/port")"
  upstreams+="    server 127.0.0.1:$(cat "$dir/node-$n/port");"$'\n'
done

mkdir -p "$dir/nginx"
port=$(free_port)
user=""; [ "$(id -u)" = 0 ] && user="user root;"
cat >"$dir/nginx/nginx.conf" <<CONF
$user
daemon off;
pid $dir/nginx/nginx.pid;
error_log stderr;
events {}
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  upstream updraftd {
$upstreams  }
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 0;           # release uploads: updraftd enforces its own limit
    location / {
      proxy_pass http://updraftd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host:\$server_port;
      proxy_request_buffering off;    # stream uploads to the node
      proxy_buffering off;            # live events (SSE) as they happen
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;  # a dead node's requests go to the next
    }
  }
}
CONF
"$nginx_bin" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e stderr 2>"$dir/nginx/error.log" &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/api/v1/health" >/dev/null || { echo "cluster: nginx did not start; see $dir/nginx/error.log" >&2; exit 1; }

echo "cluster: $nodes updraftd nodes behind nginx at http://127.0.0.1:$port"
echo "cluster: admin token in $dir/data/admin.token; logs in $dir/node-*/updraftd.log"
echo "cluster: UPDRAFT_SERVER=http://127.0.0.1:$port UPDRAFT_TOKEN_FILE=$dir/data/admin.token build/release/cli/updraft campaign list"
echo "cluster: Ctrl-C stops it"
# Until Ctrl-C or nginx ends; a node that dies (a failover drill) stops nothing.
wait "${pids[-1]}"
