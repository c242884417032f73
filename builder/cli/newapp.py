"""``kbuild new-app BUILDER~REPO|REPO`` and ``kbuild new-build BUILDER~REPO|REPO``, as ``oc``'s.

``REPO`` alone is detected as oc does (``builder.cli.detect``): the files at
the top of its context directory name the language, and the builder is the
image stream tag whose ``supports`` annotation names it, in the namespace
and then in ``openshift``; a Dockerfile there means a Docker build from the
Dockerfile's own FROM (``--strategy`` overrides).  ``new-app --template`` and
``-f`` are ``builder.cli.newapp_template``.

BUILDER is an image stream tag, ``[namespace/]stream[:tag]`` (tag ``latest``
by default, looked up in the current namespace and then in ``openshift``, as
oc does, or ``$KBUILD_SHARED_NAMESPACE``), or a pull spec with a registry host
(``registry:5000/team/python:3``).
REPO is a git URL the cluster can clone (``https://``, ``http://``,
``git://``, ``ssh://``, ``file://`` or ``user@host:path``), ``#ref`` naming a
branch or tag.  The objects are oc's (see ``builder.cli.appobjects``); the
text printed while creating them is oc's too, with ``kbuild`` commands in
its hints.

Differences from oc, and why:

- With a Dockerfile, oc imports the FROM image into an image stream and
  sets it as the strategy's ``from``; kbuild leaves ``from`` unset (the
  Dockerfile's FROM is pulled as written) and assumes port 8080.
- A local directory is refused: oc reads its git remote, but a build pod
  can only clone from a server, so kbuild asks for that URL.
- A pull spec builder is used as a ``DockerImage`` directly; oc would
  create an image stream for it (use ``kbuild import-image`` for that).
- The ports come from the builder image's config, read from its registry;
  when the registry cannot be reached from here (often: an in-cluster
  registry), 8080/TCP is assumed, with a warning.  Image VOLUMEs are not
  turned into emptyDir volumes.
- Nothing is created if any of the objects exists already (oc creates the
  others and reports the clash), so a name clash never leaves half an app.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import yaml

from builder.cli.args import insecure_registries_from_env, key_value, shared_namespace
from builder.cli.common import (
    BUILD_CONFIGS,
    DEPLOYMENTS,
    IMAGE_STREAMS,
    SERVICES,
    CliError,
    Resource,
    add_cluster_flags,
    connect,
    human_duration,
    run_guarded,
    server_message,
    utcnow,
)
from builder.cli.dc import DEPLOYMENT_CONFIGS

if TYPE_CHECKING:
    from builder.api import ImageStream
    from builder.cli.appobjects import AppParams, BuilderRef, GitSource, OutputRef
    from builder.cli.detect import StreamTag
    from builder.kube import Kube
    from builder.registry import ImageConfig

INDENT = "    "
_SCHEMES = frozenset({"http", "https", "git", "ssh", "file"})
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_SCP_LIKE = re.compile(r"^(?:[\w.+-]+@)?(?P<host>[\w.-]+):(?P<path>[^/].*|/.+)$")
_STREAM_NAME = re.compile(r"^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
CREATES = {
    True: "an ImageStream, a BuildConfig, a Deployment and a Service",
    False: "an ImageStream and a BuildConfig",
}
_KINDS = {
    "ImageStream": IMAGE_STREAMS,
    "BuildConfig": BUILD_CONFIGS,
    "Deployment": DEPLOYMENTS,
    "DeploymentConfig": DEPLOYMENT_CONFIGS,
    "Service": SERVICES,
}


# ---------------------------------------------------------------------------
# Arguments


@dataclass(frozen=True)
class BuilderArg:
    """BUILDER as given: an image stream tag reference or a pull spec."""

    text: str
    pull_spec: str = ""
    """Set for a pull spec with a registry host."""
    namespace: str = ""
    stream: str = ""
    tag: str = "latest"


def _registry_like(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost"


def parse_builder(text: str) -> BuilderArg:
    """``[ns/]stream[:tag]`` or ``host[:port]/repo[:tag|@digest]``."""
    from builder.registry import ImageReference, InvalidReferenceError  # noqa: PLC0415

    first, slash, _ = text.partition("/")
    if "@" in text or (slash and _registry_like(first)):
        try:
            ImageReference.parse(text)
        except InvalidReferenceError as err:
            raise CliError(str(err)) from None
        return BuilderArg(text=text, pull_spec=text)
    parts = text.split("/")
    if len(parts) > 2:
        raise CliError(
            f"builder {text!r} must be an image stream tag ([namespace/]stream[:tag]) or a "
            "pull spec with a registry host (registry.example.com/team/image:tag)"
        )
    namespace = parts[0] if len(parts) == 2 else ""
    stream, colon, tag = parts[-1].partition(":")
    if colon and not _TAG.match(tag):
        raise CliError(f"builder {text!r}: invalid tag {tag!r}")
    if not _STREAM_NAME.match(stream) or (namespace and not _STREAM_NAME.match(namespace)):
        raise CliError(f"builder {text!r} is not a valid image stream name")
    return BuilderArg(text=text, namespace=namespace, stream=stream, tag=tag if colon else "latest")


@dataclass(frozen=True)
class RepoArg:
    uri: str
    """Without the ``#ref`` fragment."""
    ref: str
    display: str
    """As typed, for messages."""
    suggested_name: str
    """The repository's base name without ``.git`` (not yet made valid)."""


NO_REPO = RepoArg(uri="", ref="", display="", suggested_name="")
"""A build without a repository: ``-D`` alone, ``--binary``, ``--source-image``."""


