"""The resources kbuild reads and writes, described once.

Custom resources carry their pydantic model so callers get typed objects;
core resources (pods, events, leases) stay plain dicts: kbuild builds them
but never needs their full schema.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomResource:
    group: str
    version: str
    plural: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"


BUILD_CONFIGS = CustomResource("build.openshift.io", "v1", "buildconfigs", "BuildConfig")
BUILDS = CustomResource("build.openshift.io", "v1", "builds", "Build")
IMAGE_STREAMS = CustomResource("image.openshift.io", "v1", "imagestreams", "ImageStream")
