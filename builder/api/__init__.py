"""The schema: OpenShift build and image API models, and typed failure reasons.

This package imports nothing else of ours; everything else may import it.

Modules: ``base`` (KubeModel, time/quantity types, ``to_dict``, unimplemented
fields), ``core`` (Kubernetes types the OpenShift ones embed), ``build``
(build.openshift.io/v1), ``image`` (image.openshift.io/v1), ``constants``
(groups, kinds, labels, annotations), ``manifest`` (load and dump),
``crdgen`` (CRDs in crds/), ``reasons`` (StatusReason, BuildError).
"""

from typing import TYPE_CHECKING, Any

from builder.api.envnames import ENV_NAME_RULE, check_env_names, is_env_name
from builder.api.lazy import lazy_export
from builder.api.reasons import STATUS_MESSAGES, BuildError, StatusReason

# The models are loaded on first use, not on ``import builder.api``: building
# every pydantic model costs ~0.2 s, and the most common importers (the
# pipeline steps, a flag-driven ``kbuild build``) only need BuildError.
if TYPE_CHECKING:
    from builder.api.base import (
        KubeModel,
        Quantity,
        Time,
        Unimplemented,
        to_dict,
        unimplemented_fields_in_use,
    )
    from builder.api.build import (
        Build,
        BuildConfig,
        BuildConfigSpec,
        BuildConfigStatus,
        BuildOutput,
        BuildPhase,
        BuildRequest,
        BuildRunPolicy,
        BuildSource,
        BuildSourceType,
        BuildSpec,
        BuildStatus,
        BuildStrategy,
        BuildStrategyType,
        BuildTriggerCause,
        BuildTriggerPolicy,
        BuildTriggerType,
        CommonSpec,
        DockerBuildStrategy,
        GitBuildSource,
        ImageChangeTrigger,
        ImageLabel,
        SourceBuildStrategy,
        WebHookTrigger,
    )
    from builder.api.core import EnvVar, LocalObjectReference, ObjectMeta, ObjectReference
    from builder.api.image import (
        ImageStream,
        ImageStreamSpec,
        ImageStreamStatus,
        NamedTagEventList,
        TagEvent,
        TagReference,
    )
    from builder.api.manifest import KubeObject, load_manifests, parse_object
    from builder.api.times import format_time, now_time, parse_time
    from builder.api.triggers import (
        ObjectFieldTrigger,
        TriggerAnnotationError,
        TriggerSource,
        dump_triggers,
        parse_triggers,
    )
    from builder.api.validation import ManifestError, dump, parse_as

_LAZY: dict[str, str] = {
    "Build": "builder.api.build",
    "BuildConfig": "builder.api.build",
    "BuildConfigSpec": "builder.api.build",
    "BuildConfigStatus": "builder.api.build",
    "BuildOutput": "builder.api.build",
    "BuildPhase": "builder.api.build",
    "BuildRequest": "builder.api.build",
    "BuildRunPolicy": "builder.api.build",
    "BuildSource": "builder.api.build",
    "BuildSourceType": "builder.api.build",
    "BuildSpec": "builder.api.build",
    "BuildStatus": "builder.api.build",
    "BuildStrategy": "builder.api.build",
    "BuildStrategyType": "builder.api.build",
    "BuildTriggerCause": "builder.api.build",
    "BuildTriggerPolicy": "builder.api.build",
    "BuildTriggerType": "builder.api.build",
    "CommonSpec": "builder.api.build",
    "DockerBuildStrategy": "builder.api.build",
    "EnvVar": "builder.api.core",
    "GitBuildSource": "builder.api.build",
    "ImageChangeTrigger": "builder.api.build",
    "ImageLabel": "builder.api.build",
    "ImageStream": "builder.api.image",
    "ImageStreamSpec": "builder.api.image",
    "ImageStreamStatus": "builder.api.image",
    "KubeModel": "builder.api.base",
    "KubeObject": "builder.api.manifest",
    "LocalObjectReference": "builder.api.core",
    "ManifestError": "builder.api.validation",
    "NamedTagEventList": "builder.api.image",
    "ObjectFieldTrigger": "builder.api.triggers",
    "ObjectMeta": "builder.api.core",
    "ObjectReference": "builder.api.core",
    "Quantity": "builder.api.base",
    "SourceBuildStrategy": "builder.api.build",
    "TagEvent": "builder.api.image",
    "TagReference": "builder.api.image",
    "Time": "builder.api.base",
    "TriggerAnnotationError": "builder.api.triggers",
    "TriggerSource": "builder.api.triggers",
    "Unimplemented": "builder.api.base",
    "WebHookTrigger": "builder.api.build",
    "dump": "builder.api.validation",
    "dump_triggers": "builder.api.triggers",
    "format_time": "builder.api.times",
    "load_manifests": "builder.api.manifest",
    "now_time": "builder.api.times",
    "parse_as": "builder.api.validation",
    "parse_object": "builder.api.manifest",
    "parse_time": "builder.api.times",
    "parse_triggers": "builder.api.triggers",
    "to_dict": "builder.api.base",
    "unimplemented_fields_in_use": "builder.api.base",
}


def __getattr__(name: str) -> Any:
    return lazy_export(__name__, globals(), _LAZY, name)


__all__ = [
    "ENV_NAME_RULE",
    "STATUS_MESSAGES",
    "Build",
    "BuildConfig",
    "BuildConfigSpec",
    "BuildConfigStatus",
    "BuildError",
    "BuildOutput",
    "BuildPhase",
    "BuildRequest",
    "BuildRunPolicy",
    "BuildSource",
    "BuildSourceType",
    "BuildSpec",
    "BuildStatus",
    "BuildStrategy",
    "BuildStrategyType",
    "BuildTriggerCause",
    "BuildTriggerPolicy",
    "BuildTriggerType",
    "CommonSpec",
    "DockerBuildStrategy",
    "EnvVar",
    "GitBuildSource",
    "ImageChangeTrigger",
    "ImageLabel",
    "ImageStream",
    "ImageStreamSpec",
    "ImageStreamStatus",
    "KubeModel",
    "KubeObject",
    "LocalObjectReference",
    "ManifestError",
    "NamedTagEventList",
    "ObjectFieldTrigger",
    "ObjectMeta",
    "ObjectReference",
    "Quantity",
    "SourceBuildStrategy",
    "StatusReason",
    "TagEvent",
    "TagReference",
    "Time",
    "TriggerAnnotationError",
    "TriggerSource",
    "Unimplemented",
    "WebHookTrigger",
    "check_env_names",
    "dump",
    "dump_triggers",
    "format_time",
    "is_env_name",
    "load_manifests",
    "now_time",
    "parse_as",
    "parse_object",
    "parse_time",
    "parse_triggers",
    "to_dict",
    "unimplemented_fields_in_use",
]
