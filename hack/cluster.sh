#!/usr/bin/env bash
# kbuild's real test Kubernetes: one node, built from source, on this machine.
#
#   hack/cluster.sh up       install packages, compile (cached), start everything
#   hack/cluster.sh down     stop exactly what `up` started and remove its state
#   hack/cluster.sh status   what is running, and the node's condition
#   hack/cluster.sh env      shell exports for KUBECONFIG, KBUILD_REGISTRY, ...
#   hack/cluster.sh trust-registry HOST:PORT
#                            let the node pull from another plain-HTTP registry
#   hack/cluster.sh restart COMPONENT
#                            stop one running component (kube-apiserver,
#                            registry, ...) and wait until its supervisor has
#                            it serving again: the chaos tests' short outage
#   hack/cluster.sh build    only compile Kubernetes and etcd into the cache
#   hack/cluster.sh gomod    regenerate hack/cluster/{k8s,etcd}/go.mod for the
#                            versions below (after bumping them)
#
# Nothing can be pulled from image registries and no release binary can be
# downloaded on the machines this runs on, so every piece comes from Debian
# packages or from the Go module proxy. docs/cluster.md explains the layout.
set -Eeuo pipefail

K8S_VERSION=${KBUILD_K8S_VERSION:-1.34.4}
ETCD_VERSION=${KBUILD_ETCD_VERSION:-3.6.16}
PAUSE_TAG=3.10.1

HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$HACK_DIR/cluster
CACHE_DIR=${KBUILD_CACHE_DIR:-/var/cache/kbuild}
STATE_DIR=/var/lib/kbuild-cluster
RUNTIME_DIR=/run/kbuild-cluster
LOG_DIR=/var/log/kbuild-cluster
PKI=$STATE_DIR/pki
PIDS=$STATE_DIR/pids

K8S_BIN=$CACHE_DIR/k8s-$K8S_VERSION/bin
ETCD_BIN=$CACHE_DIR/etcd-$ETCD_VERSION/bin

# Pod and service ranges are uncommon on purpose so they do not collide with
# another cluster or container network on a developer's machine. The node's own
# address is the bridge gateway: one address that the host, the node's
# containerd and every pod can reach, which is why the registry lives there too.
NODE_NAME=kbuild-node
BRIDGE=kbuild0
POD_CIDR=10.213.0.0/16
NODE_POD_CIDR=10.213.0.0/24
NODE_IP=10.213.0.1
SERVICE_CIDR=10.214.0.0/16
API_SERVICE_IP=10.214.0.1
API_PORT=6443
REGISTRY_PORT=5000
REGISTRY=$NODE_IP:$REGISTRY_PORT
PAUSE_IMAGE=$REGISTRY/kbuild/pause:$PAUSE_TAG

# cgroup v1 path (in every mounted hierarchy) holding all our processes:
# daemons/ has the supervised components and containerd's shims, kubepods/
# (created by the kubelet, whose cgroupRoot this is) has the pods.
CGROUP=kbuild-cluster
CONTAINERD_SOCK=$RUNTIME_DIR/containerd/containerd.sock
IPT_CHAIN=KBUILD-CLUSTER

# Components in start order; `down` stops them in reverse.
COMPONENTS=(registry etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

export PATH=$K8S_BIN:$ETCD_BIN:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '%s cluster: %s\n' "$(date +%T)" "$*" >&2; }
# set -e stops at the first failing command; say which, or a failed `up` in
# a CI log is a bare exit status.
trap 'log "failed (status $?) at line $LINENO: $BASH_COMMAND"' ERR

die() {
	log "ERROR: $*"
	exit 1
}

need_root() { [[ $EUID -eq 0 ]] || die "must run as root (it starts a kubelet and containerd)"; }

# ---------------------------------------------------------------- packages

APT_PACKAGES=(
	containerd runc containernetworking-plugins iptables conntrack iproute2
	docker-registry buildah openssl curl ca-certificates gcc libc6-dev
	busybox-static python3 time util-linux procps
)

install_packages() {
	local missing=() p
	for p in "${APT_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	log "installing Debian packages: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# Debian starts containerd (and sometimes docker-registry) as system
	# services on install. On machines without systemd nothing starts; where it
	# does, ours use their own sockets, ports and directories and do not clash.
}

# ---------------------------------------------------------------- compile

go_env() {
	command -v go >/dev/null || die "Go is required (Debian's is too old; install Go >= 1.24 in /usr/local/go)"
	# Module and build caches live with the binaries so that a CI run on the
	# same machine reuses every compiled package, not just the final binaries.
	export GOMODCACHE=$CACHE_DIR/go/mod GOCACHE=$CACHE_DIR/go/build
	# A toolchain download is impossible here; fail clearly instead of trying.
	export GOTOOLCHAIN=local
	# -mod=readonly: the committed go.sum is the source of truth; a sum
	# mismatch is an error, never a silent rewrite.
	export GOFLAGS="-mod=readonly -buildvcs=false -trimpath"
	export CGO_ENABLED=0
	mkdir -p "$GOMODCACHE" "$GOCACHE"
}

