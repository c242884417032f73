module gotruth

go 1.24.0

require (
	github.com/docker/go-units v0.5.0
	k8s.io/apimachinery v0.34.4
)
