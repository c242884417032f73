"""Build inputs the cluster provides: source secrets and configMaps, build volumes, env valueFrom.

OpenShift's meanings, under kbuild's rule that a secret reaches only the step
that needs it and never an image layer, a log, an event or a status
(../shared/DESIGN.md §7).  What is mounted where is decided here, for the
controller (``builder.controller.buildpod`` writes the pod) and for the steps
that read the mounts (``builder.pipeline.steps``), so the two cannot disagree.

- ``source.secrets`` / ``source.configMaps``: the build pod mounts each object
  (a Secret or ConfigMap volume, at OpenShift's paths below) into the
  ``build-image`` container only, the step that runs the build.

  * Source strategy: each file is bind-mounted read-only into the build's
    ``RUN`` steps (``buildah bud --volume``) at ``destinationDir``, relative to
    the builder image's working directory as in OpenShift.  The files are never
    copied into the build context, so no layer holds a byte of them: the image
    keeps an empty file where the mount point was (OpenShift copies them in
    and truncates them after assemble, which leaves them whole in the layer
    that copied them).
  * Docker strategy: the files are copied into the build context at
    ``destinationDir`` (relative to the context directory), OpenShift's
    documented behaviour; a Dockerfile that ``COPY``s them puts them in the
    image, which is why OpenShift's documentation (and docs/local-build.md)
    tell users not to.

- ``sourceStrategy.volumes`` / ``dockerStrategy.volumes`` (Secret, ConfigMap,
  CSI): mounted into the ``build-image`` container, then read-only into every
  ``RUN`` step at each ``destinationPath`` (``buildah bud --volume``), never
  into a layer.

- ``env[].valueFrom``: the controller never reads the tenant's Secrets or
  ConfigMaps.  The reference is copied into the pod under a name of kbuild's
  own (``KBUILD_VALUE_FROM_<index>``) and the kubelet resolves it, with the
  pod's access, in two containers: ``pull-images``, which writes the build's
  environment into the Dockerfile, and ``build-image``, whose buildah prints
  those ENV lines and whose log therefore masks every secretKeyRef value
  (``builder.pipeline.pod.StepLog``).  As in OpenShift the value is part of the
  build's environment, so it is in the output image's config (``Env``): a
  secret that must not be there belongs in ``source.secrets`` or a build
  volume, never in env.  A missing object keeps the pod waiting with the
  kubelet's message on the Build, as OpenShift leaves such a build pending.

``kbuild build`` has no cluster to read a Secret from: all four are refused
there with a reason that says so (``ClusterInputs`` is None).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from builder.api import BuildError, StatusReason
from builder.record import Record

if TYPE_CHECKING:
    # Only the API's callers hand models in: a flag-driven `kbuild build` and
    # each build pod container must not pay pydantic's ~0.2 s start-up for them.
    from builder.api.build import BuildSource, BuildVolume

# OpenShift's mount points in its build pods (openshift-controller-manager).
SECRET_INPUTS_MOUNT = "/var/run/secrets/openshift.io/build"  # noqa: S105 - a path
CONFIG_MAP_INPUTS_MOUNT = "/var/run/configs/openshift.io/build"
BUILD_VOLUMES_MOUNT = "/var/run/openshift.io/volumes"
# The prefix of the variables that carry a strategy env valueFrom in the pod.
VALUE_FROM_ENV_PREFIX = "KBUILD_VALUE_FROM_"
INPUTS_ROOT_ENV = "KBUILD_INPUTS_ROOT"

SECRET = "Secret"  # noqa: S105 - a kind name
CONFIG_MAP = "ConfigMap"

# Kubernetes object names (DNS-1123 subdomain) and volume names (label).
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Destinations buildah must not bind over: the build would break or see the host's.
_RESERVED_DESTINATIONS = ("/", "/proc", "/sys", "/dev", "/etc/resolv.conf", "/etc/hosts")


def _refuse(detail: str) -> BuildError:
    return BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, detail)


def _check_name(name: str, what: str) -> str:
    if not name or len(name) > 253 or not _SUBDOMAIN.fullmatch(name):
        raise _refuse(f"{what} {name!r} is not a valid object name (a DNS-1123 subdomain)")
    return name


def _clean_relative(path: str, what: str) -> str:
    """A relative path that stays below its root: ``..`` anywhere is refused, as OpenShift does."""
    # ":" would end the path in buildah's --volume SOURCE:DESTINATION:OPTIONS.
    if any(ch in path for ch in "\x00\\:") or any(ch < " " for ch in path):
        raise _refuse(f"{what} {path!r} holds a control character, a backslash or ':'")
    if any(part == ".." for part in path.split("/")):
        raise _refuse(f"{what} {path!r} must not contain '..'")
    cleaned = posixpath.normpath(path) if path else "."
    return "" if cleaned == "." else cleaned


class InputFiles(Record):
    """One ``source.secrets`` or ``source.configMaps`` entry."""

    kind: str
    name: str
    # Normalised; "" is the working directory (S2I) or the context (Docker).
    destination_dir: str
    # Prefix of the mount paths: "" in the pod (ClusterInputs.mount_root).
    root: str = ""

    @property
    def volume(self) -> str:
        """The pod volume's name: one per object, whatever the number of entries naming it."""
        prefix = "input-secret" if self.kind == SECRET else "input-configmap"
        return f"{prefix}-{_volume_suffix(self.name)}"

    @property
    def mount_path(self) -> str:
        """Where the build-image container sees the object's files."""
        base = SECRET_INPUTS_MOUNT if self.kind == SECRET else CONFIG_MAP_INPUTS_MOUNT
        return f"{self.root}{base}/{self.name}"


