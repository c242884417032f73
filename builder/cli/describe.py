"""``kbuild describe bc/NAME|build/NAME|is/NAME``: ``oc describe`` for builds and streams.

The text follows oc's build describers (oc ``pkg/helpers/describe``) line for
line, including their tab alignment, so what people know from OpenShift reads
the same here.  One addition: a failed build gets a ``Reason:`` line under
``Status:`` with the machine-readable reason (``DockerBuildFailed``), which oc
only shows in ``oc get``.  The text is produced by pure functions of the
objects, their events and the current time.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from builder.cli.common import (
    BUILD_CONFIGS,
    BUILDS,
    IMAGE_STREAM_TAGS,
    IMAGE_STREAMS,
    CliError,
    Resource,
    add_cluster_flags,
    builds_of,
    connect,
    go_duration,
    go_seconds,
    human_duration,
    not_found,
    parse_when,
    resource_named,
    run_guarded,
    short_age,
    split_ref,
    tabwrite,
    utcnow,
)
from builder.cli.get import strategy_type

if TYPE_CHECKING:
    from builder.api import Build, BuildConfig, CommonSpec, ObjectMeta
    from builder.api.build import (
        BuildTriggerCause,
        BuildTriggerPolicy,
        BuildVolume,
        DockerBuildStrategy,
        SourceBuildStrategy,
        SourceRevision,
    )
    from builder.kube import Kube

NONE = "<none>"
RECENT_BUILDS = 10


class Text:
    """What oc's describers write into their tabwriter, before alignment."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def field(self, label: str, value: object) -> None:
        """oc's ``formatString``: ``Label:<TAB>value``, one cell per line of the value."""
        text = str(value) if value is not None else ""
        lines = (text or NONE).split("\n")
        self.parts.append(f"{label}:" + "".join(f"\t{line}\n" for line in lines))

    def mapping(self, label: str, items: Mapping[str, str]) -> None:
        if not items:
            self.field(label, "")
            return
        for i, key in enumerate(sorted(items)):
            if i == 0:
                self.field(label, f"{key}={items[key]}")
            else:
                self.parts.append(f"\t{key}={items[key]}\n")

    def render(self) -> str:
        return tabwrite("".join(self.parts))


def rfc1123(moment: datetime, tz: tzinfo | None = None) -> str:
    """Go's ``time.RFC1123`` in the local zone (or ``tz``): ``Mon, 02 Jan 2006 15:04:05 MST``."""
    return moment.astimezone(tz).strftime("%a, %d %b %Y %H:%M:%S %Z")


def go_time(moment: datetime) -> str:
    """Go's ``time.Time.String`` of a UTC time: ``2006-01-02 15:04:05 +0000 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def _seconds(later: datetime | None, earlier: datetime | None) -> float:
    if later is None or earlier is None:
        return 0.0
    return (later - earlier).total_seconds()


def build_duration(build: Build, now: datetime) -> str:
    """oc's ``describeBuildDuration``: waiting for / running for / waited for / the duration."""
    now = now.replace(microsecond=0)
    created = parse_when(build.metadata.creation_timestamp)
    started = parse_when(build.status.start_timestamp)
    completed = parse_when(build.status.completion_timestamp)
    phase = build.status.phase.value
    if started is None and completed is not None and phase in ("Cancelled", "Failed", "Error"):
        return f"waited for {go_seconds(_seconds(completed, created))}"
    if started is None and phase != "Cancelled":
        return f"waiting for {go_seconds(_seconds(now, created))}"
    if started is not None and completed is None:
        return f"running for {go_seconds(_seconds(now, started))}"
    if started is None or completed is None:
        return NONE
    return go_seconds(_seconds(completed, started))


def describe_meta(
    out: Text, meta: ObjectMeta, now: datetime, hidden: frozenset[str] = frozenset()
) -> None:
    """Name, Namespace, Created, Labels, Annotations (less ``hidden`` bookkeeping ones)."""
    out.field("Name", meta.name)
    if meta.namespace:
        out.field("Namespace", meta.namespace)
    created = parse_when(meta.creation_timestamp)
    if created is not None:
        out.raw(f"Created:\t{human_duration(_seconds(now, created))} ago\n")
    out.mapping("Labels", meta.labels or {})
    annotations = {k: v for k, v in (meta.annotations or {}).items() if k not in hidden}
    description = annotations.pop("description", "")
    if description:
        out.field("Description", description)
    out.mapping("Annotations", annotations)


