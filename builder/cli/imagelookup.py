"""``kbuild set image-lookup``: let short image names resolve through image streams, as oc.

- ``set image-lookup IS...`` (or ``is/IS``, ``--all``) sets the streams'
  ``spec.lookupPolicy.local`` (``--enabled=false`` clears it): pods and pod
  templates of the namespace naming ``IS[:TAG]`` then run the tag's image,
  resolved by the controller's admission webhook
  (``builder.controller.admission``).
- ``set image-lookup deploy/NAME`` (any workload kind ``set triggers``
  takes, and ``dc/NAME``) sets the annotation
  ``alpha.image.policy.openshift.io/resolve-names: '*'`` on the pod
  template, so that every short name in it resolves through the
  namespace's streams, whatever their lookup policy.
- ``--list`` prints ``NAME  LOCAL`` for the streams named (all of the
  namespace without names) and whether each workload named resolves names.

Output lines are oc's: ``imagestream.image.openshift.io/ruby image lookup
updated``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from builder.cli.common import (
    IMAGE_STREAMS,
    WORKLOADS,
    CliError,
    Resource,
    add_cluster_flags,
    connect,
    not_found,
    run_guarded,
    split_ref,
    table,
)
from builder.cli.dc import DEPLOYMENT_CONFIGS

if TYPE_CHECKING:
    from builder.api import ImageStream
    from builder.kube import Kube

RESOLVE_NAMES_ANNOTATION = "alpha.image.policy.openshift.io/resolve-names"
TARGETS = (IMAGE_STREAMS, *WORKLOADS, DEPLOYMENT_CONFIGS)
# Where each kind keeps its pod template's metadata (JSON pointer).
TEMPLATE_METADATA = {"CronJob": "/spec/jobTemplate/spec/template/metadata"}
DEFAULT_TEMPLATE_METADATA = "/spec/template/metadata"


def parse_targets(args: list[str]) -> list[tuple[Resource, str]]:
    """Bare names are image streams (``oc set image-lookup ruby``); else ``TYPE/NAME``."""
    return [split_ref(arg, IMAGE_STREAMS, TARGETS) for arg in args]


def set_local(stream: ImageStream, enabled: bool) -> bool:
    """Set the stream's lookup policy; whether it changed."""
    if stream.spec.lookup_policy.local == enabled:
        return False
    stream.spec.lookup_policy.local = enabled
    return True


def _pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _at(obj: Any, pointer: str) -> Any:
    for part in pointer.strip("/").split("/"):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def template_resolves(obj: dict[str, Any], kind: str) -> bool:
    meta = _at(obj, TEMPLATE_METADATA.get(kind, DEFAULT_TEMPLATE_METADATA))
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    return isinstance(annotations, dict) and annotations.get(RESOLVE_NAMES_ANNOTATION) == "*"


def template_patch(obj: dict[str, Any], kind: str, enabled: bool) -> list[dict[str, Any]]:
    """The JSON patch that sets (or removes) the annotation on the pod template; [] if none."""
    path = TEMPLATE_METADATA.get(kind, DEFAULT_TEMPLATE_METADATA)
    meta = _at(obj, path)
    if not isinstance(meta, dict):
        raise CliError(f"{kind.lower()} has no pod template")
    annotations = meta.get("annotations")
    has = isinstance(annotations, dict) and RESOLVE_NAMES_ANNOTATION in annotations
    key = f"{path}/annotations/{_pointer_token(RESOLVE_NAMES_ANNOTATION)}"
    if not enabled:
        return [{"op": "remove", "path": key}] if has else []
    if template_resolves(obj, kind):
        return []
    if not isinstance(annotations, dict):
        return [
            {"op": "add", "path": f"{path}/annotations", "value": {RESOLVE_NAMES_ANNOTATION: "*"}}
        ]
    return [{"op": "add", "path": key, "value": "*"}]


def stream_table(streams: list[ImageStream]) -> str:
    rows = [
        [s.metadata.name, "true" if s.spec.lookup_policy.local else "false"]
        for s in sorted(streams, key=lambda s: s.metadata.name)
    ]
    return table(["NAME", "LOCAL"], rows)


