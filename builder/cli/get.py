"""``kbuild get bc|build|is|istag [NAME...]``: ``oc get``'s tables for builds and streams.

The columns are the ones the OpenShift API server prints for these kinds
(openshift-apiserver's build and image printers): builds ``NAME TYPE FROM
STATUS STARTED DURATION``, build configs ``NAME TYPE FROM LATEST``, image
streams ``NAME IMAGE REPOSITORY TAGS UPDATED``, image stream tags ``NAME
IMAGE REFERENCE UPDATED`` (``IMAGE NAME`` with ``-o wide``).  FROM is the
source kind and revision (``Git@abc1234``); STATUS carries the reason of a
failure (``Failed (DockerBuildFailed)``), which is what people grep for.

There is no ImageStreamTag resource: the istag view is computed from each
stream's status, as OpenShift's server computes it (a tag is listed once it
has an image).  Templates (``template.openshift.io/v1``, a CRD) list as
``NAME DESCRIPTION PARAMETERS OBJECTS``, as openshift-apiserver prints them.

kubectl's output flags apply to every kind: ``-o`` with the template printers
(``builder.cli.printers``), ``--sort-by``, ``--show-labels``, ``-L``, and
``-w``/``--watch-only``, which print a row (or an object in the ``-o``
format) for each change until interrupted.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    IMAGE_STREAM_TAGS,
    IMAGE_STREAMS,
    CliError,
    Resource,
    _aliases,
    add_cluster_flags,
    connect,
    go_duration,
    human_duration,
    not_found,
    parse_when,
    resource_named,
    run_guarded,
    since,
    split_ref,
    table,
    utcnow,
)
from builder.cli.dc import DC_HEADERS, DEPLOYMENT_CONFIGS, dc_row
from builder.cli.printers import (
    Output,
    as_list,
    check_sort_field,
    label_cells,
    label_headers,
    output_flag,
    parse_custom_columns,
    parse_custom_columns_file,
    parse_output,
    render_custom_columns,
    render_template,
    sort_key,
    split_label_columns,
)
from builder.cli.streams_common import split_stream_tag

if TYPE_CHECKING:
    from builder.api import Build, BuildConfig, ImageStream, TagEvent
    from builder.kube import ApiResource, CustomResources, Kube

M = TypeVar("M", "Build", "BuildConfig", "ImageStream")

OUTPUTS = ("yaml", "json", "name", "wide")
_NOT_A_COMMIT = re.compile(r"[^a-fA-F0-9]")
BUILD_HEADERS = ["NAME", "TYPE", "FROM", "STATUS", "STARTED", "DURATION"]
BC_HEADERS = ["NAME", "TYPE", "FROM", "LATEST"]
IS_HEADERS = ["NAME", "IMAGE REPOSITORY", "TAGS", "UPDATED"]
ISTAG_HEADERS = ["NAME", "IMAGE REFERENCE", "UPDATED"]
ISTAG_WIDE_HEADERS = [*ISTAG_HEADERS, "IMAGE NAME"]
TAGS_WIDTH = 40
TEMPLATE_GROUP = "template.openshift.io"
TEMPLATES = Resource(
    "Template", "templates", "template", _aliases(TEMPLATE_GROUP, "template", "templates"),
    TEMPLATE_GROUP,
)  # fmt: skip
TEMPLATE_HEADERS = ["NAME", "DESCRIPTION", "PARAMETERS", "OBJECTS"]
VIEWABLE = (BUILDS, BUILD_CONFIGS, IMAGE_STREAMS, IMAGE_STREAM_TAGS, DEPLOYMENT_CONFIGS)
GETTABLE = (*VIEWABLE, TEMPLATES)


# ---------------------------------------------------------------------------
# Pure formatting, from the JSON the API server sends
#
# The Build, BuildConfig and ImageStream tables read the objects' JSON (API
# field names, as kubectl's printers read unstructured objects), not the
# models: validating a list with pydantic costs its ~0.2 s start-up, more than
# the rest of ``kbuild get``.  Where OpenShift defaults a field the models fill
# in (``type: Docker`` alone, a Build's phase), the same default is read here.

Json = Mapping[str, Any]


def field(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]...``; None where a step is missing or not an object."""
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