def _name_ns(namespace: str, name: str) -> str:
    return f"{namespace}/{name}" if namespace else name


def _git_info(out: Text, revision: SourceRevision | None) -> None:
    if revision is None or revision.git is None:
        return
    rev = revision.git
    out.field("Commit", f"{rev.commit[:7]} ({rev.message})")
    author, committer = rev.author.name, rev.committer.name
    if author and committer:
        same = author == committer
        out.field("Author/Committer", author if same else f"{author} / {committer}")
    elif author:
        out.field("Author", author)
    elif committer:
        out.field("Committer", committer)


def _volumes(out: Text, volumes: Sequence[BuildVolume]) -> None:
    if not volumes:
        out.field("Volumes", NONE)
        return
    out.field("Volumes", " ")
    out.raw("\tName\tSource Type\tSource\tMounts\n")
    for volume in volumes:
        source = volume.source
        if source.type.value == "Secret" and source.secret is not None:
            source_name = source.secret.secret_name
        elif source.type.value == "ConfigMap" and source.config_map is not None:
            source_name = source.config_map.name
        else:
            source_name = f'<InvalidSourceType: "{source.type.value}">'
        mounts = "\n\t\t\t\t".join(m.destination_path for m in volume.mounts)
        out.raw(f"\t{volume.name}\t{source.type.value}\t{source_name}\t{mounts}\n")


def _source_strategy(out: Text, s: SourceBuildStrategy) -> None:
    if s.from_.name:
        out.field("From Image", f"{s.from_.kind} {_name_ns(s.from_.namespace, s.from_.name)}")
    if s.scripts:
        out.field("Scripts", s.scripts)
    if s.pull_secret is not None:
        out.field("Pull Secret Name", s.pull_secret.name)
    if s.incremental:
        out.field("Incremental Build", "yes")
    if s.force_pull:
        out.field("Force Pull", "yes")
    _volumes(out, s.volumes)


def _docker_strategy(out: Text, s: DockerBuildStrategy) -> None:
    if s.from_ is not None and s.from_.name:
        out.field("From Image", f"{s.from_.kind} {_name_ns(s.from_.namespace, s.from_.name)}")
    if s.dockerfile_path:
        out.field("Dockerfile Path", s.dockerfile_path)
    if s.pull_secret is not None:
        out.field("Pull Secret Name", s.pull_secret.name)
    if s.no_cache:
        out.field("No Cache", "true")
    if s.force_pull:
        out.field("Force Pull", "true")
    _volumes(out, s.volumes)


def _other_strategies(out: Text, spec: CommonSpec) -> None:
    custom = spec.strategy.custom_strategy
    if custom is not None:
        if custom.from_.name:
            ref = _name_ns(custom.from_.namespace, custom.from_.name)
            out.field("Image Reference", f"{custom.from_.kind} {ref}")
        if custom.expose_docker_socket:
            out.field("Expose Docker Socket", "yes")
        if custom.force_pull:
            out.field("Force Pull", "yes")
        if custom.pull_secret is not None:
            out.field("Pull Secret Name", custom.pull_secret.name)
        for i, env in enumerate(custom.env):
            out.field("Environment" if i == 0 else "", f"{env.name}={env.value}")
    jenkins = spec.strategy.jenkins_pipeline_strategy
    if jenkins is not None:
        if jenkins.jenkinsfile_path:
            out.field("Jenkinsfile path", jenkins.jenkinsfile_path)
        if jenkins.jenkinsfile:
            out.raw("Jenkinsfile contents:\n")
            out.raw("".join(f"  {line}\n" for line in jenkins.jenkinsfile.split("\n")))
        if not jenkins.jenkinsfile and not jenkins.jenkinsfile_path:
            out.field("Jenkinsfile", "from source repository root")


def _post_commit(out: Text, spec: CommonSpec) -> None:
    hook = spec.post_commit
    command, args, script = list(hook.command), list(hook.args), hook.script
    if not command and not args and not script:
        return
    if script:
        command = ["/bin/sh", "-ic"]
        args = [script, command[0], *args] if args else [script]
    if not command:
        command = ["<image-entrypoint>"]
    quoted = ", ".join(json.dumps(v, ensure_ascii=False) for v in (*command, *args))
    out.field("Post Commit Hook", f"[{quoted}]")


