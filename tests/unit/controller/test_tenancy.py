"""Cross-namespace acts are authorized for the acting identity (docs/security.md).

Each test here failed on the main before the tenancy change: the controller
moved another namespace's tag, believed a pod it had not created, resolved
other namespaces' streams and lent its own registry credentials to every
namespace's imports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from builder.api import Build, BuildPhase, ImageStream, StatusReason, parse_as
from builder.api.constants import POD_UID_ANNOTATION
from builder.controller.authz import (
    AccessDeniedError,
    Authorizer,
    Identity,
    registry_namespace,
)
from builder.controller.build import BuildReconciler
from builder.controller.config import ControllerConfig
from builder.controller.importer import Importer
from builder.controller.metrics import Metrics
from builder.controller.ratelimit import TokenBucket
from builder.controller.workloads import WorkloadTriggerReconciler
from builder.registry import CredentialStore, ImageNotFound, Unauthorized

from .tenancy_fake import FakeKube

REGISTRY = "registry.test:5000"
CONFIG = ControllerConfig(registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1")
DIGEST = "sha256:" + "a" * 64
BUILDER = f"{REGISTRY}/kbuild/s2i@sha256:" + "1" * 64
TENANT_BUILDER = "system:serviceaccount:tenant:default"
VICTIM_PROD = {"kind": "ImageStreamTag", "namespace": "victim", "name": "app:prod"}


def make_build(output: dict[str, Any], builder: dict[str, Any] | None = None) -> Build:
    return parse_as(Build, {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {"name": "app-1", "namespace": "tenant"},
        "spec": {
            "source": {"git": {"uri": "https://git.test/app.git"}},
            "strategy": {
                "type": "Source",
                "sourceStrategy": {"from": builder or {"kind": "DockerImage", "name": BUILDER}},
            },
            "output": {"to": output},
        },
    })  # fmt: skip


def victim_stream(kube: FakeKube) -> None:
    kube.image_streams.create(parse_as(ImageStream, {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "app", "namespace": "victim"},
        "status": {"tags": [{"tag": "prod", "items": [{
            "created": "2026-01-01T00:00:00Z", "image": "sha256:" + "0" * 64,
            "dockerImageReference": f"{REGISTRY}/victim/app@sha256:" + "0" * 64,
            "generation": 1,
        }]}]},
    }))  # fmt: skip


def reconciler(kube: FakeKube) -> BuildReconciler:
    return BuildReconciler(kube, CONFIG, Metrics(), authorizer=Authorizer(kube))  # type: ignore[arg-type]


def complete_pod(kube: FakeKube, name: str) -> None:
    pod = kube.pods[("tenant", name)]
    pod["status"] = {
        "phase": "Succeeded",
        "containerStatuses": [{
            "name": c["name"],
            "state": {"terminated": {"exitCode": 0, "message": json.dumps({"digest": DIGEST})}},
        } for c in pod["spec"]["containers"]],
    }  # fmt: skip


# -- finding 1: cross-namespace writes ------------------------------------------


def test_output_to_another_namespace_fails_without_push_rights() -> None:
    kube = FakeKube()
    victim_stream(kube)
    kube.builds.create(make_build(VICTIM_PROD))
    reconciler(kube).reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert build.status.phase == BuildPhase.FAILED
    assert build.status.reason == "InvalidOutputReference"
    assert "may not update imagestreams/layers in namespace 'victim'" in build.status.message
    assert kube.pods == {}, "no pod may be created (it would push into the victim's repository)"
    assert (TENANT_BUILDER, "update", "victim") in kube.reviews
    assert any(e.get("reason") == "Forbidden" and e.get("type") == "Warning" for e in kube.events)
    history = kube.image_streams.get("victim", "app").status.tags[0].items
    assert len(history) == 1


def test_output_to_another_namespace_moves_the_tag_when_granted() -> None:
    kube = FakeKube(grants={("system:serviceaccounts:tenant", "update", "victim")})
    victim_stream(kube)
    kube.builds.create(make_build(VICTIM_PROD))
    r = reconciler(kube)
    r.reconcile("tenant", "app-1")
    assert kube.builds.get("tenant", "app-1").status.phase == BuildPhase.PENDING
    complete_pod(kube, "app-1-build")
    r.reconcile("tenant", "app-1")
    assert kube.builds.get("tenant", "app-1").status.phase == BuildPhase.COMPLETE
    history = kube.image_streams.get("victim", "app").status.tags[0].items
    assert history[0].image == DIGEST


def test_a_revoked_grant_is_seen_before_the_tag_moves() -> None:
    kube = FakeKube(grants={(TENANT_BUILDER, "update", "victim")})
    victim_stream(kube)
    kube.builds.create(make_build(VICTIM_PROD))
    clock = [0.0]
    authorizer = Authorizer(kube, clock=lambda: clock[0])  # type: ignore[arg-type]
    r = BuildReconciler(kube, CONFIG, Metrics(), authorizer=authorizer)  # type: ignore[arg-type]
    r.reconcile("tenant", "app-1")
    kube.grants.clear()
    clock[0] = 60.0  # past the review cache
    complete_pod(kube, "app-1-build")
    r.reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert build.status.phase == BuildPhase.FAILED
    assert build.status.reason == "InvalidOutputReference"
    assert len(kube.image_streams.get("victim", "app").status.tags[0].items) == 1


def test_same_namespace_output_asks_no_review() -> None:
    kube = FakeKube()
    kube.builds.create(make_build({"kind": "ImageStreamTag", "name": "app:latest"}))
    reconciler(kube).reconcile("tenant", "app-1")
    assert kube.builds.get("tenant", "app-1").status.phase == BuildPhase.PENDING
    assert kube.reviews == []


def test_a_pod_made_by_someone_else_is_not_believed() -> None:
    """Pre-created ``<build>-build`` with the Build's uid as owner: replaced, never read."""
    kube = FakeKube()
    kube.builds.create(make_build({"kind": "ImageStreamTag", "name": "app:latest"}))
    build = kube.builds.get("tenant", "app-1")
    forged = {
        "metadata": {
            "name": "app-1-build",
            "ownerReferences": [{"kind": "Build", "name": "app-1", "uid": build.metadata.uid}],
        },
        "spec": {"containers": [{"name": "sti-build"}]},
    }
    kube.create_pod("tenant", forged)
    complete_pod(kube, "app-1-build")
    r = reconciler(kube)
    r.reconcile("tenant", "app-1")
    assert ("tenant", "app-1-build") not in kube.pods, "the forged pod is deleted"
    assert kube.builds.get("tenant", "app-1").status.phase == BuildPhase.NEW
    r.reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    ours = kube.pods[("tenant", "app-1-build")]
    assert build.metadata.annotations[POD_UID_ANNOTATION] == ours["metadata"]["uid"]
    assert build.status.phase == BuildPhase.PENDING