def parse_repo(text: str, *, is_dir: Callable[[str], bool] = os.path.isdir) -> RepoArg:
    """A git URL the cluster can clone; local paths are refused with a way forward."""
    uri, _, ref = text.partition("#")
    scheme = _SCHEME.match(uri)
    scp = _SCP_LIKE.match(uri) if scheme is None else None
    if scheme is not None:
        if scheme.group(1).lower() not in _SCHEMES:
            raise CliError(
                f"unsupported git URL scheme in {text!r} "
                f"(use one of {', '.join(sorted(_SCHEMES))}, or user@host:path)"
            )
        parts = urlsplit(uri)
        path, host = parts.path, parts.hostname or ""
    elif scp is not None and not is_dir(uri):
        path, host = scp.group("path"), scp.group("host")
    elif is_dir(uri):
        raise CliError(
            f"{text!r} is a local directory: builds clone their source inside the cluster, "
            "so push it to a git server the cluster can reach and pass that URL "
            "(e.g. https://git.example.com/team/app.git)"
        )
    else:
        raise CliError(
            f"{text!r} is not a git URL (https://, http://, git://, ssh://, file:// "
            "or user@host:path)"
        )
    base = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") or host
    return RepoArg(uri=uri, ref=ref, display=text, suggested_name=base)


def split_component(text: str) -> tuple[str, str]:
    """(BUILDER, REPO) of ``BUILDER~REPO``; ("", REPO) for a repository alone (detected)."""
    builder, tilde, repo = text.partition("~")
    if not tilde:
        return "", text
    if not builder or not repo:
        raise CliError(
            f"expected BUILDER~REPO or REPO (e.g. python:3.11~https://git.example.com/app.git), "
            f"got {text!r}"
        )
    return builder, repo


def parse_labels(values: Sequence[str] | None) -> dict[str, str]:
    """``-l k=v,k2=v2`` (repeatable), as oc's ParseLabels."""
    labels: dict[str, str] = {}
    for value in values or ():
        for item in value.split(","):
            key, eq, val = item.strip().partition("=")
            if not eq or not key:
                raise CliError(f"invalid label spec {item!r}: expected key=value")
            labels[key] = val
    return labels


def _last_path_element(reference: str) -> str:
    """``registry:5000/team/app:1@sha256:..`` -> ``app``."""
    return reference.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[0]


def app_name(
    ns: argparse.Namespace,
    repo: RepoArg,
    *,
    output: str = "",
    builder: BuilderArg | None = None,
    dockerfile: str = "",
) -> str:
    """``--name``, else oc's suggestions in its order: the source, the output, the input.

    The input is the builder (its stream, or its image's last path element),
    or for a Dockerfile alone the image its first FROM names.
    """
    from builder.cli.appobjects import (  # noqa: PLC0415
        invalid_name_message,
        name_is_valid,
        suggest_name,
    )

    if ns.name:
        if not name_is_valid(ns.name):
            raise CliError(invalid_name_message(ns.name))
        return str(ns.name)
    candidates = [repo.suggested_name, _last_path_element(output)]
    if builder is not None:
        candidates.append(builder.stream or _last_path_element(builder.pull_spec))
    if dockerfile:
        from builder.dockerfile.rewrite import stage_images  # noqa: PLC0415

        try:
            images = stage_images(dockerfile)
        except ValueError:
            images = []
        candidates.extend(_last_path_element(image) for image in images[:1])
    for candidate in candidates:
        name = suggest_name(candidate) if candidate else ""
        if name:
            return name
    what = repo.display or output or (builder.text if builder else "") or "the Dockerfile"
    raise CliError(f"cannot derive a name from {what!r}; give one with --name")


# ---------------------------------------------------------------------------
# The builder image


@dataclass(frozen=True)
class FoundBuilder:
    """The builder as looked up: its reference for the BuildConfig, and what was learnt."""

    ref: BuilderRef | None
    """None: a Docker build from the Dockerfile's own FROM."""
    input_text: str
    stream: str = ""
    """``namespace/stream`` for an image stream tag."""
    tag: str = ""
    pull_spec: str | None = None
    """The image to inspect; None while the tag has no image."""
    tag_annotations: Mapping[str, str] = field(default_factory=dict)
    config: ImageConfig | None = None
    problem: str = ""
    """Why the image was not inspected, when it was not."""


def _stream_tags(stream: ImageStream) -> list[str]:
    names = [t.name for t in stream.spec.tags] + [t.tag for t in stream.status.tags]
    return sorted(set(names))


StreamLookup = Callable[[str, str], "ImageStream | None"]
"""(namespace, name) -> the image stream, or None when there is none."""


def find_builder(arg: BuilderArg, namespace: str, lookup: StreamLookup) -> FoundBuilder:
    """The builder's reference and pull spec; a clear error when the stream or tag is missing.

    Without a namespace the current one is searched, then ``openshift``,
    where oc also finds builders; the first stream that has the tag wins.
    """
    from builder.cli.appobjects import BuilderRef  # noqa: PLC0415
    from builder.streams.tags import current_pull_spec, spec_tag  # noqa: PLC0415

    if arg.pull_spec:
        ref = BuilderRef(kind="DockerImage", name=arg.pull_spec)
        return FoundBuilder(ref=ref, input_text=arg.text, pull_spec=arg.pull_spec)
    places = [arg.namespace] if arg.namespace else [namespace, shared_namespace()]
    missing_tag: CliError | None = None
    for place in dict.fromkeys(places):
        stream = lookup(place, arg.stream)
        if stream is None:
            continue
        where = f"{place}/{arg.stream}"
        tags = _stream_tags(stream)
        if arg.tag not in tags:
            missing_tag = missing_tag or CliError(
                f'image stream "{where}" has no tag "{arg.tag}" '
                f"(it has: {', '.join(tags) or 'none'}); import one with "
                f"'kbuild import-image {arg.stream}:{arg.tag} --from=REGISTRY/REPOSITORY:TAG "
                f"--confirm -n {place}'"
            )
            continue
        spec = spec_tag(stream, arg.tag)
        return FoundBuilder(
            ref=BuilderRef(kind="ImageStreamTag", name=f"{arg.stream}:{arg.tag}", namespace=place),
            input_text=arg.text,
            stream=where,
            tag=arg.tag,
            pull_spec=current_pull_spec(stream, arg.tag),
            tag_annotations=dict(spec.annotations or {}) if spec is not None else {},
        )
    if missing_tag is not None:
        raise missing_tag
    searched = " or ".join(f'"{p}"' for p in dict.fromkeys(places))
    raise CliError(
        f'image stream "{arg.stream}" not found in namespace {searched}: create the builder '
        f"first, e.g. 'kbuild import-image {arg.stream}:{arg.tag} "
        f"--from=REGISTRY/REPOSITORY:TAG --confirm -n {places[0]}'"
    )