_STRATEGIES = (
    ("dockerStrategy", "Docker"),
    ("customStrategy", "Custom"),
    ("sourceStrategy", "Source"),
    ("jenkinsPipelineStrategy", "JenkinsPipeline"),
)


def strategy_type(spec: Json) -> str:
    strategy = field(spec, "strategy") or {}
    if strategy.get("dockerStrategy") is None and strategy.get("type") == "Docker":
        return "Docker"  # OpenShift's defaulting: type Docker alone is dockerStrategy {}
    return next((name for key, name in _STRATEGIES if strategy.get(key) is not None), "")


def git_revision(spec: Json) -> str:
    """The commit built (shortened to 7 if it is a full hash), else the ref asked for."""
    rev = _text(field(spec, "revision", "git", "commit"))
    if not rev:
        rev = _text(field(spec, "source", "git", "ref"))
    if not _NOT_A_COMMIT.search(rev) and len(rev) > 20:
        rev = rev[:7]
    return rev


def source_short(spec: Json) -> str:
    source = field(spec, "source") or {}
    git = source.get("git") is not None
    dockerfile = source.get("dockerfile") is not None
    if source.get("binary") is not None or source.get("type") == "Binary":
        kind = "Binary"
    elif dockerfile and git:
        kind = "Dockerfile,Git"
    elif dockerfile:
        return "Dockerfile"
    elif git:
        kind = "Git"
    else:
        return ""
    rev = git_revision(spec)
    return f"{kind}@{rev}" if rev else kind


def build_status(build: Json) -> str:
    phase = _text(field(build, "status", "phase")) or "New"
    reason = _text(field(build, "status", "reason"))
    return f"{phase} ({reason})" if reason else phase


def build_row(build: Json, now: datetime) -> list[str]:
    spec = field(build, "spec") or {}
    started = parse_when(field(build, "status", "startTimestamp"))
    duration = field(build, "status", "duration")
    return [
        _text(field(build, "metadata", "name")),
        strategy_type(spec),
        source_short(spec),
        build_status(build),
        f"{human_duration(since(started, now))} ago" if started is not None else "",
        go_duration(duration) if isinstance(duration, int) and duration > 0 else "",
    ]


def bc_row(bc: Json) -> list[str]:
    spec = field(bc, "spec") or {}
    custom = field(spec, "strategy", "customStrategy")
    source = _text(field(custom, "from", "name")) if custom is not None else source_short(spec)
    latest = field(bc, "status", "lastVersion")
    return [_text(field(bc, "metadata", "name")), strategy_type(spec), source,
            str(latest if isinstance(latest, int) else 0)]  # fmt: skip


def _creation_key(obj: Json) -> tuple[str, str]:
    meta = field(obj, "metadata") or {}
    return (_text(meta.get("creationTimestamp")), _text(meta.get("name")))


def render_builds(
    builds: Sequence[Json], now: datetime, *, all_namespaces: bool = False,
    with_kind: bool = False,
) -> str:  # fmt: skip
    rows = []
    for build in sorted(builds, key=_creation_key):
        row = build_row(build, now)
        if with_kind:
            row[0] = BUILDS.ref(row[0])
        rows.append([_namespace_of(build), *row] if all_namespaces else row)
    headers = ["NAMESPACE", *BUILD_HEADERS] if all_namespaces else BUILD_HEADERS
    return table(headers, rows)


def render_build_configs(
    bcs: Sequence[Json], *, all_namespaces: bool = False, with_kind: bool = False
) -> str:
    rows = []
    for bc in bcs:
        row = bc_row(bc)
        if with_kind:
            row[0] = BUILD_CONFIGS.ref(row[0])
        rows.append([_namespace_of(bc), *row] if all_namespaces else row)
    headers = ["NAMESPACE", *BC_HEADERS] if all_namespaces else BC_HEADERS
    return table(headers, rows)