def _git_source(out: Text, spec: CommonSpec) -> bool:
    source = spec.source
    if source.git is not None:
        out.field("URL", source.git.uri)
        if source.git.ref:
            out.field("Ref", source.git.ref)
        if source.context_dir:
            out.field("ContextDir", source.context_dir)
        if source.source_secret is not None:
            out.field("Source Secret", source.source_secret.name)
        _git_info(out, spec.revision)
    if source.dockerfile is not None:
        if not source.dockerfile.strip():
            out.field("Dockerfile", "")
        else:
            out.raw("Dockerfile:\n")
            out.raw("".join(f"  {line}\n" for line in source.dockerfile.split("\n")))
    return source.git is not None


def _other_inputs(out: Text, spec: CommonSpec) -> bool:
    """Binary input, build secrets and configMaps, image sources; True if any is an input."""
    source = spec.source
    has_input = False
    if source.binary is not None:
        has_input = True
        if source.binary.as_file:
            out.field("Binary", f'provided as file "{source.binary.as_file}" on build')
        else:
            out.field("Binary", "provided on build")
    if source.secrets:
        pairs = (
            f"{s.secret.name}->{posixpath.normpath(s.destination_dir)}" for s in source.secrets
        )
        out.field("Build Secrets", ",".join(pairs))
    if source.config_maps:
        pairs = (
            f"{c.config_map.name}->{posixpath.normpath(c.destination_dir)}"
            for c in source.config_maps
        )
        out.field("Build ConfigMaps", ",".join(pairs))
    images = source.images
    if len(images) == 1 and len(images[0].paths or []) == 1:
        image, path = images[0], (images[0].paths or [])[0]
        where = _name_ns(image.from_.namespace, image.from_.name)
        out.field(
            "Image Source", f"copies {path.source_path} from {where} to {path.destination_dir}"
        )
        return True
    for image in images:
        has_input = True
        out.field("Image Source", _name_ns(image.from_.namespace, image.from_.name))
        for p in image.paths or []:
            out.raw(f"\t- {p.source_path} -> {p.destination_dir}\n")
        for name in image.as_ or []:
            out.raw(f"\t- as {name}\n")
    return has_input


def _common_spec(out: Text, spec: CommonSpec) -> None:
    """oc's ``describeCommonSpec``."""
    from builder.api import to_dict  # noqa: PLC0415 - describe reads models

    out.field("\nStrategy", strategy_type(to_dict(spec)))
    has_input = _git_source(out, spec)
    if spec.strategy.docker_strategy is not None:
        _docker_strategy(out, spec.strategy.docker_strategy)
    elif spec.strategy.source_strategy is not None:
        _source_strategy(out, spec.strategy.source_strategy)
    else:
        _other_strategies(out, spec)
    to = spec.output.to
    if to is not None:
        out.field("Output to", f"{to.kind} {_name_ns(to.namespace, to.name)}")
    has_input = _other_inputs(out, spec) or has_input
    if not has_input:
        out.field("Empty Source", "no input source provided")
    _post_commit(out, spec)
    if spec.output.push_secret is not None:
        out.field("Push Secret", spec.output.push_secret.name)
    if spec.completion_deadline_seconds is not None:
        out.field("Fail Build After", go_duration(spec.completion_deadline_seconds * 10**9))


def _causes(out: Text, causes: Sequence[BuildTriggerCause] | None) -> None:
    if causes is None:
        out.field("\nBuild trigger cause", "<unknown>")
    for cause in causes or []:
        out.field("\nBuild trigger cause", cause.message)
        hook = (
            cause.github_web_hook
            or cause.gitlab_web_hook
            or cause.bitbucket_web_hook
            or cause.generic_web_hook
        )
        if hook is not None:
            _git_info(out, hook.revision)
            out.field("Secret", hook.secret)
        elif cause.image_change_build is not None:
            change = cause.image_change_build
            out.field("Image ID", change.image_id)
            ref = change.from_ref
            out.field("Image Name/Kind", f"{ref.name if ref else ''} / {ref.kind if ref else ''}")
    out.raw("\n")


