"""Webhook triggers: a git host's push starts a build, as OpenShift's webhooks do.

OpenShift serves them from its API server at
``/apis/build.openshift.io/v1/namespaces/NS/buildconfigs/NAME/webhooks/SECRET/TYPE``;
kbuild's controller serves the same path on its HTTP port (the
``kbuild-controller`` Service), so a URL copied from ``kbuild describe bc``
only needs the host changed.  TYPE is ``github``, ``gitlab``, ``bitbucket``
or ``generic``; SECRET must equal one of the BuildConfig's triggers of that
type (its ``secret``, or the ``WebHookSecretKey`` of its ``secretReference``).

Anyone can reach the URL, so until a delivery is authenticated it learns
nothing: an unknown namespace, an unknown BuildConfig, an unknown TYPE, a
BuildConfig with no trigger of that TYPE, a wrong secret and a wrong
signature all get the same answer (``REFUSED``: 401, one fixed body), no
sooner than ``REFUSAL_FLOOR`` seconds after the request arrived, so neither
the bytes nor the time tell which lookup failed (OpenShift answers 401 "did
not accept your secret" for the same cases, but names the hook and the
BuildConfig and answers 404 to an unknown TYPE).  The real reason is logged.

Signatures (``hooksignatures``): a delivery carrying ``X-Hub-Signature-256``
(or the legacy SHA-1 ``X-Hub-Signature``, Gitea's/Gogs' signature, GitLab's
``X-Gitlab-Token``) is checked against the trigger's secret used as the
HMAC key, i.e. the git host's webhook "Secret" set to the BuildConfig's
secret; a wrong one is an authentication failure.  A BuildConfig annotated
``build.kbuild.io/webhook-signature: required`` refuses unsigned deliveries
(and SHA-1-only ones), so a URL alone can no longer start a build with a
body of the caller's choosing *unless* the caller also knows the secret;
since the key is the URL's own secret, the annotation protects against
altered bodies and URLs replayed without their signature, not against
someone who holds the whole URL (a separate HMAC key is not supported).

After authentication the body is parsed by ``hookpayloads`` (typed,
bounded, 4xx for every bad shape).  A push must name its ref; a push to
another branch than the BuildConfig's ``git.ref`` is acknowledged and builds
nothing.  With no ``git.ref`` OpenShift compares with ``master``; kbuild
accepts ``master`` and ``main``, the two default branch names.  The build
records the pushed commit (``spec.revision``) and a cause naming the hook,
its secret hidden as ``<secret>``.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping

from builder.api import BuildConfig, BuildError, BuildTriggerCause, ManifestError, dump
from builder.api.build import (
    BitbucketWebHookCause,
    BuildTriggerType,
    GenericWebHookCause,
    GitHubWebHookCause,
    GitLabWebHookCause,
    SourceRevision,
    WebHookTrigger,
)
from builder.api.constants import WEBHOOK_SECRET_KEY
from builder.controller import events
from builder.controller.config import SECRETS_ROLE
from builder.controller.hookpayloads import Hook, HookError, Push, hook_revision
from builder.controller.hooksignatures import Signed, verify
from builder.kube import Kube, KubeError, NotFound
from builder.rules.instantiate import BuildOptions, Readable, instantiate

__all__ = [
    "HIDDEN_SECRET",
    "PREFIX",
    "REFUSED",
    "Hook",
    "HookError",
    "Push",
    "WebhookReceiver",
    "branch_matches",
    "cause",
    "hook_revision",
    "hook_triggers",
]

log = logging.getLogger(__name__)

PREFIX = "/apis/build.openshift.io/v1/namespaces/"
_PATH = re.compile(
    r"^/apis/build\.openshift\.io/v1/namespaces/(?P<ns>[^/]+)/buildconfigs/(?P<name>[^/]+)"
    r"/webhooks/(?P<secret>[^/]+)/(?P<kind>[^/]+)\Z"
)
# What the API server accepts as a namespace (DNS-1123 label) and as a custom
# resource's name (DNS-1123 subdomain): anything else cannot exist, and is
# never sent to the API server.
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(\.{_LABEL})*")
DEFAULT_BRANCHES = ("master", "main")
HIDDEN_SECRET = "<secret>"  # noqa: S105 - what OpenShift records instead of the secret
SIGNATURE_ANNOTATION = "build.kbuild.io/webhook-signature"
"""``required``: deliveries without a valid SHA-256 signature (or GitLab token) are refused."""
REFUSAL_FLOOR = 0.2
# A BuildConfig whose secretReference the controller may not read is told so
# (a Warning event) at most this often, whoever knocks.
NOTICE_INTERVAL = 600.0
"""Seconds an unauthenticated request waits at least: longer than the lookups it hides."""
REFUSED = (
    401,
    json.dumps({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "the webhook did not accept your secret", "reason": "Unauthorized",
        "code": 401,
    }).encode(),
)  # fmt: skip
"""The one answer to every unauthenticated request (see the module docstring)."""
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
_REASONS = {
    400: "BadRequest",
    404: "NotFound",
    409: "Conflict",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    500: "InternalError",
    502: "InternalError",
}
MAX_BODY = 4 << 20
"""Largest body a delivery may have (the HTTP server refuses larger ones before reading)."""


class Unauthenticated(Exception):  # noqa: N818 - an outcome, like the API's NotFound
    """Why a request was not authenticated: logged, never answered."""


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


def _status(code: int, message: str) -> bytes:
    return json.dumps({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": _REASONS.get(code, "BadRequest"), "code": code,
    }).encode()  # fmt: skip


def _success(message: str) -> bytes:
    return json.dumps({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "message": message, "code": 200,
    }).encode()  # fmt: skip


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _redacted(path: str) -> str:
    match = _PATH.match(path.partition("?")[0])
    if match is None:
        return path[:200]
    return path[: match.start("secret")] + HIDDEN_SECRET + path[match.end("secret") :]


def signature_required(bc: BuildConfig) -> bool:
    value = (bc.metadata.annotations or {}).get(SIGNATURE_ANNOTATION, "")
    return value.strip().lower() == "required"


class WebhookReceiver:
    """Serves the webhook path: authenticate, parse, start a build.

    ``clock`` and ``sleep`` are injectable so tests can check the refusal
    floor without waiting for it.
    """

    def __init__(
        self,
        kube: Kube,
        readable: Readable | None = None,
        *,
        refusal_floor: float = REFUSAL_FLOOR,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.kube = kube
        self.readable = readable
        self.refusal_floor = refusal_floor
        self.clock = clock
        self.sleep = sleep
        self._noticed: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def handle(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Answer one POST; every outcome is an HTTP answer, never an exception."""
        started = self.clock()
        try:
            return 200, self._handle(path, headers, body)
        except Unauthenticated as err:
            log.info("webhook %s refused: %s", _redacted(path), err)
            left = self.refusal_floor - (self.clock() - started)
            if left > 0:
                self.sleep(left)
            return REFUSED
        except HookError as err:
            return err.status, _status(err.status, err.message)
        except Exception as err:  # a defect, but the caller still gets an answer
            log.error("webhook %s failed: %s: %s", _redacted(path), type(err).__name__, err)
            return 500, _status(500, "internal error")

    def _secret_not_lent(self, bc: BuildConfig, secret: str) -> None:
        """Tell the BuildConfig's owners why its secretReference cannot work.

        The caller only ever sees the uniform refusal; the owners see a
        Warning event on the BuildConfig, at most once per ``NOTICE_INTERVAL``.
        """
        key = (bc.metadata.namespace, bc.metadata.name)
        now = self.clock()
        with self._lock:
            if now - self._noticed.get(key, -NOTICE_INTERVAL) < NOTICE_INTERVAL:
                return
            if len(self._noticed) > 10_000:
                self._noticed.clear()
            self._noticed[key] = now
        ns = bc.metadata.namespace
        events.record(
            self.kube, bc, "Warning", "WebhookSecretUnreadable",
            f"kbuild may not read Secret {secret} of the webhook's secretReference; bind the "
            f"ClusterRole {SECRETS_ROLE} to kbuild's controller in {ns}: kubectl create "
            f"rolebinding kbuild-pull-secrets -n {ns} --clusterrole={SECRETS_ROLE} "
            "--serviceaccount=kbuild-system:kbuild-controller",
        )  # fmt: skip

    def _secrets_of(self, namespace: str, trigger: WebHookTrigger, bc: BuildConfig) -> list[bytes]:
        values = [_bytes(trigger.secret)] if trigger.secret else []
        if trigger.secret_reference is not None:
            try:
                secret = self.kube.get_secret(namespace, trigger.secret_reference.name)
            except KubeError as err:  # NotFound, or unreadable: this trigger has no usable secret
                if err.status == 403:
                    self._secret_not_lent(bc, trigger.secret_reference.name)
                return values
            data = secret.get("data") if isinstance(secret, dict) else None
            encoded = data.get(WEBHOOK_SECRET_KEY) if isinstance(data, dict) else None
            if isinstance(encoded, str) and encoded:
                # Not base64 (no API server writes that): no usable secret.
                with contextlib.suppress(ValueError):
                    values.append(base64.b64decode(encoded, validate=True))
        return values

    def _authenticate(
        self, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[str, str, str, BuildConfig, list[WebHookTrigger]]:
        match = _PATH.match(path.partition("?")[0])
        if match is None:
            raise HookError(404, "not a BuildConfig webhook path")  # the shape is public
        namespace, name, given, kind = match.group("ns", "name", "secret", "kind")
        if kind not in TYPES:
            raise Unauthenticated(f"unknown webhook type {kind!r}")
        if not _NAMESPACE.fullmatch(namespace) or not _NAME.fullmatch(name):
            raise Unauthenticated("not a valid namespace or BuildConfig name")
        try:
            bc = self.kube.build_configs.get(namespace, name)
        except NotFound:
            raise Unauthenticated("no such BuildConfig") from None
        except ManifestError:  # stored, but refused by the models: as good as absent
            raise Unauthenticated("the BuildConfig is not valid") from None
        except KubeError as err:
            raise Unauthenticated(f"could not read the BuildConfig: {err.message}") from None
        triggers = hook_triggers(bc, kind)
        if not triggers:
            raise Unauthenticated(f"the BuildConfig has no {kind} trigger")
        key = _bytes(given)
        matching = [
            t for t in triggers
            if any(hmac.compare_digest(s, key) for s in self._secrets_of(namespace, t, bc))
        ]  # fmt: skip
        if not matching:
            raise Unauthenticated("the provided secret does not match")
        signed = verify(headers, body, key)
        if signed is Signed.INVALID:
            raise Unauthenticated("a signature of the delivery does not match")
        if signed is not Signed.VALID and signature_required(bc):
            raise Unauthenticated("the BuildConfig requires a SHA-256 signature")
        return namespace, name, kind, bc, matching

    def _handle(self, path: str, headers: Mapping[str, str], body: bytes) -> bytes:
        namespace, name, kind, bc, matching = self._authenticate(path, headers, body)
        if len(body) > MAX_BODY:
            raise HookError(413, f"the payload is larger than {MAX_BODY} bytes")
        hook = hook_revision(kind, headers, body)
        if hook.skip:
            return _success(hook.skip)
        revision: SourceRevision | None = None
        git = bc.spec.source.git
        if hook.pushes and (git is not None or kind != "generic"):
            # A generic hook's git information means nothing to a BuildConfig
            # without a git source: OpenShift ignores it, and so does kbuild.
            configured = git.ref if git is not None else ""
            chosen = next((p for p in hook.pushes if branch_matches(p.branch, configured)), None)
            if chosen is None:
                pushed = ", ".join(repr(p.branch) for p in hook.pushes)
                return _success(
                    f"skipping build: branch reference from {pushed} does not match configuration"
                )
            revision = chosen.revision
        env = hook.env if any(t.allow_env for t in matching) else ()
        commit = revision.git.commit if revision is not None and revision.git else ""
        try:
            build = instantiate(
                self.kube, namespace, name,
                BuildOptions(causes=(cause(kind, revision),), env=env,
                             revision=revision if commit else None),
                readable=self.readable,
            )  # fmt: skip
        except BuildError as err:
            raise HookError(409, err.detail) from None
        except KubeError as err:
            raise HookError(502, f"could not start a build: {err.message}") from None
        return json.dumps(dump(build)).encode()