# ---------------------------------------------------------------------------
# Image streams and the istag view


@dataclass(frozen=True)
class StreamTag:
    """One ImageStreamTag of the view: a tag of ``stream`` and its current entry."""

    stream: ImageStream
    tag: str
    event: TagEvent

    @property
    def name(self) -> str:
        return f"{self.stream.metadata.name}:{self.tag}"


def _to_second(value: str | None) -> datetime | None:
    """Go's ``Time.Round(time.Second)``: halves round up."""
    moment = parse_when(value)
    if moment is None:
        return None
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if moment.microsecond >= 500_000 else whole


def _status_tags(stream: Json) -> list[tuple[str, str | None]]:
    """(tag, its newest entry's ``created``) of each status tag, as stored."""
    heads = []
    for named in field(stream, "status", "tags") or []:
        items = field(named, "items") or []
        created = field(items[0], "created") if items else None
        heads.append((_text(field(named, "tag")), created if isinstance(created, str) else None))
    return heads


def sort_status_tags(stream: Json) -> list[str]:
    """openshift-apiserver's ``SortStatusTags``: newest head first (to the second), then by name."""
    epoch = datetime.min.replace(tzinfo=UTC)

    def key(named_tag: tuple[str, datetime | None]) -> tuple[float, str]:
        tag, created = named_tag
        return (-((created or epoch) - epoch).total_seconds(), tag)

    heads = [(tag, _to_second(created)) for tag, created in _status_tags(stream)]
    return [tag for tag, _ in sorted(heads, key=key)]


def tags_up_to_width(stream: Json, width: int = TAGS_WIDTH) -> str:
    """The server's ``printTagsUpToWidth``: as many tags as fit, then ``+ N more...``."""
    tags = sort_status_tags(stream)
    total = len(tags)
    remaining = width
    for i, tag in enumerate(tags):
        remaining -= len(tag) + 1
        if remaining >= 0:
            continue
        if i == 0:
            tags = tags[:1]
            break
        # A little over the width reads better than a ragged gap.
        margin = width // 4
        if margin < remaining + len(tag) and margin >= -remaining:
            continue
        tags = tags[:i]
        break
    hidden = total - len(tags)
    return f"{','.join(tags)} + {hidden} more..." if hidden > 0 else ",".join(tags)


def stream_row(stream: Json, now: datetime) -> list[str]:
    latest: datetime | None = None
    for _, stamp in _status_tags(stream):
        created = parse_when(stamp)
        if created is not None and (latest is None or created > latest):
            latest = created
    status = field(stream, "status") or {}
    repository = _text(field(stream, "spec", "dockerImageRepository"))
    repository = repository or _text(status.get("dockerImageRepository"))
    repository = _text(status.get("publicDockerImageRepository")) or repository
    updated = f"{human_duration(since(latest, now))} ago" if latest is not None else ""
    return [_text(field(stream, "metadata", "name")), repository, tags_up_to_width(stream), updated]


def stream_tags(stream: ImageStream) -> list[StreamTag]:
    """The stream's ImageStreamTags: status tags whose current entry names an image, by name."""
    from builder.streams.tags import latest_event  # noqa: PLC0415

    tags = []
    for named in sorted(stream.status.tags, key=lambda n: n.tag):
        event = latest_event(stream, named.tag)
        if event is not None and event.image:
            tags.append(StreamTag(stream, named.tag, event))
    return tags


def stream_tag(stream: ImageStream, name: str) -> StreamTag:
    """``stream:tag`` of ``stream``, or the server's NotFound if it has no image."""
    from builder.streams.tags import latest_event  # noqa: PLC0415

    parts = split_stream_tag(name)
    tag = parts[1] if parts is not None else ""
    event = latest_event(stream, tag)
    if event is None or not event.image:
        raise not_found(IMAGE_STREAM_TAGS, name)
    return StreamTag(stream, tag, event)


