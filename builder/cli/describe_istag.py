"""``kbuild describe istag STREAM:TAG``: oc's image describer, from the registry.

OpenShift keeps an Image object per digest, with the image's config copied
in; kbuild keeps none, so the manifest and config blob are read from the
registry the tag points at (the stream's ``insecureRepository`` annotation
or the tag's ``importPolicy.insecure`` allow plain HTTP, as for an import,
but then without the user's credentials unless the user allows that host
too; loopback registries always may).  The text follows oc's ``DescribeImage``
line for line: Image Name, Docker Image, Name, Created, Image Size and
Layers, Image Created, Author, Arch, Entrypoint, Command, Working Dir,
User, Exposes Ports, Docker Labels, Environment, Volumes.  Sizes are
docker/go-units ``HumanSize`` (``72.26MB``).  When the registry cannot be
read, what the stream knows is printed and the reason ends the output as
one ``error:`` line.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from builder.cli.common import CliError, human_duration, parse_when, since
from builder.cli.describe import Text

if TYPE_CHECKING:
    from builder.cli.get import StreamTag

MAX_CONFIG_BYTES = 8 * 1024 * 1024
_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float) -> str:
    """docker/go-units ``HumanSize``: decimal units, 4 significant digits, no space."""
    unit = 0
    while size >= 1000.0 and unit < len(_UNITS) - 1:
        size /= 1000.0
        unit += 1
    return f"{size:.4g}{_UNITS[unit]}"


@dataclass(frozen=True)
class ImageDetails:
    """What the registry tells about one image: its layers and its config blob."""

    layers: tuple[tuple[str, int], ...] = ()  # (digest, size)
    config: Mapping[str, Any] = field(default_factory=dict)


def image_details(manifest_layers: list[tuple[str, int]], config_blob: bytes) -> ImageDetails:
    """The parts DescribeImage prints; a config that is not a JSON object reads as empty."""
    try:
        config = json.loads(config_blob)
    except ValueError:
        config = {}
    return ImageDetails(tuple(manifest_layers), config if isinstance(config, dict) else {})


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _keys(value: Any) -> list[str]:
    return sorted(str(k) for k in value) if isinstance(value, dict) else []


def describe_image(
    image_name: str, pull_spec: str, created: str, details: ImageDetails | None, now: datetime
) -> str:
    """oc's ``DescribeImage(image, imageName)``; ``details`` None when the registry was not read."""
    out = Text()
    out.field("Image Name", image_name)
    out.field("Docker Image", pull_spec)
    out.field("Name", image_name)
    moment = parse_when(created)
    if moment is not None:
        out.field("Created", f"{human_duration(since(moment, now))} ago")
    if details is None:
        return out.render()
    size = sum(s for _, s in details.layers)
    if details.layers:
        out.field("Image Size", f"{human_size(size)} in {len(details.layers)} layers")
        out.field("Layers", "\n".join(f"{human_size(s)}\t{d}" for d, s in details.layers))
    else:
        out.field("Layer Size", human_size(size))
    blob = details.config
    image_created = parse_when(str(blob.get("created") or ""))
    if image_created is not None:
        out.field("Image Created", f"{human_duration(since(image_created, now))} ago")
    else:
        out.field("Image Created", "292 years ago")  # Go's zero time, as oc prints it
    out.field("Author", str(blob.get("author") or ""))
    out.field("Arch", str(blob.get("architecture") or ""))
    config = blob.get("config") if isinstance(blob.get("config"), dict) else {}
    _docker_config(out, config or {})
    return out.render()


def _docker_config(out: Text, config: Mapping[str, Any]) -> None:
    """oc's ``describeDockerImage``."""
    entrypoint, cmd = _strings(config.get("Entrypoint")), _strings(config.get("Cmd"))
    if entrypoint:
        out.field("Entrypoint", " ".join(entrypoint))
    if cmd or not entrypoint:
        out.field("Command", " ".join(cmd))
    out.field("Working Dir", str(config.get("WorkingDir") or ""))
    out.field("User", str(config.get("User") or ""))
    out.field("Exposes Ports", ", ".join(_keys(config.get("ExposedPorts"))))
    labels = config.get("Labels")
    out.mapping("Docker Labels", labels if isinstance(labels, dict) else {})
    for i, env in enumerate(_strings(config.get("Env"))):
        if i == 0:
            out.field("Environment", env)
        else:
            out.raw(f"\t{env}\n")
    for i, volume in enumerate(_keys(config.get("Volumes"))):
        if i == 0:
            out.field("Volumes", volume)
        else:
            out.raw(f"\t{volume}\n")


@dataclass(frozen=True)
class RegistryAccess:
    """How the user's machine may talk to the tag's registry.

    ``insecure``: hosts spoken to over plain HTTP.  ``anonymous``: the
    user's credentials stay home, because plain HTTP was allowed by the
    stream (whoever may edit it) rather than by the user: a tenant must not
    be able to make a describing user send a password unencrypted.
    """

    insecure: set[str]
    anonymous: bool = False


def insecure_hosts(item: StreamTag) -> RegistryAccess:
    """The tag's registry when the user, the stream or the tag allows plain HTTP."""
    from builder.api.constants import INSECURE_REPOSITORY_ANNOTATION  # noqa: PLC0415
    from builder.cli.args import insecure_registries_from_env  # noqa: PLC0415
    from builder.registry import ImageReference, InvalidReferenceError  # noqa: PLC0415
    from builder.registry.transport import insecure_policy  # noqa: PLC0415
    from builder.streams.tags import spec_tag  # noqa: PLC0415

    hosts = set(insecure_registries_from_env())
    stream = item.stream
    ref = spec_tag(stream, item.tag)
    allowed = (stream.metadata.annotations or {}).get(INSECURE_REPOSITORY_ANNOTATION) == "true"
    if allowed or (ref is not None and ref.import_policy.insecure):
        with contextlib.suppress(InvalidReferenceError):  # then no registry to allow
            registry = ImageReference.parse(item.event.docker_image_reference).registry
            if not insecure_policy(hosts)(registry):  # not the user's own choice
                return RegistryAccess(hosts | {registry}, anonymous=True)
    return RegistryAccess(hosts)


def read_details(pull_spec: str, access: RegistryAccess) -> ImageDetails:
    """The manifest's layers and the config blob; CliError saying why they could not be read."""
    from builder.api import BuildError  # noqa: PLC0415
    from builder.registry import CredentialStore, RegistryClient  # noqa: PLC0415

    credentials = None if access.anonymous else CredentialStore.from_environment()
    try:
        with RegistryClient(
            credentials=credentials, insecure=access.insecure, timeout=(5.0, 20.0)
        ) as client:
            info = client.resolve(pull_spec)
            blob = client.blob(info.reference, info.config.digest, MAX_CONFIG_BYTES)
    except BuildError as err:
        raise CliError(f"cannot read image {pull_spec}: {err.detail}") from None
    except (OSError, ValueError) as err:
        raise CliError(f"cannot read image {pull_spec}: {err}") from None
    return image_details([(layer.digest, layer.size) for layer in info.layers], blob)