def test_a_pod_swapped_in_after_the_start_ends_the_build() -> None:
    kube = FakeKube()
    kube.builds.create(make_build({"kind": "ImageStreamTag", "name": "app:latest"}))
    r = reconciler(kube)
    r.reconcile("tenant", "app-1")
    pod = kube.pods.pop(("tenant", "app-1-build"))
    kube.create_pod("tenant", pod)  # same name and owner, a new uid
    complete_pod(kube, "app-1-build")
    r.reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert (build.status.phase, build.status.reason) == (BuildPhase.ERROR, "BuildPodDeleted")
    assert kube.image_streams.objects == {}, "no tag moved"


# -- finding 2: cross-namespace reads --------------------------------------------


def test_builder_from_another_namespace_needs_pull_rights() -> None:
    kube = FakeKube()
    victim_stream(kube)
    builder = {"kind": "ImageStreamTag", "namespace": "victim", "name": "app:prod"}
    kube.builds.create(make_build({"kind": "ImageStreamTag", "name": "app:latest"}, builder))
    reconciler(kube).reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert (build.status.phase, build.status.reason) == (BuildPhase.FAILED, "InvalidImageReference")
    assert (TENANT_BUILDER, "get", "victim") in kube.reviews
    assert kube.pods == {}


def test_builder_from_another_namespace_resolves_when_granted() -> None:
    kube = FakeKube(grants={("system:serviceaccounts:tenant", "get", "victim")})
    victim_stream(kube)
    builder = {"kind": "ImageStreamTag", "namespace": "victim", "name": "app:prod"}
    kube.builds.create(make_build({"kind": "ImageStreamTag", "name": "app:latest"}, builder))
    reconciler(kube).reconcile("tenant", "app-1")
    build = kube.builds.get("tenant", "app-1")
    assert build.status.phase == BuildPhase.PENDING
    assert build.spec.strategy.source_strategy is not None
    assert build.spec.strategy.source_strategy.from_.name.startswith(f"{REGISTRY}/victim/app@")