def _stream_lookup(kube: Kube) -> StreamLookup:
    from builder.kube import NotFound  # noqa: PLC0415

    def lookup(namespace: str, name: str) -> ImageStream | None:
        try:
            return kube.image_streams.get(namespace, name)
        except NotFound:
            return None

    return lookup


def inspect_image(pull_spec: str, insecure: set[str]) -> ImageConfig | str:
    """The image's config from its registry, or why it could not be read."""
    from builder.api import BuildError  # noqa: PLC0415
    from builder.registry import CredentialStore, RegistryClient  # noqa: PLC0415

    try:
        with RegistryClient(
            credentials=CredentialStore.from_environment(), insecure=insecure, timeout=(5.0, 20.0)
        ) as client:
            return client.image_config(pull_spec)
    except BuildError as err:
        return err.detail
    except (OSError, ValueError) as err:
        return str(err)


def _registry_of(pull_spec: str) -> str:
    from builder.registry import ImageReference, InvalidReferenceError  # noqa: PLC0415

    try:
        return ImageReference.parse(pull_spec).registry
    except InvalidReferenceError:
        return ""


def inspected(found: FoundBuilder, insecure_flag: bool) -> FoundBuilder:
    if found.pull_spec is None:
        return replace(found, problem=f'tag "{found.tag}" has no image yet')
    insecure = set(insecure_registries_from_env())
    if insecure_flag:
        insecure.add(_registry_of(found.pull_spec))
    result = inspect_image(found.pull_spec, insecure)
    if isinstance(result, str):
        return replace(found, problem=result)
    return replace(found, config=result)


# ---------------------------------------------------------------------------
# Text, as oc prints it


def _short_id(config: ImageConfig, now: datetime) -> str:
    short = config.config_digest.partition(":")[2][:7] or config.config_digest[:7]
    created = config.created
    if created is not None:
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        short += f" ({human_duration((now - created).total_seconds())} old)"
    return short


def describe_builder(found: FoundBuilder, params: AppParams, repo: RepoArg, now: datetime) -> str:
    """oc's ``describeBuildPipelineWithImage`` for a BUILDER~REPO pipeline."""
    lines: list[str] = []
    config = found.config
    if found.ref is None and found.input_text == "--dockerfile":
        lines.append("--> Using the Dockerfile given with --dockerfile (its FROM as written)")
    elif found.ref is None and found.input_text == "--binary":
        lines.append("--> The Dockerfile comes with the binary input (its FROM as written)")
    elif found.ref is None:
        lines.append(f'--> Found a Dockerfile in "{found.input_text}"')
    elif found.ref.kind == "ImageStreamTag":
        if config is not None:
            lines.append(
                f'--> Found image {_short_id(config, now)} in image stream "{found.stream}" '
                f'under tag "{found.tag}" for "{found.input_text}"'
            )
        else:
            lines.append(
                f'--> Found tag :{found.tag} in image stream "{found.stream}" '
                f'for "{found.input_text}"'
            )
    elif config is not None:
        lines.append(
            f"--> Found container image {_short_id(config, now)} from "
            f'{_registry_of(found.ref.name)} for "{found.input_text}"'
        )
    else:
        lines.append(f'--> Using container image {found.ref.name} for "{found.input_text}"')
    annotations = {**(config.labels if config is not None else {}), **found.tag_annotations}
    display = annotations.get("io.k8s.display-name", "")
    lines.append("")
    if display:
        lines.extend([f"{INDENT}{display} ", f"{INDENT}{'-' * len(display)} "])
    if annotations.get("io.k8s.description"):
        lines.extend([f"{INDENT}{annotations['io.k8s.description']}", ""])
    if annotations.get("io.openshift.tags"):
        tags = ", ".join(annotations["io.openshift.tags"].split(","))
        lines.extend([f"{INDENT}Tags: {tags}", ""])
    lines.extend(build_lines(params, repo))
    return "\n".join(lines) + "\n\n"


def build_lines(params: AppParams, repo: RepoArg) -> list[str]:
    """oc's ``* A ... build ... will be created`` and what follows it."""
    from builder.cli.appobjects import output_tag  # noqa: PLC0415

    # oc's strategy names: "source" and "Docker".
    strategy = "Docker" if params.strategy == "docker" else "source"
    source = params.source
    if repo.display:
        made = f"using source code from {repo.display}"
    elif source.dockerfile:
        made = "using a predefined Dockerfile"
    elif source.binary:
        made = "using binary input"
    elif source.image is not None:
        made = f'using the content of image "{source.image.image.name}"'
    else:
        made = "using source code"
    if params.output is not None and params.output.kind == "DockerImage":
        pushed = f'container image "{params.output.name}"'
    else:
        pushed = f'image stream tag "{output_tag(params)}"'
    start = (
        "A binary build was created, use 'kbuild start-build --from-dir' to trigger a new build"
        if source.binary
        else "Use 'kbuild start-build' to trigger a new build"
    )
    return [
        f"{INDENT}* A {strategy} build {made} will be created",
        f"{INDENT}  * The resulting image will be pushed to {pushed}",
        f"{INDENT}  * {start}",
    ]