# Staging modules are listed in k8s.io/kubernetes's go.mod as replacements by
# local paths, which `go install pkg@version` refuses. The wrapper module
# replaces each with the release published from the same commit: the staging
# module's v0.MINOR.PATCH tag.
write_k8s_gomod() {
	local dir=$1 version=$2 modfile staging_version=v0.${2#1.}
	modfile=$(go mod download -json "k8s.io/kubernetes@v$version" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')
	{
		printf 'module kbuild.local/hack/cluster/k8s\n\n'
		# Same language version and GODEBUG defaults as upstream's own build.
		awk '/^(go|godebug) / { print; print "" }' "$modfile"
		printf 'require k8s.io/kubernetes v%s\n\nreplace (\n' "$version"
		awk -v v="$staging_version" '$2 == "=>" && $3 ~ /^\.\/staging\// { print "\t" $1 " => " $1 " " v }' "$modfile"
		printf ')\n'
	} >"$dir/go.mod"
	rm -f "$dir/go.sum"
	(cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
}

write_etcd_gomod() {
	local dir=$1 version=$2 modfile
	modfile=$(go mod download -json "go.etcd.io/etcd/server/v3@v$version" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["GoMod"])')
	{
		printf 'module kbuild.local/hack/cluster/etcd\n\n'
		sed -n 's/^go /go /p' "$modfile"
		printf '\nrequire go.etcd.io/etcd/server/v3 v%s\n' "$version"
	} >"$dir/go.mod"
	rm -f "$dir/go.sum"
	(cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
}

# Returns the module directory to build in: the committed one when it pins the
# requested version, else a generated copy under the cache (a version override
# through KBUILD_K8S_VERSION / KBUILD_ETCD_VERSION).
module_dir() {
	local name=$1 module=$2 version=$3 dir=$SRC_DIR/$1
	if grep -Eq "^(require)?[[:space:]]*${module//./\\.} v${version//./\\.}([[:space:]]|\$)" "$dir/go.mod"; then
		echo "$dir"
		return
	fi
	local gen=$CACHE_DIR/src/$name-$version
	mkdir -p "$gen"
	cp "$dir/main.go" "$gen/"
	log "generating a wrapper module for $module v$version in $gen" >&2
	"write_${name}_gomod" "$gen" "$version" >&2
	echo "$gen"
}

# Runs `go build` under /usr/bin/time so every cold build records its wall
# time and peak memory next to the binaries (docs/cluster.md quotes them).
timed_go_build() {
	local stats=$1
	shift
	/usr/bin/time -v -o "$stats" go build "$@"
	grep -E 'Elapsed|Maximum resident' "$stats" | sed 's/^\s*/  /' >&2
}

build_k8s() {
	local dest=$CACHE_DIR/k8s-$K8S_VERSION
	if [[ -x $dest/bin/kube && -x $dest/bin/pause ]]; then
		log "kubernetes v$K8S_VERSION: cached in $dest"
		return 0
	fi
	go_env
	local dir tmp ldflags="-s -w" pkg now
	dir=$(module_dir k8s k8s.io/kubernetes "$K8S_VERSION")
	tmp=$dest.partial
	rm -rf "$tmp"
	mkdir -p "$tmp/bin"
	log "kubernetes v$K8S_VERSION: downloading modules"
	(cd "$dir" && go mod download)
	# Without these the components report v0.0.0 and, since 1.31, compute a
	# wrong emulation/compatibility version; upstream's hack/lib/version.sh
	# sets the same variables.
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
		ldflags+=" -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=${K8S_VERSION%%.*}"
		ldflags+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION") -X $pkg.gitTreeState=clean -X $pkg.buildDate=$now"
	done
	log "kubernetes v$K8S_VERSION: compiling (5-15 minutes on 2 cores when the build cache is cold)"
	(cd "$dir" && timed_go_build "$tmp/build-stats.txt" -ldflags "$ldflags" -o "$tmp/bin/kube" .)
	local c
	for c in kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubectl; do
		ln -s kube "$tmp/bin/$c"
	done
	# The pause program from the same release, linked statically so the image
	# needs nothing but this one file.
	local pause_src
	pause_src=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')/build/pause/linux/pause.c
	gcc -Os -static -Wall -DVERSION="v$PAUSE_TAG-kbuild" -o "$tmp/bin/pause" "$pause_src"
	strip "$tmp/bin/pause"
	rm -rf "$dest"
	mv "$tmp" "$dest"
	log "kubernetes v$K8S_VERSION: built into $dest"
}

build_etcd() {
	local dest=$CACHE_DIR/etcd-$ETCD_VERSION
	if [[ -x $dest/bin/etcd ]]; then
		log "etcd v$ETCD_VERSION: cached in $dest"
		return 0
	fi
	go_env
	local dir tmp=$dest.partial
	dir=$(module_dir etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION")
	rm -rf "$tmp"
	mkdir -p "$tmp/bin"
	(cd "$dir" && go mod download)
	log "etcd v$ETCD_VERSION: compiling"
	(cd "$dir" && timed_go_build "$tmp/build-stats.txt" -ldflags "-s -w" -o "$tmp/bin/etcd" .)
	rm -rf "$dest"
	mv "$tmp" "$dest"
	log "etcd v$ETCD_VERSION: built into $dest"
}

cmd_gomod() {
	go_env
	write_k8s_gomod "$SRC_DIR/k8s" "$K8S_VERSION"
	write_etcd_gomod "$SRC_DIR/etcd" "$ETCD_VERSION"
	log "wrote $SRC_DIR/k8s/go.mod (v$K8S_VERSION) and $SRC_DIR/etcd/go.mod (v$ETCD_VERSION)"
}

# ---------------------------------------------------------------- pki

# One CA signs everything; EC P-256 keys keep generation instant.
# Usage: issue NAME CN ORG server|client|both [SAN,...]
issue() {
	local name=$1 cn=$2 org=$3 kind=$4 sans=${5:-} eku ext
	case $kind in
	server) eku=serverAuth ;;
	client) eku=clientAuth ;;
	both) eku=serverAuth,clientAuth ;;
	esac
	ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku"
	[[ -n $sans ]] && ext+=$'\n'"subjectAltName=$sans"
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
	openssl req -new -key "$PKI/$name.key" -subj "/O=$org/CN=$cn" -out "$PKI/$name.csr" 2>/dev/null
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile <(printf '%s\n' "$ext") \
		-out "$PKI/$name.crt" 2>/dev/null
	rm -f "$PKI/$name.csr"
}

# Usage: write_kubeconfig FILE USER CERT_NAME
write_kubeconfig() {
	local file=$1 user=$2 cert=$3
	cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kbuild
  cluster:
    server: https://$NODE_IP:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$cert.crt")
    client-key-data: $(base64 -w0 "$PKI/$cert.key")
contexts:
- name: kbuild
  context: {cluster: kbuild, user: $user}
current-context: kbuild
EOF
	chmod 600 "$file"
}

make_pki() {
	mkdir -p "$PKI"
	chmod 700 "$PKI"
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
	openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=kbuild-cluster-ca" -days 3650 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
		-out "$PKI/ca.crt" 2>/dev/null

	issue etcd-server etcd kbuild server "IP:127.0.0.1,DNS:localhost"
	issue apiserver-etcd-client kube-apiserver-etcd-client kbuild client
	issue apiserver kube-apiserver kbuild server \
		"IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	# system:masters because the kubelet authorizes the API server's
	# logs/exec/port-forward calls through a SubjectAccessReview.
	issue apiserver-kubelet-client kube-apiserver-kubelet-client system:masters client
	issue admin kbuild-admin system:masters client
	issue controller-manager system:kube-controller-manager system:kube-controller-manager client
	issue scheduler system:kube-scheduler system:kube-scheduler client
	issue kube-proxy system:kube-proxy system:node-proxier client
	# The Node authorizer and NodeRestriction recognise the node by this name.
	issue kubelet-client "system:node:$NODE_NAME" system:nodes client
	issue kubelet-server "$NODE_NAME" system:nodes server "IP:$NODE_IP,DNS:$NODE_NAME"

	# Service-account tokens are signed with this key; the API server checks
	# them with the public half.
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/sa.key" 2>/dev/null
	openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null

	# A bearer token for clients that cannot present a client certificate
	# (an HTTP proxy in front of a test, curl without key files).
	local token
	token=$(openssl rand -hex 24)
	printf '%s,kbuild-admin-token,kbuild-admin-token,"system:masters"\n' "$token" >"$PKI/tokens.csv"
	printf '%s\n' "$token" >"$PKI/admin.token"
	chmod 600 "$PKI"/*.key "$PKI/tokens.csv" "$PKI/admin.token"

	write_kubeconfig "$STATE_DIR/admin.kubeconfig" kbuild-admin admin
	write_kubeconfig "$STATE_DIR/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
	write_kubeconfig "$STATE_DIR/scheduler.kubeconfig" system:kube-scheduler scheduler
	write_kubeconfig "$STATE_DIR/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
	write_kubeconfig "$STATE_DIR/kubelet.kubeconfig" "system:node:$NODE_NAME" kubelet-client
	# Readable by non-root users of this machine who run the tests.
	chmod 644 "$STATE_DIR/admin.kubeconfig"
}

# ---------------------------------------------------------------- host

# Records "key=value" of a sysctl once, before we or a component change it,
# so that `down` can put back what the machine had.
remember_sysctl() {
	local key=$1 file=/proc/sys/${1//./\/}
	[[ -e $file ]] || return 0
	grep -q "^$key=" "$STATE_DIR/sysctl.orig" 2>/dev/null && return 0
	echo "$key=$(cat "$file")" >>"$STATE_DIR/sysctl.orig"
}

set_sysctl() {
	local key=$1 value=$2
	[[ -e /proc/sys/${key//./\/} ]] || die "sysctl $key is missing (kernel without bridge/netfilter support?)"
	remember_sysctl "$key"
	echo "$value" >"/proc/sys/${key//./\/}"
}

cgroup_hierarchies() {
	local d
	for d in /sys/fs/cgroup/*/; do
		d=${d%/}
		# Skip the cgroup v2 mount of a hybrid host: the kubelet and runc use
		# the v1 hierarchies here.
		[[ -e $d/cgroup.procs && ! -e $d/cgroup.controllers ]] && echo "$d"
	done
	return 0
}

setup_host() {
	[[ -d /sys/fs/cgroup/memory ]] || die "expected a cgroup v1 host (see docs/cluster.md)"
	set_sysctl net.ipv4.ip_forward 1
	set_sysctl net.bridge.bridge-nf-call-iptables 1
	set_sysctl net.bridge.bridge-nf-call-ip6tables 1
	# The kubelet sets these itself (protectKernelDefaults would make it
	# refuse to start instead); remember them so `down` restores them.
	local k
	for k in vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops \
		kernel.keys.root_maxkeys kernel.keys.root_maxbytes; do
		remember_sysctl "$k"
	done

	# The bridge exists before the first pod so that the node address (and the
	# registry on it) is up before containerd pulls the pause image. The CNI
	# bridge plugin adopts it.
	ip link add "$BRIDGE" type bridge
	ip addr add "$NODE_IP/${NODE_POD_CIDR#*/}" dev "$BRIDGE"
	ip link set "$BRIDGE" up
	# Host-to-ClusterIP traffic needs a route before kube-proxy's DNAT applies;
	# pointing the service range at the bridge keeps a packet that no rule
	# rewrites on this machine instead of sending it to the default gateway.
	ip route add "$SERVICE_CIDR" dev "$BRIDGE"

	# Pods talk to each other, to services and to this host, never past it:
	# nothing outside the machine is theirs to reach (and on Docker hosts the
	# FORWARD policy is DROP, so in-bridge traffic needs an explicit ACCEPT).
	iptables -w -N "$IPT_CHAIN"
	iptables -w -A "$IPT_CHAIN" -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
	iptables -w -A "$IPT_CHAIN" -i "$BRIDGE" -j DROP
	iptables -w -A "$IPT_CHAIN" -o "$BRIDGE" -j DROP
	iptables -w -I FORWARD 1 -m comment --comment kbuild-cluster -j "$IPT_CHAIN"

	local h
	while read -r h; do
		mkdir -p "$h/$CGROUP/daemons"
		if [[ -e $h/cpuset.cpus ]]; then
			# cgroup v1 cpuset children start empty and refuse tasks.
			cat "$h/cpuset.cpus" >"$h/$CGROUP/cpuset.cpus"
			cat "$h/cpuset.mems" >"$h/$CGROUP/cpuset.mems"
			cat "$h/cpuset.cpus" >"$h/$CGROUP/daemons/cpuset.cpus"
			cat "$h/cpuset.mems" >"$h/$CGROUP/daemons/cpuset.mems"
		fi
	done < <(cgroup_hierarchies)
}

# ---------------------------------------------------------------- processes

# Usage: start NAME COMMAND [ARGS...]
start() {
	local name=$1
	shift
	: >"$LOG_DIR/$name.log"
	# The supervisor's own complaints go to the component's log as well.
	# shellcheck disable=SC2094
	# 9>&-: the component must not inherit the lock, or it would hold it for
	# as long as it runs and the next `down` would wait forever.
	# The marker in the environment (the component inherits it) is how `down`
	# tells our processes from whatever has their pids now: see `ours`.
	setsid env "KBUILD_CLUSTER_COMPONENT=$name" \
		"$SRC_DIR/supervise.sh" "$name" "$PIDS" "$LOG_DIR/$name.log" "$CGROUP/daemons" -- "$@" \
		</dev/null >>"$LOG_DIR/$name.log" 2>&1 9>&- &
	disown
	local _
	for _ in $(seq 1 50); do
		[[ -s $PIDS/$name.pid ]] && return 0
		sleep 0.1
	done
	die "$name did not start (see $LOG_DIR/$name.log)"
}

# Usage: wait_for WHAT SECONDS COMMAND [ARGS...]
wait_for() {
	local what=$1 timeout=$2 deadline
	shift 2
	deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			die "timed out after ${timeout}s waiting for $what (logs: $LOG_DIR)"
		fi
		sleep 0.5
	done
	log "$what: ready"
}

# A pid is running if it exists and is not a zombie: an orphaned supervisor
# waits for PID 1 to reap it, which on some sandboxes takes seconds.
running() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# Usage: ours PID NAME: PID is NAME's supervisor or component, still running.
# A pid file outlives its process when a machine's processes are all killed
# (a session stopped, then the machine handed to the next run): its pid may
# since name another process. `down` once sent SIGKILL through such a file to
# the CI run that was bringing a cluster up. Only a process whose environment
# carries the marker `start` exported is ours.
ours() {
	running "$1" && grep -qxzF "KBUILD_CLUSTER_COMPONENT=$2" "/proc/$1/environ" 2>/dev/null
}

# Usage: alive NAME [supervisor]: NAME's component (or its supervisor) runs.
alive() {
	local file=$PIDS/$1${2:+.$2}.pid
	[[ -s $file ]] && ours "$(cat "$file")" "$1"
}

kubectl_admin() { kubectl --kubeconfig "$STATE_DIR/admin.kubeconfig" "$@"; }

# shellcheck disable=SC2317  # called through wait_for
node_ready() {
	[[ $(kubectl_admin get node "$NODE_NAME" \
		-o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

start_registry() {
	mkdir -p "$STATE_DIR/registry/data"
	cat >"$STATE_DIR/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
	start registry docker-registry serve "$STATE_DIR/registry/config.yml"
	wait_for registry 30 curl -fsS "http://$REGISTRY/v2/"
}

# The node can pull nothing from the internet, so the sandbox ("pause") image
# is built here from the release's own pause.c and pushed to the local registry.
push_pause_image() {
	local b=(buildah --root "$STATE_DIR/buildah" --runroot "$RUNTIME_DIR/buildah" --storage-driver vfs)
	local ctr
	ctr=$("${b[@]}" from scratch)
	"${b[@]}" copy "$ctr" "$K8S_BIN/pause" /pause >/dev/null
	"${b[@]}" config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
	"${b[@]}" commit -q "$ctr" "$PAUSE_IMAGE" >/dev/null
	"${b[@]}" rm "$ctr" >/dev/null
	"${b[@]}" push -q --tls-verify=false "$PAUSE_IMAGE"
	log "pushed $PAUSE_IMAGE"
}

start_etcd() {
	start etcd etcd --name kbuild --data-dir "$STATE_DIR/etcd" \
		--listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster kbuild=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
		--cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
		--client-cert-auth --trusted-ca-file "$PKI/ca.crt" \
		--unsafe-no-fsync
	# A throwaway single-member store: skipping fsync halves API latency on a
	# VM disk, and durability across a crash is worth nothing here.
	wait_for etcd 60 curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/apiserver-etcd-client.crt" \
		--key "$PKI/apiserver-etcd-client.key" https://127.0.0.1:2379/health
}

start_control_plane() {
	start kube-apiserver kube-apiserver \
		--bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$API_PORT" \
		--etcd-servers https://127.0.0.1:2379 --etcd-cafile "$PKI/ca.crt" \
		--etcd-certfile "$PKI/apiserver-etcd-client.crt" --etcd-keyfile "$PKI/apiserver-etcd-client.key" \
		--client-ca-file "$PKI/ca.crt" --token-auth-file "$PKI/tokens.csv" \
		--tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
		--kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
		--kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" \
		--authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
		--allow-privileged=true
	wait_for kube-apiserver 120 curl -fsS --cacert "$PKI/ca.crt" "https://$NODE_IP:$API_PORT/readyz"

	start kube-controller-manager kube-controller-manager \
		--kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
		--authentication-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
		--authorization-kubeconfig "$STATE_DIR/controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false \
		--root-ca-file "$PKI/ca.crt" --service-account-private-key-file "$PKI/sa.key" \
		--use-service-account-credentials \
		--cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
		--allocate-node-cidrs --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24 \
		--service-cluster-ip-range "$SERVICE_CIDR"
	start kube-scheduler kube-scheduler \
		--kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
		--authentication-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
		--authorization-kubeconfig "$STATE_DIR/scheduler.kubeconfig" \
		--bind-address 127.0.0.1 --leader-elect=false
}

# The registry speaks plain HTTP; containerd's CRI reads this per-registry
# host file through config_path (the older `mirrors` table is deprecated), on
# every pull, so a registry can be trusted while the node runs.
write_registry_hosts() {
	local host=$1
	mkdir -p "$STATE_DIR/containerd/certs.d/$host"
	cat >"$STATE_DIR/containerd/certs.d/$host/hosts.toml" <<EOF
server = "http://$host"

[host."http://$host"]
  capabilities = ["pull", "resolve", "push"]
  skip_verify = true
EOF
}

cmd_trust_registry() {
	local host=${1:-}
	[[ $host =~ ^[A-Za-z0-9.-]+:[0-9]+$ ]] || die "usage: cluster.sh trust-registry HOST:PORT"
	need_root
	is_up || die "the cluster is not up"
	write_registry_hosts "$host"
	log "the node pulls from $host over plain HTTP"
}

start_containerd() {
	local dir=$STATE_DIR/containerd
	mkdir -p "$STATE_DIR/cni/net.d" "$RUNTIME_DIR/containerd"
	write_registry_hosts "$REGISTRY"
	# hairpinMode lets a pod reach itself through its own Service; no ipMasq
	# because pod traffic never leaves this machine (see setup_host).
	cat >"$STATE_DIR/cni/net.d/10-kbuild.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kbuild",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$RUNTIME_DIR/cni-ipam",
        "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "loopback"}
  ]
}
EOF
	cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$RUNTIME_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$RUNTIME_DIR/containerd/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # The kubelet asks for negative OOM scores (-998 for sandboxes, -997 for
  # Guaranteed pods). Lowering a score needs CAP_SYS_RESOURCE, which sandboxed
  # CI machines may withhold even from root; runc then fails every sandbox with
  # "can't get final child's PID from pipe". This clamps requests at
  # containerd's own score instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # The kubelet runs with cgroupDriver cgroupfs on this cgroup v1 host;
        # both sides must agree.
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$dir/certs.d"
EOF
	start containerd containerd --config "$dir/config.toml"
	wait_for containerd 30 ctr --address "$CONTAINERD_SOCK" version
}

start_node() {
	local dir=$STATE_DIR/kubelet
	mkdir -p "$dir" "$STATE_DIR/pod-logs"
	cat >"$STATE_DIR/kubelet-config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-server.crt
tlsPrivateKeyFile: $PKI/kubelet-server.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# cgroup v1 host without systemd as init: cgroupfs on both kubelet and runc.
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: /$CGROUP
podCIDR: $NODE_POD_CIDR
podLogsDir: $STATE_DIR/pod-logs
clusterDomain: cluster.local
# No DNS add-on, and no host resolvers handed to pods: tests address pods,
# services and the registry by IP, and nothing in a pod should query a
# resolver outside this machine.
resolvConf: ""
failSwapOn: false
# The kubelet's default -999 for itself needs CAP_SYS_RESOURCE (see the
# containerd config); 0 keeps it from logging a failure at every start.
oomScoreAdj: 0
# A shared CI disk may be fuller than the kubelet's defaults tolerate; a test
# cluster should not evict its own pods for that.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
EOF
	start kubelet kubelet --config "$STATE_DIR/kubelet-config.yaml" \
		--kubeconfig "$STATE_DIR/kubelet.kubeconfig" --root-dir "$dir" \
		--cert-dir "$dir/pki" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"

	cat >"$STATE_DIR/kube-proxy-config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $STATE_DIR/kube-proxy.kubeconfig
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
oomScoreAdj: 0
# Leave the machine's conntrack sysctls and route_localnet alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  localhostNodePorts: false
EOF
	start kube-proxy kube-proxy --config "$STATE_DIR/kube-proxy-config.yaml"
}

# ---------------------------------------------------------------- commands

# `ready` is written as the last step of a successful `up`.
is_up() { [[ -e $STATE_DIR/ready ]] && alive kube-apiserver supervisor; }

# A failed `up` takes down what it started (logs stay), so that CI never keeps
# half a cluster running; KBUILD_CLUSTER_KEEP_FAILED=1 keeps it for a look.
UP_STARTED=
# shellcheck disable=SC2317  # runs as the EXIT trap
on_exit() {
	local rc=$?
	if ((rc != 0)) && [[ -n $UP_STARTED && ${KBUILD_CLUSTER_KEEP_FAILED:-} != 1 ]]; then
		trap - ERR
		set +e
		log "up failed; taking down what it started (logs: $LOG_DIR)"
		UP_STARTED=
		cmd_down
	fi
	exit "$rc"
}
trap on_exit EXIT

cmd_up() {
	need_root
	local t0=$SECONDS
	if is_up; then
		log "already up (hack/cluster.sh down first to start afresh)"
		cmd_env
		return 0
	fi
	if [[ -e $STATE_DIR ]]; then
		# Left by a crashed or half-finished run. Cleaning up here, under the
		# lock, is what lets callers just say `up` without racing a `down`
		# against another session's `up`.
		log "$STATE_DIR exists but the cluster is not running: cleaning up first"
		cmd_down
	fi
	install_packages
	build_all
	local t_built=$SECONDS
	UP_STARTED=1
	mkdir -p "$STATE_DIR" "$PIDS" "$RUNTIME_DIR" "$LOG_DIR"
	chmod 755 "$STATE_DIR"
	setup_host
	make_pki
	start_registry
	push_pause_image
	start_etcd
	start_control_plane
	start_containerd
	start_node
	wait_for "node $NODE_NAME Ready" 180 node_ready
	# Pods cannot be created in a namespace before its default ServiceAccount.
	wait_for "default service account" 60 kubectl_admin get serviceaccount default -n default
	touch "$STATE_DIR/ready"
	UP_STARTED=
	log "up in $((SECONDS - t0))s ($((t_built - t0))s installing and compiling)"
	cmd_env
}

# Compiles take their own lock, per cache directory: a compile into a second
# cache (a cold-cache measurement, say) need not wait for a running cluster.
lock_cache() {
	mkdir -p "$CACHE_DIR"
	exec 8>"$CACHE_DIR/.build.lock"
	if ! flock -n 8; then
		log "waiting for another compile into $CACHE_DIR"
		flock -w 3600 8 || die "gave up waiting for the lock on $CACHE_DIR/.build.lock"
	fi
}

build_all() {
	lock_cache
	build_k8s
	build_etcd
	# Released here so that the components started next do not inherit it.
	exec 8>&-
}

cmd_build() {
	need_root
	install_packages
	build_all
}

cmd_env() {
	cat <<EOF
export KUBECONFIG=$STATE_DIR/admin.kubeconfig
export KBUILD_REGISTRY=$REGISTRY
export KBUILD_KUBECTL=$K8S_BIN/kubectl
export KBUILD_CLUSTER_LOGS=$LOG_DIR
export KBUILD_KUBELET_ROOT=$STATE_DIR/kubelet
EOF
}

cmd_status() {
	local name state rc=0
	for name in "${COMPONENTS[@]}"; do
		if alive "$name"; then
			state="running pid $(cat "$PIDS/$name.pid") (supervisor $(cat "$PIDS/$name.supervisor.pid" 2>/dev/null))"
		else
			state=stopped
			rc=1
		fi
		printf '%-24s %s\n' "$name" "$state"
	done
	if is_up; then
		kubectl_admin get nodes -o wide || rc=1
	fi
	return "$rc"
}

# Every pid in our cgroup subtree, deepest cgroups first (pods, then daemons).
cgroup_pids() {
	local base=/sys/fs/cgroup/pids/$CGROUP
	[[ -d $base ]] || return 0
	find "$base" -name cgroup.procs -print0 | xargs -0 -r cat
}

stop_component() {
	local name=$1 sup='' pid='' _ t0=$SECONDS
	# A stale pid file names nobody of ours: nothing to signal.
	alive "$name" supervisor && sup=$(cat "$PIDS/$name.supervisor.pid")
	alive "$name" && pid=$(cat "$PIDS/$name.pid")
	# The supervisor forwards TERM to the component and waits for it.
	[[ -n $sup ]] && { kill -TERM "$sup" 2>/dev/null || true; }
	for _ in $(seq 1 150); do
		{ [[ -z $sup ]] || ! ours "$sup" "$name"; } && { [[ -z $pid ]] || ! ours "$pid" "$name"; } && break
		sleep 0.1
	done
	[[ -n $pid ]] && ours "$pid" "$name" && { kill -KILL "$pid" 2>/dev/null || true; }
	[[ -n $sup ]] && ours "$sup" "$name" && { kill -KILL "$sup" 2>/dev/null || true; }
	rm -f "$PIDS/$name.pid" "$PIDS/$name.supervisor.pid"
	[[ -n $sup$pid ]] && log "stopped $name ($((SECONDS - t0))s)"
	return 0
}

# Network namespaces of the pod sandboxes our containerd created, read from
# the sandboxes' OCI specs while containerd still answers.
sandbox_netns() {
	ctr --address "$CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null |
		while read -r id; do
			ctr --address "$CONTAINERD_SOCK" -n k8s.io containers info "$id" 2>/dev/null
		done |
		python3 -c '
import json, sys
dec, text, i = json.JSONDecoder(), sys.stdin.read(), 0
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    info, i = dec.raw_decode(text, i)
    for ns in ((info.get("Spec") or {}).get("linux") or {}).get("namespaces") or []:
        if ns.get("type") == "network" and ns.get("path"):
            print(ns["path"])
' | sort -u
}

# NETNS_DIR (where network namespaces are mounted: containerd's, ip's and
# podman's place), netns_dir_self_bound and netns_unbind.
# shellcheck source=/dev/null
source "$HACK_DIR/netns.sh"

# Unmount and remove one namespace file. A namespace containerd mounted
# before podman's bind is hidden beneath it: through the bind it is an empty
# file that can be neither unmounted ("not mounted") nor removed ("device or
# resource busy"). The bind is then taken away, lazily (it is nobody's
# state: namespaces mounted through it are detached with it, and their files
# stay in the directory beneath, where their owners' own removal tolerates
# an unmounted file), and the removal tried again. What still cannot be
# removed is reported, not fatal: `down` goes on with the rest.
remove_netns() {
	local ns=$1 err
	umount "$ns" 2>/dev/null || umount -l "$ns" 2>/dev/null || true
	err=$(rm -f "$ns" 2>&1) && return 0
	if netns_dir_self_bound; then
		log "$NETNS_DIR is bind-mounted over itself (podman) and hides $ns: removing that bind"
		netns_unbind 2>/dev/null || true
		umount "$ns" 2>/dev/null || umount -l "$ns" 2>/dev/null || true
		err=$(rm -f "$ns" 2>&1) && return 0
	fi
	log "could not remove $ns: ${err#rm: }"
}

# Pod network namespaces holding an address of our pod subnet: ones whose
# sandbox containerd had already forgotten (a crashed run). Entered by
# their file (nsenter), not by name (`ip -n` looks in /run/netns only).
forgotten_netns() {
	local ns prefix=${NODE_POD_CIDR%.*}.
	for ns in "$NETNS_DIR"/cni-*; do
		[[ -e $ns ]] || continue
		if nsenter --net="$ns" ip -4 -o addr show 2>/dev/null | grep -qF " inet $prefix"; then
			echo "$ns"
		fi
	done
}

unmount_under() {
	local prefix=$1 m
	# Deepest first; lazy as a last resort so a busy mount cannot block `down`.
	findmnt -rn -o TARGET | { grep -E "^$prefix(/|$)" || true; } | sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "could not unmount $m"
	done
}

cmd_down() {
	need_root
	local name netns=() pid
	if [[ -S $CONTAINERD_SOCK ]]; then
		mapfile -t netns < <(sandbox_netns)
	fi
	# The kubelet first, so it restarts no container while we stop them.
	stop_component kubelet
	# Pods: every process in the kubelet's cgroups below ours.
	if [[ -d /sys/fs/cgroup/pids/$CGROUP/kubepods ]]; then
		find "/sys/fs/cgroup/pids/$CGROUP/kubepods" -name cgroup.procs -print0 |
			xargs -0 -r cat | xargs -r kill -KILL 2>/dev/null || true
	fi
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
		name=${COMPONENTS[i]}
		[[ $name == kubelet ]] && continue
		stop_component "$name"
	done
	# What is left in our cgroups was started by our components and outlived
	# them: containerd's shims (they reparent to init) and any stray container.
	for _ in 1 2 3; do
		pid=$(cgroup_pids)
		[[ -z $pid ]] && break
		# shellcheck disable=SC2086  # one pid per word
		kill -KILL $pid 2>/dev/null || true
		sleep 0.5
	done

	if [[ -x $K8S_BIN/kube-proxy ]]; then
		kube-proxy --cleanup >/dev/null 2>&1 || true
	fi
	# Chains the kubelet creates to detect iptables flushes.
	# What `kube-proxy --cleanup` leaves: the kubelet's own chains (flush
	# canaries, and KUBE-FIREWALL with its jumps from INPUT and OUTPUT).
	local ipt table chain rule
	for ipt in iptables ip6tables; do
		for table in mangle nat filter; do
			for chain in KUBE-KUBELET-CANARY KUBE-PROXY-CANARY KUBE-IPTABLES-HINT KUBE-FIREWALL; do
				"$ipt" -w -t "$table" -S 2>/dev/null | { grep -E "^-A [A-Z]+ .*-j $chain( |\$)" || true; } |
					while read -r rule; do
						# shellcheck disable=SC2086  # the rule is a list of words
						"$ipt" -w -t "$table" -D ${rule#-A } 2>/dev/null || true
					done
				if "$ipt" -w -t "$table" -F "$chain" 2>/dev/null; then
					"$ipt" -w -t "$table" -X "$chain" 2>/dev/null || true
				fi
			done
		done
	done
	while iptables -w -D FORWARD -m comment --comment kbuild-cluster -j "$IPT_CHAIN" 2>/dev/null; do :; done
	if iptables -w -F "$IPT_CHAIN" 2>/dev/null; then
		iptables -w -X "$IPT_CHAIN" 2>/dev/null || true
	fi

	local ns
	mapfile -t -O "${#netns[@]}" netns < <(forgotten_netns)
	for ns in "${netns[@]}"; do
		[[ -e $ns ]] || continue
		remove_netns "$ns"
	done
	ip route del "$SERVICE_CIDR" dev "$BRIDGE" 2>/dev/null || true
	ip link del "$BRIDGE" 2>/dev/null || true

	unmount_under "$STATE_DIR"
	unmount_under "$RUNTIME_DIR"
	# The kubelet links container logs into this fixed directory.
	local l
	for l in /var/log/containers/*.log; do
		[[ -L $l && $(readlink "$l") == "$STATE_DIR"/* ]] && rm -f "$l"
	done

	if [[ -f $STATE_DIR/sysctl.orig ]]; then
		local kv
		while IFS= read -r kv; do
			echo "${kv#*=}" >"/proc/sys/$(tr . / <<<"${kv%%=*}")"
		done <"$STATE_DIR/sysctl.orig"
	fi

	# Every hierarchy, the cgroup v2 one of a hybrid host included: the
	# kubelet mirrors its pod cgroups there.
	local h
	for h in /sys/fs/cgroup/*/"$CGROUP"; do
		[[ -d $h ]] || continue
		find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[[ -d $h ]] && log "cgroup $h still has members"
	done

	rm -rf "$STATE_DIR" "$RUNTIME_DIR"
	pid=$(cgroup_pids)
	if [[ -n $pid ]]; then
		die "processes still running after down: $pid"
	fi
	log "down: all cluster processes stopped, state removed (logs kept in $LOG_DIR)"
}

# One `up` or `down` at a time on a machine: a test session may call
# `up` while a developer's is still compiling, and must then wait for it and
# reuse the result rather than race it. One lock per machine, whatever the
# cache directory, because the state directories are per machine; it lives
# outside the directories that `down` removes.
LOCK_FILE=/run/lock/kbuild-cluster.lock
take_lock() {
	need_root
	mkdir -p "$(dirname "$LOCK_FILE")"
	exec 9>"$LOCK_FILE"
	if ! flock -n 9; then
		log "waiting for another hack/cluster.sh up/down/build on this machine"
		flock -w 3600 9 || die "gave up waiting for the lock on $LOCK_FILE"
	fi
}

# Stops the component itself (not its supervisor, which starts it again after
# its pause: 1s, doubling while it keeps dying within a minute) and waits for
# the new process to serve. A short, shared outage:
# bench/chaos.py and tests/cluster/test_chaos.py use it for the API server.
cmd_restart() {
	local name=${1:-} old new t0=$SECONDS probe=()
	[[ " ${COMPONENTS[*]} " == *" $name "* ]] || die "usage: cluster.sh restart COMPONENT (one of: ${COMPONENTS[*]})"
	need_root
	is_up || die "the cluster is not up"
	alive "$name" || die "$name is not running"
	old=$(cat "$PIDS/$name.pid")
	case $name in
	kube-apiserver) probe=(curl -fsS --cacert "$PKI/ca.crt" "https://$NODE_IP:$API_PORT/readyz") ;;
	registry) probe=(curl -fsS "http://$REGISTRY/v2/") ;;
	*) probe=(true) ;;
	esac
	# TERM, then KILL: a kube-apiserver drains open watches for up to a
	# minute after TERM, which would make this a minute-long outage for
	# everyone on the cluster instead of a few seconds.
	kill -TERM "$old"
	for _ in $(seq 1 30); do
		ours "$old" "$name" || break
		sleep 0.1
	done
	ours "$old" "$name" && { kill -KILL "$old" 2>/dev/null || true; }
	# shellcheck disable=SC2317  # called through wait_for
	restarted() { new=$(cat "$PIDS/$name.pid" 2>/dev/null) && [[ $new != "$old" ]] && ours "$new" "$name" && "${probe[@]}"; }
	wait_for "$name restarted" 120 restarted
	log "restarted $name in $((SECONDS - t0))s"
}

main() {
	case ${1:-} in
	up) take_lock && cmd_up ;;
	down) take_lock && cmd_down ;;
	status) cmd_status ;;
	env) cmd_env ;;
	trust-registry) cmd_trust_registry "${2:-}" ;;
	restart) cmd_restart "${2:-}" ;;
	build) cmd_build ;;
	gomod) cmd_gomod ;;
	*)
		sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
		exit 2
		;;
	esac
}

# On one line, so that editing this file while it runs cannot feed the
# running shell a half-read line after main returns. Sourced, it only defines
# its functions (tests/integration/hack runs them on a state of its own).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; exit; fi