class VolumeInput(Record):
    """One strategy ``volumes`` entry: where the pod mounts it, where RUN steps see it."""

    name: str
    destinations: tuple[str, ...]
    root: str = ""

    @property
    def volume(self) -> str:
        return f"build-volume-{_volume_suffix(self.name)}"

    @property
    def mount_path(self) -> str:
        return f"{self.root}{BUILD_VOLUMES_MOUNT}/{self.name}"


def _volume_suffix(name: str) -> str:
    """A volume name is a DNS label of 63 characters at most: long names are cut and hashed."""
    label = name.replace(".", "-")
    if len(label) <= 45:
        return label
    value = 0x811C9DC5
    for byte in name.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{label[:36].rstrip('-')}-{value:08x}"


def source_inputs(source: BuildSource, *, docker: bool, root: str = "") -> tuple[InputFiles, ...]:
    """The ``source.secrets`` then ``source.configMaps`` entries, validated as OpenShift does.

    ``destinationDir`` may not contain ``..``; for the Docker strategy it must
    be relative (it is a directory of the build context).
    """
    entries: list[InputFiles] = []
    given = [(SECRET, s.secret.name, s.destination_dir) for s in source.secrets] + [
        (CONFIG_MAP, c.config_map.name, c.destination_dir) for c in source.config_maps
    ]
    for kind, name, destination in given:
        field = "secrets" if kind == SECRET else "configMaps"
        where = f"spec.source.{field}"
        _check_name(name, f"{where}: the {kind}")
        if docker and destination.startswith("/"):
            raise _refuse(
                f"{where}: destinationDir {destination!r} must be relative for the Docker "
                "strategy (a directory of the build context)"
            )
        cleaned = _clean_relative(destination.lstrip("/"), f"{where}: destinationDir")
        if destination.startswith("/"):
            cleaned = "/" + cleaned
        entries.append(InputFiles(kind, name, cleaned, root))
    return tuple(entries)


