"""``openshift.io/image.dockerRepositoryCheck`` after a scheduled import, as OpenShift stamps it.

Seed 000 reads the annotation to see when a scheduled import brought a new
builder image ("The Annotation field shows us the timestamp the image was
updated").  OpenShift's import writes it whenever the import changes the
stream; a periodic check that finds the same image writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from builder.api import ImageStream, parse_as
from builder.api.constants import DOCKER_REPOSITORY_CHECK_ANNOTATION
from builder.controller.authz import Authorizer
from builder.controller.config import ControllerConfig
from builder.controller.imagestream import ImageStreamReconciler
from builder.controller.importer import ImportOutcome, ImportRequest

from .tenancy_fake import FakeKube

CONFIG = ControllerConfig(registry="registry.test:5000", build_pod_image="registry.test:5000/b:1")
OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
SOURCE = "external.test/team/builder"
STAMP = "2026-01-01T00:00:00Z"


class Registry:
    """Answers every import with ``digest``: the importer's contract, without a network."""

    def __init__(self, digest: str) -> None:
        self.digest = digest

    def run(self, _namespace: str, requests: Sequence[ImportRequest]) -> list[ImportOutcome]:
        return [
            ImportOutcome(
                tag=r.tag,
                reference=f"{SOURCE}@{self.digest}",
                digest=self.digest,
                top_digest=self.digest,
            )
            for r in requests
        ]

    def repository_tags(
        self, _namespace: str, _repository: str, _insecure: bool
    ) -> tuple[list[str], None]:
        return [], None


def scheduled_stream(kube: FakeKube) -> None:
    kube.image_streams.create(parse_as(ImageStream, {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": "builder", "namespace": "openshift", "generation": 1,
                     "annotations": {DOCKER_REPOSITORY_CHECK_ANNOTATION: STAMP}},
        "spec": {"tags": [{
            "name": "latest", "generation": 1,
            "from": {"kind": "DockerImage", "name": f"{SOURCE}:latest"},
            "importPolicy": {"scheduled": True},
        }]},
        "status": {"dockerImageRepository": "registry.test:5000/openshift/builder",
                   "tags": [{"tag": "latest", "items": [{
                       "created": STAMP, "image": OLD, "generation": 1,
                       "dockerImageReference": f"{SOURCE}@{OLD}"}]}]},
    }))  # fmt: skip


@pytest.mark.parametrize(("digest", "stamped"), [(NEW, True), (OLD, False)])
def test_a_scheduled_check_stamps_the_stream_when_it_brings_a_new_image(
    digest: str, stamped: bool
) -> None:
    kube = FakeKube()
    scheduled_stream(kube)
    now = [0.0]
    reconciler = ImageStreamReconciler(
        kube,  # type: ignore[arg-type]
        CONFIG,
        Registry(digest),  # type: ignore[arg-type]
        clock=lambda: now[0],
        authorizer=Authorizer(kube),  # type: ignore[arg-type]
    )
    reconciler.reconcile("openshift", "builder")  # first sight: the tag's clock starts
    now[0] += 2 * CONFIG.scheduled_import_interval  # the scheduled check is due
    reconciler.reconcile("openshift", "builder")
    stream = kube.image_streams.get("openshift", "builder")
    assert stream.status.tags[0].items[0].image == digest
    check = stream.metadata.annotations[DOCKER_REPOSITORY_CHECK_ANNOTATION]
    assert (check != STAMP) is stamped