def istag_row(item: StreamTag, now: datetime, *, wide: bool = False) -> list[str]:
    from builder.streams.tags import pull_spec  # noqa: PLC0415

    event = item.event
    updated = f"{human_duration(since(parse_when(event.created), now))} ago"
    row = [item.name, pull_spec(item.stream, item.tag, event), updated]
    return [*row, event.image] if wide else row


def istag_object(item: StreamTag) -> dict[str, Any]:
    """The ImageStreamTag as OpenShift's server would show it, from what the stream holds.

    There is no Image object behind it (kbuild keeps no image metadata), so
    ``image`` carries only its name (the digest) and pull spec.
    """
    from builder.api import to_dict  # noqa: PLC0415
    from builder.streams.tags import pull_spec, spec_tag, status_tag  # noqa: PLC0415

    stream, event = item.stream, item.event
    meta = stream.metadata
    ref = spec_tag(stream, item.tag)
    named = status_tag(stream, item.tag)
    metadata: dict[str, Any] = {
        "name": item.name,
        "namespace": meta.namespace,
        "creationTimestamp": event.created,
    }
    if meta.resource_version:
        metadata["resourceVersion"] = meta.resource_version
    if meta.uid:
        metadata["uid"] = meta.uid
    if meta.labels:
        metadata["labels"] = dict(meta.labels)
    if ref is not None and ref.annotations:
        metadata["annotations"] = dict(ref.annotations)
    data: dict[str, Any] = {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStreamTag",
        "metadata": metadata,
        "tag": to_dict(ref) if ref is not None else None,
        "generation": event.generation,
        "lookupPolicy": {"local": stream.spec.lookup_policy.local},
        "image": {
            "metadata": {"name": event.image},
            "dockerImageReference": pull_spec(stream, item.tag, event),
        },
    }
    if named is not None and named.conditions:
        data["conditions"] = [to_dict(c) for c in named.conditions]
    return data


def render_streams(
    streams: Sequence[Json],
    now: datetime,
    *,
    all_namespaces: bool = False,
    with_kind: bool = False,
) -> str:
    rows = []
    for stream in streams:
        row = stream_row(stream, now)
        if with_kind:
            row[0] = IMAGE_STREAMS.ref(row[0])
        rows.append([_namespace_of(stream), *row] if all_namespaces else row)
    return table(["NAMESPACE", *IS_HEADERS] if all_namespaces else IS_HEADERS, rows)


def render_stream_tags(
    items: Sequence[StreamTag],
    now: datetime,
    *,
    all_namespaces: bool = False,
    with_kind: bool = False,
    wide: bool = False,
) -> str:
    rows = []
    for item in items:
        row = istag_row(item, now, wide=wide)
        if with_kind:
            row[0] = IMAGE_STREAM_TAGS.ref(row[0])
        rows.append([item.stream.metadata.namespace, *row] if all_namespaces else row)
    headers = ISTAG_WIDE_HEADERS if wide else ISTAG_HEADERS
    return table(["NAMESPACE", *headers] if all_namespaces else headers, rows)


# ---------------------------------------------------------------------------
# Templates (raw objects: kbuild does not act on them, so no model is needed)


def template_row(template: dict[str, Any]) -> list[str]:
    """openshift-apiserver's ``printTemplate``: first line of the description, params summary."""
    meta = template.get("metadata") or {}
    description = str((meta.get("annotations") or {}).get("description", ""))
    first, newline, _ = description.partition("\n")
    description = first + "..." if newline else first
    params = [p for p in template.get("parameters") or [] if isinstance(p, dict)]
    blank = sum(1 for p in params if not p.get("value") and not p.get("generate"))
    generated = sum(1 for p in params if not p.get("value") and p.get("generate"))
    if blank:
        summary = f"{len(params)} ({blank} blank)"
    elif generated:
        summary = f"{len(params)} ({generated} generated)"
    else:
        summary = f"{len(params)} (all set)"
    return [
        str(meta.get("name", "")),
        description,
        summary,
        str(len(template.get("objects") or [])),
    ]


# ---------------------------------------------------------------------------
# -o name|yaml|json and the template printers

