"""Field paths of the ``image.openshift.io/triggers`` annotation.

A trigger names the container whose image it sets with a JSONPath-like
field path under the workload's pod template, the way ``oc set triggers``
writes it::

    spec.template.spec.containers[?(@.name=="app")].image
    spec.template.spec.initContainers[?(@.name=="migrate")].image
    spec.jobTemplate.spec.template.spec.containers[?(@.name=="app")].image   (CronJob)
    spec.template.spec.containers[0].image                                   (by index)

Only these shapes are accepted: a trigger that could write anywhere else in
the object would be a way to change fields the user never meant to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POD_SPEC_PATHS: dict[str, str] = {
    "Deployment": "spec.template.spec",
    "StatefulSet": "spec.template.spec",
    "DaemonSet": "spec.template.spec",
    "Job": "spec.template.spec",
    "CronJob": "spec.jobTemplate.spec.template.spec",
}
"""Where each workload kind keeps its pod spec."""

# ``==`` only: JSONPath has no ``=`` operator (client-go's jsonpath refuses it),
# so an annotation using it would work here and nowhere else.  An index is
# at most nine ASCII digits: int() of 4301 digits raises ValueError, which
# is not the FieldPathError callers expect.
_SELECTOR = re.compile(
    r"""\[(?:\?\(@\.name\s*==\s*(?:"(?P<dq>[^"]+)"|'(?P<sq>[^']+)')\s*\)|(?P<index>[0-9]{1,9}))\]\.image"""
)


def pod_spec(obj: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The pod spec inside a workload object of ``kind`` (empty if it has none)."""
    node: Any = obj
    for key in POD_SPEC_PATHS.get(kind, "-").split("."):
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, dict) else {}


class FieldPathError(ValueError):
    """A field path kbuild will not follow; the message says why."""


@dataclass(frozen=True)
class ContainerPath:
    """A container of the pod spec, by name or by position."""

    init: bool
    name: str | None = None
    index: int | None = None

    @property
    def list_name(self) -> str:
        return "initContainers" if self.init else "containers"

    def describe(self) -> str:
        what = "init container" if self.init else "container"
        return f'{what} "{self.name}"' if self.name is not None else f"{what} #{self.index}"


def container_field_path(kind: str, container: str, *, init: bool = False) -> str:
    """The field path ``oc set triggers -c NAME`` writes for a container of ``kind``."""
    spec = POD_SPEC_PATHS.get(kind)
    if spec is None:
        raise FieldPathError(f"{kind} has no pod template kbuild can update")
    return f'{spec}.{"initContainers" if init else "containers"}[?(@.name=="{container}")].image'


def parse_field_path(kind: str, field_path: str) -> ContainerPath:
    """The container a field path selects in a workload of ``kind``."""
    spec = POD_SPEC_PATHS.get(kind)
    if spec is None:
        raise FieldPathError(f"{kind} has no pod template kbuild can update")
    for list_name, init in (("initContainers", True), ("containers", False)):
        prefix = f"{spec}.{list_name}"
        if field_path.startswith(prefix):
            match = _SELECTOR.fullmatch(field_path[len(prefix) :])
            if match is None:
                break
            if match.group("index") is not None:
                return ContainerPath(init=init, index=int(match.group("index")))
            name = match.group("dq") if match.group("dq") is not None else match.group("sq")
            return ContainerPath(init=init, name=name)
    raise FieldPathError(
        f"field path {field_path!r} must select a container image of the {kind}'s pod "
        f'template, e.g. {spec}.containers[?(@.name=="app")].image'
    )