def _deployment(namespace: str, stream_namespace: str, sa: str = "") -> dict[str, Any]:
    trigger = [{
        "from": {"kind": "ImageStreamTag", "name": "app:prod", "namespace": stream_namespace},
        "fieldPath": 'spec.template.spec.containers[?(@.name=="web")].image',
    }]  # fmt: skip
    spec: dict[str, Any] = {"containers": [{"name": "web", "image": "placeholder"}]}
    if sa:
        spec["serviceAccountName"] = sa
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": "web", "namespace": namespace, "uid": "d1",
            "annotations": {"image.openshift.io/triggers": json.dumps(trigger)},
        },
        "spec": {"template": {"spec": spec}},
    }  # fmt: skip


WEB_MAY_PULL = {("system:serviceaccount:tenant:web", "get", "victim")}


@pytest.mark.parametrize(("grants", "moves"), [(set(), False), (WEB_MAY_PULL, True)])
def test_workload_trigger_on_another_namespace(
    grants: set[tuple[str, str, str]], moves: bool
) -> None:
    kube = FakeKube(grants=grants)
    victim_stream(kube)
    kube.workloads[("tenant", "web")] = _deployment("tenant", "victim", sa="web")
    authorizer = Authorizer(kube)  # type: ignore[arg-type]
    WorkloadTriggerReconciler(kube, CONFIG, authorizer=authorizer).reconcile(  # type: ignore[arg-type]
        "Deployment", "tenant", "web"
    )
    assert bool(kube.patches) is moves
    assert ("system:serviceaccount:tenant:web", "get", "victim") in kube.reviews
    forbidden = [e for e in kube.events if "forbidden" in e.get("message", "")]
    assert bool(forbidden) is not moves


# -- finding 3: the controller's credentials are not lent ---------------------------


@pytest.fixture
def controller_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auth = {"auths": {REGISTRY: {"username": "controller", "password": "s3cret"}}}
    path = tmp_path / "auth.json"
    path.write_text(json.dumps(auth))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(path))


