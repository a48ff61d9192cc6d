#!/usr/bin/env bash
# A local high-availability PostgreSQL cluster for PicoPay: one etcd, three PostgreSQL nodes each run by Patroni
# (synchronous replication) and HAProxy with a write port (the leader) and a read port (the replicas). Everything
# listens on 127.0.0.1 on free ports and lives in one state directory; nothing else on the machine is touched.
#
#   local-cluster.sh up [DIR]       start; prints PICOPAY_HA_DIR=, DATABASE_URL= and DATABASE_REPLICA_URL= lines
#                                   and exits 0 once the leader accepts writes through HAProxy with a synchronous
#                                   standby streaming (RPO = 0 from then on)
#   local-cluster.sh status [DIR]   prints the leader's name (the member table goes to stderr); 1 if no leader
#   local-cluster.sh down [DIR]     stops everything it started and removes the state directory
# Failure drills (the failover tests use them): kill-postgres NODE (SIGKILL its postmaster), kill-node NODE (SIGKILL
# its Patroni and postmaster), start-node NODE, stop-etcd (SIGKILL), start-etcd, switchover CANDIDATE.
#
# DIR: the argument, else $PICOPAY_HA_DIR, else (up only) a new `mktemp -d /tmp/picopay-ha.XXXXXX`.
# Needs: patroni, etcd, haproxy, psql, curl, python3 and PostgreSQL's server binaries (PG_BIN, default the newest
# /usr/lib/postgresql/*/bin). As root, Patroni and PostgreSQL run as the `postgres` OS user.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODES=(node1 node2 node3)
UP_TIMEOUT=${PICOPAY_HA_UP_TIMEOUT:-120}
STOP_TIMEOUT=15
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
DB_NAME=picopay

# shellcheck source=deploy/ha/lib.sh
. "$HERE/lib.sh"

