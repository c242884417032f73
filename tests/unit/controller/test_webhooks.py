"""Webhook deliveries: payloads, branch rules, causes, and the receiver against an in-memory API.

The receiver tests are tables: every unauthenticated request gets one answer
(byte for byte), every bad payload after authentication a 4xx answer, and
none of them a build.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from builder.api import Build, BuildConfig, ManifestError, parse_as
from builder.controller.metrics import MAX_POST_BYTES, Metrics, body_length, serve
from builder.controller.webhooks import (
    HIDDEN_SECRET,
    PREFIX,
    REFUSAL_FLOOR,
    REFUSED,
    HookError,
    WebhookReceiver,
    branch_matches,
    cause,
    hook_revision,
    hook_triggers,
)
from builder.kube import KubeError, NotFound
from tests.unit.controller.tenancy_fake import FakeKube, Store

JSON = {"Content-Type": "application/json"}
GITHUB = {**JSON, "X-Github-Event": "push"}
GITLAB = {**JSON, "X-Gitlab-Event": "Push Hook"}
BITBUCKET = {**JSON, "X-Event-Key": "repo:push"}
GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "after": "aaa111",
    "head_commit": {
        "id": "aaa111",
        "message": "Fix the greeting",
        "author": {"name": "Ada", "email": "ada@example.com"},
        "committer": {"name": "GitHub", "email": "noreply@github.com"},
    },
}
GITLAB_PUSH = {
    "ref": "refs/heads/main",
    "checkout_sha": "bbb222",
    "commits": [
        {"id": "old", "message": "older", "author": {"name": "X", "email": "x@e"}},
        {"id": "bbb222", "message": "Newest", "author": {"name": "Lin", "email": "lin@e"}},
    ],
}
BITBUCKET_PUSH = {
    "push": {
        "changes": [
            {"new": {"name": "release", "target": {
                "hash": "ccc333", "message": "Ship it",
                "author": {"user": {"display_name": "Bo"}}}}}
        ]
    }
}  # fmt: skip
GENERIC = {
    "git": {"uri": "https://x/app.git", "ref": "main", "commit": "ddd444",
            "message": "by hand", "author": {"name": "Cy", "email": "cy@e"}},
    "env": [{"name": "GREETING", "value": "hi"}],
}  # fmt: skip


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


# --------------------------------------------------------------------------- pure parsing


@pytest.mark.parametrize(
    ("kind", "headers", "payload", "commit", "message", "author", "branch"),
    [
        ("github", GITHUB, GITHUB_PUSH, "aaa111", "Fix the greeting", "Ada", "refs/heads/main"),
        ("gitlab", GITLAB, GITLAB_PUSH, "bbb222", "Newest", "Lin", "refs/heads/main"),
        ("bitbucket", BITBUCKET, BITBUCKET_PUSH, "ccc333", "Ship it", "Bo", "release"),
        ("generic", JSON, GENERIC, "ddd444", "by hand", "Cy", "main"),
    ],
)
def test_payloads_to_revisions(
    kind: str,
    headers: dict[str, str],
    payload: object,
    commit: str,
    message: str,
    author: str,
    branch: str,
) -> None:
    hook = hook_revision(kind, headers, body(payload))
    [push] = hook.pushes
    assert push.revision is not None and push.revision.git is not None
    git = push.revision.git
    assert (git.commit, git.message, git.author.name) == (commit, message, author)
    assert push.branch == branch


def test_generic_env_and_empty_payload() -> None:
    hook = hook_revision("generic", JSON, body(GENERIC))
    assert [(e.name, e.value) for e in hook.env] == [("GREETING", "hi")]
    empty = hook_revision("generic", {}, b"")
    assert empty.pushes == () and not empty.skip
    # No git information: the BuildConfig is built as it is (OpenShift's rule).
    assert hook_revision("generic", {}, b'{"env": []}').pushes == ()


def test_github_ping_is_acknowledged_and_other_events_refused() -> None:
    assert hook_revision("github", {**JSON, "X-Github-Event": "ping"}, b"{}").skip
    with pytest.raises(HookError) as info:
        hook_revision("github", {**JSON, "X-Github-Event": "issues"}, b"{}")
    assert info.value.status == 400
    assert "Unknown" not in info.value.message and "issues" in info.value.message


def test_gogs_events_and_bitbucket_server_pushes() -> None:
    gogs = hook_revision("github", {**JSON, "X-Gogs-Event": "push"}, body(GITHUB_PUSH))
    assert [p.branch for p in gogs.pushes] == ["refs/heads/main"]
    server = {"changes": [
        {"ref": {"displayId": "gone"}, "type": "DELETE", "toHash": "0" * 40},
        {"ref": {"displayId": "main"}, "type": "UPDATE", "toHash": "eee555"},
    ]}  # fmt: skip
    hook = hook_revision("bitbucket", {**JSON, "X-Event-Key": "repo:refs_changed"}, body(server))
    [push] = hook.pushes
    assert push.branch == "main" and push.revision is not None and push.revision.git is not None
    assert push.revision.git.commit == "eee555"


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("github", {**GITHUB_PUSH, "deleted": True, "after": "0" * 40, "head_commit": None}),
        ("gitlab", {**GITLAB_PUSH, "after": "0" * 40, "checkout_sha": None, "commits": []}),
        ("bitbucket", {"push": {"changes": [{"new": None, "old": {"name": "main"}}]}}),
    ],
    ids=["github", "gitlab", "bitbucket"],
)  # fmt: skip
def test_a_push_that_deletes_the_branch_is_acknowledged(kind: str, payload: object) -> None:
    headers = {"github": GITHUB, "gitlab": GITLAB, "bitbucket": BITBUCKET}[kind]
    hook = hook_revision(kind, headers, body(payload))
    assert "deleted" in hook.skip and hook.pushes == ()


@pytest.mark.parametrize(
    ("kind", "headers", "data"),
    [
        ("github", GITHUB, b"{not json"),
        ("github", GITHUB, b"[]"),
        ("gitlab", {**JSON, "X-Gitlab-Event": "Tag Push Hook"}, b"{}"),
        ("bitbucket", JSON, b"{}"),
    ],
)
def test_refusals(kind: str, headers: dict[str, str], data: bytes) -> None:
    with pytest.raises(HookError) as info:
        hook_revision(kind, headers, data)
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("pushed", "configured", "matches"),
    [
        ("refs/heads/main", "main", True),
        ("main", "refs/heads/main", True),
        ("refs/heads/dev", "main", False),
        ("refs/heads/main", "", True),
        ("refs/heads/master", "", True),
        ("refs/heads/feature", "", False),
    ],
)
def test_branch_rules(pushed: str, configured: str, matches: bool) -> None:
    assert branch_matches(pushed, configured) is matches


def test_causes_hide_the_secret() -> None:
    github = cause("github", None)
    assert github.message == "GitHub WebHook"
    assert github.github_web_hook is not None
    assert github.github_web_hook.secret == HIDDEN_SECRET == "<secret>"  # noqa: S105
    generic = cause("generic", None)
    assert generic.message == "Generic WebHook"
    assert generic.generic_web_hook is not None


def test_triggers_of_a_kind_including_the_old_spellings() -> None:
    bc = parse_as(BuildConfig, {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
        "metadata": {"name": "app", "namespace": "ns"},
        "spec": {"strategy": {"type": "Docker", "dockerStrategy": {}}, "triggers": [
            {"type": "GitHub", "github": {"secret": "one"}},
            {"type": "github", "github": {"secret": "two"}},
            {"type": "Generic", "generic": {"secret": "three", "allowEnv": True}},
            {"type": "ConfigChange"},
        ]},
    })  # fmt: skip
    assert [t.secret for t in hook_triggers(bc, "github")] == ["one", "two"]
    assert [t.allow_env for t in hook_triggers(bc, "generic")] == [True]
    assert hook_triggers(bc, "gitlab") == []


# --------------------------------------------------------------------------- the receiver

NS = "team"
SECRETS = {"github": "gh-secret", "gitlab": "gl-secret", "bitbucket": "bb-secret"}
GENERIC_SECRET = "from-a-secret"  # noqa: S105 - a test value


class HookKube(FakeKube):
    """The tenancy fake plus what webhooks read: BuildConfigs and Secrets by name."""

    def __init__(self) -> None:
        super().__init__()
        self.build_configs: Store[Any] = Store()
        self.secret_objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.failing = False

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        try:
            return copy.deepcopy(self.secret_objects[(namespace, name)])
        except KeyError:
            raise NotFound(404, "no secret") from None


def build_config(
    name: str, triggers: list[dict[str, Any]], *, ref: str = "main", **metadata: Any
) -> BuildConfig:
    return parse_as(BuildConfig, {
        "apiVersion": "build.openshift.io/v1", "kind": "BuildConfig",
        "metadata": {"name": name, "namespace": NS, **metadata},
        "spec": {
            "source": {"type": "Git", "git": {"uri": "https://example.com/app.git", "ref": ref}},
            "strategy": {"type": "Docker", "dockerStrategy": {}},
            "output": {"to": {"kind": "ImageStreamTag", "name": f"{name}:latest"}},
            "triggers": triggers,
        },
    })  # fmt: skip


ALL_TRIGGERS = [
    {"type": "GitHub", "github": {"secret": SECRETS["github"]}},
    {"type": "GitLab", "gitlab": {"secret": SECRETS["gitlab"]}},
    {"type": "Bitbucket", "bitbucket": {"secret": SECRETS["bitbucket"]}},
    {"type": "Generic", "generic": {"secretReference": {"name": "hook"}, "allowEnv": True}},
]


def _kube() -> HookKube:
    kube = HookKube()
    kube.build_configs.create(build_config("app", ALL_TRIGGERS))
    kube.build_configs.create(build_config("only-generic", ALL_TRIGGERS[3:]))
    kube.build_configs.create(build_config(
        "signed", ALL_TRIGGERS,
        annotations={"build.kbuild.io/webhook-signature": "required"},
    ))  # fmt: skip
    kube.build_configs.create(build_config(
        "missing-ref", [{"type": "Generic", "generic": {"secretReference": {"name": "gone"}}}]
    ))  # fmt: skip
    kube.secret_objects[(NS, "hook")] = {
        "data": {"WebHookSecretKey": base64.b64encode(GENERIC_SECRET.encode()).decode()}
    }
    return kube


@pytest.fixture
def kube() -> HookKube:
    return _kube()


def url(kind: str, secret: str, name: str = "app", ns: str = NS) -> str:
    return f"{PREFIX}{ns}/buildconfigs/{name}/webhooks/{secret}/{kind}"


def builds(kube: HookKube) -> list[Build]:
    return kube.builds.list()[0]


def signed(key: str, data: bytes, header: str = "X-Hub-Signature-256", algo: str = "sha256") -> str:
    digest = hmac.new(key.encode(), data, getattr(hashlib, algo)).hexdigest()
    return digest if header in ("X-Gitea-Signature", "X-Gogs-Signature") else f"{algo}={digest}"


PUSHES: dict[str, tuple[dict[str, str], dict[str, Any], str]] = {
    "github": (GITHUB, GITHUB_PUSH, "aaa111"),
    "gitlab": (GITLAB, GITLAB_PUSH, "bbb222"),
    "bitbucket": (BITBUCKET, {"push": {"changes": [
        {"new": {"name": "release", "target": {"hash": "nope"}}},
        {"new": {"name": "main", "target": {"hash": "ccc333"}}},
    ]}}, "ccc333"),
    "generic": (JSON, GENERIC, "ddd444"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(PUSHES))
def test_a_push_to_the_configured_branch_builds_its_commit(kube: HookKube, kind: str) -> None:
    headers, payload, commit = PUSHES[kind]
    secret = SECRETS.get(kind, GENERIC_SECRET)
    code, answer = WebhookReceiver(kube).handle(url(kind, secret), headers, body(payload))
    assert code == 200, answer
    [build] = builds(kube)
    assert build.spec.revision is not None and build.spec.revision.git is not None
    assert build.spec.revision.git.commit == commit
    assert [c.message for c in build.spec.triggered_by or []] == [cause(kind, None).message]


def test_a_push_to_another_branch_is_acknowledged(kube: HookKube) -> None:
    data = body({**GITHUB_PUSH, "ref": "refs/heads/dev"})
    code, answer = WebhookReceiver(kube).handle(url("github", "gh-secret"), GITHUB, data)
    assert code == 200 and "does not match configuration" in json.loads(answer)["message"]
    assert builds(kube) == []


GENERIC_NO_REF = {"git": {"commit": "ddd444"}}
NO_REF = [
    ("github", GITHUB, {k: v for k, v in GITHUB_PUSH.items() if k != "ref"}),
    ("github", GITHUB, {**GITHUB_PUSH, "ref": None}),
    ("github", GITHUB, {**GITHUB_PUSH, "ref": ""}),
    ("github", GITHUB, {**GITHUB_PUSH, "ref": 5}),
    ("github", GITHUB, {**GITHUB_PUSH, "ref": ["refs/heads/main"]}),
    ("gitlab", GITLAB, {k: v for k, v in GITLAB_PUSH.items() if k != "ref"}),
    ("bitbucket", BITBUCKET, {"push": {"changes": [{"new": {"target": {"hash": "c"}}}]}}),
    ("bitbucket", BITBUCKET, {"push": {"changes": []}}),
    ("generic", JSON, GENERIC_NO_REF),
    ("generic", JSON, {"git": {}}),
    ("generic", JSON, {"git": {"refs": [{"commit": "ddd444"}]}}),
]


@pytest.mark.parametrize(("kind", "headers", "payload"), NO_REF)
def test_a_push_without_a_ref_is_refused(
    kube: HookKube, kind: str, headers: dict[str, str], payload: object
) -> None:
    """Finding 8: with no ref the branch check was skipped and the named commit built."""
    secret = SECRETS.get(kind, GENERIC_SECRET)
    code, answer = WebhookReceiver(kube).handle(url(kind, secret), headers, body(payload))
    assert code == 400, answer
    assert json.loads(answer)["status"] == "Failure"
    assert builds(kube) == []


def _unauthenticated() -> Iterator[tuple[str, str, dict[str, str], bytes]]:
    good = body(GITHUB_PUSH)
    yield "unknown namespace", url("github", "gh-secret", ns="nobody"), GITHUB, good
    yield "invalid namespace", url("github", "gh-secret", ns="No_Such"), GITHUB, good
    yield "unknown BuildConfig", url("github", "gh-secret", name="ghost"), GITHUB, good
    yield "invalid name", url("github", "gh-secret", name="a%2F..%2Fb"), GITHUB, good
    yield "wrong secret", url("github", "nope"), GITHUB, good
    yield "another type's secret", url("github", "gl-secret"), GITHUB, good
    yield "unknown type", url("svn", "gh-secret"), GITHUB, good
    yield "no trigger of the type", url("github", "gh-secret", name="only-generic"), GITHUB, good
    yield "referenced Secret missing", url("generic", "guess", name="missing-ref"), JSON, good
    yield "API error", url("github", "gh-secret", name="broken"), GITHUB, good
    yield "bad HMAC", url("github", "gh-secret"), {
        **GITHUB, "X-Hub-Signature-256": signed("other", good)}, good  # fmt: skip
    yield "HMAC of another body", url("github", "gh-secret"), {
        **GITHUB, "X-Hub-Signature-256": signed("gh-secret", b"{}")}, good  # fmt: skip
    sha1 = signed("other", good, "X-Hub-Signature", "sha1")
    yield "bad legacy HMAC", url("github", "gh-secret"), {**GITHUB, "X-Hub-Signature": sha1}, good
    yield "good and bad HMAC", url("github", "gh-secret"), {
        **GITHUB, "X-Hub-Signature-256": signed("gh-secret", good),
        "X-Hub-Signature": "sha1=00"}, good  # fmt: skip
    yield "malformed signature", url("github", "gh-secret"), {
        **GITHUB, "X-Hub-Signature-256": "sha256"}, good  # fmt: skip
    yield "unknown algorithm", url("github", "gh-secret"), {
        **GITHUB, "X-Hub-Signature-256": "md5=abc"}, good  # fmt: skip
    yield "non-ASCII signature", url("github", "gh-secret"), {
        **GITHUB, "X-Hub-Signature-256": "sha256=é"}, good  # fmt: skip
    yield "bad Gitea signature", url("github", "gh-secret"), {
        **GITHUB, "X-Gitea-Signature": "00"}, good  # fmt: skip
    yield "wrong GitLab token", url("gitlab", "gl-secret"), {
        **GITLAB, "X-Gitlab-Token": "nope"}, body(GITLAB_PUSH)  # fmt: skip
    yield "signature required, none", url("github", "gh-secret", name="signed"), GITHUB, good
    yield "signature required, SHA-1 only", url("github", "gh-secret", name="signed"), {
        **GITHUB, "X-Hub-Signature": signed("gh-secret", good, "X-Hub-Signature", "sha1")
    }, good  # fmt: skip


UNAUTHENTICATED = list(_unauthenticated())


def _receiver(kube: HookKube, **kwargs: Any) -> WebhookReceiver:
    receiver = WebhookReceiver(kube, **kwargs)
    real = kube.build_configs.get

    def get(namespace: str, name: str) -> BuildConfig:
        if name == "broken":
            raise KubeError(500, "etcd is having a day")
        return real(namespace, name)

    kube.build_configs.get = get  # type: ignore[method-assign]
    return receiver


@pytest.mark.parametrize(
    ("case", "path", "headers", "data"), UNAUTHENTICATED, ids=[c[0] for c in UNAUTHENTICATED]
)
def test_every_unauthenticated_request_gets_the_same_answer(
    kube: HookKube, case: str, path: str, headers: dict[str, str], data: bytes
) -> None:
    """Finding 8: three different answers told which namespaces and BuildConfigs exist."""
    answer = _receiver(kube, refusal_floor=0).handle(path, headers, data)
    assert answer == REFUSED, case
    assert REFUSED[0] == 401
    assert json.loads(REFUSED[1])["message"] == "the webhook did not accept your secret"
    assert builds(kube) == []


def test_refusals_wait_for_the_floor_and_answers_do_not(kube: HookKube) -> None:
    """However long the lookups took, a refusal is sent no sooner than REFUSAL_FLOOR."""
    now = [100.0]
    slept: list[float] = []

    def clock() -> float:
        now[0] += 0.01  # every lookup "takes" some time
        return now[0]

    receiver = _receiver(kube, clock=clock, sleep=slept.append)
    for _case, path, headers, data in UNAUTHENTICATED:
        slept.clear()
        assert receiver.handle(path, headers, data) == REFUSED
        assert slept == [pytest.approx(REFUSAL_FLOOR - 0.01)]
    slept.clear()
    receiver.handle(url("github", "gh-secret"), GITHUB, body(GITHUB_PUSH))
    receiver.handle(url("github", "gh-secret"), GITHUB, b"[")
    assert slept == []


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("app", {"X-Hub-Signature-256": "sha256"}),  # replaced by a valid one below
        ("app", {"X-Hub-Signature": "sha1"}),
        ("app", {"X-Gitea-Signature": ""}),
        ("signed", {"X-Hub-Signature-256": "sha256"}),
        ("signed", {"X-Hub-Signature-256": "sha256", "X-Hub-Signature": "sha1"}),
    ],
)
def test_valid_signatures_are_accepted(kube: HookKube, name: str, headers: dict[str, str]) -> None:
    data = body(GITHUB_PUSH)
    valid = {
        h: signed("gh-secret", data, h, "sha256" if v != "sha1" else "sha1")
        for h, v in headers.items()
    }
    code, answer = WebhookReceiver(kube).handle(
        url("github", "gh-secret", name=name), {**GITHUB, **valid}, data
    )
    assert code == 200, answer
    assert len(builds(kube)) == 1


def test_gitlab_token_is_checked(kube: HookKube) -> None:
    data = body(GITLAB_PUSH)
    receiver = WebhookReceiver(kube, refusal_floor=0)
    headers = {**GITLAB, "X-Gitlab-Token": "gl-secret"}
    assert receiver.handle(url("gitlab", "gl-secret", name="signed"), headers, data)[0] == 200
    assert receiver.handle(url("gitlab", "gl-secret", name="signed"), GITLAB, data) == REFUSED


DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_SHAPES: list[tuple[str, str, dict[str, str], bytes, int]] = [
    ("ref is a number", "github", GITHUB, body({**GITHUB_PUSH, "ref": 5}), 400),
    ("head_commit is an array", "github", GITHUB, body({**GITHUB_PUSH, "head_commit": []}), 400),
    ("head_commit is a string", "github", GITHUB, body({**GITHUB_PUSH, "head_commit": "x"}), 400),
    ("author is a list", "github", GITHUB,
     body({**GITHUB_PUSH, "head_commit": {"author": ["Ada"]}}), 400),
    ("author name is a number", "github", GITHUB,
     body({**GITHUB_PUSH, "head_commit": {"author": {"name": 1}}}), 400),
    ("after is an object", "github", GITHUB, body({**GITHUB_PUSH, "after": {}}), 400),
    ("deleted is a string", "github", GITHUB, body({**GITHUB_PUSH, "deleted": "yes"}), 400),
    ("commits is an object", "gitlab", GITLAB, body({**GITLAB_PUSH, "commits": {}}), 400),
    ("a commit is a string", "gitlab", GITLAB, body({**GITLAB_PUSH, "commits": ["x"]}), 400),
    ("checkout_sha is a list", "gitlab", GITLAB, body({**GITLAB_PUSH, "checkout_sha": []}), 400),
    ("changes is an object", "bitbucket", BITBUCKET, body({"push": {"changes": {}}}), 400),
    ("push is a list", "bitbucket", BITBUCKET, body({"push": []}), 400),
    ("a change is a number", "bitbucket", BITBUCKET, body({"push": {"changes": [1]}}), 400),
    ("target is a string", "bitbucket", BITBUCKET,
     body({"push": {"changes": [{"new": {"name": "main", "target": "x"}}]}}), 400),
    ("git is a string", "generic", JSON, body({"git": "main"}), 400),
    ("git.author is a number", "generic", JSON,
     body({"git": {"ref": "main", "author": 5}}), 400),
    ("git.refs is an object", "generic", JSON, body({"git": {"refs": {}}}), 400),
    ("env is an object", "generic", JSON, body({"env": {"A": "1"}}), 400),
    ("env entry is a string", "generic", JSON, body({"env": ["A=1"]}), 400),
    ("env name has a space", "generic", JSON, body({"env": [{"name": "A B", "value": "1"}]}), 400),
    ("env name is empty", "generic", JSON, body({"env": [{"value": "no name"}]}), 400),
    ("env name starts with a digit", "generic", JSON, body({"env": [{"name": "1A"}]}), 400),
    ("env name has =", "generic", JSON, body({"env": [{"name": "A=B", "value": "1"}]}), 400),
    ("env value is a number", "generic", JSON, body({"env": [{"name": "A", "value": 5}]}), 400),
    ("env valueFrom", "generic", JSON, body({"env": [{"name": "A", "valueFrom": {
        "secretKeyRef": {"name": "db", "key": "password"}}}]}), 400),
    ("payload is a list", "github", GITHUB, b"[]", 400),
    ("payload is null", "github", GITHUB, b"null", 400),
    ("generic payload is a string", "generic", JSON, b'"main"', 400),
    ("not JSON", "github", GITHUB, b"{not json", 400),
    ("not UTF-8", "generic", JSON, b'{"git": "\xff\xfe"}', 400),
    ("a lone surrogate", "github", GITHUB, b'{"ref": "\\ud800"}', 400),
    ("too many digits", "github", GITHUB, b'{"ref": ' + b"1" * 5000 + b"}", 400),
    ("100k deep", "github", GITHUB, DEEP, 400),
    ("100k deep generic", "generic", JSON, DEEP, 400),
    ("deep inside a field", "generic", JSON,
     b'{"git": {"ref": "main", "author": ' + b"{" * 70 + b"}" * 70 + b"}}", 400),
    ("no Content-Type", "github", {"X-Github-Event": "push"}, body(GITHUB_PUSH), 415),
    ("form-encoded", "github", {**GITHUB, "Content-Type": "application/x-www-form-urlencoded"},
     b"payload=%7B%7D", 415),
    ("form-encoded generic", "generic", {"Content-Type": "application/x-www-form-urlencoded"},
     body(GENERIC), 415),
    ("YAML generic", "generic", {"Content-Type": "application/yaml"}, b"git: {ref: main}", 415),
    ("no event", "github", JSON, body(GITHUB_PUSH), 400),
    ("no GitLab event", "gitlab", JSON, body(GITLAB_PUSH), 400),
    ("unknown Bitbucket event", "bitbucket", {**JSON, "X-Event-Key": "pullrequest:created"},
     b"{}", 400),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "kind", "headers", "data", "status"), BAD_SHAPES, ids=[c[0] for c in BAD_SHAPES]
)
def test_every_bad_payload_gets_a_typed_4xx_answer(
    kube: HookKube, case: str, kind: str, headers: dict[str, str], data: bytes, status: int
) -> None:
    """Finding 8: wrong-typed fields after the right secret crashed the handler (no answer)."""
    secret = SECRETS.get(kind, GENERIC_SECRET)
    code, answer = WebhookReceiver(kube).handle(url(kind, secret), headers, data)
    assert code == status, (case, answer)
    status_body = json.loads(answer)
    assert status_body["status"] == "Failure" and status_body["code"] == status
    assert builds(kube) == []


@pytest.mark.parametrize(
    "payload",
    [
        {**GITHUB_PUSH, "head_commit": None},
        {**GITHUB_PUSH, "head_commit": {"id": "aaa111", "author": None, "committer": None,
                                        "message": None}},
        {**GITHUB_PUSH, "after": None, "deleted": None, "pusher": [1, {"x": None}]},
    ],
)  # fmt: skip
def test_nulls_count_as_absent(kube: HookKube, payload: object) -> None:
    code, answer = WebhookReceiver(kube).handle(url("github", "gh-secret"), GITHUB, body(payload))
    assert code == 200, answer


def test_generic_env_reaches_the_build_only_with_allow_env(kube: HookKube) -> None:
    code, _ = WebhookReceiver(kube).handle(url("generic", GENERIC_SECRET), JSON, body(GENERIC))
    assert code == 200
    [build] = builds(kube)
    docker = build.spec.strategy.docker_strategy
    assert docker is not None and [(e.name, e.value) for e in docker.env] == [("GREETING", "hi")]


def test_generic_without_payload_builds_the_build_config_as_it_is(kube: HookKube) -> None:
    code, _ = WebhookReceiver(kube).handle(url("generic", GENERIC_SECRET), {}, b"")
    assert code == 200
    [build] = builds(kube)
    assert build.spec.revision is None


def test_the_log_tells_the_real_reason_without_the_secret(
    kube: HookKube, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = WebhookReceiver(kube, refusal_floor=0)
    with caplog.at_level(logging.INFO, logger="builder.controller.webhooks"):
        receiver.handle(url("github", "guessed-secret"), GITHUB, body(GITHUB_PUSH))
        receiver.handle(url("github", "gh-secret", name="ghost"), GITHUB, body(GITHUB_PUSH))
    messages = [r.getMessage() for r in caplog.records]
    assert "the provided secret does not match" in messages[0]
    assert "no such BuildConfig" in messages[1]
    assert all("secret/" not in m and "<secret>" in m for m in messages)


def test_a_defect_after_authentication_is_still_an_answer(kube: HookKube) -> None:
    def create(build: Build) -> Build:
        raise RuntimeError("a bug")

    kube.builds.create = create  # type: ignore[method-assign]
    code, answer = WebhookReceiver(kube).handle(url("github", "gh-secret"), GITHUB,
                                                body(GITHUB_PUSH))  # fmt: skip
    assert code == 500 and json.loads(answer)["message"] == "internal error"


def test_headers_are_matched_without_regard_to_case() -> None:
    headers = {"content-type": "Application/JSON; charset=utf-8", "x-github-event": "push"}
    assert hook_revision("github", headers, body(GITHUB_PUSH)).pushes


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    """One server for the module (each shutdown waits for its poll): requests here build nothing."""
    receiver = _receiver(_kube(), refusal_floor=0)
    http = serve(Metrics(), 0, lambda: True, lambda: True, {PREFIX: receiver.handle})
    try:
        yield http.server_address[1]
    finally:
        http.shutdown()
        http.server_close()


def raw_post(port: int, path: str, headers: dict[str, str], data: bytes) -> bytes:
    """Send one request as bytes, half-close, and read the whole answer."""
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"POST {path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + data
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def without_date(answer: bytes) -> bytes:
    return b"\r\n".join(line for line in answer.split(b"\r\n") if not line.startswith(b"Date:"))


def test_refusals_are_byte_identical_over_http(server: int) -> None:
    answers = set()
    for _case, path, headers, data in UNAUTHENTICATED:
        length = {"Content-Length": str(len(data))}
        answers.add(without_date(raw_post(server, path, {**headers, **length}, data)))
    [answer] = answers
    assert answer.startswith(b"HTTP/1.0 401 ")
    assert answer.endswith(REFUSED[1])


@pytest.mark.parametrize(
    ("length", "status"),
    [("-1", b"400"), ("abc", b"400"), ("+5", b"400"), ("1_0", b"400"), ("\u0661", b"400"),
     (str(MAX_POST_BYTES + 1), b"413")],
)  # fmt: skip
def test_the_body_length_is_bounded(server: int, length: str, status: bytes) -> None:
    """``Content-Length: -1`` read to the end of the stream; a non-number killed the thread."""
    data = body(GITHUB_PUSH) * 3
    answer = raw_post(server, url("github", "gh-secret"), {**GITHUB, "Content-Length": length},
                      data)  # fmt: skip
    assert answer.split(b" ")[1] == status, answer
    # The server's own answer, before any handler saw the body.
    assert answer.endswith(b"bad Content-Length\n" if status == b"400" else b"too large\n")


def test_a_chunked_body_is_refused_rather_than_read_as_empty(server: int) -> None:
    data = body(GENERIC)
    chunked = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"
    answer = raw_post(server, url("generic", GENERIC_SECRET),
                      {**JSON, "Transfer-Encoding": "chunked"}, chunked)  # fmt: skip
    assert answer.split(b" ")[1] == b"411", answer


@pytest.mark.parametrize(
    ("values", "length"),
    [([], 0), (["12"], 12), (["12", "12"], 12), (["12", "13"], None), ([" 1"], None),
     (["-1"], None), (["0x10"], None)],
)  # fmt: skip
def test_body_length(values: list[str], length: int | None) -> None:
    assert body_length(values) == length


class LendingKube(HookKube):
    """A namespace that has not lent its secrets to the controller: reading one is 403."""

    def get_secret(self, _namespace: str, name: str) -> dict[str, Any]:
        raise KubeError(403, f'secrets "{name}" is forbidden')


def test_a_secret_not_lent_refuses_uniformly_and_tells_the_owner_once() -> None:
    kube = LendingKube()
    kube.build_configs.create(build_config("app", ALL_TRIGGERS))
    receiver = WebhookReceiver(kube, refusal_floor=0)
    for _ in range(3):
        answer = receiver.handle(url("generic", GENERIC_SECRET), JSON, body(GENERIC))
        assert answer == REFUSED
    warnings = [e for e in kube.events if e.get("reason") == "WebhookSecretUnreadable"]
    assert len(warnings) == 1
    assert "kbuild-namespace-secrets" in warnings[0]["message"]
    assert warnings[0]["involvedObject"]["name"] == "app"
    assert builds(kube) == []


def test_a_build_config_the_models_refuse_gets_the_uniform_answer(kube: HookKube) -> None:
    original = kube.build_configs.get

    def refusing(namespace: str, name: str) -> BuildConfig:
        if name == "app":
            raise ManifestError(["BuildConfig 'app': spec.resources.limits.cpu: bad"])
        return original(namespace, name)

    kube.build_configs.get = refusing  # type: ignore[method-assign]
    receiver = WebhookReceiver(kube, refusal_floor=0)
    assert receiver.handle(url("github", "gh-secret"), GITHUB, body(GITHUB_PUSH)) == REFUSED