def _event_time(event: Mapping[str, Any], key: str) -> datetime | None:
    value = event.get(key)
    return parse_when(value) if isinstance(value, str) else None


def _since(moment: datetime | None, now: datetime) -> str:
    return short_age(_seconds(now, moment)) if moment is not None else "<unknown>"


def events_text(events: Sequence[Mapping[str, Any]], now: datetime) -> str:
    """kubectl's ``DescribeEvents``, oldest last-seen first, as its own aligned block."""
    if not events:
        return "Events:\t<none>\n"
    lines = [
        "Events:\n  Type\tReason\tAge\tFrom\tMessage\n",
        "  ----\t------\t----\t----\t-------\n",
    ]
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    ordered = sorted(events, key=lambda e: _event_time(e, "lastTimestamp") or epoch)
    for event in ordered:
        first_time = _event_time(event, "eventTime") or _event_time(event, "firstTimestamp")
        first = _since(first_time, now)
        series = event.get("series") or {}
        count = int(event.get("count") or 0)
        if series:
            last = _since(_event_time(series, "lastObservedTime"), now)
            interval = f"{last} (x{series.get('count', 0)} over {first})"
        elif count > 1:
            last = _since(_event_time(event, "lastTimestamp"), now)
            interval = f"{last} (x{count} over {first})"
        else:
            interval = first
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent", "")
        message = str(event.get("message", "")).strip()
        kind, reason = event.get("type", ""), event.get("reason", "")
        lines.append(f"  {kind}\t{reason}\t{interval}\t{source}\t{message}\n")
    return "".join(lines)


def describe_build(
    build: Build,
    events: Sequence[Mapping[str, Any]],
    now: datetime,
    pod: str,
    tz: tzinfo | None = None,
) -> str:
    """oc's ``BuildDescriber``; ``pod`` is the build pod's name."""
    out = Text()
    describe_meta(out, build.metadata, now)
    out.raw("\n")
    status = build.status
    phase = status.phase.value
    out.field("Status", f"{phase} ({status.message})" if status.message else phase)
    if status.reason:
        out.field("Reason", status.reason)
    started = parse_when(status.start_timestamp)
    if started is not None:
        out.field("Started", rfc1123(started, tz))
    out.field("Duration", build_duration(build, now))
    for stage in status.stages:
        seconds = (stage.duration_milliseconds + 500) // 1000
        out.field(f"  {stage.name}", f"  {go_seconds(seconds)}")
    out.raw("\n")
    if status.config is not None:
        out.field("Build Config", status.config.name)
    out.field("Build Pod", pod)
    if status.output.to is not None and status.output.to.image_digest:
        out.field("Image Digest", status.output.to.image_digest)
    _common_spec(out, build.spec)
    _causes(out, build.spec.triggered_by)
    if status.log_snippet:
        out.field("Log Tail", status.log_snippet)
    if not events:
        out.raw(events_text(events, now))
        return out.render()
    return out.render() + tabwrite(events_text(events, now))


def _webhook_path(namespace: str, name: str, kind: str) -> str:
    return (
        f"/apis/build.openshift.io/v1/namespaces/{namespace}/buildconfigs/{name}"
        f"/webhooks/<secret>/{kind.lower()}"
    )


def _triggers(out: Text, bc: BuildConfig) -> None:
    triggers: Sequence[BuildTriggerPolicy] = bc.spec.triggers
    if not triggers:
        out.field("Triggered by", NONE)
        return
    webhook_kinds = {"GitHub", "github", "Generic", "generic", "GitLab", "Bitbucket"}
    labels: list[str] = []
    hooks: dict[str, list[tuple[str, bool | None]]] = {}
    for trigger in triggers:
        kind = trigger.type.value
        if kind in webhook_kinds:
            generic = trigger.generic if kind.lower() == "generic" else None
            allow = generic.allow_env if generic is not None else None
            path = _webhook_path(bc.metadata.namespace, bc.metadata.name, kind)
            hooks.setdefault(kind, []).append((path, allow))
            continue
        if kind == "ConfigChange":
            labels.append("Config")
        elif kind in ("ImageChange", "imageChange"):
            source = trigger.image_change.from_ if trigger.image_change else None
            labels.append(f"Image({source.kind} {source.name})" if source and source.name else kind)
        else:
            labels.append(kind or "<unknown>")
    out.field("Triggered by", ", ".join(labels))
    for kind, entries in hooks.items():
        out.raw(f"Webhook {kind[:1].upper()}{kind[1:]}:\n")
        for i, (url, allow) in enumerate(entries):
            if kind.lower() != "generic" and i > 0:
                continue
            out.raw(f"\tURL:\t{url}\n")
            if allow is not None:
                out.raw(f"\tAllowEnv:\t{'true' if allow else 'false'}\n")


