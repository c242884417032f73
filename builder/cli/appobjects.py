"""The objects ``kbuild new-app`` and ``kbuild new-build`` create, as pure functions.

They are the ones ``oc new-app BUILDER~REPO`` generates (openshift/oc
``pkg/helpers/newapp``), so an application made with kbuild looks like one
made with ``oc`` to people and tools that know OpenShift:

- an ImageStream ``NAME`` for the build output (no spec: the build's pushes
  fill it);
- a BuildConfig ``NAME``: git source, Source or Docker strategy from the
  builder, output ``NAME:latest``, and the triggers in oc's order (GitHub and
  Generic webhooks with generated secrets, ConfigChange, and ImageChange on
  the builder when it is an image stream tag);
- for new-app, a Deployment ``NAME`` whose container image is a single space
  and whose ``image.openshift.io/triggers`` annotation names ``NAME:latest``:
  the image comes from the trigger once the first build has pushed (until
  then its pods cannot pull, exactly as on OpenShift), and a Service ``NAME``
  for the builder image's exposed ports.

Everything is a plain dict in the API's JSON form, so ``-o yaml`` prints the
same thing that is created, and the rules are table-tested without a cluster.
Random webhook secrets come in through ``AppParams`` for the same reason.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from builder.api.constants import (
    GENERATED_BY_ANNOTATION,
    IMAGE_TRIGGERS_ANNOTATION,
    KIND_DOCKER_IMAGE,
    KIND_IMAGE_STREAM_TAG,
)
from builder.api.triggers import ObjectFieldTrigger, TriggerSource, dump_triggers
from builder.streams.fieldpath import container_field_path

GENERATED_BY_NEW_APP = "OpenShiftNewApp"
GENERATED_BY_NEW_BUILD = "OpenShiftNewBuild"
APP_LABEL_KEYS = ("app", "app.kubernetes.io/component", "app.kubernetes.io/instance")
DEFAULT_PORT = 8080
MAX_NAME_LENGTH = 58
"""oc keeps names to 58 characters so a ``-NN`` suffix still fits a DNS label."""

_VALID_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_INVALID_NAME_CHARACTERS = re.compile(r"[^-0-9a-z]")


def generate_secret(length: int = 20) -> str:
    """A webhook secret as oc's ``GenerateSecret(20)``: URL-safe base64 of random bytes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(length * 3 // 4)).decode()


def name_is_valid(name: str) -> bool:
    return len(name) <= MAX_NAME_LENGTH and bool(_VALID_NAME.match(name))


def invalid_name_message(name: str) -> str:
    return (
        f"invalid name: {name}. Must be an a lower case alphanumeric (a-z, and 0-9) string "
        f"with a maximum length of {MAX_NAME_LENGTH} characters, where the first character is "
        "a letter (a-z), and the '-' character is allowed anywhere except the first or last "
        "character."
    )


def suggest_name(text: str) -> str:
    """A name made valid as oc's name generator does: lower case, ``[-a-z0-9]``, 58 long.

    Returns "" when nothing usable is left (the caller asks for ``--name``).
    """
    name = _INVALID_NAME_CHARACTERS.sub("", text.lower()).lstrip("-")
    name = name[:MAX_NAME_LENGTH].rstrip("-")
    if len(name) < 2 or not name[0].isalpha():
        return ""
    return name


# ---------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class Port:
    number: int
    protocol: str = "TCP"

    @property
    def service_port_name(self) -> str:
        """``8080-tcp``: oc's service port name."""
        return f"{self.number}-{self.protocol.lower()}"


def ports_from_exposed(exposed: tuple[str, ...]) -> tuple[Port, ...]:
    """An image config's ``ExposedPorts`` keys (``8080/tcp``) as ports, invalid ones dropped."""
    found: set[Port] = set()
    for entry in exposed:
        for item in entry.split():
            number, _, protocol = item.partition("/")
            protocol = (protocol or "tcp").upper()
            if not number.isdigit() or not 0 < int(number) < 65536:
                continue
            if protocol not in ("TCP", "UDP", "SCTP"):
                continue
            found.add(Port(int(number), protocol))
    return tuple(sorted(found, key=lambda p: (p.number, p.protocol)))


