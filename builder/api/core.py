"""The Kubernetes core (``v1``) and meta types that OpenShift's build and image types embed.

Field names and optionality follow ``k8s.io/api/core/v1`` and
``k8s.io/apimachinery/pkg/apis/meta/v1``; only the types the build and image
APIs reach are modelled.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictBool, StrictInt, StrictStr

from builder.api.base import FreeFormObject, KubeModel, Quantity, Time, Unimplemented


class ConditionStatus(StrEnum):
    """Status of a condition: ``True``, ``False`` or ``Unknown``."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class OwnerReference(KubeModel):
    """An object that owns this one; deleting the owner garbage-collects it."""

    api_version: StrictStr
    """API version of the owner."""
    kind: StrictStr
    """Kind of the owner."""
    name: StrictStr
    """Name of the owner."""
    uid: StrictStr
    """UID of the owner."""
    controller: StrictBool | None = None
    """True if the owner is the managing controller."""
    block_owner_deletion: StrictBool | None = None
    """True if the owner cannot be deleted before this object is."""


class ObjectMeta(KubeModel):
    """Standard object metadata."""

    name: StrictStr = ""
    """Name, unique within a namespace."""
    generate_name: StrictStr = ""
    """Prefix for a server-generated name."""
    namespace: StrictStr = ""
    """Namespace of the object."""
    self_link: StrictStr = ""
    """Deprecated; not set by current servers."""
    uid: StrictStr = ""
    """Unique id set by the server."""
    resource_version: StrictStr = ""
    """Opaque version for optimistic concurrency."""
    generation: StrictInt = 0
    """Sequence number of the desired state, set by the server."""
    creation_timestamp: Time | None = None
    """When the object was created."""
    deletion_timestamp: Time | None = None
    """When the object will be deleted."""
    deletion_grace_period_seconds: StrictInt | None = None
    """Grace period before deletion."""
    labels: dict[str, StrictStr] = Field(default_factory=dict)
    """Labels for selection."""
    annotations: dict[str, StrictStr] = Field(default_factory=dict)
    """Non-identifying metadata."""
    owner_references: list[OwnerReference] = Field(default_factory=list)
    """Objects this one depends on."""
    finalizers: list[StrictStr] = Field(default_factory=list)
    """Finalizers that must run before deletion."""
    managed_fields: list[FreeFormObject] = Field(default_factory=list)
    """Server-side apply field ownership (kept as given)."""


class ListMeta(KubeModel):
    """Metadata of a list."""

    self_link: StrictStr = ""
    """Deprecated; not set by current servers."""
    resource_version: StrictStr = ""
    """Version of the list, for watching from it."""
    continue_: StrictStr = ""
    """Token to fetch the next page."""
    remaining_item_count: StrictInt | None = None
    """Items left after this page, when known."""


class ObjectReference(KubeModel):
    """A reference to an object, e.g. ``{kind: ImageStreamTag, name: ruby:latest}``."""

    kind: StrictStr = ""
    """Kind of the referent (ImageStreamTag, ImageStreamImage, DockerImage, ...)."""
    namespace: StrictStr = ""
    """Namespace of the referent; empty means the object's own."""
    name: StrictStr = ""
    """Name of the referent."""
    uid: StrictStr = ""
    """UID of the referent."""
    api_version: StrictStr = ""
    """API version of the referent."""
    resource_version: StrictStr = ""
    """Resource version of the referent."""
    field_path: StrictStr = ""
    """A field within the referent."""


class LocalObjectReference(KubeModel):
    """A reference to an object in the same namespace."""

    name: StrictStr = ""
    """Name of the referent."""


class SecretReference(KubeModel):
    """A reference to a secret, possibly in another namespace."""

    name: StrictStr = ""
    """Name of the secret."""
    namespace: StrictStr = ""
    """Namespace of the secret."""


class ObjectFieldSelector(KubeModel):
    """Selects a field of the pod, e.g. ``metadata.namespace``."""

    api_version: StrictStr = ""
    """Version of the schema the field path is written in."""
    field_path: StrictStr
    """Path of the field to select."""


class ResourceFieldSelector(KubeModel):
    """Selects a container resource limit or request."""

    container_name: StrictStr = ""
    """Container name; required for volumes."""
    resource: StrictStr
    """Resource to select, e.g. ``limits.memory``."""
    divisor: Quantity | None = None
    """Output format of the exposed resource."""


