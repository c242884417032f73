"""A whole-repository import writes a spec tag per tag it brought, as OpenShift's import does.

Seed 002 runs ``oc import-image ubi --confirm --all --from REPO`` and then
``oc describe is ubi | grep -A5 tagged``: OpenShift's import
(``ensureSpecTag``) gives every imported tag a spec tag ``from: DockerImage
REPO:TAG``.  The tag is then not pending (no second, per-tag import), and the
next repository import still re-imports it.
"""

from __future__ import annotations

from collections.abc import Sequence

from builder.api import ImageStream, parse_as
from builder.api.constants import DOCKER_REPOSITORY_CHECK_ANNOTATION
from builder.controller.authz import Authorizer
from builder.controller.config import ControllerConfig
from builder.controller.imagestream import ImageStreamReconciler
from builder.controller.importer import ImportOutcome, ImportRequest

from .tenancy_fake import FakeKube

CONFIG = ControllerConfig(registry="registry.test:5000", build_pod_image="registry.test:5000/b:1")
REPO = "quay.test/flozanorht/ubi"
FIRST = "sha256:" + "a" * 64
SECOND = "sha256:" + "b" * 64


class Registry:
    """A repository with tags 8 and 9; each import answers ``digest`` and is counted."""

    def __init__(self) -> None:
        self.digest = FIRST
        self.imported: list[str] = []

    def run(self, _namespace: str, requests: Sequence[ImportRequest]) -> list[ImportOutcome]:
        self.imported += [r.source for r in requests]
        return [
            ImportOutcome(tag=r.tag, reference=f"{REPO}@{self.digest}", digest=self.digest,
                          top_digest=self.digest)
            for r in requests
        ]  # fmt: skip

    def repository_tags(
        self, _namespace: str, _repository: str, _insecure: bool
    ) -> tuple[list[str], None]:
        return ["8", "9"], None


def test_imported_tags_get_spec_tags_and_are_reimported_with_the_repository() -> None:
    kube = FakeKube()
    kube.image_streams.create(parse_as(ImageStream, {
        "apiVersion": "image.openshift.io/v1", "kind": "ImageStream",
        "metadata": {"name": "ubi", "namespace": "app", "generation": 1},
        "spec": {"dockerImageRepository": REPO,
                 "tags": [{"name": "mine", "from": {"kind": "DockerImage", "name": "x.test/y:1"}}]},
    }))  # fmt: skip
    registry = Registry()
    reconciler = ImageStreamReconciler(
        kube,  # type: ignore[arg-type]
        CONFIG,
        registry,  # type: ignore[arg-type]
        authorizer=Authorizer(kube),  # type: ignore[arg-type]
    )
    reconciler.reconcile("app", "ubi")
    stream = kube.image_streams.get("app", "ubi")
    tags = {t.name: t for t in stream.spec.tags}
    assert set(tags) == {"mine", "8", "9"}
    for name in ("8", "9"):
        assert tags[name].from_ is not None
        assert (tags[name].from_.kind, tags[name].from_.name) == ("DockerImage", f"{REPO}:{name}")
    assert sorted(registry.imported) == [f"{REPO}:8", f"{REPO}:9", "x.test/y:1"]

    # The new spec tags are not pending: looking again imports nothing.
    registry.imported.clear()
    reconciler.reconcile("app", "ubi")
    assert registry.imported == []

    # `import-image ubi --all` again: the repository's tags are re-imported, its own is not.
    stream = kube.image_streams.get("app", "ubi")
    stream.metadata.annotations.pop(DOCKER_REPOSITORY_CHECK_ANNOTATION, None)
    kube.image_streams.replace(stream)
    registry.digest = SECOND
    reconciler.reconcile("app", "ubi")
    assert sorted(registry.imported) == [f"{REPO}:8", f"{REPO}:9"]
    stream = kube.image_streams.get("app", "ubi")
    heads = {named.tag: named.items[0].image for named in stream.status.tags}
    assert heads == {"8": SECOND, "9": SECOND, "mine": FIRST}
