"""What one build run needs to know, independent of where it runs.

The pipeline takes a ``BuildPlan`` rather than the ``Build`` API object so that
its steps depend on a handful of plain fields, not on the width of OpenShift's
schema.  ``builder.pipeline.from_build`` is the one place that turns a Build
(from the cluster, or synthesised by ``kbuild build``) into a plan, which keeps
the pod and the local build on one code path.
"""

from __future__ import annotations

from pathlib import Path

from builder.pipeline.inputs import InputFiles, VolumeInput
from builder.record import Record, field

Pairs = tuple[tuple[str, str], ...]


class GitInput(Record):
    uri: str
    ref: str = ""
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None


class BinaryInput(Record):
    """A directory, an archive (tar, tar.gz, zip) or a single file.

    Locally it is a ``path``; in a build pod it is an ``artifact`` uploaded by
    ``kbuild start-build --from-*`` (``repo@digest``), fetched by the fetch step.
    """

    path: Path | None = None
    as_file: str | None = None
    artifact: str | None = None


class ImageInput(Record):
    """``source.images[i]``: paths copied out of another image into the context.

    ``image`` is a pull spec (stream references were resolved by the
    controller, after its tenancy check); ``authfile`` is the image's own
    pull secret, else the strategy's.
    """

    image: str
    paths: Pairs = ()
    authfile: str | None = None


class SourcePlan(Record):
    git: GitInput | None = None
    binary: BinaryInput | None = None
    dockerfile: str | None = None
    context_dir: str = ""
    secret_dir: Path | None = None
    # source.secrets then source.configMaps (builder.pipeline.inputs).
    inputs: tuple[InputFiles, ...] = ()
    images: tuple[ImageInput, ...] = ()


class SourceStrategyPlan(Record):
    builder_image: str
    scripts_url: str | None = None
    incremental: bool = False
    force_pull: bool = False
    env: Pairs = ()
    volumes: tuple[VolumeInput, ...] = ()
    # s2i's IncrementalFromTag: the image whose artifacts an incremental build
    # reuses, when not the output (OpenShift always uses the output; only
    # ``kbuild build --incremental-from`` sets it).
    incremental_from: str | None = None


class DockerStrategyPlan(Record):
    from_image: str | None = None
    dockerfile_path: str = "Dockerfile"
    build_args: Pairs = ()
    no_cache: bool = False
    force_pull: bool = False
    env: Pairs = ()
    volumes: tuple[VolumeInput, ...] = ()
    # imageOptimizationPolicy None (the default) commits a layer per
    # instruction, as ``docker build`` does (buildah --layers, which also
    # reuses cached steps); SkipLayers/SkipLayersAndWarn commit the
    # Dockerfile's changes as one layer on the base image's (OpenShift's
    # builder makes the same choice).
    layers: bool = True


class PostCommitPlan(Record):
    """OpenShift's postCommit: script runs via ``/bin/sh -ic``; command/args exec directly."""

    script: str = ""
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()

    def argv(self) -> list[str]:
        if self.script:
            return ["/bin/sh", "-ic", self.script, *self.args]
        if self.command:
            return [*self.command, *self.args]
        return list(self.args)


class BuildPlan(Record):
    source: SourcePlan
    strategy: SourceStrategyPlan | DockerStrategyPlan
    # Where to push; None builds without pushing (OpenShift allows no output).
    output: str | None = None
    # Build identity, for OPENSHIFT_BUILD_* env and io.openshift.build.* labels;
    # empty for local one-shot builds, which have no Build object.
    name: str = ""
    namespace: str = ""
    image_labels: Pairs = ()
    post_commit: PostCommitPlan | None = None
    insecure_registries: frozenset[str] = field(default_factory=frozenset)
    pull_authfile: str | None = None
    push_authfile: str | None = None
    # Resolved env valueFrom.secretKeyRef values: masked in every step's log
    # (the ENV lines buildah prints hold them).
    secret_values: tuple[str, ...] = ()
    # spec.mountTrustedCA: the RUN steps see this bundle (system CAs plus the
    # cluster's) at OpenShift's path; None when not asked for.
    trusted_ca: str | None = None

    @property
    def kind(self) -> str:
        return "Source" if isinstance(self.strategy, SourceStrategyPlan) else "Docker"