class ConfigMapKeySelector(KubeModel):
    """Selects a key of a ConfigMap."""

    name: StrictStr = ""
    """Name of the ConfigMap."""
    key: StrictStr
    """The key to select."""
    optional: StrictBool | None = None
    """Whether the ConfigMap or key may be missing."""


class SecretKeySelector(KubeModel):
    """Selects a key of a Secret."""

    name: StrictStr = ""
    """Name of the Secret."""
    key: StrictStr
    """The key to select."""
    optional: StrictBool | None = None
    """Whether the Secret or key may be missing."""


class FileKeySelector(KubeModel):
    """Selects a key of an env file in a volume."""

    volume_name: StrictStr
    """Volume holding the env file."""
    path: StrictStr
    """Path of the env file within the volume."""
    key: StrictStr
    """The key to select."""
    optional: StrictBool | None = None
    """Whether the file or key may be missing."""


class EnvVarSource(KubeModel):
    """Where an environment variable's value comes from."""

    field_ref: ObjectFieldSelector | None = None
    """A field of the pod."""
    resource_field_ref: ResourceFieldSelector | None = None
    """A container resource."""
    config_map_key_ref: ConfigMapKeySelector | None = None
    """A key of a ConfigMap."""
    secret_key_ref: SecretKeySelector | None = None
    """A key of a Secret."""
    file_key_ref: Annotated[
        FileKeySelector | None,
        Unimplemented("env values read from files in volumes (fileKeyRef) are not supported"),
    ] = None
    """A key of an env file in a volume."""


class EnvVar(KubeModel):
    """An environment variable."""

    name: StrictStr
    """Name of the variable."""
    value: StrictStr = ""
    """Literal value; ``$(VAR)`` references are expanded."""
    value_from: EnvVarSource | None = None
    """Source of the value when ``value`` is not given."""


class ResourceClaim(KubeModel):
    """A dynamic resource claim used by a container."""

    name: StrictStr
    """Name of the claim in the pod."""
    request: StrictStr = ""
    """Request within the claim."""


class ResourceRequirements(KubeModel):
    """Compute resources: limits and requests, e.g. ``{limits: {memory: 1Gi}}``."""

    limits: dict[str, Quantity] = Field(default_factory=dict)
    """Maximum resources allowed."""
    requests: dict[str, Quantity] = Field(default_factory=dict)
    """Minimum resources required."""
    claims: Annotated[
        list[ResourceClaim],
        Unimplemented("dynamic resource claims are not passed to build pods"),
    ] = Field(default_factory=list)
    """Dynamic resource claims used by the container."""


class KeyToPath(KubeModel):
    """Maps a key of a Secret or ConfigMap to a file path."""

    key: StrictStr
    """The key to project."""
    path: StrictStr
    """Relative path of the file."""
    mode: StrictInt | None = None
    """File mode bits."""


class SecretVolumeSource(KubeModel):
    """A Secret mounted as a volume."""

    secret_name: StrictStr = ""
    """Name of the Secret."""
    items: list[KeyToPath] = Field(default_factory=list)
    """Keys to project; all keys when empty."""
    default_mode: StrictInt | None = None
    """Default file mode bits."""
    optional: StrictBool | None = None
    """Whether the Secret may be missing."""


class ConfigMapVolumeSource(KubeModel):
    """A ConfigMap mounted as a volume."""

    name: StrictStr = ""
    """Name of the ConfigMap."""
    items: list[KeyToPath] = Field(default_factory=list)
    """Keys to project; all keys when empty."""
    default_mode: StrictInt | None = None
    """Default file mode bits."""
    optional: StrictBool | None = None
    """Whether the ConfigMap may be missing."""


class CSIVolumeSource(KubeModel):
    """An ephemeral volume provided by a CSI driver."""

    driver: StrictStr
    """Name of the CSI driver."""
    read_only: StrictBool | None = None
    """Mount read-only."""
    fs_type: StrictStr | None = None
    """Filesystem type."""
    volume_attributes: dict[str, StrictStr] = Field(default_factory=dict)
    """Driver-specific attributes."""
    node_publish_secret_ref: LocalObjectReference | None = None
    """Secret passed to the driver."""