def describe_build_config(
    bc: BuildConfig,
    builds: Sequence[Build],
    events: Sequence[Mapping[str, Any]],
    now: datetime,
) -> str:
    """oc's ``BuildConfigDescriber``: the config, its ten latest builds, its events."""
    out = Text()
    describe_meta(out, bc.metadata, now)
    last = bc.status.last_version
    out.field("Latest Version", str(last) if last else "Never built")
    _common_spec(out, bc.spec)
    policy = bc.spec.run_policy.value if bc.spec.run_policy is not None else "Serial"
    out.field("\nBuild Run Policy", policy)
    _triggers(out, bc)
    success, failed = bc.spec.successful_builds_history_limit, bc.spec.failed_builds_history_limit
    if success is not None or failed is not None:
        out.raw("Builds History Limit:\n")
        if success is not None:
            out.raw(f"\tSuccessful:\t{success}\n")
        if failed is not None:
            out.raw(f"\tFailed:\t{failed}\n")
    if builds:
        out.raw("\nBuild\tStatus\tDuration\tCreation Time\n")
        recent = sorted(
            builds, key=lambda b: (b.metadata.creation_timestamp or "", b.metadata.name)
        )
        for build in list(reversed(recent))[:RECENT_BUILDS]:
            created = parse_when(build.metadata.creation_timestamp)
            out.raw(
                f"{build.metadata.name} \t{build.status.phase.value.lower()} \t"
                f"{build_duration(build, now)} \t{go_time(created) if created else ''}\n"
            )
    out.raw("\n")
    if not events:
        out.raw(events_text(events, now))
        return out.render()
    return out.render() + tabwrite(events_text(events, now))


# ---------------------------------------------------------------------------
# The verb


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "describe",
        help="show details of BuildConfigs, Builds, ImageStreams and their tags (oc describe)",
        description=(
            "Describe bc/NAME, build/NAME, is/NAME or istag/STREAM:TAG (or TYPE [NAME...]); "
            "builds and build configs with recent events, an istag with its image's "
            "config and layers as read from the registry."
        ),
    )
    p.add_argument("args", nargs="+", metavar="TYPE/NAME | TYPE [NAME...]")
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def targets(args: list[str]) -> list[tuple[Resource, str | None]]:
    from builder.cli.get import VIEWABLE  # noqa: PLC0415

    if all("/" in a for a in args):
        return [(r, n) for r, n in (split_ref(a, None, VIEWABLE) for a in args)]
    if any("/" in a for a in args):
        raise CliError("give either TYPE/NAME... or TYPE [NAME...]")
    resource = resource_named(args[0], VIEWABLE)
    return [(resource, n) for n in args[1:]] or [(resource, None)]


def events_of(kube: Kube, namespace: str, name: str, uid: str) -> list[dict[str, Any]]:
    selector = f"involvedObject.name={name}"
    if uid:
        selector += f",involvedObject.uid={uid}"
    return kube.list_events(namespace, selector)


def _describe_build(kube: Kube, namespace: str, build: Build) -> str:
    from builder.kube import NotFound  # noqa: PLC0415
    from builder.rules.names import pod_name  # noqa: PLC0415

    events = events_of(kube, namespace, build.metadata.name, build.metadata.uid)
    pod = pod_name(build)
    try:
        pod_obj = kube.get_pod(namespace, pod)
    except NotFound:
        pod_obj = None
    if pod_obj is not None:
        uid = str(pod_obj.get("metadata", {}).get("uid", ""))
        events += events_of(kube, namespace, pod, uid)
    return describe_build(build, events, utcnow(), pod)


def _describe_bc(kube: Kube, namespace: str, bc: BuildConfig) -> str:
    builds = builds_of(kube, namespace, bc.metadata.name)
    events = events_of(kube, namespace, bc.metadata.name, bc.metadata.uid)
    return describe_build_config(bc, builds, events, utcnow())


