"""``kbuild get bc|build [NAME...]``: ``oc get``'s tables for BuildConfigs and Builds.

The columns are the ones the OpenShift API server prints for these kinds
(openshift-apiserver's build printers): builds ``NAME TYPE FROM STATUS
STARTED DURATION``, build configs ``NAME TYPE FROM LATEST``.  FROM is the
source kind and revision (``Git@abc1234``); STATUS carries the reason of a
failure (``Failed (DockerBuildFailed)``), which is what people grep for.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    CliError,
    Resource,
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

if TYPE_CHECKING:
    from builder.api import Build, BuildConfig, CommonSpec
    from builder.kube import CustomResources

M = TypeVar("M", "Build", "BuildConfig")

OUTPUTS = ("yaml", "json", "name", "wide")
_NOT_A_COMMIT = re.compile(r"[^a-fA-F0-9]")
BUILD_HEADERS = ["NAME", "TYPE", "FROM", "STATUS", "STARTED", "DURATION"]
BC_HEADERS = ["NAME", "TYPE", "FROM", "LATEST"]


# ---------------------------------------------------------------------------
# Pure formatting


def strategy_type(spec: CommonSpec) -> str:
    strategy = spec.strategy
    if strategy.docker_strategy is not None:
        return "Docker"
    if strategy.custom_strategy is not None:
        return "Custom"
    if strategy.source_strategy is not None:
        return "Source"
    if strategy.jenkins_pipeline_strategy is not None:
        return "JenkinsPipeline"
    return ""


def git_revision(spec: CommonSpec) -> str:
    """The commit built (shortened to 7 if it is a full hash), else the ref asked for."""
    rev = ""
    if spec.revision is not None and spec.revision.git is not None:
        rev = spec.revision.git.commit
    if not rev and spec.source.git is not None:
        rev = spec.source.git.ref
    if not _NOT_A_COMMIT.search(rev) and len(rev) > 20:
        rev = rev[:7]
    return rev


def source_short(spec: CommonSpec) -> str:
    source = spec.source
    if source.binary is not None:
        kind = "Binary"
    elif source.dockerfile is not None and source.git is not None:
        kind = "Dockerfile,Git"
    elif source.dockerfile is not None:
        return "Dockerfile"
    elif source.git is not None:
        kind = "Git"
    else:
        return ""
    rev = git_revision(spec)
    return f"{kind}@{rev}" if rev else kind


def build_status(build: Build) -> str:
    phase = build.status.phase.value
    return f"{phase} ({build.status.reason})" if build.status.reason else phase


def build_row(build: Build, now: datetime) -> list[str]:
    started = parse_when(build.status.start_timestamp)
    return [
        build.metadata.name,
        strategy_type(build.spec),
        source_short(build.spec),
        build_status(build),
        f"{human_duration(since(started, now))} ago" if started is not None else "",
        go_duration(build.status.duration) if build.status.duration > 0 else "",
    ]


def bc_row(bc: BuildConfig) -> list[str]:
    custom = bc.spec.strategy.custom_strategy
    source = custom.from_.name if custom is not None else source_short(bc.spec)
    return [bc.metadata.name, strategy_type(bc.spec), source, str(bc.status.last_version)]


def _creation_key(obj: Build | BuildConfig) -> tuple[str, str]:
    return (obj.metadata.creation_timestamp or "", obj.metadata.name)


def render_builds(
    builds: list[Build], now: datetime, *, all_namespaces: bool = False, with_kind: bool = False
) -> str:
    rows = []
    for build in sorted(builds, key=_creation_key):
        row = build_row(build, now)
        if with_kind:
            row[0] = BUILDS.ref(row[0])
        rows.append([build.metadata.namespace, *row] if all_namespaces else row)
    headers = ["NAMESPACE", *BUILD_HEADERS] if all_namespaces else BUILD_HEADERS
    return table(headers, rows)


def render_build_configs(
    bcs: list[BuildConfig], *, all_namespaces: bool = False, with_kind: bool = False
) -> str:
    rows = []
    for bc in bcs:
        row = bc_row(bc)
        if with_kind:
            row[0] = BUILD_CONFIGS.ref(row[0])
        rows.append([bc.metadata.namespace, *row] if all_namespaces else row)
    headers = ["NAMESPACE", *BC_HEADERS] if all_namespaces else BC_HEADERS
    return table(headers, rows)


def object_dict(obj: Build | BuildConfig) -> dict[str, Any]:
    """The object as ``-o yaml/json`` shows it: managedFields left out, as kubectl does."""
    from builder.api import dump  # noqa: PLC0415

    data = dump(obj)
    data.get("metadata", {}).pop("managedFields", None)
    return data


def render_objects(objs: list[Build | BuildConfig], output: str, single: bool) -> str:
    """``-o name|json|yaml``; several objects (or a list query) become a ``kind: List``."""
    if output == "name":
        return "".join(
            f"{(BUILDS if o.kind == 'Build' else BUILD_CONFIGS).ref(o.metadata.name)}\n"
            for o in objs
        )
    data: dict[str, Any]
    if single and len(objs) == 1:
        data = object_dict(objs[0])
    else:
        data = {
            "apiVersion": "v1",
            "items": [object_dict(o) for o in objs],
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        }
    if output == "json":
        return json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(data, default_flow_style=False, sort_keys=True))


# ---------------------------------------------------------------------------
# The verb


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "get",
        help="list BuildConfigs and Builds (oc get bc/build)",
        description=(
            "Display BuildConfigs or Builds.  TYPE is bc|buildconfig(s) or build(s); "
            "name objects as TYPE NAME... or TYPE/NAME..."
        ),
    )
    p.add_argument("args", nargs="+", metavar="TYPE [NAME...] | TYPE/NAME...")
    p.add_argument("-o", "--output", choices=OUTPUTS, help="yaml, json, name (wide = default)")
    p.add_argument("-l", "--selector", default="", help="label selector, e.g. app=web")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="list across all namespaces")
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
        return [(r, n) for r, n in (split_ref(a, None) for a in args)]
    kinds = [resource_named(k) for k in args[0].split(",") if k]
    if not kinds:
        raise CliError("you must specify the type of resource to get: bc or build")
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


def run(ns: argparse.Namespace) -> int:
    targets = parse_targets(ns.args)
    kube, namespace = connect(ns)
    scope = None if ns.all_namespaces else namespace
    if ns.all_namespaces and any(name is not None for _, name in targets):
        scope = namespace  # a named object is looked up in the current namespace, as kubectl
    builds: list[Build] = []
    bcs: list[BuildConfig] = []
    order: list[Resource] = []
    for resource, name in targets:
        if resource not in order:
            order.append(resource)
        if resource is BUILDS:
            builds.extend(_fetch(kube.builds, resource, scope, name, ns.selector))
        else:
            bcs.extend(_fetch(kube.build_configs, resource, scope, name, ns.selector))
    single = len(targets) == 1 and targets[0][1] is not None
    if ns.output in ("yaml", "json", "name"):
        everything: list[Build | BuildConfig] = []
        for resource in order:
            everything.extend(builds if resource is BUILDS else bcs)
        sys.stdout.write(render_objects(everything, ns.output, single))
        return 0
    if not builds and not bcs:
        where = "" if scope is None else f" in {namespace} namespace"
        print(f"No resources found{where}.", file=sys.stderr)
        return 0
    with_kind = len(order) > 1
    all_ns = scope is None
    tables = []
    for resource in order:
        if resource is BUILDS and builds:
            tables.append(
                render_builds(builds, utcnow(), all_namespaces=all_ns, with_kind=with_kind)
            )
        elif resource is BUILD_CONFIGS and bcs:
            tables.append(render_build_configs(bcs, all_namespaces=all_ns, with_kind=with_kind))
    sys.stdout.write("\n".join(tables))
    return 0
