"""``kbuild import-image --dry-run``: what an import would record, with nothing written.

oc sends the ImageStreamImport with ``import: false``: OpenShift's API server
reads the registry and answers with the stream as it would be, saving
nothing.  kbuild has no such server and its controller only imports what a
stream asks for, so the CLI does the reading itself: the request is planned
exactly as a real import (same rules, same errors, ``builder.cli.importimage``),
then each requested tag (each repository tag with ``--all``, at most
``MAX_REPOSITORY_TAGS``, as OpenShift's bulk limit) is resolved against its
registry, and the stream is described with those images on top of its
history.  Nothing is written to the cluster.

Differences, and why: the registry is read from this machine with the
user's credentials (``$REGISTRY_AUTH_FILE`` / docker config), not the
namespace's pull secrets, which a client must not read.  Registries listed
in ``$KBUILD_INSECURE_REGISTRIES`` or given ``--insecure`` are spoken to
over plain HTTP; so are those the tag or the stream marks insecure, but
then without the user's credentials (``access``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from builder.cli.args import insecure_registries_from_env
from builder.cli.common import CliError, utcnow

if TYPE_CHECKING:
    from builder.api import ImageStream
    from builder.cli.importimage import ImportOptions, ImportPlan
    from builder.kube import Kube

MAX_REPOSITORY_TAGS = 50


@dataclass(frozen=True)
class Resolved:
    """One tag's answer: its image (``registry/repo@digest``) or why it has none."""

    tag: str
    reference: str = ""
    digest: str = ""
    reason: str = ""
    message: str = ""


Resolve = Callable[[str, bool], tuple[str, str]]
"""(source pull spec, insecure) -> (``registry/repo@digest``, image digest); raises on failure."""


def _requests(
    plan: ImportPlan, list_tags: Callable[[str, bool], list[str]]
) -> list[tuple[str, str, bool]]:
    """(tag, source, insecure) for every tag the plan imports."""
    from builder.api.constants import INSECURE_REPOSITORY_ANNOTATION  # noqa: PLC0415
    from builder.streams.tags import spec_tag  # noqa: PLC0415

    stream = plan.stream
    insecure_stream = stream.metadata.annotations.get(INSECURE_REPOSITORY_ANNOTATION) == "true"
    if plan.repository:
        repository = plan.repository.partition("@")[0]
        own = {t.name for t in stream.spec.tags}
        tags = [t for t in list_tags(repository, insecure_stream) if t not in own]
        return [(t, f"{repository}:{t}", insecure_stream) for t in tags[:MAX_REPOSITORY_TAGS]]
    out: list[tuple[str, str, bool]] = []
    for tag in plan.tags:
        ref = spec_tag(stream, tag)
        if ref is None or ref.from_ is None:
            continue
        out.append((tag, ref.from_.name, ref.import_policy.insecure or insecure_stream))
    return out


def resolve_all(requests: list[tuple[str, str, bool]], resolve: Resolve) -> list[Resolved]:
    from builder.api import BuildError  # noqa: PLC0415

    answers: list[Resolved] = []
    for tag, source, insecure in requests:
        try:
            reference, digest = resolve(source, insecure)
        except BuildError as err:
            answers.append(Resolved(tag, reason=err.reason.value, message=err.detail))
            continue
        except (OSError, ValueError) as err:
            answers.append(Resolved(tag, reason="InternalError", message=str(err)))
            continue
        answers.append(Resolved(tag, reference=reference, digest=digest))
    return answers


def would_be(plan: ImportPlan, answers: list[Resolved], now: str) -> ImageStream:
    """The stream as the import would leave it (pure): each answer on top of its tag's history."""
    from builder.api.image import TagEvent  # noqa: PLC0415
    from builder.streams.tags import add_tag_event, set_import_condition, spec_tag  # noqa: PLC0415

    stream = plan.stream.model_copy(deep=True)
    generation = (stream.metadata.generation or 0) + 1
    for answer in answers:
        ref = spec_tag(stream, answer.tag)
        if ref is not None:
            ref.generation = generation
        if answer.reason:
            set_import_condition(
                stream, answer.tag, reason=answer.reason, message=answer.message,
                generation=generation, now=now,
            )  # fmt: skip
            continue
        event = TagEvent(
            created=now,
            docker_image_reference=answer.reference,
            image=answer.digest,
            generation=generation,
        )
        add_tag_event(stream, answer.tag, event)
    return stream