def ports_warning(found: FoundBuilder) -> str | None:
    if found.ref is None:
        return (
            "warning: the ports of the image the Dockerfile builds are not read; assuming 8080/TCP"
        )
    if found.config is not None:
        return None
    return (
        f"warning: could not read the exposed ports of the builder image ({found.problem}); "
        "assuming 8080/TCP"
    )


def kind_label(obj: Mapping[str, Any]) -> str:
    """``imagestream.image.openshift.io``: kind and group, lower case, as oc's bulk printer."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    kind = str(obj.get("kind", ""))
    return f"{kind}.{group}".lower() if group else kind.lower()


def creating_header(labels: Mapping[str, str]) -> str:
    """``--> Creating resources with label k=v,k2=v2 ...`` (labels sorted, as a selector)."""
    if not labels:
        return "--> Creating resources ..."
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return f"--> Creating resources with label {selector} ..."


def created_line(obj: Mapping[str, Any], dry_run: bool) -> str:
    name = obj["metadata"]["name"]
    return f'{INDENT}{kind_label(obj)} "{name}" created{" (dry run)" if dry_run else ""}'


def success_lines(objects: Sequence[Mapping[str, Any]], *, deploy: bool) -> list[str]:
    """What oc prints after ``--> Success``, with kbuild's commands."""
    lines: list[str] = []
    services = [o for o in objects if o.get("kind") == "Service"]
    for obj in objects:
        if obj.get("kind") != "BuildConfig":
            continue
        name = obj["metadata"]["name"]
        triggers = obj.get("spec", {}).get("triggers", [])
        if not deploy:
            if any(t.get("type") in ("ImageChange", "ConfigChange") for t in triggers):
                lines.append(f'{INDENT}Build configuration "{name}" created and build triggered.')
                lines.append(
                    f"{INDENT}Run 'kbuild logs -f buildconfig/{name}' to stream the build progress."
                )
            else:
                lines.append(f"{INDENT}Use 'kbuild start-build {name}' to start a build.")
            continue
        if any(t.get("type") in ("ImageChange", "ConfigChange") for t in triggers):
            lines.append(
                f"{INDENT}Build scheduled, use 'kbuild logs -f buildconfig/{name}' "
                "to track its progress."
            )
        else:
            lines.append(f"{INDENT}Use 'kbuild start-build {name}' to start a build.")
    if not deploy:
        return lines
    if services:
        lines.append(
            f"{INDENT}Application is not exposed. You can expose services to the outside world "
            "by executing one or more of the commands below:"
        )
        for svc in services:
            name = svc["metadata"]["name"]
            lines.append(
                f"{INDENT} 'kubectl expose service/{name} --type=NodePort --name={name}-external' "
            )
    commands = {"Deployment": "kubectl get deployment", "DeploymentConfig": "kbuild get dc"}
    watch = " and ".join(
        f"'{commands[str(o['kind'])]}/{o['metadata']['name']}'"
        for o in objects
        if o.get("kind") in commands
    )
    lines.append(
        f"{INDENT}Run 'kbuild get builds'{f' and {watch}' if watch else ''} to view your app."
    )
    return lines


def render_list(objects: list[dict[str, Any]], output: str) -> str:
    from builder.cli.appobjects import object_list  # noqa: PLC0415

    data = object_list(objects)
    if output == "json":
        return json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(data, default_flow_style=False, sort_keys=True))


# ---------------------------------------------------------------------------
# The verbs


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for verb, what in (("new-app", "application"), ("new-build", "build")):
        deploy = verb == "new-app"
        p = subparsers.add_parser(
            verb,
            help=f"create a new {what} from a builder image and a git repository (oc {verb})",
            description=(
                f"Create {CREATES[deploy]} for BUILDER~REPO: BUILDER is an image stream tag "
                "([namespace/]stream[:tag]) or a pull spec with a registry host; REPO a git URL "
                "(#ref for a branch or tag)."
            ),
        )
        p.add_argument("component", metavar="BUILDER~REPO", nargs="?", default="")
        p.add_argument("--name", help="name of the generated objects (default: the repository's)")
        p.add_argument(
            "--strategy",
            choices=["source", "docker"],
            default=None,
            help="build strategy (default: docker when the source has a Dockerfile, else source)",
        )
        p.add_argument("--context-dir", default="", help="context directory of the build")
        p.add_argument(
            "--build-secret",
            action="append",
            type=build_input,
            default=[],
            metavar="SECRET[:DIR]",
            help="a Secret the build reads (source.secrets), at DIR (relative) in the build",
        )
        p.add_argument(
            "--build-config-map",
            action="append",
            type=build_input,
            default=[],
            metavar="CONFIGMAP[:DIR]",
            help="a ConfigMap the build reads (source.configMaps), at DIR in the build",
        )
        build_env_flags = ("--build-env",) if deploy else ("-e", "--env", "--build-env")
        if deploy:
            p.add_argument(
                "-e",
                "--env",
                action="append",
                type=key_value,
                default=[],
                metavar="KEY=VALUE",
                help="environment variable of the application's container",
            )
        p.add_argument(
            *build_env_flags,
            dest="build_env",
            action="append",
            type=key_value,
            default=[],
            metavar="KEY=VALUE",
            help="environment variable of the build",
        )
        p.add_argument(
            "-l", "--labels", action="append", metavar="KEY=VALUE[,...]", help="labels to add"
        )
        p.add_argument(
            "-o",
            "--output",
            choices=["yaml", "json", "name"],
            help="yaml/json: print the objects instead of creating them; name: print kind/name",
        )
        p.add_argument(
            "--dry-run", action="store_true", help="show what would be created, create nothing"
        )
        p.add_argument(
            "--insecure-registry",
            action="store_true",
            help="the builder image's registry speaks plain HTTP or has an untrusted certificate",
        )
        p.add_argument(
            "--docker-image",
            "--image",
            dest="docker_image",
            default="",
            metavar="IMAGE",
            help="a container image (a pull spec, never looked up as an image stream): "
            + ("deployed as it is, or the builder of REPO" if deploy else "the builder"),
        )
        if deploy:
            p.add_argument(
                "--as-deployment-config",
                action="store_true",
                help="deploy with a DeploymentConfig (apps.openshift.io) instead of a Deployment",
            )
            _add_template_flags(p)
        else:
            _add_build_source_flags(p)
        add_cluster_flags(p)
        p.set_defaults(run=_runner(deploy=deploy))


