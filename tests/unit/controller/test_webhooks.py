"""Webhook deliveries to revisions, branch rules and causes (the parts without the API)."""

from __future__ import annotations

import json

import pytest

from builder.api import BuildConfig, parse_as
from builder.controller.webhooks import (
    HIDDEN_SECRET,
    HookError,
    branch_matches,
    cause,
    hook_revision,
    hook_triggers,
)

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
    "env": [{"name": "GREETING", "value": "hi"}, {"value": "no name"}],
}  # fmt: skip


def body(payload: object) -> bytes:
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("kind", "headers", "payload", "commit", "message", "author", "branch"),
    [
        ("github", {"X-Github-Event": "push"}, GITHUB_PUSH, "aaa111", "Fix the greeting",
         "Ada", "refs/heads/main"),
        ("gitlab", {"X-Gitlab-Event": "Push Hook"}, GITLAB_PUSH, "bbb222", "Newest", "Lin",
         "refs/heads/main"),
        ("bitbucket", {"X-Event-Key": "repo:push"}, BITBUCKET_PUSH, "ccc333", "Ship it", "Bo",
         "release"),
        ("generic", {}, GENERIC, "ddd444", "by hand", "Cy", "main"),
    ],
)  # fmt: skip
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
    assert hook.revision is not None and hook.revision.git is not None
    git = hook.revision.git
    assert (git.commit, git.message, git.author.name) == (commit, message, author)
    assert hook.branch == branch


def test_generic_env_and_empty_payload() -> None:
    hook = hook_revision("generic", {}, body(GENERIC))
    assert [(e.name, e.value) for e in hook.env] == [("GREETING", "hi")]
    empty = hook_revision("generic", {}, b"")
    assert empty.revision is None and empty.branch == "" and not empty.skip


def test_github_ping_is_acknowledged_and_other_events_refused() -> None:
    assert hook_revision("github", {"X-Github-Event": "ping"}, b"{}").skip == "ping received"
    with pytest.raises(HookError) as info:
        hook_revision("github", {"X-Github-Event": "issues"}, b"{}")
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("kind", "headers", "data"),
    [
        ("github", {"X-Github-Event": "push"}, b"{not json"),
        ("github", {"X-Github-Event": "push"}, b"[]"),
        ("gitlab", {"X-Gitlab-Event": "Tag Push Hook"}, b"{}"),
        ("bitbucket", {}, b"{}"),
        ("svn", {}, b""),
    ],
)
def test_refusals(kind: str, headers: dict[str, str], data: bytes) -> None:
    with pytest.raises(HookError):
        hook_revision(kind, headers, data)


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
