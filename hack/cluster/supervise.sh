#!/usr/bin/env bash
# Keeps one cluster component running: restarts it when it exits, with a
# growing pause so a component that cannot start does not spin the CPU.
#
#   supervise.sh NAME RUN_DIR LOG_FILE CGROUP_REL -- COMMAND [ARGS...]
#
# hack/cluster.sh starts this in its own session (setsid) so that the
# component survives the shell or pytest process that ran `up`. It records two
# pids in RUN_DIR: NAME.supervisor.pid (this loop) and NAME.pid (the
# component), which is how `down` stops exactly what `up` started.
# CGROUP_REL is a path below every mounted cgroup v1 hierarchy that `up`
# created; joining it lets `down` find and stop descendants that outlive their
# parent (containerd's shims reparent to init, so no pid file names them).
set -euo pipefail

name=$1 run_dir=$2 log=$3 cgroup_rel=$4
shift 4
[[ ${1:-} == -- ]] && shift

for hier in /sys/fs/cgroup/pids /sys/fs/cgroup/freezer; do
	if [[ -w $hier/$cgroup_rel/cgroup.procs ]]; then
		echo "$BASHPID" >"$hier/$cgroup_rel/cgroup.procs"
	fi
done

echo "$BASHPID" >"$run_dir/$name.supervisor.pid"

child=
sleeper=
stopping=
# On TERM stop the component and wait for it, so that `down` seeing the
# supervisor gone means the component is gone as well.
on_term() {
	stopping=1
	if [[ -n $child ]] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$child" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$child" 2>/dev/null || true
	fi
	[[ -n $sleeper ]] && { kill -TERM "$sleeper" 2>/dev/null || true; }
	rm -f "$run_dir/$name.pid" "$run_dir/$name.supervisor.pid"
	exit 0
}
trap on_term TERM INT

delay=1
while [[ -z $stopping ]]; do
	started=$SECONDS
	echo "=== $(date -u +%FT%TZ) supervise: starting $name: $*" >>"$log"
	"$@" >>"$log" 2>&1 </dev/null &
	child=$!
	echo "$child" >"$run_dir/$name.pid"
	rc=0
	wait "$child" || rc=$?
	[[ -n $stopping ]] && break
	# A component that ran for a while earns a fast restart; one that dies at
	# once backs off up to 30s, which keeps the log readable.
	if ((SECONDS - started > 60)); then delay=1; fi
	echo "=== $(date -u +%FT%TZ) supervise: $name exited with $rc, restarting in ${delay}s" >>"$log"
	sleep "$delay" &
	sleeper=$!
	wait "$sleeper" || true
	sleeper=
	delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