Item = Any
"""A Build, BuildConfig, ImageStream or Template as JSON, a StreamTag, a DeploymentConfig
model; ``kbuild get -w`` also hands Build, BuildConfig and ImageStream models."""

_KINDS = {"Build": BUILDS, "BuildConfig": BUILD_CONFIGS, "ImageStream": IMAGE_STREAMS,
          "DeploymentConfig": DEPLOYMENT_CONFIGS, "Template": TEMPLATES}  # fmt: skip


def resource_of(obj: Item) -> Resource:
    if isinstance(obj, StreamTag):
        return IMAGE_STREAM_TAGS
    kind = obj.get("kind") if isinstance(obj, dict) else obj.kind
    return _KINDS.get(str(kind), TEMPLATES if isinstance(obj, dict) else IMAGE_STREAMS)


def as_json(obj: Item) -> Json:
    """A Build, BuildConfig or ImageStream as its JSON, whichever form it came in."""
    if isinstance(obj, Mapping):
        return obj
    from builder.api import dump  # noqa: PLC0415 - a model: pydantic is loaded already

    return dump(obj)


def _name_of(obj: Item) -> str:
    if isinstance(obj, StreamTag):
        return obj.name
    if isinstance(obj, dict):
        return str((obj.get("metadata") or {}).get("name", ""))
    return str(obj.metadata.name)


def _namespace_of(obj: Item) -> str:
    if isinstance(obj, StreamTag):
        return str(obj.stream.metadata.namespace)
    if isinstance(obj, dict):
        return str((obj.get("metadata") or {}).get("namespace", ""))
    return str(obj.metadata.namespace)


def labels_of(obj: Item) -> dict[str, str]:
    if isinstance(obj, StreamTag):
        return dict(obj.stream.metadata.labels or {})
    if isinstance(obj, dict):
        return {
            str(k): str(v) for k, v in ((obj.get("metadata") or {}).get("labels") or {}).items()
        }
    return dict(obj.metadata.labels or {})


def object_dict(obj: Item) -> dict[str, Any]:
    """The object as ``-o yaml/json`` shows it: managedFields left out, as kubectl does."""
    if isinstance(obj, StreamTag):
        return istag_object(obj)
    data = dict(as_json(obj))
    if isinstance(data.get("metadata"), dict):
        data["metadata"] = {k: v for k, v in data["metadata"].items() if k != "managedFields"}
    return data


def render_objects(objs: Sequence[Item], output: str, single: bool) -> str:
    """``-o name|json|yaml``; several objects (or a list query) become a ``kind: List``."""
    if output == "name":
        return "".join(f"{resource_of(o).ref(_name_of(o))}\n" for o in objs)
    data = (
        object_dict(objs[0])
        if single and len(objs) == 1
        else as_list([object_dict(o) for o in objs])
    )
    if output == "json":
        return json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(data, default_flow_style=False, sort_keys=True))


def render_output(objs: Sequence[Item], output: Output, single: bool) -> str:
    """Any non-table ``-o``: name, json, yaml, the templates, custom columns."""
    if output.kind in ("name", "json", "yaml"):
        return render_objects(objs, output.kind, single)
    if output.kind in ("custom-columns", "custom-columns-file"):
        columns = (
            parse_custom_columns_file(output.template)
            if output.kind == "custom-columns-file"
            else parse_custom_columns(output.template)
        )
        return render_custom_columns(columns, [object_dict(o) for o in objs])
    data = (
        object_dict(objs[0])
        if single and len(objs) == 1
        else as_list([object_dict(o) for o in objs])
    )
    return render_template(output, data)