require_tools() {
  local missing=() tool
  for tool in patroni patronictl etcd haproxy psql curl python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  { [ -n "$PG_BIN" ] && [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/pg_rewind" ]; } || missing+=("postgres server binaries (PG_BIN)")
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || missing+=("OS user postgres")
    command -v setpriv >/dev/null 2>&1 || missing+=(setpriv)
  fi
  [ "${#missing[@]}" -eq 0 ] ||
    die "missing: ${missing[*]} (Debian: apt-get install --no-install-recommends patroni etcd-server haproxy postgresql curl)"
}

load_state() {
  DIR=${1:-${PICOPAY_HA_DIR:-}}
  [ -n "$DIR" ] || die "no state directory: pass it as an argument or set PICOPAY_HA_DIR"
  [ -f "$DIR/cluster.env" ] || die "$DIR holds no local cluster (no cluster.env)"
  # shellcheck disable=SC1091
  . "$DIR/cluster.env"
}

node_port() { local var="${1}_$2"; printf '%s' "${!var}"; }

write_configs() {
  local ports i=0 node
  read -r -a ports <<<"$(free_ports 10)"
  {
    echo "ETCD_PORT=${ports[0]}"; echo "ETCD_PEER_PORT=${ports[1]}"
    echo "WRITE_PORT=${ports[2]}"; echo "READ_PORT=${ports[3]}"
    for node in "${NODES[@]}"; do
      echo "${node}_PG=${ports[4 + i]}"; echo "${node}_API=${ports[7 + i]}"; i=$((i + 1))
    done
  } >"$DIR/cluster.env"
  # shellcheck disable=SC1091
  . "$DIR/cluster.env"
  for node in "${NODES[@]}"; do
    mkdir -p "$DIR/$node"
    render patroni.yml.in "$DIR/$node/patroni.yml" NAME="$node" API_PORT="$(node_port "$node" API)" \
      PG_PORT="$(node_port "$node" PG)" ETCD_PORT="$ETCD_PORT" NODE_DIR="$DIR/$node" PG_BIN="$PG_BIN"
    [ "$(id -u)" != 0 ] || chown -R postgres:postgres "$DIR/$node"
    chmod 700 "$DIR/$node"
  done
  # shellcheck disable=SC2046 # cluster.env is KEY=VALUE lines without spaces
  render haproxy.cfg.in "$DIR/haproxy.cfg" STATE_DIR="$DIR" $(cat "$DIR/cluster.env")
}

start_etcd() {
  ! ours "$(pid_of "$DIR/etcd.pid")" || return 0
  nohup etcd --name picopay-ha --data-dir "$DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "picopay-ha=http://127.0.0.1:$ETCD_PEER_PORT" >>"$DIR/etcd.log" 2>&1 </dev/null &
  echo $! >"$DIR/etcd.pid"
  disown
  wait_for 30 "etcd on 127.0.0.1:$ETCD_PORT" curl -fsS --max-time 1 "http://127.0.0.1:$ETCD_PORT/health"
}

start_node() {
  ! ours "$(pid_of "$DIR/$1/patroni.pid")" || return 0
  local cmd=(patroni "$DIR/$1/patroni.yml")
  [ "$(id -u)" != 0 ] || cmd=(setpriv --reuid=postgres --regid=postgres --init-groups "${cmd[@]}")
  # exec all the way down (subshell, nohup, setpriv): $! is Patroni's pid.
  (cd "$DIR/$1" && exec nohup "${cmd[@]}" >>"$DIR/$1/patroni.log" 2>&1 </dev/null) &
  echo $! >"$DIR/$1/patroni.pid"
  disown # it outlives this script; no job-control notice when `down` kills it
}

start_haproxy() {
  ! ours "$(pid_of "$DIR/haproxy.pid")" || return 0
  haproxy -c -q -f "$DIR/haproxy.cfg" || die "haproxy rejects $DIR/haproxy.cfg"
  nohup haproxy -f "$DIR/haproxy.cfg" >>"$DIR/haproxy.log" 2>&1 </dev/null &
  echo $! >"$DIR/haproxy.pid"
  disown
}

psql_at() { # psql_at PORT SQL: one value, through HAProxy
  PGCONNECT_TIMEOUT=2 psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "${3:-postgres}" -c "$2"
}
# Writes succeed only on a promoted leader: txid_current() assigns a transaction id, which a standby refuses.
writable() { [ -n "$(psql_at "$WRITE_PORT" 'SELECT txid_current()')" ]; }
# Both replicas streaming, and Patroni has recorded one as the synchronous standby in etcd (it does so only after
# PostgreSQL reports it in sync; until then no member is allowed to take over and RPO = 0 does not hold yet).
replicated() {
  [ "$(psql_at "$WRITE_PORT" "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")" = 2 ] &&
    cluster_json | grep -q '"role": "sync_standby"'
}
replica_read() { [ "$(psql_at "$READ_PORT" 'SELECT pg_is_in_recovery()' "$DB_NAME")" = t ]; }
ensure_database() {
  [ "$(psql_at "$WRITE_PORT" "SELECT count(*) FROM pg_database WHERE datname = '$DB_NAME'")" = 1 ] ||
    psql_at "$WRITE_PORT" "CREATE DATABASE $DB_NAME" >/dev/null
}

print_urls() {
  echo "PICOPAY_HA_DIR=$DIR"
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$WRITE_PORT/$DB_NAME"
  echo "DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:$READ_PORT/$DB_NAME"
}

up_failed() {
  local rc=$?
  [ "$rc" != 0 ] || return 0
  say "up failed; the last lines of each log:"
  for log in "$DIR"/etcd.log "$DIR"/haproxy.log "$DIR"/node*/patroni.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
  done
  stop_all
  exit "$rc"
}

cmd_up() {
  require_tools
  DIR=${1:-${PICOPAY_HA_DIR:-}}
  if [ -n "$DIR" ] && [ -f "$DIR/cluster.env" ]; then
    # shellcheck disable=SC1091
    . "$DIR/cluster.env"
    ours "$(pid_of "$DIR/etcd.pid")" || die "$DIR holds a stopped cluster: run '$0 down $DIR' first"
    say "already up in $DIR"
  else
    if [ -z "$DIR" ]; then DIR=$(mktemp -d /tmp/picopay-ha.XXXXXX); else mkdir -p "$DIR"; fi
    [ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty and holds no cluster; refusing to use it"
    DIR=$(cd "$DIR" && pwd)
    chmod 711 "$DIR" # the postgres user must reach its node directories
    trap up_failed EXIT
    write_configs
  fi
  start_etcd
  for node in "${NODES[@]}"; do start_node "$node"; done
  start_haproxy
  say "waiting (at most ${UP_TIMEOUT} s) for a leader that accepts writes through 127.0.0.1:$WRITE_PORT"
  wait_for "$UP_TIMEOUT" "a leader accepting writes through HAProxy (127.0.0.1:$WRITE_PORT)" writable
  wait_for "$UP_TIMEOUT" "database $DB_NAME to exist" ensure_database
  wait_for "$UP_TIMEOUT" "two replicas streaming, one of them synchronous" replicated
  wait_for "$UP_TIMEOUT" "a replica answering on the read port 127.0.0.1:$READ_PORT" replica_read
  trap - EXIT
  say "leader: $(leader || echo '?')"
  print_urls
}

stop_all() {
  local node pids=()
  kill_wait TERM "$STOP_TIMEOUT" "$(pid_of "$DIR/haproxy.pid")"
  # Everything is about to be deleted, so no clean shutdown: SIGKILL Patroni first (it would otherwise restart
  # or fail over what is being stopped), then an immediate shutdown of each postmaster (SIGQUIT ends its backends).
  for node in "${NODES[@]}"; do pids+=("$(pid_of "$DIR/$node/patroni.pid")"); done
  kill_wait KILL "$STOP_TIMEOUT" "${pids[@]}"
  pids=()
  for node in "${NODES[@]}"; do pids+=("$(postmaster_pid "$node")"); done
  kill_wait QUIT "$STOP_TIMEOUT" "${pids[@]}"
  kill_wait TERM "$STOP_TIMEOUT" "$(pid_of "$DIR/etcd.pid")"
  rm -rf "$DIR"
}

cmd_down() {
  DIR=${1:-${PICOPAY_HA_DIR:-}}
  if [ -n "$DIR" ] && [ ! -e "$DIR" ]; then say "$DIR does not exist: nothing to stop"; return 0; fi
  load_state "$DIR"
  stop_all
  say "stopped; removed $DIR"
}

# Patroni's view of the members (GET /cluster), from the first member that answers.
cluster_json() {
  local node
  for node in "${NODES[@]}"; do
    curl -fsS --max-time 2 "http://127.0.0.1:$(node_port "$node" API)/cluster" 2>/dev/null && return 0
  done
  return 1
}

# The member holding the leader key answers 200 on /leader.
leader() {
  local node
  for node in "${NODES[@]}"; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$(node_port "$node" API)/leader")" = 200 ]; then
      echo "$node"
      return 0
    fi
  done
  return 1
}

cmd_status() {
  load_state "${1:-}"
  patronictl -c "$DIR/node1/patroni.yml" list >&2 2>/dev/null || say "patronictl list failed (is etcd up?)"
  leader || die "no leader"
}

node_arg() {
  local node
  for node in "${NODES[@]}"; do [ "$node" != "${1:-}" ] || return 0; done
  die "unknown node '${1:-}' (one of ${NODES[*]})"
}

main() {
  local command=${1:-}
  shift || true
  case "$command" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    kill-postgres) node_arg "${1:-}"; load_state "${2:-}"; pid=$(postmaster_pid "$1")
      ours "$pid" || die "$1 has no running postmaster"; kill -KILL "$pid"; echo "$pid" ;;
    kill-node) node_arg "${1:-}"; load_state "${2:-}"
      kill_wait KILL 5 "$(pid_of "$DIR/$1/patroni.pid")" "$(postmaster_pid "$1")" ;;
    start-node) node_arg "${1:-}"; load_state "${2:-}"; start_node "$1" ;;
    stop-etcd) load_state "${1:-}"; kill_wait KILL 5 "$(pid_of "$DIR/etcd.pid")" ;;
    start-etcd) load_state "${1:-}"; start_etcd ;;
    switchover) node_arg "${1:-}"; load_state "${2:-}"
      patronictl -c "$DIR/node1/patroni.yml" switchover --candidate "$1" --force ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
