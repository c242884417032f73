"""How ``kbuild apply|create`` name any resource: REST paths, kubectl's refs, server warnings."""

from __future__ import annotations

import pytest

from builder.kube import ApiResource
from builder.kube.client import _warning_text

BC = ApiResource("build.openshift.io/v1", "BuildConfig", "buildconfigs", True)
SECRET = ApiResource("v1", "Secret", "secrets", True)
NAMESPACE = ApiResource("v1", "Namespace", "namespaces", False)


@pytest.mark.parametrize(
    ("resource", "namespace", "name", "path"),
    [
        (BC, "dev", "app", "/apis/build.openshift.io/v1/namespaces/dev/buildconfigs/app"),
        (BC, "dev", None, "/apis/build.openshift.io/v1/namespaces/dev/buildconfigs"),
        (SECRET, "dev", "s", "/api/v1/namespaces/dev/secrets/s"),
        (NAMESPACE, None, "dev", "/api/v1/namespaces/dev"),
        (NAMESPACE, "ignored", "dev", "/api/v1/namespaces/dev"),
        # names are path segments: nothing in them reaches another path
        (SECRET, "dev", "a/../b", "/api/v1/namespaces/dev/secrets/a%2F..%2Fb"),
        (SECRET, "d/x", "s", "/api/v1/namespaces/d%2Fx/secrets/s"),
    ],
)
def test_paths(resource: ApiResource, namespace: str | None, name: str | None, path: str) -> None:
    assert resource.path(namespace, name) == path


@pytest.mark.parametrize(
    ("resource", "ref"),
    [
        (BC, "buildconfig.build.openshift.io/app"),
        (SECRET, "secret/app"),
        (ApiResource("apps/v1", "Deployment", "deployments", True), "deployment.apps/app"),
    ],
)
def test_refs_are_kubectls(resource: ApiResource, ref: str) -> None:
    assert resource.ref("app") == ref


@pytest.mark.parametrize(
    ("header", "text"),
    [
        ('299 - "unknown field \\"spec.foo\\""', 'unknown field "spec.foo"'),
        (
            '299 - "metadata.finalizers: prefer a domain-qualified name"',
            "metadata.finalizers: prefer a domain-qualified name",
        ),
        ("not the RFC shape", "not the RFC shape"),
    ],
)
def test_warning_headers_read_as_kubectl_prints_them(header: str, text: str) -> None:
    assert _warning_text(header) == text
