"""A ``tagImages`` lifecycle hook: tag the image a rollout runs into image stream tags.

OpenShift's deployer updates the ImageStreamTag ``to`` with a spec tag
``from: {kind: DockerImage, name: <the container's image>}`` (its
``tagImages`` in the hook executor); the image stream controller then
imports it, which moves the tag and fires the tag's own triggers.  kbuild
writes the same spec tag, and its image stream reconciler imports it.

Tenancy (``docs/security.md``): a tag in the DeploymentConfig's own namespace
needs no review (creating a DeploymentConfig there is acting there, as
OpenShift's ``system:deployer`` may); a tag in **another namespace** is
written only if the service account the rollout's pods run as
(``template.spec.serviceAccountName``, else ``default``) may ``update
imagestreams/layers`` there (``system:image-builder``), checked with a
SubjectAccessReview each time.  A denial is the hook's failure (its
``failurePolicy`` decides what the rollout does) and names the role to grant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from builder.api import ImageStream, ObjectMeta, ObjectReference, StatusReason
from builder.api.apps import DeploymentConfig, TagImageHook
from builder.api.image import ImageStreamSpec, TagReference
from builder.controller.authz import (
    DEFAULT_SERVICE_ACCOUNT,
    AccessDeniedError,
    Authorizer,
    Identity,
)
from builder.controller.dchooks import container_image
from builder.kube import AlreadyExists, Conflict, Kube, KubeError, NotFound, Unreachable
from builder.rules.retry import update_with_retry

ATTEMPTS = 3


def pods_identity(dc: DeploymentConfig) -> Identity:
    """The service account the DeploymentConfig's pods run as (``default`` when unset)."""
    spec = (dc.spec.template or {}).get("spec") or {}
    account = spec.get("serviceAccountName") if isinstance(spec, dict) else None
    name = account if isinstance(account, str) and account else DEFAULT_SERVICE_ACCOUNT
    return Identity(dc.metadata.namespace, name)


def _with_tag(stream: ImageStream, tag: str, image: str) -> bool:
    """Point spec tag ``tag`` at ``image`` (a DockerImage); False when it already does."""
    ref = TagReference(
        name=tag, from_=ObjectReference(kind="DockerImage", name=image), generation=0
    )
    tags = list(stream.spec.tags)
    for index, existing in enumerate(tags):
        if existing.name != tag:
            continue
        source = existing.from_
        if source is not None and (source.kind, source.name) == ("DockerImage", image):
            return False
        tags[index] = ref
        break
    else:
        tags.append(ref)
    stream.spec.tags = tags
    return True


def set_spec_tag(kube: Kube, namespace: str, name: str, tag: str, image: str) -> None:
    """``NAME:TAG`` in ``namespace`` from ``image`` (the stream is created if missing)."""

    def read() -> ImageStream | None:
        try:
            return kube.image_streams.get(namespace, name)
        except NotFound:
            return None

    def change(stream: ImageStream | None) -> tuple[bool, ImageStream] | None:
        if stream is None:
            created = ImageStream(
                metadata=ObjectMeta(name=name, namespace=namespace), spec=ImageStreamSpec()
            )
            _with_tag(created, tag, image)
            return True, created
        return (False, stream) if _with_tag(stream, tag, image) else None

    def write(change: tuple[bool, ImageStream]) -> ImageStream:
        creating, stream = change
        if creating:
            return kube.image_streams.create(stream)
        return kube.image_streams.replace(stream)

    # A create racing another create (AlreadyExists) reads again, as a Conflict does.
    update_with_retry(
        read,
        change,
        write,
        what=f"image stream {namespace}/{name}",
        attempts=ATTEMPTS,
        retry_on=(Conflict, AlreadyExists),
    )


def tag_images(
    kube: Kube,
    authorizer: Authorizer,
    dc: DeploymentConfig,
    rc: Mapping[str, Any],
    actions: Sequence[TagImageHook],
    *,
    log: Callable[[str], None],
) -> list[str]:
    """Run the hook's tag actions; what failed, one message each (empty: all done)."""
    errors: list[str] = []
    identity = pods_identity(dc)
    for action in actions:
        image = container_image(rc, action.container_name)
        if image is None:
            errors.append(
                f"unable to find image for container {action.container_name!r}, "
                "container could not be found"
            )
            continue
        namespace = action.to.namespace or dc.metadata.namespace
        stream, _, tag = action.to.name.partition(":")
        if namespace != dc.metadata.namespace:
            try:
                authorizer.check_write(identity, namespace, StatusReason.INVALID_OUTPUT_REFERENCE)
            except AccessDeniedError as err:
                errors.append(f"cannot tag into {namespace}/{action.to.name}: {err.detail}")
                continue
        try:
            set_spec_tag(kube, namespace, stream, tag, image)
        except Unreachable:
            raise
        except KubeError as err:
            errors.append(f"cannot tag into {namespace}/{action.to.name}: {err.server_message}")
            continue
        log(f'Tagged "{image}" into {namespace}/{action.to.name}')
    return errors


__all__ = ["pods_identity", "set_spec_tag", "tag_images"]
