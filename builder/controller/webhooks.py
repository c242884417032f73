"""Webhook triggers: a git host's push starts a build, as OpenShift's webhooks do.

OpenShift serves them from its API server at
``/apis/build.openshift.io/v1/namespaces/NS/buildconfigs/NAME/webhooks/SECRET/TYPE``;
kbuild's controller serves the same path on its HTTP port (the
``kbuild-controller`` Service), so a URL copied from ``kbuild describe bc``
only needs the host changed.  TYPE is ``github``, ``gitlab``, ``bitbucket``
or ``generic``; SECRET must equal one of the BuildConfig's triggers of that
type (its ``secret``, or the ``WebHookSecretKey`` of its ``secretReference``).

A push to another branch than the BuildConfig's ``git.ref`` is acknowledged
and builds nothing.  With no ``ref`` OpenShift compares with ``master``;
kbuild accepts ``master`` and ``main``, the two default branch names.  The
build records the pushed commit (``spec.revision``) and a cause naming the
hook, its secret hidden as ``<secret>``.

Parsing the payloads is pure (``hook_revision``), so every provider's format
is table-tested; only ``WebhookReceiver`` reads the API.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.api import BuildConfig, BuildError, BuildTriggerCause, EnvVar, dump
from builder.api.build import (
    BitbucketWebHookCause,
    BuildSourceType,
    BuildTriggerType,
    GenericWebHookCause,
    GitHubWebHookCause,
    GitLabWebHookCause,
    GitSourceRevision,
    SourceControlUser,
    SourceRevision,
    WebHookTrigger,
)
from builder.api.constants import WEBHOOK_SECRET_KEY
from builder.controller.instantiate import BuildOptions, Readable, instantiate
from builder.kube import Kube, KubeError, NotFound

PREFIX = "/apis/build.openshift.io/v1/namespaces/"
_PATH = re.compile(
    r"^/apis/build\.openshift\.io/v1/namespaces/(?P<ns>[^/]+)/buildconfigs/(?P<name>[^/]+)"
    r"/webhooks/(?P<secret>[^/]+)/(?P<kind>[^/]+)$"
)
DEFAULT_BRANCHES = ("master", "main")
HIDDEN_SECRET = "<secret>"  # noqa: S105 - what OpenShift records instead of the secret
MESSAGES = {
    "github": "GitHub WebHook",
    "gitlab": "GitLab WebHook",
    "bitbucket": "Bitbucket WebHook",
    "generic": "Generic WebHook",
}
TYPES = {
    "github": BuildTriggerType.GITHUB,
    "gitlab": BuildTriggerType.GITLAB,
    "bitbucket": BuildTriggerType.BITBUCKET,
    "generic": BuildTriggerType.GENERIC,
}


class HookError(Exception):
    """An answer other than "build started": HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Hook:
    """What a delivery asks for: a revision to build (None: nothing to build), env."""

    revision: SourceRevision | None
    branch: str = ""
    env: list[EnvVar] = field(default_factory=list)
    skip: str = ""  # why nothing is built (acknowledged with 200)


def _user(data: Any) -> SourceControlUser:
    if not isinstance(data, Mapping):
        return SourceControlUser()
    return SourceControlUser(name=str(data.get("name", "")), email=str(data.get("email", "")))


def _revision(commit: str, message: str, author: Any, committer: Any) -> SourceRevision:
    return SourceRevision(
        type=BuildSourceType.GIT,
        git=GitSourceRevision(
            commit=commit, message=message, author=_user(author), committer=_user(committer)
        ),
    )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError as err:
        raise HookError(400, f"the payload is not JSON: {err}") from None


