"""kbuild: OpenShift-style image builds and image streams for plain Kubernetes."""

__version__ = "0.1.0"
