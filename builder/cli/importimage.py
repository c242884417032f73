"""``kbuild import-image STREAM[:TAG]``: import image metadata now, as ``oc import-image``.

oc sends an ImageStreamImport and OpenShift's API server does the import
while the client waits.  kbuild has no such server, so the CLI writes the
request into the stream and the kbuild controller answers it: the tag's
spec is written (created with ``--confirm``) with ``generation: 0``, which
the controller turns into the stream's generation and then imports; for a
whole repository (``--all``), ``spec.dockerImageRepository`` is set and the
``openshift.io/image.dockerRepositoryCheck`` annotation removed, which the
controller sets again once it has imported.  The CLI polls the stream until
that result is recorded (``--timeout``), then prints what oc prints: the
name line and the stream's description.  A failed import is the tag's
``ImportSuccess=False`` condition for the requested generation: the text
says so and the exit status is 1.  If nothing answers in time, the message
says the request was made but no controller recorded a result.

The rules for which tag may be imported from where, and their messages,
are oc's (pkg/cli/importimage).  ``--dry-run`` plans the same request,
writes nothing, and reads the registries from the client instead of the
controller (``builder.cli.importdryrun``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from builder.api.constants import (
    DOCKER_REPOSITORY_CHECK_ANNOTATION,
    INSECURE_REPOSITORY_ANNOTATION,
    REPOSITORY_IMPORT_ERROR_ANNOTATION,
)
from builder.cli.args import duration_seconds
from builder.cli.common import CliError, add_cluster_flags, connect, run_guarded, utcnow
from builder.cli.streams_common import (
    DEFAULT_TAG,
    FollowError,
    copy_stream,
    follow_tag_reference,
    get_stream,
    parse_docker_ref,
    stream_ref,
    write_stream,
)

if TYPE_CHECKING:
    from builder.api import ImageStream
    from builder.api.image import TagEventCondition, TagReference
    from builder.kube import Kube

POLL_SECONDS = 0.5
REFERENCE_POLICIES = {"source": "Source", "local": "Local"}
_STREAM_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


@dataclass(frozen=True)
class ImportOptions:
    """The command line (oc's flags); ``insecure``/``reference_policy`` None when not given."""

    target: str
    from_: str = ""
    confirm: bool = False
    all: bool = False
    scheduled: bool = False
    insecure: bool | None = None
    reference_policy: str | None = None


@dataclass
class ImportPlan:
    """The stream to write, and which answer to wait for."""

    stream: ImageStream
    tags: list[str] = field(default_factory=list)  # tags asked to import (generation 0)
    repository: str = ""  # a whole-repository import (spec.dockerImageRepository)


# ---------------------------------------------------------------------------
# Reading the command line (pure)


def parse_target(opts: ImportOptions) -> tuple[str, str]:
    """``STREAM[:TAG]`` (or a pull spec naming it) to (stream, tag); tag "" with --all."""
    if not opts.target:
        raise CliError("you must specify the name of an image stream")
    try:
        ref = parse_docker_ref(opts.target)
    except ValueError:
        raise CliError(
            "the image name must be a valid container image pull spec or reference to an "
            "image stream (e.g. myregistry/myteam/image:tag)"
        ) from None
    if ref.id:
        raise CliError("to import images by ID, use the 'tag' command")
    if ref.tag and opts.all:
        raise CliError(f'cannot specify a tag "{opts.target}" as well as --all')
    if opts.reference_policy is not None and opts.reference_policy not in REFERENCE_POLICIES:
        raise CliError("reference policy must be set to 'source' or 'local'")
    if not _STREAM_NAME.fullmatch(ref.name):
        raise CliError(
            f'"{ref.name}" (from "{opts.target}") is not a valid image stream name; '
            "name the stream and give the image with --from"
        )
    return ref.name, ref.tag or ("" if opts.all else DEFAULT_TAG)


# ---------------------------------------------------------------------------
# The request, as an edit of the stream (pure)


def _insecure(stream: ImageStream | None, opts: ImportOptions, old: TagReference | None) -> bool:
    """oc's rule: the flag if given, else the stream's insecure annotation; or the tag's own."""
    annotations = stream.metadata.annotations if stream is not None else {}
    insecure = annotations.get(INSECURE_REPOSITORY_ANNOTATION) == "true"
    if opts.insecure is not None:
        insecure = opts.insecure
    return insecure or (old is not None and old.import_policy.insecure)


def request_tag(
    ref: TagReference, stream: ImageStream | None, opts: ImportOptions, old: TagReference | None
) -> None:
    """Ask for an import of ``ref`` (in place): generation 0, import and reference policies."""
    from builder.api.image import (  # noqa: PLC0415
        TagImportPolicy,
        TagReferencePolicy,
        TagReferencePolicyType,
    )

    ref.generation = 0
    insecure = _insecure(stream, opts, old)
    scheduled = opts.scheduled or (old is not None and old.import_policy.scheduled)
    if insecure or scheduled or ref.import_policy.import_mode is not None:
        ref.import_policy = TagImportPolicy(
            insecure=insecure, scheduled=scheduled, import_mode=ref.import_policy.import_mode
        )
    if opts.reference_policy is not None:
        policy = TagReferencePolicyType(REFERENCE_POLICIES[opts.reference_policy])
        ref.reference_policy = TagReferencePolicy(type=policy)
    if ref.annotations and DOCKER_REPOSITORY_CHECK_ANNOTATION in ref.annotations:
        ref.annotations = {
            k: v for k, v in ref.annotations.items() if k != DOCKER_REPOSITORY_CHECK_ANNOTATION
        }


def _docker_tag(name: str, source: str) -> TagReference:
    from builder.api import ObjectReference  # noqa: PLC0415
    from builder.api.image import TagReference  # noqa: PLC0415

    return TagReference(name=name, from_=ObjectReference(kind="DockerImage", name=source))


def _put_tag(stream: ImageStream, ref: TagReference) -> None:
    """Replace the spec tag of that name in place, or append it."""
    tags = list(stream.spec.tags)
    index = next((i for i, t in enumerate(tags) if t.name == ref.name), None)
    if index is None:
        tags.append(ref)
    else:
        tags[index] = ref
    stream.spec.tags = tags


def _repository(stream: ImageStream, source: str, opts: ImportOptions) -> ImportPlan:
    if opts.scheduled or opts.reference_policy is not None:
        raise CliError(
            "--scheduled and --reference-policy apply to tags, and a whole-repository import "
            "(--all) has none to carry them: import or tag the images one tag at a time"
        )
    stream.spec.docker_image_repository = source
    annotations = dict(stream.metadata.annotations)
    annotations.pop(DOCKER_REPOSITORY_CHECK_ANNOTATION, None)
    annotations.pop(REPOSITORY_IMPORT_ERROR_ANNOTATION, None)
    if opts.insecure is not None:
        annotations.pop(INSECURE_REPOSITORY_ANNOTATION, None)
        if opts.insecure:
            annotations[INSECURE_REPOSITORY_ANNOTATION] = "true"
    stream.metadata.annotations = annotations
    return ImportPlan(stream, repository=source)


def _new_stream(namespace: str, name: str, tag: str, opts: ImportOptions) -> ImportPlan:
    from builder.api import ImageStream, ObjectMeta  # noqa: PLC0415

    source = opts.from_ or opts.target
    stream = ImageStream(metadata=ObjectMeta(name=name, namespace=namespace))
    if opts.all:
        return _repository(stream, source, opts)
    ref = _docker_tag(tag, source)
    request_tag(ref, None, opts, None)
    stream.spec.tags = [ref]
    return ImportPlan(stream, tags=[tag])


def _all_tags(stream: ImageStream, opts: ImportOptions) -> ImportPlan:
    """``--all`` on a stream that imports no repository: re-import its container image tags."""
    wanted = [t for t in stream.spec.tags if t.from_ is not None and t.from_.kind == "DockerImage"]
    if not wanted:
        raise CliError("image stream does not have tags pointing to external container images")
    for ref in wanted:
        request_tag(ref, stream, opts, ref.model_copy(deep=True))
    stream.spec.tags = list(stream.spec.tags)
    return ImportPlan(stream, tags=[t.name for t in wanted])


def _import_all(stream: ImageStream, opts: ImportOptions) -> ImportPlan:
    source = opts.from_ or stream.spec.docker_image_repository
    if not source:
        return _all_tags(stream, opts)
    current = stream.spec.docker_image_repository
    if source != current and not opts.confirm:
        if not current:
            raise CliError(
                "the image stream does not currently import an entire Docker repository, "
                "pass --confirm to update"
            )
        raise CliError(
            f'the image stream has a different import spec "{current}", pass --confirm to update'
        )
    return _repository(stream, source, opts)


def _follow_error(error: FollowError, tag: str) -> CliError:
    return CliError(
        {
            FollowError.INVALID: f'tag "{tag}" points to an invalid imagestreamtag',
            FollowError.CROSS_STREAM: (
                f'tag "{tag}" points to an imagestreamtag from another ImageStream'
            ),
            FollowError.CIRCULAR: f'tag "{tag}" on the image stream is a reference to same tag',
        }[error]
    )


def _import_tag(stream: ImageStream, tag: str, opts: ImportOptions) -> ImportPlan:
    followed = follow_tag_reference(stream, tag)
    source = opts.from_
    if followed.error is FollowError.NOT_FOUND:
        if not source and tag == DEFAULT_TAG:
            source = stream.spec.docker_image_repository
        if not source:
            raise CliError(
                f'the tag "{tag}" does not exist on the image stream - choose an existing tag '
                "to import or use the 'tag' command to create a new tag"
            )
        ref = _docker_tag(tag, source)
        request_tag(ref, stream, opts, None)
        _put_tag(stream, ref)
        return ImportPlan(stream, tags=[tag])
    if followed.error is not None:
        raise _follow_error(followed.error, tag)
    existing = followed.ref
    if existing is None:  # without an error the chain ends in a spec tag
        raise CliError(f'tag "{tag}" points to an invalid imagestreamtag')
    origin = existing.from_
    if origin is not None and origin.kind != "DockerImage":
        raise CliError(
            f'tag "{tag}" points to existing {origin.kind} "{origin.name}", '
            "it cannot be re-imported"
        )
    if origin is None:
        raise CliError(
            f"tag \"{tag}\" already exists - you must use the 'tag' command if you want to "
            f'change the source to "{source}"'
        )
    if source and source != origin.name:
        if followed.multiple:
            raise CliError(
                f'the tag "{tag}" points to the tag "{followed.tag}" which points to '
                f"\"{origin.name}\" - use the 'tag' command if you want to change the source "
                f'to "{source}"'
            )
        raise CliError(
            f'the tag "{tag}" points to "{origin.name}" - use the \'tag\' command if you want '
            f'to change the source to "{source}"'
        )
    request_tag(existing, stream, opts, existing.model_copy(deep=True))
    _put_tag(stream, existing)
    return ImportPlan(stream, tags=[followed.tag])


def plan_import(
    current: ImageStream | None, namespace: str, name: str, tag: str, opts: ImportOptions
) -> ImportPlan:
    """oc's ``createImageImport``: what to write into the stream (None: it does not exist)."""
    if current is None:
        if not opts.confirm:
            raise CliError(
                f'no image stream named "{name}" exists, pass --confirm to create and import'
            )
        return _new_stream(namespace, name, tag, opts)
    stream = copy_stream(current)
    if opts.all:
        return _import_all(stream, opts)
    return _import_tag(stream, tag, opts)


# ---------------------------------------------------------------------------
# The answer (pure)


def answered(stream: ImageStream, plan: ImportPlan) -> bool:
    """Whether the controller recorded the outcome of every requested import."""
    from builder.streams.tags import latest_observed_generation, spec_tag  # noqa: PLC0415

    if plan.repository:
        annotations = stream.metadata.annotations
        return (
            DOCKER_REPOSITORY_CHECK_ANNOTATION in annotations
            or REPOSITORY_IMPORT_ERROR_ANNOTATION in annotations
        )
    for tag in plan.tags:
        ref = spec_tag(stream, tag)
        if ref is None:
            continue  # removed meanwhile: nothing more will come
        if not ref.generation or latest_observed_generation(stream, tag) < ref.generation:
            return False
    return True


def failures(stream: ImageStream, plan: ImportPlan) -> list[tuple[str, TagEventCondition]]:
    """The requested tags whose import failed, with the condition saying why.

    After a repository import every tag whose last import failed counts.
    """
    from builder.streams.tags import import_failure, spec_tag  # noqa: PLC0415

    tags = [named.tag for named in stream.status.tags] if plan.repository else plan.tags
    failed = []
    for tag in tags:
        condition = import_failure(stream, tag)
        ref = spec_tag(stream, tag)
        requested = (ref.generation or 0) if ref is not None else 0
        if condition is not None and (plan.repository or condition.generation >= requested):
            failed.append((tag, condition))
    return failed


def report(stream: ImageStream, plan: ImportPlan, now: datetime) -> tuple[str, str]:
    """(stdout, stderr) for the outcome, as oc words it."""
    from builder.cli.describe_is import describe_image_stream  # noqa: PLC0415

    failed = failures(stream, plan)
    repository_error = (
        stream.metadata.annotations.get(REPOSITORY_IMPORT_ERROR_ANNOTATION, "")
        if plan.repository
        else ""
    )
    verb = "imported with errors" if failed or repository_error else "imported"
    text = f"{stream_ref(stream.metadata.name)} {verb}\n\n"
    text += describe_image_stream(stream, now)
    errors = "".join(f"error: tag {tag} failed: {c.message}\n" for tag, c in failed)
    if repository_error:
        errors += f"error: repository {plan.repository} failed: {repository_error}\n"
    return text, errors


def no_answer(namespace: str, name: str, plan: ImportPlan, timeout: float) -> str:
    what = (
        f"repository {plan.repository} into {namespace}/{name}"
        if plan.repository
        else ", ".join(f"{namespace}/{name}:{t}" for t in plan.tags)
    )
    return (
        f"the import of {what} was requested, but no kbuild controller recorded a result "
        f"within {timeout:g}s (is `kbuild controller` running and watching namespace "
        f"{namespace}?)"
    )


# ---------------------------------------------------------------------------
# The verb


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "import-image",
        help="import image metadata from a registry into an image stream (oc import-image)",
        description=(
            "Import the latest image information for a tag (default latest) from its "
            "registry; the kbuild controller does the import and this waits for it."
        ),
    )
    p.add_argument("target", nargs="?", default="", metavar="IMAGESTREAM[:TAG]")
    p.add_argument("--from", dest="from_", default="", help="the image repository to import from")
    p.add_argument(
        "--confirm",
        action="store_true",
        help="allow the image stream (or its import location) to be created or changed",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="import all tags of the repository (--from, or the stream's dockerImageRepository)",
    )
    p.add_argument(
        "--scheduled", action="store_true", help="re-import the tag periodically from its registry"
    )
    p.add_argument(
        "--insecure",
        action="store_const",
        const=True,
        default=None,
        help="allow HTTP or unverified HTTPS (overrides the stream's insecure annotation)",
    )
    p.add_argument(
        "--reference-policy",
        default=None,
        help="'local' to serve the image through the stream's registry (default 'source')",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="read the images from their registries and show the result; write nothing",
    )
    p.add_argument(
        "--timeout",
        type=duration_seconds,
        default=60.0,
        help="how long to wait for the controller's answer (default 60s)",
    )
    add_cluster_flags(p)
    p.set_defaults(run=lambda ns: run_guarded(run, ns))


