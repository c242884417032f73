#!/usr/bin/env bash
# Rootful podman and the directory of network namespaces, in one place.
#
#   hack/netns.sh self-bound   exit 0 if NETNS_DIR is bind-mounted over itself
#   hack/netns.sh unbind       take that bind away (lazily if busy), if it is there
#
# Sourced (by hack/cluster.sh and the buildpod-cache recipe), it only
# defines netns_dir_self_bound and netns_unbind.
#
# Rootful podman binds /run/netns over itself, shared, the first time it
# makes a network namespace (even with --network host), and never undoes it.
# A namespace containerd mounted there before is then hidden: through the
# bind it is an empty file that can be neither unmounted nor removed, so
# its pod cannot be deleted (docs/build-pod.md, "podman and /run/netns").
# Whoever runs podman on a machine that may run the test cluster takes away
# the bind it made; `hack/cluster.sh down` takes it away when it hides a
# namespace it must remove. Namespaces mounted through the bind are
# detached with it; their files stay in the directory beneath, plain, and
# their owners' own removal accepts an unmounted file.

NETNS_DIR=${NETNS_DIR:-/run/netns}

netns_dir_self_bound() {
	awk -v d="$NETNS_DIR" '$4 == d && $5 == d { found = 1 } END { exit !found }' /proc/self/mountinfo
}

netns_unbind() {
	if netns_dir_self_bound; then
		umount "$NETNS_DIR" 2>/dev/null || umount -l "$NETNS_DIR"
	fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	set -euo pipefail
	case ${1:-} in
	self-bound) netns_dir_self_bound ;;
	unbind) netns_unbind ;;
	*)
		echo "usage: $0 self-bound|unbind" >&2
		exit 2
		;;
	esac
fi