def _add_build_source_flags(p: argparse.ArgumentParser) -> None:
    """oc new-build's own flags: the output, and sources other than a repository."""
    p.add_argument(
        "--to",
        default="",
        metavar="[NAMESPACE/]STREAM[:TAG]",
        help="push to this image stream tag (a pull spec with --to-docker) instead of NAME:latest",
    )
    p.add_argument(
        "--to-docker",
        action="store_true",
        help="push to the container image --to names (or NAME:latest) instead of an image stream",
    )
    p.add_argument(
        "-D",
        "--dockerfile",
        default="",
        metavar="TEXT",
        help="the Dockerfile itself (- reads it from stdin); implies --strategy docker",
    )
    p.add_argument(
        "--binary",
        action="store_true",
        help="the source comes with 'kbuild start-build --from-dir|--from-file|--from-archive' "
        "(no ConfigChange or ImageChange trigger)",
    )
    p.add_argument(
        "--source-image",
        default="",
        metavar="IMAGE",
        help="an image stream tag or pull spec whose content the build copies (source.images)",
    )
    p.add_argument(
        "--source-image-path",
        default="",
        metavar="SRC:DEST",
        help="the absolute path to copy out of --source-image, and the relative directory of the "
        "build it goes to",
    )


def _add_template_flags(p: argparse.ArgumentParser) -> None:
    """oc new-app's template flags (``builder.cli.newapp_template``)."""
    p.add_argument("--template", help="a Template's name (the namespace, then openshift)")
    p.add_argument("-f", "--file", help="a Template file (- for stdin)")
    p.add_argument(
        "-p", "--param", action="append", metavar="KEY=VALUE", help="a template parameter value"
    )
    p.add_argument("--param-file", action="append", metavar="FILE", help="KEY=VALUE lines")
    p.add_argument(
        "--ignore-unknown-parameters",
        action="store_true",
        help="skip values for parameters the template does not have",
    )


def _runner(*, deploy: bool) -> Callable[[argparse.Namespace], int]:
    def verb(ns: argparse.Namespace) -> int:
        return run(ns, deploy)

    return lambda ns: run_guarded(verb, ns)


@dataclass(frozen=True)
class Request:
    """The parsed command line: what to look up and what to generate."""

    builder: BuilderArg | None
    """None: detect it from the repository (``new-app REPO``)."""
    repo: RepoArg
    name: str
    strategy: Literal["source", "docker"]
    strategy_given: bool
    labels: dict[str, str]
    env: tuple[tuple[str, str], ...]
    build_env: tuple[tuple[str, str], ...]
    deploy: bool
    context_dir: str
    build_secrets: tuple[tuple[str, str], ...] = ()
    build_config_maps: tuple[tuple[str, str], ...] = ()
    dockerfile: str = ""
    binary: bool = False
    output: OutputRef | None = None
    source_image: BuilderArg | None = None
    source_image_path: tuple[str, str] = ("", "")


def build_input(text: str) -> tuple[str, str]:
    """``NAME[:DIR]`` as ``oc new-build --build-secret`` takes it: DIR relative, no ``..``."""
    name, _, directory = text.partition(":")
    if not name or not _OBJECT_NAME.fullmatch(name):
        raise argparse.ArgumentTypeError(f"{text!r}: NAME must be a Secret or ConfigMap name")
    if directory.startswith("/") or ".." in directory.split("/"):
        raise argparse.ArgumentTypeError(
            f"{text!r}: DIR must be a relative path without '..' (it is below the build's context)"
        )
    return name, directory


def parse_output(text: str, *, docker: bool, name: str) -> OutputRef | None:
    """``--to`` / ``--to-docker`` as oc reads them; None: the default ``NAME:latest`` tag."""
    from builder.cli.appobjects import OutputRef  # noqa: PLC0415

    if docker:
        reference = text or f"{name}:latest"
        from builder.registry import ImageReference, InvalidReferenceError  # noqa: PLC0415

        try:
            ImageReference.parse(reference)
        except InvalidReferenceError as err:
            raise CliError(f"--to: {err}") from None
        return OutputRef(kind="DockerImage", name=reference)
    if not text:
        return None
    parts = text.split("/")
    if len(parts) > 2 or "@" in text:
        raise CliError(
            f"--to {text!r} must be an image stream tag, [namespace/]stream[:tag] "
            "(add --to-docker to push to a container image)"
        )
    namespace = parts[0] if len(parts) == 2 else ""
    stream, colon, tag = parts[-1].partition(":")
    if (colon and not _TAG.match(tag)) or not _STREAM_NAME.match(stream):
        raise CliError(f"--to {text!r} is not a valid image stream tag")
    if namespace and not _STREAM_NAME.match(namespace):
        raise CliError(f"--to {text!r}: invalid namespace {namespace!r}")
    return OutputRef(
        kind="ImageStreamTag", name=f"{stream}:{tag if colon else 'latest'}", namespace=namespace
    )