def report(
    stream: ImageStream, answers: list[Resolved], now: datetime, *, repository: bool = False
) -> tuple[str, str]:
    """(stdout, stderr): oc's ``imported (dry run)`` line, the stream's description, failures."""
    from builder.cli.describe_is import describe_image_stream  # noqa: PLC0415
    from builder.cli.streams_common import stream_ref  # noqa: PLC0415

    failed = [a for a in answers if a.reason]
    verb = "imported with errors (dry run)" if failed else "imported (dry run)"
    text = f"{stream_ref(stream.metadata.name)} {verb}\n\n" + describe_image_stream(stream, now)
    what = "repository tag" if repository else "tag"
    errors = "".join(f"error: {what} {a.tag} failed: {a.message}\n" for a in failed)
    return text, errors


def _registry_of(pull_spec: str) -> str:
    from builder.registry import ImageReference, InvalidReferenceError  # noqa: PLC0415

    try:
        return ImageReference.parse(pull_spec).registry
    except InvalidReferenceError:
        return ""


@dataclass(frozen=True)
class Access:
    """How this machine reads one registry: plain HTTP hosts, and whether anonymously."""

    insecure: frozenset[str]
    anonymous: bool = False


def access(source: str, insecure: bool, opts: ImportOptions, user_hosts: set[str]) -> Access:
    """Plain HTTP when asked; the user's credentials only where the user allowed it.

    The tag's ``importPolicy.insecure`` or the stream's
    ``insecureRepository`` annotation come from whoever may edit the stream,
    so plain HTTP they alone allow is spoken without the user's credentials
    (as ``describe istag`` does): a tenant must not make a user send a
    password unencrypted.  ``--insecure`` and ``$KBUILD_INSECURE_REGISTRIES``
    (and loopback) are the user's own choice.
    """
    from builder.registry.transport import insecure_policy  # noqa: PLC0415

    hosts = frozenset(user_hosts)
    if not insecure:
        return Access(hosts)
    host = _registry_of(source)
    users_choice = opts.insecure is True or insecure_policy(user_hosts)(host)
    return Access(hosts | {host}, anonymous=not users_choice)


def run(kube: Kube, namespace: str, name: str, tag: str, opts: ImportOptions) -> int:
    from builder.api.times import now_time  # noqa: PLC0415
    from builder.cli.importimage import plan_import  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415
    from builder.registry import CredentialStore, RegistryClient  # noqa: PLC0415

    try:
        current: ImageStream | None = kube.image_streams.get(namespace, name)
    except NotFound:
        current = None
    plan = plan_import(current, namespace, name, tag, opts)
    user_hosts = set(insecure_registries_from_env())
    credentials = CredentialStore.from_environment()

    def client_for(source: str, insecure: bool) -> RegistryClient:
        how = access(source, insecure, opts, user_hosts)
        return RegistryClient(
            credentials=None if how.anonymous else credentials,
            insecure=set(how.insecure),
            timeout=(5.0, 30.0),
        )

    def resolve(source: str, insecure: bool) -> tuple[str, str]:
        with client_for(source, insecure) as client:
            info = client.resolve(source)
        return f"{info.reference.name}@{info.digest}", info.digest

    def list_tags(repository: str, insecure: bool) -> list[str]:
        from builder.api import BuildError  # noqa: PLC0415

        try:
            with client_for(repository, insecure) as client:
                return client.list_tags(repository)
        except BuildError as err:
            raise CliError(f"cannot list the tags of {repository}: {err.detail}") from None

    answers = resolve_all(_requests(plan, list_tags), resolve)
    stream = would_be(plan, answers, now_time())
    out, errors = report(stream, answers, utcnow(), repository=bool(plan.repository))
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(errors)
    return 1 if errors else 0