@dataclass(frozen=True)
class BuilderRef:
    """The image the build starts from: an image stream tag, or a pull spec."""

    kind: Literal["ImageStreamTag", "DockerImage"]
    name: str
    """``stream:tag`` or the pull spec."""
    namespace: str = ""
    """The stream's namespace (always written, as oc does)."""

    def reference(self) -> dict[str, str]:
        if self.kind == KIND_IMAGE_STREAM_TAG:
            return {"kind": self.kind, "name": self.name, "namespace": self.namespace}
        return {"kind": KIND_DOCKER_IMAGE, "name": self.name}


@dataclass(frozen=True)
class OutputRef:
    """Where the build pushes: ``--to`` (an image stream tag) or ``--to-docker`` (a pull spec)."""

    kind: Literal["ImageStreamTag", "DockerImage"]
    name: str
    """``stream:tag`` or the pull spec."""
    namespace: str = ""
    """An image stream tag's namespace, when ``--to`` names one."""

    def reference(self) -> dict[str, str]:
        ref = {"kind": self.kind, "name": self.name}
        if self.namespace:
            ref["namespace"] = self.namespace
        return ref

    @property
    def stream(self) -> str:
        """The output image stream's name ("" for a pull spec)."""
        return self.name.partition(":")[0] if self.kind == KIND_IMAGE_STREAM_TAG else ""


@dataclass(frozen=True)
class SourceImage:
    """``--source-image`` and ``--source-image-path SRC:DEST``: source.images, one path."""

    image: BuilderRef
    source_path: str
    destination_dir: str = ""


@dataclass(frozen=True)
class GitSource:
    uri: str
    """Without the ``#ref`` fragment; "" when the build has no repository."""
    ref: str = ""
    context_dir: str = ""
    dockerfile: str = ""
    """``-D``/``--dockerfile``: the Dockerfile's text (source.dockerfile)."""
    binary: bool = False
    """``--binary``: the source comes with ``start-build --from-*``."""
    image: SourceImage | None = None
    secrets: tuple[tuple[str, str], ...] = ()
    """``--build-secret NAME[:DIR]``: source.secrets (name, destinationDir)."""
    config_maps: tuple[tuple[str, str], ...] = ()
    """``--build-config-map NAME[:DIR]``: source.configMaps (name, destinationDir)."""


@dataclass(frozen=True)
class AppParams:
    name: str
    builder: BuilderRef | None
    """None: a Docker build from the Dockerfile's own FROM (``new-app REPO``, a Dockerfile)."""
    source: GitSource
    strategy: Literal["source", "docker"] = "source"
    deploy: bool = True
    """new-app (Deployment and Service too) rather than new-build."""
    env: tuple[tuple[str, str], ...] = ()
    """``-e``: the Deployment's container environment."""
    build_env: tuple[tuple[str, str], ...] = ()
    """``--build-env``: the build strategy's environment."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """``-l``: on every object, and on the Deployment's selector and pod template."""
    ports: tuple[Port, ...] = ()
    webhook_secrets: tuple[str, str] = ("", "")
    """GitHub and Generic webhook secrets (``generate_secret()``)."""
    output: OutputRef | None = None
    """``--to``/``--to-docker``; None: the image stream tag ``NAME:latest``."""


# ---------------------------------------------------------------------------
# Objects


def _env(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def output_tag(params: AppParams) -> str:
    if params.output is not None and params.output.kind == KIND_IMAGE_STREAM_TAG:
        return params.output.name
    return f"{params.name}:latest"


def output_reference(params: AppParams) -> dict[str, str]:
    if params.output is not None:
        return params.output.reference()
    return {"kind": KIND_IMAGE_STREAM_TAG, "name": output_tag(params)}


def image_stream(params: AppParams) -> dict[str, Any] | None:
    """The output stream; none for a pull spec output or a stream of another namespace."""
    name = params.name
    if params.output is not None:
        if params.output.kind != KIND_IMAGE_STREAM_TAG or params.output.namespace:
            return None
        name = params.output.stream
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name},
    }


