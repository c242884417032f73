"""Names, numbers and labels of Builds and build pods: one spelling for every writer and reader.

OpenShift's API server names Build ``n`` of BuildConfig ``bc`` ``<bc>-<n>``,
records ``n`` and ``bc`` in annotations, and labels the Build with the
BuildConfig's name (cut to a label value) and run policy; its build
controller names the pod ``<build>-build``.  kbuild's controller creates
these and its CLI finds them (``logs``, ``describe``, ``cancel-build``,
``start-build --from-build``), so the rules live here, below both.
"""

from __future__ import annotations

from builder.api import Build
from builder.api.constants import (
    BUILD_CONFIG_ANNOTATION,
    BUILD_CONFIG_LABEL,
    BUILD_CONFIG_LABEL_DEPRECATED,
    BUILD_NUMBER_ANNOTATION,
    BUILD_RUN_POLICY_LABEL,
)
from builder.api.labels import label_value

POD_NAME_MAX = 253
POD_SUFFIX = "build"


def build_name(config: str, number: int) -> str:
    """``<bc>-<n>``, OpenShift's name for build ``number`` of BuildConfig ``config``."""
    return f"{config}-{number}"


def build_labels(config: str, run_policy: str) -> dict[str, str]:
    """The labels instantiate gives a Build: its BuildConfig (both keys) and run policy."""
    return {
        BUILD_CONFIG_LABEL_DEPRECATED: label_value(config),
        BUILD_CONFIG_LABEL: label_value(config),
        BUILD_RUN_POLICY_LABEL: run_policy,
    }


def build_annotations(config: str, number: int) -> dict[str, str]:
    """The annotations that keep what a label cannot: the whole BuildConfig name, the number."""
    return {BUILD_CONFIG_ANNOTATION: config, BUILD_NUMBER_ANNOTATION: str(number)}


def build_number(build: Build) -> int:
    """The Build's number (annotation); 0 when absent or not a plain decimal."""
    value = (build.metadata.annotations or {}).get(BUILD_NUMBER_ANNOTATION, "")
    # isascii: "²".isdigit() is true and int("²") raises; the annotation is the tenant's.
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else 0


def config_name(build: Build) -> str:
    """The BuildConfig a Build belongs to: the annotation (whole name), else the label."""
    annotations = build.metadata.annotations or {}
    labels = build.metadata.labels or {}
    return annotations.get(BUILD_CONFIG_ANNOTATION) or labels.get(BUILD_CONFIG_LABEL, "")


def fnv32a(text: str) -> str:
    """FNV-1a, 32 bits, in hex: the hash OpenShift's ``naming.GetName`` puts in cut names."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def build_pod_name(build_name: str) -> str:
    """``<build>-build``; too long a name is cut and hashed as OpenShift's ``naming.GetName``."""
    name = f"{build_name}-{POD_SUFFIX}"
    if len(name) <= POD_NAME_MAX:
        return name
    keep = POD_NAME_MAX - 10 - len(POD_SUFFIX)
    return f"{build_name[:keep]}-{fnv32a(build_name)}-{POD_SUFFIX}"


def pod_name(build: Build) -> str:
    """The name of ``build``'s pod."""
    return build_pod_name(build.metadata.name)


__all__ = [
    "POD_NAME_MAX",
    "build_annotations",
    "build_labels",
    "build_name",
    "build_number",
    "build_pod_name",
    "config_name",
    "fnv32a",
    "pod_name",
]
