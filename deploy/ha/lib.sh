# Helpers for local-cluster.sh (sourced): messages, the processes it starts (recorded by pid in the state dir $DIR),
# bounded waits, free ports and templates.

say() { printf 'local-cluster: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A recorded pid is ours only while its command line still names the state dir (pids are reused).
ours() { [ -n "${1:-}" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$DIR/"; }
pid_of() { cat "$1" 2>/dev/null || true; }
postmaster_pid() { head -n1 "$DIR/$1/data/postmaster.pid" 2>/dev/null || true; }

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds; fails naming WHAT after SECONDS.
wait_for() {
  local limit=$1 deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "gave up after $limit s waiting for $what"
    sleep 0.3
  done
}

# kill_wait SIGNAL SECONDS PID...: signals our live pids, waits until they are gone, then SIGKILLs what is left.
kill_wait() {
  local signal=$1 deadline=$((SECONDS + $2)) pid live
  shift 2
  for pid in "$@"; do ! ours "$pid" || kill "-$signal" "$pid" 2>/dev/null || true; done
  while :; do
    live=()
    for pid in "$@"; do ! ours "$pid" || live+=("$pid"); done
    [ "${#live[@]}" -gt 0 ] || return 0
    if [ "$SECONDS" -ge "$deadline" ]; then kill -KILL "${live[@]}" 2>/dev/null || true; return 0; fi
    sleep 0.2
  done
}

# Distinct free loopback ports, all held open until every one is chosen; never 5432, 6379 or 8000-8999.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    held.append(s)
    port = s.getsockname()[1]
    if port not in (5432, 6379) and not 8000 <= port <= 8999:
        ports.append(port)
print(' '.join(map(str, ports)))
PY
}

# render TEMPLATE OUT KEY=VALUE...: TEMPLATE (beside this file) with every @KEY@ replaced by VALUE.
render() {
  local template=$1 out=$2 script=() pair
  shift 2
  for pair in "$@"; do script+=(-e "s|@${pair%%=*}@|${pair#*=}|g"); done
  sed "${script[@]}" "$HERE/$template" >"$out"
}