def parse_source_image_path(text: str) -> tuple[str, str]:
    """``SRC[:DEST]``: SRC absolute in the image, DEST relative in the build (oc splits once)."""
    source, _, destination = text.partition(":")
    if not source.startswith("/"):
        raise CliError(f"--source-image-path {text!r}: the source path must be absolute")
    if destination.startswith("/") or ".." in destination.split("/"):
        raise CliError(
            f"--source-image-path {text!r}: the destination must be a relative directory "
            "without '..' (it is below the build's context)"
        )
    return source, destination


def _docker_image(text: str) -> BuilderArg:
    """``--docker-image``: a pull spec, never an image stream (oc's ``--docker-image``)."""
    from builder.registry import ImageReference, InvalidReferenceError  # noqa: PLC0415

    try:
        ImageReference.parse(text)
    except InvalidReferenceError as err:
        raise CliError(f"--docker-image: {err}") from None
    return BuilderArg(text=text, pull_spec=text)


def _read_dockerfile(text: str) -> str:
    if text != "-":
        return text
    data = sys.stdin.read()
    if not data.strip():
        raise CliError("--dockerfile -: nothing was read from stdin")
    return data


def _components(ns: argparse.Namespace, other_source: bool) -> tuple[str, str]:
    """(BUILDER, REPO) from the component and ``--docker-image``.

    With a source that is not a repository (``-D``, ``--binary``,
    ``--source-image``) a lone component is the builder, as in ``oc
    new-build python --binary``.
    """
    from builder.cli.newapp_image import looks_like_image  # noqa: PLC0415

    component = ns.component or ""
    image = getattr(ns, "docker_image", "") or ""
    if image:
        if "~" in component:
            raise CliError(f"--docker-image {image!r} and {component!r}: give the builder once")
        return image, component
    if not component:
        return "", ""
    builder, repo = split_component(component)
    if not builder and other_source and looks_like_image(repo):
        return repo, ""
    return builder, repo


def request_from_args(ns: argparse.Namespace, *, deploy: bool) -> Request:
    dockerfile = _read_dockerfile(getattr(ns, "dockerfile", "") or "")
    binary = bool(getattr(ns, "binary", False))
    source_image_text = getattr(ns, "source_image", "") or ""
    source_image_path = getattr(ns, "source_image_path", "") or ""
    if source_image_text and not source_image_path:
        raise CliError("--source-image-path must be specified when --source-image is specified.")
    if source_image_path and not source_image_text:
        raise CliError("--source-image must be specified when --source-image-path is specified.")
    builder_text, repo_text = _components(ns, bool(dockerfile or binary or source_image_text))
    if binary and repo_text:
        raise CliError(
            "specifying binary builds and source repositories at the same time is not allowed"
        )
    if dockerfile and ns.strategy == "source":
        raise CliError("--dockerfile is built with the docker strategy, not --strategy source")
    if not (repo_text or dockerfile or binary or source_image_text):
        raise CliError(
            "give BUILDER~REPO or REPO"
            + ("" if deploy else ", or a source: -D DOCKERFILE, --binary or --source-image")
        )
    builder: BuilderArg | None
    if getattr(ns, "docker_image", ""):
        builder = _docker_image(builder_text)
    else:
        builder = parse_builder(builder_text) if builder_text else None
    repo = parse_repo(repo_text) if repo_text else NO_REPO
    if binary and builder is None and ns.strategy != "docker":
        raise CliError(
            "--binary needs a builder image (BUILDER or --docker-image), "
            "or --strategy docker to build the uploaded Dockerfile"
        )
    to_docker = bool(getattr(ns, "to_docker", False))
    to = getattr(ns, "to", "") or ""
    name = app_name(ns, repo, output=to, builder=builder, dockerfile=dockerfile)
    docker = ns.strategy == "docker" or bool(dockerfile) or (binary and builder is None)
    return Request(
        builder=builder,
        repo=repo,
        name=name,
        strategy="docker" if docker else "source",
        strategy_given=ns.strategy is not None or bool(dockerfile),
        labels=parse_labels(ns.labels),
        env=tuple(getattr(ns, "env", None) or ()) if deploy else (),
        build_env=tuple(ns.build_env or ()),
        deploy=deploy,
        context_dir=ns.context_dir or "",
        build_secrets=tuple(getattr(ns, "build_secret", None) or ()),
        build_config_maps=tuple(getattr(ns, "build_config_map", None) or ()),
        dockerfile=dockerfile,
        binary=binary,
        output=parse_output(to, docker=to_docker, name=name),
        source_image=parse_builder(source_image_text) if source_image_text else None,
        source_image_path=(
            parse_source_image_path(source_image_path) if source_image_path else ("", "")
        ),
    )