def build_volumes(
    volumes: list[BuildVolume], strategy: str, root: str = ""
) -> tuple[VolumeInput, ...]:
    """A strategy's ``volumes``, validated as OpenShift does (names, absolute paths, no dups)."""
    out: list[VolumeInput] = []
    seen_names: set[str] = set()
    seen_paths: set[str] = set()
    where = f"spec.strategy.{strategy}.volumes"
    for volume in volumes:
        if not volume.name or len(volume.name) > 63 or not _LABEL.fullmatch(volume.name):
            raise _refuse(f"{where}: name {volume.name!r} is not a DNS-1123 label")
        if volume.name in seen_names:
            raise _refuse(f"{where}: the name {volume.name!r} is used twice")
        seen_names.add(volume.name)
        _check_source(volume, where)
        if not volume.mounts:
            raise _refuse(f"{where}: volume {volume.name!r} has no mounts")
        paths: list[str] = []
        for mount in volume.mounts:
            path = mount.destination_path
            if not path.startswith("/"):
                raise _refuse(f"{where}: destinationPath {path!r} must be an absolute path")
            cleaned = "/" + _clean_relative(path.lstrip("/"), f"{where}: destinationPath")
            if cleaned in _RESERVED_DESTINATIONS or cleaned.startswith(("/proc/", "/sys/")):
                raise _refuse(f"{where}: destinationPath {path!r} is reserved for the build")
            if cleaned in seen_paths:
                raise _refuse(f"{where}: destinationPath {path!r} is mounted twice")
            seen_paths.add(cleaned)
            paths.append(cleaned)
        out.append(VolumeInput(volume.name, tuple(paths), root))
    return tuple(out)


def _check_source(volume: BuildVolume, where: str) -> None:
    from builder.api.build import BuildVolumeSourceType  # noqa: PLC0415 - see the imports

    source = volume.source
    kind = source.type
    given = {
        BuildVolumeSourceType.SECRET: source.secret,
        BuildVolumeSourceType.CONFIG_MAP: source.config_map,
        BuildVolumeSourceType.CSI: source.csi,
    }
    if given[kind] is None or sum(v is not None for v in given.values()) != 1:
        raise _refuse(
            f"{where}: volume {volume.name!r} of type {kind.value} must set only that source"
        )
    if source.secret is not None:
        _check_name(source.secret.secret_name, f"{where}: the Secret")
    if source.config_map is not None:
        _check_name(source.config_map.name, f"{where}: the ConfigMap")
    if source.csi is not None and not source.csi.driver:
        raise _refuse(f"{where}: volume {volume.name!r} names no CSI driver")


def value_from_variable(index: int) -> str:
    """The pod variable that carries the strategy env entry at ``index``."""
    return f"{VALUE_FROM_ENV_PREFIX}{index}"


class ClusterInputs(Record):
    """What a build in the cluster has that ``kbuild build`` has not.

    ``environ`` is the step container's environment, where the kubelet put
    the resolved valueFrom variables; ``None`` when the controller only
    checks that the pod can be written (values are not needed then).
    """

    environ: Mapping[str, str] | None = None
    # Where the mounts are: "" in the pod; a directory when tests run the
    # steps outside one (the pod's KBUILD_INPUTS_ROOT, never set by the controller).
    mount_root: str = ""


def local_refusal(what: str) -> BuildError:
    """The refusal of an input only the cluster can provide, for ``kbuild build``."""
    return BuildError(
        StatusReason.UNRESOLVABLE_ENVIRONMENT_VARIABLE
        if what.startswith("env")
        else StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
        f"{what} comes from the cluster: `kbuild build` runs without one and cannot read it; "
        "run the build in the cluster (kbuild start-build), or give the value locally",
    )


__all__ = [
    "BUILD_VOLUMES_MOUNT",
    "CONFIG_MAP",
    "CONFIG_MAP_INPUTS_MOUNT",
    "INPUTS_ROOT_ENV",
    "SECRET",
    "SECRET_INPUTS_MOUNT",
    "VALUE_FROM_ENV_PREFIX",
    "ClusterInputs",
    "InputFiles",
    "VolumeInput",
    "build_volumes",
    "local_refusal",
    "source_inputs",
    "value_from_variable",
]