def _source(params: AppParams) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """source and the triggers it brings, as oc's ``SourceRef.BuildSource``.

    The type is the last of Dockerfile, Git, Binary, Image that is present
    (oc's order); a source image adds an ImageChange trigger on that image.
    """
    given = params.source
    source: dict[str, Any] = {}
    triggers: list[dict[str, Any]] = []
    if given.dockerfile:
        source["type"] = "Dockerfile"
        source["dockerfile"] = given.dockerfile
    if given.uri:
        git: dict[str, Any] = {"uri": given.uri}
        if given.ref:
            git["ref"] = given.ref
        source["type"] = "Git"
        source["git"] = git
    if given.context_dir:
        source["contextDir"] = given.context_dir
    if given.binary:
        source["type"] = "Binary"
        source["binary"] = {}
    if given.image is not None:
        ref = given.image.image.reference()
        path = {
            "sourcePath": given.image.source_path,
            "destinationDir": given.image.destination_dir,
        }
        source["type"] = "Image"
        source["images"] = [{"from": ref, "paths": [path]}]
        triggers.append({"type": "ImageChange", "imageChange": {"from": dict(ref)}})
    if given.secrets:
        source["secrets"] = [
            {"secret": {"name": name}, **({"destinationDir": d} if d else {})}
            for name, d in given.secrets
        ]
    if given.config_maps:
        source["configMaps"] = [
            {"configMap": {"name": name}, **({"destinationDir": d} if d else {})}
            for name, d in given.config_maps
        ]
    return source, triggers


def build_config(params: AppParams) -> dict[str, Any]:
    """oc's ``BuildRef.BuildConfig``: webhooks, source triggers, ConfigChange, the builder's.

    A binary build has neither ConfigChange nor any ImageChange trigger: a
    build they started would have no input to build (oc drops them too).
    """
    github, generic = params.webhook_secrets
    source, source_triggers = _source(params)
    triggers: list[dict[str, Any]] = [
        {"type": "GitHub", "github": {"secret": github}},
        {"type": "Generic", "generic": {"secret": generic}},
        *source_triggers,
    ]
    if not params.source.binary:
        triggers.append({"type": "ConfigChange"})
        if params.builder is not None and params.builder.kind == KIND_IMAGE_STREAM_TAG:
            # An empty ImageChange trigger follows the strategy's own image.
            triggers.append({"type": "ImageChange", "imageChange": {}})
    else:
        triggers = [t for t in triggers if t["type"] != "ImageChange"]
    detail: dict[str, Any] = {}
    if params.builder is not None:
        detail["from"] = params.builder.reference()
    if params.build_env:
        detail["env"] = _env(params.build_env)
    if params.strategy == "docker":
        strategy = {"type": "Docker", "dockerStrategy": detail}
    else:
        strategy = {"type": "Source", "sourceStrategy": detail}
    return {
        "apiVersion": "build.openshift.io/v1",
        "kind": "BuildConfig",
        "metadata": {"name": params.name},
        "spec": {
            "triggers": triggers,
            "source": source,
            "strategy": strategy,
            "output": {"to": output_reference(params)},
        },
    }


def pod_labels(params: AppParams) -> dict[str, str]:
    """The Deployment's selector and pod labels: ``deployment: NAME`` plus ``-l``."""
    labels = {"deployment": params.name}
    for key, value in params.labels.items():
        labels.setdefault(key, value)
    return labels


def deployment(params: AppParams, source: TriggerSource | None = None) -> dict[str, Any]:
    """The Deployment; its trigger follows ``source``, the build's output tag by default."""
    trigger = ObjectFieldTrigger(
        from_=source or TriggerSource(kind=KIND_IMAGE_STREAM_TAG, name=output_tag(params)),
        field_path=container_field_path("Deployment", params.name),
    )
    container: dict[str, Any] = {
        "name": params.name,
        # A placeholder, as oc writes it: the trigger sets the built image, and
        # a real image here would roll the Deployment out twice.
        "image": " ",
    }
    if params.ports:
        container["ports"] = [
            {"containerPort": p.number, "protocol": p.protocol} for p in params.ports
        ]
    if params.env:
        container["env"] = _env(params.env)
    labels = pod_labels(params)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": params.name,
            "annotations": {IMAGE_TRIGGERS_ANNOTATION: dump_triggers([trigger])},
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [container]},
            },
        },
    }