# ---------------------------------------------------------------------------
# The verb


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "get",
        help="list BuildConfigs, Builds, ImageStreams, their tags, Templates (oc get)",
        description=(
            "Display BuildConfigs, Builds, ImageStreams, ImageStreamTags, DeploymentConfigs "
            "or Templates.  TYPE is bc|buildconfig(s), build(s), is|imagestream(s), "
            "istag|imagestreamtag(s) (named STREAM:TAG), dc or template(s); name objects as "
            "TYPE NAME... or TYPE/NAME..."
        ),
    )
    p.add_argument("args", nargs="+", metavar="TYPE [NAME...] | TYPE/NAME...")
    p.add_argument(
        "-o",
        "--output",
        metavar="FORMAT",
        type=output_flag,
        help=(
            "json, yaml, name, wide, jsonpath=TEMPLATE, jsonpath-file=FILE, "
            "jsonpath-as-json=TEMPLATE, custom-columns=SPEC, custom-columns-file=FILE, "
            "go-template=TEMPLATE, go-template-file=FILE (kubectl's formats)"
        ),
    )
    p.add_argument("-l", "--selector", default="", help="label selector, e.g. app=web")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="list across all namespaces")
    p.add_argument(
        "--sort-by", default="", metavar="JSONPATH", help="sort by a field, e.g. .metadata.name"
    )
    p.add_argument("--show-labels", action="store_true", help="add a LABELS column")
    p.add_argument(
        "-L",
        "--label-columns",
        action="append",
        default=[],
        metavar="KEY[,KEY...]",
        help="add a column with the value of each label key",
    )
    p.add_argument(
        "-w", "--watch", action="store_true", help="after the list, print each change until ^C"
    )
    p.add_argument(
        "--watch-only", action="store_true", help="print each change, without the list first"
    )
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def parse_targets(args: list[str]) -> list[tuple[Resource, str | None]]:
    """``TYPE [NAME...]`` or ``TYPE/NAME...`` (``TYPE`` may be a comma list) to queries."""
    if any("/" in a for a in args):
        if not all("/" in a for a in args):
            raise CliError(
                "there is no need to specify a resource type as a separate argument "
                "when passing arguments in resource/name form"
            )
        return [(r, n) for r, n in (split_ref(a, None, GETTABLE) for a in args)]
    kinds = [resource_named(k, GETTABLE) for k in args[0].split(",") if k]
    if not kinds:
        raise CliError("you must specify the type of resource to get: bc, build, is or istag")
    names = args[1:]
    if names and len(kinds) > 1:
        raise CliError("names can only be given with a single resource type")
    if names:
        return [(kinds[0], n) for n in names]
    return [(k, None) for k in dict.fromkeys(kinds)]


def _fetch(
    client: CustomResources[M],
    resource: Resource,
    namespace: str | None,
    name: str | None,
    selector: str,
) -> list[M]:
    from builder.kube import NotFound  # noqa: PLC0415

    if name is not None:
        try:
            return [client.get(namespace or "", name)]
        except NotFound:
            raise not_found(resource, name) from None
    items, _ = client.list(namespace, label_selector=selector)
    return list(items)


def _fetch_json(
    kube: Kube, resource: Resource, namespace: str | None, name: str | None, selector: str
) -> list[dict[str, Any]]:
    """Builds, BuildConfigs or ImageStreams as the API server sends them (no models)."""
    from builder.kube import BUILD_CONFIGS as BC  # noqa: PLC0415
    from builder.kube import BUILDS as B  # noqa: PLC0415
    from builder.kube import IMAGE_STREAMS as IS  # noqa: PLC0415
    from builder.kube import ApiResource, NotFound  # noqa: PLC0415

    custom = {BUILDS: B, BUILD_CONFIGS: BC, IMAGE_STREAMS: IS}[resource]
    api = ApiResource(custom.api_version, custom.kind, custom.plural, True)
    if name is not None:
        try:
            return [kube.get_raw(api, namespace or "", name)]
        except NotFound:
            raise not_found(resource, name) from None
    items, _ = kube.list_raw(api, namespace, selector)
    return items


def _fetch_stream_tags(
    kube: Kube, namespace: str | None, name: str | None, selector: str
) -> list[StreamTag]:
    if name is None:
        streams = _fetch(kube.image_streams, IMAGE_STREAMS, namespace, None, selector)
        return [t for s in _by_name(streams) for t in stream_tags(s)]
    parts = split_stream_tag(name)
    if parts is None or not parts[0] or name.count(":") > 1 or "@" in name:
        raise CliError("ImageStreamTags must be retrieved with <name>:<tag>")
    stream = _fetch(kube.image_streams, IMAGE_STREAMS, namespace, parts[0], selector)[0]
    return [stream_tag(stream, name)]