def detected(request: Request, kube: Kube, namespace: str) -> Request:
    """``new-app REPO``: the builder stream for its language, or Docker for a Dockerfile."""
    from builder.cli import detect  # noqa: PLC0415

    try:
        names = detect.list_repository(request.repo.uri, request.repo.ref, request.context_dir)
    except detect.ListingError as err:
        raise CliError(f"cannot detect what {request.repo.display} is written in: {err}") from None
    docker = request.strategy == "docker" or (
        not request.strategy_given and detect.has_dockerfile(names)
    )
    if docker:
        if not detect.has_dockerfile(names):
            raise CliError(
                f"--strategy docker: {request.repo.display} has no Dockerfile"
                + (f" in {request.context_dir}" if request.context_dir else "")
            )
        return replace(request, strategy="docker")
    platforms = detect.detect_platforms(names)
    if not platforms:
        raise CliError(
            f"no language detected in {request.repo.display}"
            + (f" (context dir {request.context_dir})" if request.context_dir else "")
            + ": give the builder as BUILDER~REPO (e.g. python:3.11~"
            + request.repo.display
            + ")"
        )
    places = list(dict.fromkeys([namespace, shared_namespace()]))
    choice = detect.select_builder(platforms, _tags_in(kube, places), places)
    if choice is None:
        raise CliError(
            f"{request.repo.display} looks like {', '.join(platforms)}, but no image stream in "
            f"namespace {' or '.join(repr(p) for p in places)} has a tag whose 'supports' "
            f"annotation names it: install the catalog (kbuild apply -f images/catalog/) or "
            "give the builder as BUILDER~REPO"
        )
    tag = choice.tag
    # oc's "Found image ... for \"nodejs\"": the search term is what was detected.
    arg = BuilderArg(
        text=choice.platform,
        namespace=tag.namespace,
        stream=tag.stream,
        tag=tag.tag,
    )
    return replace(request, builder=arg, strategy="source")


def resolve_builder(
    request: Request, kube: Kube, namespace: str, insecure: bool
) -> tuple[Request, FoundBuilder]:
    """The builder named, or detected; None as ``ref`` for a Docker build from the Dockerfile."""
    if request.builder is None and request.repo.uri and not request.dockerfile:
        request = detected(request, kube, namespace)
    if request.builder is None:
        text = request.repo.display or ("--dockerfile" if request.dockerfile else "--binary")
        return request, FoundBuilder(ref=None, input_text=text)
    found = find_builder(request.builder, namespace, _stream_lookup(kube))
    return request, inspected(found, insecure)


def _tags_in(kube: Kube, namespaces: list[str]) -> list[StreamTag]:
    from builder.cli.detect import StreamTag  # noqa: PLC0415
    from builder.kube import KubeError  # noqa: PLC0415

    tags: list[StreamTag] = []
    for place in namespaces:
        try:
            streams, _ = kube.image_streams.list(place)
        except KubeError:
            continue  # no rights there, or no such namespace: oc skips it too
        tags.extend(
            StreamTag(place, s.metadata.name, t.name, dict(t.annotations or {}))
            for s in streams
            for t in s.spec.tags
        )
    return tags


def resolve_source_image(
    request: Request, namespace: str, lookup: StreamLookup
) -> BuilderRef | None:
    """``--source-image`` found as the builder is: a stream tag (here, then shared) or pull spec."""
    if request.source_image is None:
        return None
    return find_builder(request.source_image, namespace, lookup).ref


def params_for(
    request: Request,
    found: FoundBuilder,
    secrets: tuple[str, str],
    source_image: BuilderRef | None = None,
) -> AppParams:
    from builder.cli.appobjects import (  # noqa: PLC0415
        DEFAULT_PORT,
        AppParams,
        GitSource,
        Port,
        SourceImage,
        ports_from_exposed,
    )

    image = None
    if source_image is not None:
        src, dest = request.source_image_path
        image = SourceImage(image=source_image, source_path=src, destination_dir=dest)
    source: GitSource = GitSource(
        uri=request.repo.uri,
        ref=request.repo.ref,
        context_dir=request.context_dir,
        secrets=request.build_secrets,
        config_maps=request.build_config_maps,
        dockerfile=request.dockerfile,
        binary=request.binary,
        image=image,
    )
    if found.config is not None:
        ports = ports_from_exposed(found.config.exposed_ports)
    else:
        ports = (Port(DEFAULT_PORT),)
    return AppParams(
        name=request.name,
        builder=found.ref,
        source=source,
        strategy=request.strategy,
        deploy=request.deploy,
        env=request.env,
        build_env=request.build_env,
        labels=request.labels,
        ports=ports,
        webhook_secrets=secrets,
        output=request.output,
    )


def _resource_of(obj: Mapping[str, Any]) -> Resource:
    return _KINDS[str(obj["kind"])]


def existing(kube: Kube, namespace: str, objects: Sequence[Mapping[str, Any]]) -> list[str]:
    """``imagestreams.image.openshift.io "x"`` for each object that already exists."""
    from builder.kube import DEPLOYMENTS as KUBE_DEPLOYMENTS  # noqa: PLC0415
    from builder.kube import SERVICES as KUBE_SERVICES  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    found: list[str] = []
    for obj in objects:
        name = str(obj["metadata"]["name"])
        kind = obj["kind"]
        try:
            if kind == "ImageStream":
                kube.image_streams.get(namespace, name)
            elif kind == "BuildConfig":
                kube.build_configs.get(namespace, name)
            elif kind == "Deployment":
                kube.get_object(KUBE_DEPLOYMENTS, namespace, name)
            elif kind == "DeploymentConfig":
                kube.deployment_configs.get(namespace, name)
            else:
                kube.get_object(KUBE_SERVICES, namespace, name)
        except NotFound:
            continue
        found.append(f'{_resource_of(obj).qualified} "{name}"')
    return found


def _existing_output_stream(kube: Kube, namespace: str, obj: Mapping[str, Any]) -> bool:
    if obj.get("kind") != "ImageStream":
        return False
    return bool(existing(kube, namespace, [obj]))