def _object(payload: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise HookError(400, f"a {what} payload must be a JSON object")
    return payload


def hook_revision(kind: str, headers: Mapping[str, str], body: bytes) -> Hook:
    """The revision a delivery names, per provider (OpenShift's webhook plugins)."""
    if kind == "github":
        event = headers.get("X-Github-Event", "")
        if event == "ping":
            return Hook(None, skip="ping received")
        if event != "push":
            raise HookError(400, f"unknown X-GitHub-Event {event!r} (only push and ping)")
        payload = _object(_json(body), "GitHub push")
        head = payload.get("head_commit") or {}
        return Hook(
            _revision(str(head.get("id") or payload.get("after", "")), str(head.get("message", "")),
                      head.get("author"), head.get("committer")),
            branch=str(payload.get("ref", "")),
        )  # fmt: skip
    if kind == "gitlab":
        event = headers.get("X-Gitlab-Event", "")
        if event != "Push Hook":
            raise HookError(400, f"unknown X-Gitlab-Event {event!r} (only Push Hook)")
        payload = _object(_json(body), "GitLab push")
        commits = [c for c in payload.get("commits") or [] if isinstance(c, Mapping)]
        sha = str(payload.get("checkout_sha") or payload.get("after", ""))
        last = next((c for c in commits if c.get("id") == sha), commits[-1] if commits else {})
        return Hook(
            _revision(sha, str(last.get("message", "")), last.get("author"), last.get("author")),
            branch=str(payload.get("ref", "")),
        )
    if kind == "bitbucket":
        event = headers.get("X-Event-Key", "")
        if event != "repo:push":
            raise HookError(400, f"unknown X-Event-Key {event!r} (only repo:push)")
        payload = _object(_json(body), "Bitbucket push")
        changes = (payload.get("push") or {}).get("changes") or []
        last = changes[-1] if changes and isinstance(changes[-1], Mapping) else {}
        new = last.get("new") or {}
        target = new.get("target") or {}
        author = (target.get("author") or {}).get("user") or {}
        return Hook(
            _revision(str(target.get("hash", "")), str(target.get("message", "")),
                      {"name": author.get("display_name", "")}, None),
            branch=str(new.get("name", "")),
        )  # fmt: skip
    if kind == "generic":
        payload = _json(body)
        if payload is None:
            return Hook(None)  # no payload: build the BuildConfig as it is
        data = _object(payload, "generic")
        git = data.get("git") or {}
        env = [
            EnvVar(name=str(e.get("name", "")), value=str(e.get("value", "")))
            for e in data.get("env") or []
            if isinstance(e, Mapping) and e.get("name")
        ]
        revision = (
            _revision(str(git.get("commit", "")), str(git.get("message", "")),
                      git.get("author"), git.get("committer"))
            if isinstance(git, Mapping) and git
            else None
        )  # fmt: skip
        return Hook(revision, branch=str(git.get("ref", "")) if git else "", env=env)
    raise HookError(404, f'unknown webhook type "{kind}"')


def branch_matches(pushed: str, configured: str) -> bool:
    pushed = pushed.removeprefix("refs/heads/")
    configured = configured.removeprefix("refs/heads/")
    return pushed == configured if configured else pushed in DEFAULT_BRANCHES


def cause(kind: str, revision: SourceRevision | None) -> BuildTriggerCause:
    message = MESSAGES[kind]
    if kind == "github":
        return BuildTriggerCause(
            message=message,
            github_web_hook=GitHubWebHookCause(revision=revision, secret=HIDDEN_SECRET),
        )
    if kind == "gitlab":
        return BuildTriggerCause(
            message=message,
            gitlab_web_hook=GitLabWebHookCause(revision=revision, secret=HIDDEN_SECRET),
        )
    if kind == "bitbucket":
        return BuildTriggerCause(
            message=message,
            bitbucket_web_hook=BitbucketWebHookCause(revision=revision, secret=HIDDEN_SECRET),
        )
    generic = GenericWebHookCause(revision=revision, secret=HIDDEN_SECRET)
    return BuildTriggerCause(message=message, generic_web_hook=generic)


def hook_triggers(bc: BuildConfig, kind: str) -> list[WebHookTrigger]:
    wanted = TYPES[kind]
    found: list[WebHookTrigger] = []
    for trigger in bc.spec.triggers:
        if trigger.type.value.lower() != wanted.value.lower():
            continue
        hook = getattr(trigger, kind, None)
        if isinstance(hook, WebHookTrigger):
            found.append(hook)
    return found


class WebhookReceiver:
    def __init__(self, kube: Kube, readable: Readable | None = None) -> None:
        self.kube = kube
        self.readable = readable

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        try:
            return 200, self._handle(path, headers, body)
        except HookError as err:
            return err.status, json.dumps({"status": "Failure", "message": err.message}).encode()

    def _secret_of(self, namespace: str, trigger: WebHookTrigger) -> list[bytes]:
        values = [trigger.secret.encode()] if trigger.secret else []
        if trigger.secret_reference is not None:
            try:
                secret = self.kube.get_secret(namespace, trigger.secret_reference.name)
            except NotFound:
                return values
            encoded = (secret.get("data") or {}).get(WEBHOOK_SECRET_KEY)
            if encoded:
                values.append(base64.b64decode(encoded))
        return values

    def _handle(self, path: str, headers: Mapping[str, str], body: bytes) -> bytes:
        match = _PATH.match(path.partition("?")[0])
        if match is None:
            raise HookError(404, "not a BuildConfig webhook path")
        namespace, name, given, kind = match.group("ns", "name", "secret", "kind")
        if kind not in TYPES:
            raise HookError(404, f'unknown webhook type "{kind}"')
        try:
            bc = self.kube.build_configs.get(namespace, name)
        except NotFound:
            raise HookError(404, f'buildconfigs.build.openshift.io "{name}" not found') from None
        triggers = hook_triggers(bc, kind)
        if not triggers:
            raise HookError(404, "the specified hook is not enabled")
        matching = [
            t for t in triggers
            if any(hmac.compare_digest(s, given.encode()) for s in self._secret_of(namespace, t))
        ]  # fmt: skip
        if not matching:
            raise HookError(401, "the provided secret does not match")
        hook = hook_revision(kind, headers, body)
        if hook.skip:
            return json.dumps({"status": "Success", "message": hook.skip}).encode()
        configured = bc.spec.source.git.ref if bc.spec.source.git is not None else ""
        if hook.branch and not branch_matches(hook.branch, configured):
            return json.dumps({
                "status": "Success",
                "message": f"skipping build: branch reference from {hook.branch!r} does not "
                           f"match configuration",
            }).encode()  # fmt: skip
        env = tuple(hook.env) if any(t.allow_env for t in matching) else ()
        commit = hook.revision.git.commit if hook.revision and hook.revision.git else ""
        try:
            build = instantiate(
                self.kube, namespace, name,
                BuildOptions(causes=(cause(kind, hook.revision),), env=env,
                             revision=hook.revision if commit else None),
                readable=self.readable,
            )  # fmt: skip
        except BuildError as err:
            raise HookError(409, err.detail) from None
        except KubeError as err:
            raise HookError(502, f"could not start a build: {err.message}") from None
        return json.dumps(dump(build)).encode()
