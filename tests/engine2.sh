#!/usr/bin/env bash
# A second, real Docker engine for the tests (issue 24: stacks on a remote engine).
#
#   tests/engine2.sh start    start it (idempotent); prints DOCKER_HOST=tcp://10.213.77.2:2375
#   tests/engine2.sh stop     stop it and its containers, remove its network (idempotent)
#   tests/engine2.sh status   say whether it runs and answers (exit 0 if so, 1 if not)
#
# The engine is a `dockerd` inside the network namespace gsb-engine2, joined to this machine by
# a veth pair (host 10.213.77.1/24, namespace 10.213.77.2/24): to the tests it is another host.
# It has its own config file, data root, exec root, pid file, unix socket, trust key (so its
# `docker info` ID differs from the main engine's), cgroup parent and managed containerd; its
# iptables rules and bridge live in its namespace, so the main engine's are never touched.
# State lives in $GSB_ENGINE2_DIR (default /tmp/gsb-engine2).
#
# Exit codes: 0 done; 1 broke (the engine did not come up: its log tail is printed);
# 2 bad usage; 3 this machine cannot run a second engine (not root, no `ip netns`, no dockerd),
# one line says why, so callers can tell "cannot" from "broke".
set -euo pipefail

NS=gsb-engine2
VETH_HOST=gsb-e2-host
VETH_NS=gsb-e2-ns
HOST_ADDR=10.213.77.1
NS_ADDR=10.213.77.2
PORT=2375
DIR=${GSB_ENGINE2_DIR:-/tmp/gsb-engine2}
# Plain TCP without TLS: TEST ONLY (--tls=false says so to dockerd and skips its 15 s warning
# delay). The address exists only on this machine's veth pair; never expose an engine like this
# on a real network.
TCP_HOST="tcp://$NS_ADDR:$PORT"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"

cannot() { echo "engine2: cannot run a second Docker engine here: $*" >&2; exit 3; }

check_machine() {
  [ "$(id -u)" = 0 ] || cannot "not root (run: sudo $0 ${1:-start})"
  command -v ip >/dev/null || cannot "the ip command is missing (apt-get install iproute2)"
  ip netns list >/dev/null 2>&1 || cannot "\`ip netns\` does not work (no network namespaces)"
  command -v dockerd >/dev/null || cannot "dockerd is missing (install docker.io or docker-ce)"
  command -v docker >/dev/null || cannot "the docker CLI is missing"
  command -v nsenter >/dev/null && command -v unshare >/dev/null \
    || cannot "nsenter/unshare missing (apt-get install util-linux)"
}

answers() { timeout 10 docker -H "$TCP_HOST" info >/dev/null 2>&1; }

dockerd_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [ -d "/proc/$pid" ] && grep -q dockerd "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

# Step 1: the namespace and the veth pair (each part only if missing).
make_network() {
  ip netns list | grep -qw "^$NS" || ip netns add "$NS" \
    || cannot "\`ip netns add $NS\` failed (no CAP_SYS_ADMIN?)"
  if ! ip link show "$VETH_HOST" >/dev/null 2>&1; then
    ip link add "$VETH_HOST" type veth peer name "$VETH_NS" netns "$NS"
  fi
  ip addr replace "$HOST_ADDR/24" dev "$VETH_HOST"
  ip link set "$VETH_HOST" up
  ip -n "$NS" addr replace "$NS_ADDR/24" dev "$VETH_NS"
  ip -n "$NS" link set "$VETH_NS" up
  ip -n "$NS" link set lo up
  # The namespace's default route points back at this machine (outbound traffic, if any).
  ip -n "$NS" route replace default via "$HOST_ADDR"
}

# Step 2: dockerd inside the namespace. nsenter joins only the network namespace (`ip netns
# exec` would remount /sys and hide the cgroup mounts); unshare gives dockerd a mount namespace
# of its own, so its mounts vanish with it and never show on this machine.
start_dockerd() {
  mkdir -p "$DIR/data" "$DIR/exec"
  # Its own config file: the main engine's /etc/docker/daemon.json names its data root. vfs
  # copies layers (slow for big images, fine for the tests' tiny ones) and works on any fs; its
  # own trust key gives it its own `docker info` ID.
  printf '{"storage-driver": "vfs", "mtu": 1400, "deprecated-key-path": "%s"}\n' \
    "$DIR/key.json" >"$DIR/daemon.json"
  : >"$LOG"
  nsenter --net="/run/netns/$NS" unshare --mount --propagation slave \
    dockerd --config-file "$DIR/daemon.json" \
    --data-root "$DIR/data" --exec-root "$DIR/exec" --pidfile "$PIDFILE" \
    --cgroup-parent "$NS" \
    -H "unix://$SOCK" -H "$TCP_HOST" --tls=false --shutdown-timeout 5 \
    >>"$LOG" 2>&1 </dev/null &
  # nsenter and unshare exec, so this is dockerd's pid.
  STARTED=$!
  disown
}

wait_answers() {
  local i
  for i in $(seq 1 120); do
    answers && return 0
    [ -d "/proc/$STARTED" ] || break
    sleep 0.5
  done
  echo "engine2: dockerd did not answer on $TCP_HOST (exited, or 60 s passed); its log ends:" >&2
  tail -n 30 "$LOG" >&2 || true
  return 1
}

main_engine_ok() {
  env -u DOCKER_HOST timeout 20 docker info >/dev/null 2>&1 \
    || { echo "engine2: the main engine no longer answers \`docker info\`" >&2; return 1; }
}

start() {
  check_machine start
  if dockerd_pid >/dev/null && answers; then
    echo "DOCKER_HOST=$TCP_HOST"
    return 0
  fi
  # A half-started or crashed engine: clear it first.
  stop_quietly
  make_network
  start_dockerd
  # A failed start leaves nothing running (its log stays in $DIR).
  wait_answers || { stop_quietly; exit 1; }
  main_engine_ok || { stop_quietly; exit 1; }
  echo "DOCKER_HOST=$TCP_HOST"
}

# Stops dockerd (its containers first), then anything else left in the namespace, then the
# network. Nothing is left running.
stop_quietly() {
  local pid i
  if pid=$(dockerd_pid); then
    local ids
    ids=$(timeout 20 docker -H "unix://$SOCK" ps -q 2>/dev/null || true)
    [ -z "$ids" ] || timeout 30 docker -H "unix://$SOCK" kill $ids >/dev/null 2>&1 || true
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
    [ ! -d "/proc/$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  fi
  if ip netns list 2>/dev/null | grep -qw "^$NS"; then
    # Whatever still runs in our namespace (a containerd or shim of ours) is ended by its id.
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$NS"
  fi
  ip link del "$VETH_HOST" 2>/dev/null || true
  rm -f "$PIDFILE" "$SOCK"
}

stop() {
  check_machine stop
  stop_quietly
  main_engine_ok || exit 1
  echo "engine2: stopped"
}

status() {
  check_machine status
  if dockerd_pid >/dev/null && answers; then
    echo "engine2: running, DOCKER_HOST=$TCP_HOST (pid $(dockerd_pid), state $DIR)"
  else
    echo "engine2: not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