def _template_resource() -> ApiResource:
    from builder.kube import ApiResource  # noqa: PLC0415

    return ApiResource(f"{TEMPLATE_GROUP}/v1", "Template", "templates", True)


def _fetch_templates(
    kube: Kube, namespace: str | None, name: str | None, selector: str
) -> list[dict[str, Any]]:
    from builder.kube import NotFound  # noqa: PLC0415

    resource = _template_resource()
    try:
        if name is not None:
            return [kube.get_raw(resource, namespace, name)]
        items, _ = kube.list_raw(resource, namespace, selector)
    except NotFound:
        if name is not None:
            raise not_found(TEMPLATES, name) from None
        raise CliError(
            'the server doesn\'t have a resource type "templates" (install the Template CRD: '
            "kubectl apply -f crds/template.openshift.io_templates.yaml)"
        ) from None
    return sorted(items, key=lambda t: (_namespace_of(t), _name_of(t)))


def _by_name(streams: list[ImageStream]) -> list[ImageStream]:
    return sorted(streams, key=lambda s: (s.metadata.namespace, s.metadata.name))


Fetched = list[Any]
_FETCHERS: dict[Resource, Callable[[Kube, str | None, str | None, str], Fetched]] = {
    BUILDS: lambda kube, ns, name, sel: _fetch_json(kube, BUILDS, ns, name, sel),
    BUILD_CONFIGS: lambda kube, ns, name, sel: _fetch_json(kube, BUILD_CONFIGS, ns, name, sel),
    IMAGE_STREAMS: lambda kube, ns, name, sel: _fetch_json(kube, IMAGE_STREAMS, ns, name, sel),
    IMAGE_STREAM_TAGS: _fetch_stream_tags,
    DEPLOYMENT_CONFIGS: lambda kube, ns, name, sel: _fetch(
        kube.deployment_configs, DEPLOYMENT_CONFIGS, ns, name, sel
    ),
    TEMPLATES: _fetch_templates,
}


# ---------------------------------------------------------------------------
# Tables, with kubectl's decorations


@dataclass(frozen=True)
class TableOptions:
    """What changes a table beyond its kind's columns (``-A``, ``-o wide``, labels, sort)."""

    all_namespaces: bool = False
    wide: bool = False
    label_columns: tuple[str, ...] = ()
    show_labels: bool = False
    sort_by: str = ""
    with_kind: bool = False


def columns_of(resource: Resource, wide: bool) -> list[str]:
    if resource is BUILDS:
        return BUILD_HEADERS
    if resource is BUILD_CONFIGS:
        return BC_HEADERS
    if resource is IMAGE_STREAMS:
        return IS_HEADERS
    if resource is DEPLOYMENT_CONFIGS:
        return DC_HEADERS
    if resource is TEMPLATES:
        return TEMPLATE_HEADERS
    return ISTAG_WIDE_HEADERS if wide else ISTAG_HEADERS


def row_of(resource: Resource, item: Item, now: datetime, wide: bool) -> list[str]:
    if resource is BUILDS:
        return build_row(as_json(item), now)
    if resource is BUILD_CONFIGS:
        return bc_row(as_json(item))
    if resource is IMAGE_STREAMS:
        return stream_row(as_json(item), now)
    if resource is DEPLOYMENT_CONFIGS:
        return dc_row(item)
    if resource is TEMPLATES:
        return template_row(item)
    return istag_row(item, now, wide=wide)


def default_order(resource: Resource, items: Sequence[Item]) -> list[Item]:
    """The order each kind lists in without ``--sort-by`` (builds oldest first, as oc)."""
    if resource is BUILDS:
        return sorted(items, key=lambda b: _creation_key(as_json(b)))
    if resource is DEPLOYMENT_CONFIGS:
        return sorted(items, key=lambda d: (d.metadata.namespace, d.metadata.name))
    return list(items)


