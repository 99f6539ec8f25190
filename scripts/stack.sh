#!/usr/bin/env bash
# The local infrastructure: Kafka (KRaft), FerretDB, Redis and a development
# OIDC provider, as plain processes on 127.0.0.1. Idempotent.
#   scripts/stack.sh up|down [component]   start or stop everything, or one component
#   scripts/stack.sh status|logs [component]|reset
# CONVERGE_FERRETDB_BACKEND=postgresql puts FerretDB on a local PostgreSQL.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

STACK_DIR=${CONVERGE_STACK_DIR:-$CONVERGE_ROOT/.stack}
KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-19093}
FERRETDB_PORT=${FERRETDB_PORT:-27117}
REDIS_PORT=${REDIS_PORT:-16379}
OIDC_PORT=${OIDC_PORT:-18080}
POSTGRES_PORT=${POSTGRES_PORT:-15432}
FERRETDB_BACKEND=${CONVERGE_FERRETDB_BACKEND:-sqlite}
KAFKA_VERSION=3.9.1

RUN="$STACK_DIR/run"
LOGS="$STACK_DIR/logs"
DATA="$STACK_DIR/data"
mkdir -p "$RUN" "$LOGS" "$DATA"

pid_of() { local f="$RUN/$1.pid"; [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() {
  local name=$1 port=$2 tries=${3:-120}
  for _ in $(seq "$tries"); do
    port_open "$port" && return 0
    pid_of "$name" >/dev/null || { tail -n 30 "$LOGS/$name.log" >&2; die "$name exited during start"; }
    sleep 0.5
  done
  tail -n 30 "$LOGS/$name.log" >&2
  die "$name did not open port $port"
}
spawn() { # name, command...: detached, logging, pid recorded
  local name=$1; shift
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

# --- Redis (Debian's redis-server) -------------------------------------------
redis_install() {
  command -v redis-server >/dev/null && return
  log "installing redis-server from Debian"
  apt_install redis-server
}
apt_install() {
  command -v apt-get >/dev/null || die "apt-get is needed to install $*"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
redis_up() {
  pid_of redis >/dev/null && return
  redis_install
  mkdir -p "$DATA/redis"
  spawn redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DATA/redis" \
    --save "" --appendonly no --protected-mode yes --daemonize no
  wait_port redis "$REDIS_PORT"
}

# --- Kafka (Maven Central jars, KRaft single node) ----------------------------
kafka_libs() {
  local dir="$CONVERGE_CACHE/kafka-$KAFKA_VERSION"
  if [ ! -f "$dir/.complete" ]; then
    command -v mvn >/dev/null || apt_install maven
    log "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central"
    rm -rf "$dir"
    mvn -q -B -f "$CONVERGE_ROOT/scripts/stack/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$dir" >&2 || die "maven could not resolve Kafka"
    touch "$dir/.complete"
  fi
  echo "$dir"
}
kafka_up() {
  pid_of kafka >/dev/null && return
  command -v java >/dev/null || apt_install default-jre-headless
  local libs conf="$STACK_DIR/kafka.properties"
  libs=$(kafka_libs)
  sed -e "s#@DATA@#$DATA/kafka#" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    "$CONVERGE_ROOT/scripts/stack/kafka/server.properties" >"$conf"
  local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
    "-Dlog4j.configuration=file:$CONVERGE_ROOT/scripts/stack/kafka/log4j.properties"
    "-Dkafka.logs.dir=$LOGS" -cp "$libs/*")
  if [ ! -f "$DATA/kafka/meta.properties" ]; then
    local cluster_id
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid)
    "${java[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$conf" >>"$LOGS/kafka.log" 2>&1 \
      || die "kafka storage format failed (see $LOGS/kafka.log)"
  fi
  spawn kafka "${java[@]}" kafka.Kafka "$conf"
  wait_port kafka "$KAFKA_PORT" 240
}

# --- PostgreSQL (Debian's), only for the postgresql FerretDB backend ----------
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  apt_install postgresql
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  die "PostgreSQL is not available"
}
postgres_up() {
  pid_of postgres >/dev/null && return
  local bin as=()
  bin=$(pg_bin)
  # initdb and postgres refuse to run as root
  if [ "$(id -u)" -eq 0 ]; then id postgres >/dev/null 2>&1 || useradd -r postgres; as=(runuser -u postgres --); chown -R postgres "$DATA" "$LOGS"; fi
  if [ ! -f "$DATA/postgres/PG_VERSION" ]; then
    mkdir -p "$DATA/postgres"; [ ${#as[@]} -eq 0 ] || chown postgres "$DATA/postgres"
    "${as[@]}" "$bin/initdb" -D "$DATA/postgres" -U postgres --auth=trust >>"$LOGS/postgres.log" 2>&1 || die "initdb failed"
  fi
  spawn postgres "${as[@]}" "$bin/postgres" -D "$DATA/postgres" -h 127.0.0.1 -p "$POSTGRES_PORT" -k "$DATA/postgres"
  wait_port postgres "$POSTGRES_PORT"
  for _ in $(seq 40); do
    "$bin/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -tc "select 1" >/dev/null 2>&1 && break; sleep 0.25
  done
  "$bin/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -tc "select 1 from pg_database where datname='ferretdb'" | grep -q 1 \
    || "$bin/psql" -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -c "create database ferretdb" >/dev/null
}

# --- FerretDB (built from the wrapper module in scripts/stack/ferretdb) -------
ferretdb_bin() {
  local src="$CONVERGE_ROOT/scripts/stack/ferretdb" hash bin work module
  hash=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" "$src/converge.patch" | sha256sum | cut -c1-16)
  bin="$CONVERGE_CACHE/ferretdb-$hash"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null || apt_install golang-go
    log "building FerretDB (first run downloads Go modules)"
    # Built from a copy of the FerretDB module with converge.patch applied (each change is marked "Converge"):
    # - SQLite searches its _id index for any filter naming an _id or a list of them (upstream: only for a filter
    #   that is nothing but { _id }, so a conditional update scanned the whole table);
    # - update, findAndModify and delete of one collection run one at a time, so a conditional single-document
    #   update is atomic across connections and processes, as on MongoDB (upstream v1 loses updates, issue 3040);
    # - the documents of one update command (a bulkWrite) are written in one transaction, not one each, and a
    #   bulk of over 100 statements no longer deadlocks on the connection pool;
    # - leak tracking with a stack trace per object, and SQL formatted for the debug log, only in debug builds or
    #   with debug logging on (both cost a large share of every write).
    work="$CONVERGE_CACHE/ferretdb-build-$hash"
    rm -rf "$work" && mkdir -p "$work" && cp "$src/go.mod" "$src/go.sum" "$src/main.go" "$work/"
    module=$(cd "$work" && go mod download -json github.com/FerretDB/FerretDB | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$module" ] || die "FerretDB module download failed"
    cp -r "$module" "$work/ferretdb" && chmod -R u+w "$work/ferretdb"
    (cd "$work/ferretdb" && git apply -p1 "$src/converge.patch") || die "FerretDB patch did not apply"
    (cd "$work" && go mod edit -replace github.com/FerretDB/FerretDB=./ferretdb \
      && CGO_ENABLED=0 go build -mod=mod -trimpath -o "$bin.tmp" .) >&2 || die "FerretDB build failed"
    mv "$bin.tmp" "$bin"
    rm -rf "$work"
  fi
  echo "$bin"
}

ferretdb_up() {
  pid_of ferretdb >/dev/null && return
  local bin args
  bin=$(ferretdb_bin)
  if [ "$FERRETDB_BACKEND" = postgresql ]; then
    postgres_up
    args=(--handler postgresql --postgresql-url "postgres://postgres@127.0.0.1:$POSTGRES_PORT/ferretdb")
  else
    mkdir -p "$DATA/ferretdb"
    # WAL with synchronous=normal: a commit survives a crash of FerretDB or of any client, and is not fsynced
    # one by one (the database file is at each checkpoint), so writes do not wait for the disk.
    args=(--handler sqlite --sqlite-url "file:$DATA/ferretdb/?_pragma=synchronous(normal)")
  fi
  spawn ferretdb "$bin" --listen-addr "127.0.0.1:$FERRETDB_PORT" "${args[@]}"
  wait_port ferretdb "$FERRETDB_PORT"
}

# --- OIDC provider for development and tests ---------------------------------
oidc_up() {
  pid_of oidc >/dev/null && return
  ensure_node
  ensure_node_modules
  spawn oidc env OIDC_PORT="$OIDC_PORT" OIDC_STATE_DIR="$DATA/oidc" node "$CONVERGE_ROOT/packages/dev-oidc/src/main.ts"
  wait_port oidc "$OIDC_PORT"
}

stop_one() {
  local name=$1 pid
  pid=$(pid_of "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
}

COMPONENTS=(redis kafka ferretdb oidc)
cmd=${1:-status}
case "$cmd" in
  up)
    if [ -n "${2:-}" ]; then "${2}_up"; exit 0; fi
    redis_up; kafka_up; ferretdb_up; oidc_up
    log "stack up: kafka 127.0.0.1:$KAFKA_PORT, ferretdb 127.0.0.1:$FERRETDB_PORT ($FERRETDB_BACKEND), redis 127.0.0.1:$REDIS_PORT, oidc http://127.0.0.1:$OIDC_PORT"
    ;;
  down)
    if [ -n "${2:-}" ]; then stop_one "$2"; exit 0; fi
    for c in oidc ferretdb postgres kafka redis; do stop_one "$c"; done
    log "stack down"
    ;;
  status)
    rc=0
    for c in "${COMPONENTS[@]}" postgres; do
      if pid=$(pid_of "$c"); then printf '%-9s running (pid %s)\n' "$c" "$pid"
      elif [ "$c" != postgres ]; then printf '%-9s stopped\n' "$c"; rc=3; fi
    done
    exit $rc
    ;;
  logs)
    if [ -n "${2:-}" ]; then tail -n 200 -F "$LOGS/$2.log"; else tail -n 20 "$LOGS"/*.log; fi
    ;;
  reset)
    "$0" down
    rm -rf "$DATA"
    log "stack data wiped"
    ;;
  *) die "usage: $0 up|down [component] | status | logs [component] | reset" ;;
esac