@pytest.mark.usefixtures("controller_auth")
def test_imports_get_the_controller_credentials_only_for_readable_namespaces() -> None:
    kube = FakeKube(grants={("system:serviceaccounts:tenant", "get", "shared")})
    importer = Importer(kube, CONFIG, TokenBucket(100, 100), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    sources = [f"{REGISTRY}/victim/app:prod", f"{REGISTRY}/shared/base:1"]
    client = importer._client("tenant", set(), sources)
    try:
        lookup = client._transport._credentials.lookup  # type: ignore[union-attr]
        assert lookup(REGISTRY, "victim/app") is None
        assert lookup("other.registry:5000", "x/y") is None
        assert lookup(REGISTRY, "tenant/app") is not None
        assert lookup(REGISTRY, "shared/base") is not None
    finally:
        client.close()


def test_pull_secrets_are_listed_by_type_only() -> None:
    kube = FakeKube()
    importer = Importer(kube, CONFIG, TokenBucket(100, 100), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    importer.credentials("tenant")
    assert kube.secret_selectors
    assert all(s.startswith("type=kubernetes.io/docker") for s in kube.secret_selectors)


def test_secrets_not_lent_are_said_in_an_unauthorized_import() -> None:
    """Without the namespace's RoleBinding the import runs anonymously and says why."""
    kube = FakeKube()
    kube.secrets_forbidden.add("tenant")
    importer = Importer(kube, CONFIG, TokenBucket(100, 100), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    importer.credentials("tenant")
    refused = Unauthorized("the registry refused: 401")
    outcome = importer._failure("tenant", "app:1", refused, refused.detail)
    assert outcome.reason == "Unauthorized"
    assert "the registry refused: 401" in outcome.message
    assert "kbuild-namespace-secrets" in outcome.message
    assert "kubectl create rolebinding kbuild-pull-secrets -n tenant" in outcome.message
    # Other failures are not about credentials and carry no such note.
    missing = ImageNotFound("no such tag")
    assert importer._failure("tenant", "app:1", missing, missing.detail).message == "no such tag"


def test_a_malformed_pull_secret_is_named_not_dropped() -> None:
    kube = FakeKube()
    kube.secrets["tenant"] = [
        {
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "broken"},
            "data": {".dockerconfigjson": "bm90IGpzb24="},  # "not json"
        }
    ]
    importer = Importer(kube, CONFIG, TokenBucket(100, 100), authorizer=Authorizer(kube))  # type: ignore[arg-type]
    importer.credentials("tenant")
    problems = importer.secret_problems("tenant")
    assert len(problems) == 1
    assert "pull secret broken (.dockerconfigjson) was skipped" in problems[0]
    assert "not json" not in problems[0]


# -- the pieces -----------------------------------------------------------------------


def test_reviews_are_cached_and_same_namespace_needs_none() -> None:
    kube = FakeKube()
    authorizer = Authorizer(kube)  # type: ignore[arg-type]
    me = Identity("tenant", "default")
    assert authorizer.allowed(me, "get", "tenant")
    assert kube.reviews == []
    for _ in range(3):
        assert not authorizer.allowed(me, "get", "victim")
    assert kube.reviews == [(TENANT_BUILDER, "get", "victim")]
    with pytest.raises(AccessDeniedError) as err:
        authorizer.check_read(me, "victim", StatusReason.INVALID_IMAGE_REFERENCE)
    assert err.value.reason == StatusReason.INVALID_IMAGE_REFERENCE
    assert "system:image-puller" in err.value.detail


@pytest.mark.parametrize(
    ("spec", "namespace"),
    [
        (f"{REGISTRY}/victim/app:1", "victim"),
        (f"{REGISTRY}/victim/app@sha256:" + "0" * 64, "victim"),
        (f"{REGISTRY}/app:1", None),
        ("other:5000/victim/app:1", None),
        (f"{REGISTRY}0/victim/app:1", None),
    ],
)
def test_registry_namespace(spec: str, namespace: str | None) -> None:
    assert registry_namespace(REGISTRY, spec) == namespace


def test_scoped_credentials_answer_only_their_path() -> None:
    store = CredentialStore.from_docker_config(
        json.dumps({"auths": {REGISTRY: {"username": "u", "password": "p"}}}), source="t"
    )
    scoped = store.scoped(REGISTRY, "tenant/")
    assert scoped.lookup(REGISTRY, "tenant/app") is not None
    assert scoped.lookup(REGISTRY, "tenant") is not None
    assert scoped.lookup(REGISTRY, "tenantx/app") is None
    assert scoped.lookup(REGISTRY, "victim/app") is None
    assert scoped.lookup("elsewhere:5000", "tenant/app") is None