def ordered(resource: Resource, items: Sequence[Item], sort_by: str) -> list[Item]:
    if not sort_by:
        return default_order(resource, items)
    key = sort_key(sort_by)
    return sorted(items, key=lambda item: key(object_dict(item)))


def table_rows(
    resource: Resource, items: Sequence[Item], now: datetime, options: TableOptions
) -> tuple[list[str], list[list[str]]]:
    """The headers and rows of one kind's table, decorated as kubectl decorates them."""
    headers = list(columns_of(resource, options.wide))
    headers += label_headers(options.label_columns, options.show_labels)
    if options.all_namespaces:
        headers = ["NAMESPACE", *headers]
    rows = []
    for item in items:
        row = row_of(resource, item, now, options.wide)
        if options.with_kind:
            row[0] = resource.ref(row[0])
        row += label_cells(labels_of(item), options.label_columns, options.show_labels)
        rows.append([_namespace_of(item), *row] if options.all_namespaces else row)
    return headers, rows


def render_tables(
    found: dict[Resource, list[Any]],
    now: datetime,
    *,
    all_namespaces: bool,
    wide: bool,
    options: TableOptions | None = None,
) -> str:
    """One table per kind, in the order asked, blank-line separated; ``kind/name`` if several."""
    base = options or TableOptions()
    opts = TableOptions(
        all_namespaces=all_namespaces,
        wide=wide,
        label_columns=base.label_columns,
        show_labels=base.show_labels,
        sort_by=base.sort_by,
        with_kind=len(found) > 1,
    )
    tables = []
    for resource, items in found.items():
        if items:
            tables.append(
                table(*table_rows(resource, ordered(resource, items, opts.sort_by), now, opts))
            )
    return "\n".join(tables)


def run(ns: argparse.Namespace) -> int:
    targets = parse_targets(ns.args)
    output = parse_output(ns.output)
    if output.kind == "custom-columns":
        parse_custom_columns(output.template)  # a bad spec is an error before any request
    elif output.kind == "custom-columns-file":
        parse_custom_columns_file(output.template)
    kube, namespace = connect(ns)
    scope = None if ns.all_namespaces else namespace
    if ns.all_namespaces and any(name is not None for _, name in targets):
        scope = namespace  # a named object is looked up in the current namespace, as kubectl
    options = TableOptions(
        all_namespaces=scope is None,
        wide=output.kind == "wide",
        label_columns=tuple(split_label_columns(ns.label_columns)),
        show_labels=ns.show_labels,
        sort_by=ns.sort_by,
    )
    if ns.watch or ns.watch_only:
        from builder.cli.getwatch import watch  # noqa: PLC0415

        return watch(
            kube, targets, namespace, scope, ns.selector, output, options, watch_only=ns.watch_only
        )
    found: dict[Resource, list[Any]] = {}
    for resource, name in targets:
        found.setdefault(resource, []).extend(_FETCHERS[resource](kube, scope, name, ns.selector))
    single = len(targets) == 1 and targets[0][1] is not None
    if ns.sort_by:
        everything = [object_dict(i) for items in found.values() for i in items]
        check_sort_field(ns.sort_by, everything)
    if not output.is_table:
        objs = [
            item
            for resource, items in found.items()
            for item in (ordered(resource, items, ns.sort_by) if ns.sort_by else items)
        ]
        if not objs and not single and output.kind not in ("json", "yaml"):
            print(_none_found(scope, namespace), file=sys.stderr)
            return 0
        sys.stdout.write(render_output(objs, output, single))
        return 0
    if not any(found.values()):
        print(_none_found(scope, namespace), file=sys.stderr)
        return 0
    sys.stdout.write(
        render_tables(
            found, utcnow(), all_namespaces=scope is None, wide=options.wide, options=options
        )
    )
    return 0


def _none_found(scope: str | None, namespace: str) -> str:
    where = "" if scope is None else f" in {namespace} namespace"
    return f"No resources found{where}."