def add_subparser(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = verbs.add_parser(
        "image-lookup",
        help="let pods use image streams by short name (oc set image-lookup)",
        description=(
            "Resolve short image names (NAME[:TAG]) of the namespace's pods through image "
            "streams: for the streams named (spec.lookupPolicy.local), or for every name in "
            "the pod template of the workloads named (annotation "
            f"{RESOLVE_NAMES_ANNOTATION}='*').  The controller's admission webhook does the "
            "resolving."
        ),
    )
    p.add_argument("targets", nargs="*", metavar="IS | TYPE/NAME", help="e.g. ruby, deploy/app")
    p.add_argument("--all", action="store_true", help="every image stream of the namespace")
    p.add_argument(
        "--enabled",
        action="store_true",
        default=True,
        help="resolve short names (default); --enabled=false stops it",
    )
    p.add_argument("--list", action="store_true", help="print whether each target resolves names")
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def run(ns: argparse.Namespace) -> int:
    targets = parse_targets(list(ns.targets))
    if not targets and not ns.all and not ns.list:
        raise CliError("you must specify one or more image streams or workloads (or --all)")
    if ns.all and any(resource is not IMAGE_STREAMS for resource, _ in targets):
        raise CliError("--all selects image streams only")
    kube, namespace = connect(ns)
    if ns.all or (ns.list and not targets):
        streams, _ = kube.image_streams.list(namespace)
        targets = [*targets, *((IMAGE_STREAMS, s.metadata.name) for s in streams)]
        targets = list(dict.fromkeys(targets))
    if ns.list:
        sys.stdout.write(_list(kube, namespace, targets))
        return 0
    for resource, name in targets:
        changed = _update(kube, namespace, resource, name, bool(ns.enabled))
        print(f"{resource.ref(name)} image lookup {'updated' if changed else 'unchanged'}")
    return 0


def _list(kube: Kube, namespace: str, targets: list[tuple[Resource, str]]) -> str:
    streams = [_stream(kube, namespace, n) for r, n in targets if r is IMAGE_STREAMS]
    text = stream_table(streams) if streams or not targets else ""
    others = [(r, n) for r, n in targets if r is not IMAGE_STREAMS]
    if others:
        resolves = [template_resolves(_workload(kube, namespace, r, n), r.kind) for r, n in others]
        rows = [[r.ref(n), str(on).lower()] for (r, n), on in zip(others, resolves, strict=True)]
        text += table(["NAME", "LOCAL"], rows)
    return text


def _stream(kube: Kube, namespace: str, name: str) -> ImageStream:
    from builder.kube import NotFound  # noqa: PLC0415

    try:
        return kube.image_streams.get(namespace, name)
    except NotFound:
        raise not_found(IMAGE_STREAMS, name) from None


def _workload(kube: Kube, namespace: str, resource: Resource, name: str) -> dict[str, Any]:
    from builder.api import dump  # noqa: PLC0415
    from builder.kube import WORKLOADS as KUBE_WORKLOADS  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    try:
        if resource is DEPLOYMENT_CONFIGS:
            return dump(kube.deployment_configs.get(namespace, name))
        return kube.get_object(KUBE_WORKLOADS[resource.kind], namespace, name)
    except NotFound:
        raise not_found(resource, name) from None


def _update(kube: Kube, namespace: str, resource: Resource, name: str, enabled: bool) -> bool:
    from builder.kube import WORKLOADS as KUBE_WORKLOADS  # noqa: PLC0415

    if resource is IMAGE_STREAMS:
        stream = _stream(kube, namespace, name)
        if not set_local(stream, enabled):
            return False
        kube.image_streams.replace(stream)
        return True
    if resource is DEPLOYMENT_CONFIGS:
        dc = kube.deployment_configs.get(namespace, name)
        template = dict(dc.spec.template or {})
        patch = template_patch({"spec": {"template": template}}, "DeploymentConfig", enabled)
        if not patch:
            return False
        meta = dict(template.get("metadata") or {})
        annotations = dict(meta.get("annotations") or {})
        if enabled:
            annotations[RESOLVE_NAMES_ANNOTATION] = "*"
        else:
            annotations.pop(RESOLVE_NAMES_ANNOTATION, None)
        template["metadata"] = {**meta, "annotations": annotations}
        dc.spec.template = template
        kube.deployment_configs.replace(dc)
        return True
    obj = _workload(kube, namespace, resource, name)
    patch = template_patch(obj, resource.kind, enabled)
    if not patch:
        return False
    version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
    test = [{"op": "test", "path": "/metadata/resourceVersion", "value": version}]
    kube.patch_object(KUBE_WORKLOADS[resource.kind], namespace, name, [*test, *patch])
    return True


__all__ = [
    "RESOLVE_NAMES_ANNOTATION",
    "add_subparser",
    "parse_targets",
    "set_local",
    "stream_table",
    "template_patch",
    "template_resolves",
]
