"""The parts of an image config blob that builds and image streams act on.

S2I needs the builder's labels (``io.openshift.s2i.*``) and USER; image stream
imports record env, cmd, ports and creation time.  Docker and OCI configs share
these field names, but real-world configs are sloppy (``"Labels": null``,
missing ``config``), so absent or null fields read as empty rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from builder.record import Record, field
from builder.registry.errors import DocumentError


class ImageConfig(Record):
    """An image's runtime configuration, plus the digests it was read through."""

    manifest_digest: str
    config_digest: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    user: str = ""
    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    workdir: str = ""
    exposed_ports: tuple[str, ...] = ()
    created: datetime | None = None
    architecture: str = ""
    os: str = ""
    variant: str | None = None
    list_digest: str | None = None

    @property
    def env_map(self) -> dict[str, str]:
        """``env`` as a dict; a later duplicate wins, as in the container runtime."""
        result: dict[str, str] = {}
        for item in self.env:
            key, _, value = item.partition("=")
            result[key] = value
        return result


def _string(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DocumentError(f"config {what} is not a string")
    return value


def _string_list(value: object, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DocumentError(f"config {what} is not a list of strings")
    return tuple(value)


def _normalise_port(port: str) -> str:
    # buildah writes "8080" for `--port 8080`; docker reads a bare port as TCP.
    return port if "/" in port else f"{port}/tcp"


def parse_created(value: object) -> datetime | None:
    """RFC 3339 with up to nanoseconds (Go's format); unparseable means unknown."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("z", "Z")
    # Trim sub-microsecond digits, which datetime cannot hold.
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_image_config(
    document: Mapping[str, object],
    *,
    manifest_digest: str,
    config_digest: str,
    list_digest: str | None = None,
) -> ImageConfig:
    """Build an ``ImageConfig`` from a decoded config blob; ``DocumentError`` on wrong types."""
    runtime = document.get("config")
    if runtime is None:
        runtime = {}
    if not isinstance(runtime, dict):
        raise DocumentError("config 'config' is not an object")

    raw_labels = runtime.get("Labels") or {}
    if not isinstance(raw_labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw_labels.items()
    ):
        raise DocumentError("config Labels is not a map of strings")
    raw_ports = runtime.get("ExposedPorts") or {}
    if not isinstance(raw_ports, dict):
        raise DocumentError("config ExposedPorts is not an object")
    variant = document.get("variant")

    return ImageConfig(
        manifest_digest=manifest_digest,
        config_digest=config_digest,
        list_digest=list_digest,
        labels=dict(raw_labels),
        user=_string(runtime.get("User"), "User"),
        env=_string_list(runtime.get("Env"), "Env") or (),
        cmd=_string_list(runtime.get("Cmd"), "Cmd"),
        entrypoint=_string_list(runtime.get("Entrypoint"), "Entrypoint"),
        workdir=_string(runtime.get("WorkingDir"), "WorkingDir"),
        exposed_ports=tuple(sorted(_normalise_port(str(port)) for port in raw_ports)),
        created=parse_created(document.get("created")),
        architecture=_string(document.get("architecture"), "architecture"),
        os=_string(document.get("os"), "os"),
        variant=variant if isinstance(variant, str) and variant else None,
    )