def service(params: AppParams) -> dict[str, Any] | None:
    """One port per distinct container port, selecting the Deployment's pods; none without ports."""
    if not params.ports:
        return None
    ports: list[dict[str, Any]] = []
    seen: set[str] = set()
    for port in sorted(params.ports, key=lambda p: p.number):
        if port.service_port_name in seen:
            continue
        seen.add(port.service_port_name)
        ports.append(
            {
                "name": port.service_port_name,
                "port": port.number,
                "protocol": port.protocol,
                "targetPort": port.number,
            }
        )
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": params.name},
        "spec": {"ports": ports, "selector": pod_labels(params)},
    }


def _add_metadata(objects: list[dict[str, Any]], key: str, values: Mapping[str, str]) -> None:
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        meta[key] = {**meta.get(key, {}), **values}


def object_labels(params: AppParams) -> dict[str, str]:
    """The labels every object gets, as oc new-app / new-build apply them afterwards.

    new-app: ``-l``, plus ``app``, ``app.kubernetes.io/component`` and
    ``app.kubernetes.io/instance`` = NAME unless ``-l`` already uses one of
    those keys.  new-build: ``-l``, or ``build: NAME`` without ``-l``.
    """
    labels = dict(params.labels)
    if not params.deploy:
        return labels or {"build": params.name}
    if not any(key in labels for key in APP_LABEL_KEYS):
        labels.update(dict.fromkeys(APP_LABEL_KEYS, params.name))
    return labels


def app_objects(params: AppParams) -> list[dict[str, Any]]:
    """The objects in creation order: ImageStream, BuildConfig[, Deployment[, Service]]."""
    stream = image_stream(params)
    objects = [*([stream] if stream is not None else []), build_config(params)]
    if params.deploy:
        objects.append(deployment(params))
        svc = service(params)
        if svc is not None:
            objects.append(svc)
    _add_metadata(objects, "labels", object_labels(params))
    generated_by = GENERATED_BY_NEW_APP if params.deploy else GENERATED_BY_NEW_BUILD
    _add_metadata(objects, "annotations", {GENERATED_BY_ANNOTATION: generated_by})
    return objects


def image_app_objects(params: AppParams, tag: str = "latest") -> list[dict[str, Any]]:
    """``new-app IMAGE`` / ``new-app IS:TAG``: the image deployed as it is, no build.

    For an image stream tag, a Deployment whose trigger follows it (in its
    own namespace) and a Service.  For a pull spec, as oc: first an
    ImageStream ``NAME`` whose spec tag ``tag`` imports the image, which
    the Deployment then follows.
    """
    builder = params.builder
    if builder is None:
        raise ValueError("image_app_objects needs the image")
    objects: list[dict[str, Any]] = []
    if builder.kind == KIND_IMAGE_STREAM_TAG:
        source = TriggerSource(name=builder.name, namespace=builder.namespace)
    else:
        objects.append(
            {
                "apiVersion": "image.openshift.io/v1",
                "kind": "ImageStream",
                "metadata": {"name": params.name},
                "spec": {
                    "tags": [
                        {
                            "name": tag,
                            "from": {"kind": KIND_DOCKER_IMAGE, "name": builder.name},
                            "importPolicy": {},
                            "referencePolicy": {"type": "Source"},
                        }
                    ]
                },
            }
        )
        source = TriggerSource(name=f"{params.name}:{tag}")
    objects.append(deployment(params, source))
    svc = service(params)
    if svc is not None:
        objects.append(svc)
    _add_metadata(objects, "labels", object_labels(params))
    _add_metadata(objects, "annotations", {GENERATED_BY_ANNOTATION: GENERATED_BY_NEW_APP})
    return objects


def object_list(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """``-o yaml|json``: a ``v1`` List, as oc prints it instead of creating."""
    return {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": objects}
