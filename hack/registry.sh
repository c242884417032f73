#!/usr/bin/env bash
# Local plain-HTTP image registry (Debian's docker-registry, i.e. distribution
# v2) for the demo, the integration tests and humans.
#
#   hack/registry.sh start|stop|status [--port N] [--dir D] [--listen ADDR]
#                    [--notify URL [--notify-token TOKEN]]
#
# It listens on 127.0.0.1 unless --listen names another address of this
# machine (the test cluster's bridge, for a registry its pods pull from):
# plain HTTP without auth is for scratch registries only.  --notify sends
# push/pull events to URL (distribution's notifications.endpoints), e.g.
# kbuild's /registry/notifications, with "Authorization: Bearer TOKEN".
set -euo pipefail

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

die() { echo "registry.sh: $*" >&2; exit 1; }

cmd="${1:-}"
[[ -n "$cmd" ]] || usage
shift
port=5000
dir=/var/lib/kbuild-registry
listen=127.0.0.1
notify=""
notify_token=""
while (($#)); do
    case "$1" in
        --listen) listen="${2:?--listen needs a value}"; shift 2 ;;
        --notify) notify="${2:?--notify needs a URL}"; shift 2 ;;
        --notify-token) notify_token="${2:?--notify-token needs a value}"; shift 2 ;;
        --port) port="${2:?--port needs a value}"; shift 2 ;;
        --port=*) port="${1#*=}"; shift ;;
        --dir) dir="${2:?--dir needs a value}"; shift 2 ;;
        --dir=*) dir="${1#*=}"; shift ;;
        -h|--help) usage ;;
        *) die "unknown argument: $1" ;;
    esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$port'"

# Several registries may run side by side (tests use their own port and dir),
# so the pid and log files are per port.
pidfile="$dir/registry-$port.pid"
logfile="$dir/registry-$port.log"
config="$dir/config-$port.yml"
url="http://$listen:$port/v2/"

running_pid() {
    local pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    # A stale pid file can name a recycled pid; only trust it if that process
    # is really our registry.
    if kill -0 "$pid" 2>/dev/null && grep -q docker-registry "/proc/$pid/cmdline" 2>/dev/null; then
        echo "$pid"
        return 0
    fi
    return 1
}

answers() { curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; }

ensure_installed() {
    command -v docker-registry >/dev/null && command -v curl >/dev/null && return 0
    [[ $EUID -eq 0 ]] || die "docker-registry/curl missing; install the Debian packages docker-registry and curl"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry curl >/dev/null
}

start() {
    local pid
    if pid="$(running_pid)"; then
        echo "registry already running on $listen:$port (pid $pid, dir $dir)"
        return 0
    fi
    if answers; then
        die "something else already answers on $listen:$port"
    fi
    ensure_installed
    mkdir -p "$dir/data"
    cat >"$config" <<EOF
version: 0.1
log:
  level: info
  fields:
    service: kbuild-registry
storage:
  filesystem:
    rootdirectory: $dir/data
  # Tests and humans delete tags and manifests; distribution refuses that
  # unless enabled.
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $listen:$port
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    if [[ -n "$notify" ]]; then
        cat >>"$config" <<EOF
notifications:
  endpoints:
    - name: kbuild
      url: $notify
      timeout: 2s
      threshold: 5
      backoff: 1s
EOF
        if [[ -n "$notify_token" ]]; then
            printf '      headers:\n        Authorization: ["Bearer %s"]\n' "$notify_token" >>"$config"
        fi
    fi
    # setsid detaches it from our session so that it outlives this shell and
    # a Ctrl-C in the caller's terminal.
    setsid docker-registry serve "$config" >>"$logfile" 2>&1 </dev/null &
    echo $! >"$pidfile"
    local _
    for _ in $(seq 1 50); do
        if answers; then
            echo "registry started on $listen:$port (pid $(cat "$pidfile"), dir $dir, log $logfile)"
            return 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            tail -n 20 "$logfile" >&2 || true
            rm -f "$pidfile"
            die "registry exited during startup (log: $logfile)"
        fi
        sleep 0.2
    done
    die "registry did not answer on $url within 10s (log: $logfile)"
}

stop() {
    local pid _
    if ! pid="$(running_pid)"; then
        rm -f "$pidfile"
        echo "registry not running on port $port (dir $dir)"
        return 0
    fi
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid"
    fi
    rm -f "$pidfile"
    echo "registry stopped (pid $pid)"
}

status() {
    local pid
    if pid="$(running_pid)"; then
        if answers; then
            echo "running: $listen:$port pid $pid dir $dir"
            return 0
        fi
        echo "process $pid is alive but $url does not answer (log: $logfile)"
        return 1
    fi
    echo "not running (port $port, dir $dir)"
    return 3
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    -h|--help|help) usage ;;
    *) die "unknown command '$cmd' (start|stop|status)" ;;
esac