def _describe_streams(kube: Kube, namespace: str, name: str | None) -> list[str]:
    # Imported here: describe_is builds on this module's Text.
    from builder.cli.describe_is import describe_image_stream  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    try:
        streams = (
            [kube.image_streams.get(namespace, name)]
            if name
            else sorted(kube.image_streams.list(namespace)[0], key=lambda s: s.metadata.name)
        )
    except NotFound:
        raise not_found(IMAGE_STREAMS, name or "") from None
    return [describe_image_stream(s, utcnow()) for s in streams]


def _describe_dcs(kube: Kube, namespace: str, name: str | None) -> list[str]:
    from builder.cli.dc import describe_deployment_config, get_dc, rollouts_of  # noqa: PLC0415

    dcs = [get_dc(kube, namespace, name)] if name else kube.deployment_configs.list(namespace)[0]
    return [
        describe_deployment_config(
            dc,
            rollouts_of(kube, dc),
            events_of(kube, namespace, dc.metadata.name, dc.metadata.uid),
            utcnow(),
        )
        for dc in sorted(dcs, key=lambda d: d.metadata.name)
    ]


def run(ns: argparse.Namespace) -> int:
    from builder.kube import NotFound  # noqa: PLC0415

    wanted = targets(ns.args)
    if any(resource is IMAGE_STREAM_TAGS and name is None for resource, name in wanted):
        raise CliError("describe istag needs a name: istag STREAM:TAG or istag/STREAM:TAG")
    kube, namespace = connect(ns)
    texts: list[str] = []
    for resource, name in wanted:
        if resource is IMAGE_STREAM_TAGS and name is not None:
            text, problem = _describe_istag(kube, namespace, name)
            texts.append(text)
            if problem is not None:
                _print_texts(texts)
                raise problem
        elif resource.kind == "DeploymentConfig":
            texts.extend(_describe_dcs(kube, namespace, name))
        elif resource is IMAGE_STREAMS:
            texts.extend(_describe_streams(kube, namespace, name))
        elif resource is BUILDS:
            try:
                builds = (
                    [kube.builds.get(namespace, name)] if name else kube.builds.list(namespace)[0]
                )
            except NotFound:
                raise not_found(BUILDS, name or "") from None
            texts.extend(_describe_build(kube, namespace, b) for b in builds)
        else:
            try:
                bcs = (
                    [kube.build_configs.get(namespace, name)]
                    if name
                    else kube.build_configs.list(namespace)[0]
                )
            except NotFound:
                raise not_found(BUILD_CONFIGS, name or "") from None
            texts.extend(_describe_bc(kube, namespace, bc) for bc in bcs)
    if not texts:
        print(f"No resources found in {namespace} namespace.", file=sys.stderr)
        return 0
    _print_texts(texts)
    return 0


def _print_texts(texts: list[str]) -> None:
    sys.stdout.write("\n\n".join(t.rstrip("\n") + "\n" for t in texts).rstrip("\n") + "\n")
    sys.stdout.flush()


def _describe_istag(kube: Kube, namespace: str, name: str) -> tuple[str, CliError | None]:
    """The istag's text, and why the registry could not be read (the text is then partial)."""
    from builder.cli.describe_istag import (  # noqa: PLC0415
        describe_image,
        insecure_hosts,
        read_details,
    )
    from builder.cli.get import stream_tag  # noqa: PLC0415
    from builder.cli.streams_common import split_stream_tag  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    if ":" not in name:
        name += ":latest"  # oc's default tag
    parts = split_stream_tag(name)
    if parts is None or not parts[0] or name.count(":") > 1 or "@" in name:
        raise CliError("ImageStreamTags must be retrieved with <name>:<tag>")
    try:
        stream = kube.image_streams.get(namespace, parts[0])
    except NotFound:
        raise not_found(IMAGE_STREAM_TAGS, name) from None
    item = stream_tag(stream, name)
    event = item.event
    details, problem = None, None
    try:
        details = read_details(event.docker_image_reference, insecure_hosts(item))
    except CliError as err:
        problem = err
    return describe_image(
        event.image, event.docker_image_reference, event.created, details, utcnow()
    ), problem