def options_of(ns: argparse.Namespace) -> ImportOptions:
    return ImportOptions(
        target=ns.target,
        from_=ns.from_,
        confirm=ns.confirm,
        all=ns.all,
        scheduled=ns.scheduled,
        insecure=ns.insecure,
        reference_policy=ns.reference_policy,
    )


def request_import(
    kube: Kube, namespace: str, name: str, tag: str, opts: ImportOptions
) -> ImportPlan:
    """Write the request (re-planned on every retry against the stream as it is then)."""
    planned: list[ImportPlan] = []

    def edit(current: ImageStream | None) -> ImageStream:
        planned.append(plan_import(current, namespace, name, tag, opts))
        return planned[-1].stream

    write_stream(kube, namespace, name, edit)
    return planned[-1]


def wait_for_answer(
    kube: Kube, namespace: str, name: str, plan: ImportPlan, timeout: float
) -> ImageStream | None:
    deadline = time.monotonic() + timeout
    while True:
        stream = get_stream(kube, namespace, name)
        if answered(stream, plan):
            return stream
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)


def run(ns: argparse.Namespace) -> int:
    opts = options_of(ns)
    name, tag = parse_target(opts)
    kube, namespace = connect(ns)
    if ns.dry_run:
        from builder.cli import importdryrun  # noqa: PLC0415

        return importdryrun.run(kube, namespace, name, tag, opts)
    plan = request_import(kube, namespace, name, tag, opts)
    stream = wait_for_answer(kube, namespace, name, plan, ns.timeout)
    if stream is None:
        raise CliError(no_answer(namespace, name, plan, ns.timeout))
    out, errors = report(stream, plan, utcnow())
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(errors)
    return 1 if errors else 0