def create(kube: Kube, namespace: str, obj: dict[str, Any]) -> None:
    from builder.api import BuildConfig, ImageStream, parse_as  # noqa: PLC0415
    from builder.kube import DEPLOYMENTS as KUBE_DEPLOYMENTS  # noqa: PLC0415
    from builder.kube import SERVICES as KUBE_SERVICES  # noqa: PLC0415

    body = {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
    kind = obj["kind"]
    if kind == "ImageStream":
        kube.image_streams.create(parse_as(ImageStream, body))
    elif kind == "BuildConfig":
        kube.build_configs.create(parse_as(BuildConfig, body))
    elif kind == "Deployment":
        kube.create_object(KUBE_DEPLOYMENTS, namespace, body)
    elif kind == "DeploymentConfig":
        from builder.api.apps import DeploymentConfig  # noqa: PLC0415

        kube.deployment_configs.create(parse_as(DeploymentConfig, body))
    else:
        kube.create_object(KUBE_SERVICES, namespace, body)


def _warn(text: str | None) -> None:
    if text:
        print(text, file=sys.stderr, flush=True)


def _print(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def _wants_template(ns: argparse.Namespace, deploy: bool) -> bool:
    """True for ``--template``/``-f``; a missing component is an error here."""
    if getattr(ns, "template", None) or getattr(ns, "file", None):
        return True
    other_source = any(
        getattr(ns, flag, None) for flag in ("dockerfile", "binary", "source_image", "docker_image")
    )
    if not ns.component and not other_source:
        forms = (
            ", --template NAME or -f TEMPLATE_FILE"
            if deploy
            else ", or a source: -D DOCKERFILE, --binary or --source-image"
        )
        raise CliError(f"give BUILDER~REPO{forms}")
    return False


def _wants_image(ns: argparse.Namespace, deploy: bool) -> bool:
    """``new-app IMAGE`` / ``IS:TAG`` / ``--docker-image IMAGE``: an image deployed, no build.

    No ``~`` and not a git URL (``builder.cli.newapp_image``); new-build takes
    a lone image as its builder when another source is given (``--binary``).
    """
    from builder.cli.newapp_image import looks_like_image  # noqa: PLC0415

    component = ns.component or ""
    if getattr(ns, "docker_image", ""):
        return deploy and not component
    if "~" in component or not component or not looks_like_image(component):
        return False
    if not deploy:
        if any(getattr(ns, f, None) for f in ("dockerfile", "binary", "source_image")):
            return False
        raise CliError(
            f"new-build needs source: {component!r} is an image; give BUILDER~REPO or REPO"
        )
    return True


def _other_form(ns: argparse.Namespace, deploy: bool) -> int | None:
    """Run ``--template``/``-f`` or ``IMAGE``; None for the build forms handled here."""
    if _wants_template(ns, deploy):
        from builder.cli import newapp_template  # noqa: PLC0415

        return newapp_template.run(ns)
    if _wants_image(ns, deploy):
        from builder.cli import newapp_image  # noqa: PLC0415

        return newapp_image.run(ns)
    return None


def _as_asked(ns: argparse.Namespace, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``--as-deployment-config``: the Deployment as oc's DeploymentConfig."""
    if not getattr(ns, "as_deployment_config", False):
        return objects
    from builder.cli.newapp_dc import as_deployment_config  # noqa: PLC0415

    return as_deployment_config(objects)


def plan(
    ns: argparse.Namespace, deploy: bool
) -> tuple[Kube, str, Request, FoundBuilder, AppParams, list[dict[str, Any]]]:
    """The connection, the request as resolved, and the objects to create."""
    from builder.cli.appobjects import app_objects, generate_secret  # noqa: PLC0415

    request = request_from_args(ns, deploy=deploy)
    kube, namespace = connect(ns)
    request, found = resolve_builder(request, kube, namespace, ns.insecure_registry)
    source_image = resolve_source_image(request, namespace, _stream_lookup(kube))
    params = params_for(request, found, (generate_secret(), generate_secret()), source_image)
    objects = _as_asked(ns, app_objects(params))
    if request.output is not None:
        # --to an existing stream pushes into it, as oc does: only the others must be new.
        objects = [o for o in objects if not _existing_output_stream(kube, namespace, o)]
    return kube, namespace, request, found, params, objects


def run(ns: argparse.Namespace, deploy: bool) -> int:
    from builder.cli.appobjects import object_labels  # noqa: PLC0415
    from builder.kube import KubeError  # noqa: PLC0415

    other = _other_form(ns, deploy)
    if other is not None:
        return other

    kube, namespace, request, found, params, objects = plan(ns, deploy)
    warning = ports_warning(found) if deploy else None
    if ns.output in ("yaml", "json"):
        _warn(warning)
        _print(render_list(objects, ns.output))
        return 0
    clashes = existing(kube, namespace, objects)
    if clashes:
        raise CliError(
            f"{clashes[0]} already exists"
            + (f" (and {', '.join(clashes[1:])})" if clashes[1:] else "")
            + "; nothing was created (choose another name with --name)"
        )
    verbose = ns.output is None
    if verbose:
        _print(describe_builder(found, params, request.repo, utcnow()))
    _warn(warning)
    if verbose:
        header_labels = object_labels(params) if not deploy else request.labels
        _print(creating_header(header_labels) + "\n")
    failed = False
    for obj in objects:
        if not ns.dry_run:
            try:
                create(kube, namespace, obj)
            except KubeError as err:
                failed = True
                message = server_message(err.message) or f"the server answered {err.status}"
                print(f"{INDENT if verbose else ''}error: {message}", file=sys.stderr, flush=True)
                continue
        if verbose:
            _print(created_line(obj, ns.dry_run) + "\n")
        else:
            _print(f"{kind_label(obj)}/{obj['metadata']['name']}\n")
    if verbose:
        suffix = " (dry run)" if ns.dry_run else ""
        _print(f"--> {'Failed' if failed else 'Success'}{suffix}\n")
        if not failed and not ns.dry_run:
            _print("".join(f"{line}\n" for line in success_lines(objects, deploy=deploy)))
    return 1 if failed else 0
