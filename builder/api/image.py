"""``image.openshift.io/v1``: ImageStream.

Field names, JSON names and optionality follow openshift/api ``image/v1``.
There is no ImageStreamTag resource: a tag ``stream:tag`` is read from the
stream's ``spec.tags`` and ``status.tags``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr

from builder.api.base import AlwaysDump, KubeModel, Time
from builder.api.constants import IMAGE_API_VERSION
from builder.api.core import ConditionStatus, ObjectMeta, ObjectReference


class TagReferencePolicyType(StrEnum):
    """How pull specs of a tag are produced."""

    SOURCE = "Source"
    LOCAL = "Local"


class ImportModeType(StrEnum):
    """How a tag's image manifest is imported."""

    LEGACY = "Legacy"
    PRESERVE_ORIGINAL = "PreserveOriginal"


class TagEventConditionType(StrEnum):
    """Condition types of a status tag."""

    IMPORT_SUCCESS = "ImportSuccess"


class ImageLookupPolicy(KubeModel):
    """How other resources in the namespace may refer to the stream."""

    local: StrictBool = False
    """Resolve short names like ``ruby:latest`` in the namespace to this stream's images.

    Done at admission by the controller's mutating webhook
    (``builder.controller.admission``): pods and pod templates of the
    namespace naming ``STREAM[:TAG]`` get the tag's image by digest.
    """


class TagImportPolicy(KubeModel):
    """How images of a tag are imported."""

    insecure: StrictBool = False
    """Allow an insecure registry (HTTP or unverified TLS)."""
    scheduled: StrictBool = False
    """Re-import the tag periodically (and on registry push notifications)."""
    import_mode: ImportModeType | None = None
    """Import a single manifest (Legacy) or the whole manifest list (PreserveOriginal)."""


class TagReferencePolicy(KubeModel):
    """How pull specs are produced when the tag is used."""

    type: TagReferencePolicyType | None = None
    """Source (the image's own location, default) or Local (the integrated registry)."""


class TagReference(KubeModel):
    """A spec tag: what a tag should point to."""

    name: StrictStr
    """Name of the tag."""
    annotations: dict[str, StrictStr] | None = None
    """Annotations applied to images through this tag."""
    from_: ObjectReference | None = None
    """ImageStreamTag, ImageStreamImage or DockerImage the tag points to."""
    reference: StrictBool = False
    """Only reference the image, do not import it."""
    generation: StrictInt | None = None
    """Stream generation of the last change to this tag."""
    import_policy: TagImportPolicy = Field(default_factory=TagImportPolicy)
    """Import behaviour."""
    reference_policy: TagReferencePolicy = Field(default_factory=TagReferencePolicy)
    """How pull specs are produced."""


class ImageStreamSpec(KubeModel):
    """Desired state of an image stream."""

    lookup_policy: ImageLookupPolicy = Field(default_factory=ImageLookupPolicy)
    """Short-name lookup in the namespace."""
    docker_image_repository: StrictStr = ""
    """Deprecated: repository to import tags from; use spec.tags[].from."""
    tags: list[TagReference] = Field(default_factory=list)
    """Spec tags."""


class TagEvent(KubeModel):
    """One entry of a tag's history: the image the tag pointed to."""

    created: Time
    """When the tag pointed to this image."""
    docker_image_reference: StrictStr
    """Pull spec of the image."""
    image: StrictStr
    """Image id (digest)."""
    generation: StrictInt
    """Spec tag generation that produced this entry."""


class TagEventCondition(KubeModel):
    """A condition of a status tag, e.g. a failed import."""

    type: StrictStr
    """Condition type, currently only ImportSuccess."""
    status: ConditionStatus
    """True, False or Unknown."""
    last_transition_time: Time | None = None
    """When the status last changed."""
    reason: StrictStr = ""
    """Machine readable reason."""
    message: StrictStr = ""
    """Human readable details."""
    generation: StrictInt = 0
    """Spec tag generation this condition is about."""


class NamedTagEventList(KubeModel):
    """The history of one tag, newest first."""

    tag: StrictStr
    """Name of the tag."""
    items: list[TagEvent] | None = None
    """History; the first entry is the current image."""
    conditions: list[TagEventCondition] = Field(default_factory=list)
    """Conditions of the tag."""


class ImageStreamStatus(KubeModel):
    """Observed state of an image stream."""

    docker_image_repository: StrictStr = ""
    """Repository the stream's images are pushed to and pulled from."""
    public_docker_image_repository: StrictStr = ""
    """The same repository as reachable from outside the cluster."""
    tags: list[NamedTagEventList] = Field(default_factory=list)
    """History of each tag."""


class ImageStream(KubeModel):
    """A set of tags, each pointing to a history of images."""

    api_version: Annotated[Literal["image.openshift.io/v1"], AlwaysDump()] = IMAGE_API_VERSION
    """API version."""
    kind: Annotated[Literal["ImageStream"], AlwaysDump()] = "ImageStream"
    """Kind."""
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    """Standard object metadata."""
    spec: ImageStreamSpec = Field(default_factory=ImageStreamSpec)
    """Desired state."""
    status: ImageStreamStatus = Field(default_factory=ImageStreamStatus)
    """Observed state."""
