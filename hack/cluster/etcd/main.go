// Command etcd is upstream etcd's server entry point, built from the Go module
// proxy because Debian bookworm's etcd (3.4) is older than Kubernetes 1.34
// supports. etcdmain.Main is exactly what the upstream etcd binary runs.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
