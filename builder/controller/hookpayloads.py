"""Webhook payloads to what they ask for: pure, typed, bounded.

A delivery reaches this module only after its URL secret (and signature)
were accepted, but its body is still untrusted: a git host's bug, a proxy, or
anyone holding the secret can send any bytes.  So every shape other than the
provider's documented one ends as a ``HookError`` with a 4xx status, never as
another exception:

- the body must be JSON (``Content-Type: application/json``; a generic hook
  may omit the header) nested at most ``MAX_DEPTH`` levels, checked before
  ``json.loads`` recurses;
- every field has its JSON type: ``null`` counts as absent (as Go's
  ``encoding/json`` that OpenShift decodes with), any other wrong type is
  refused naming the field (``"ref": 5``, ``"head_commit": []``,
  ``"commits": {}``);
- a push must name its ref: GitHub's and GitLab's ``ref``, Bitbucket's
  ``new.name`` / ``ref.displayId``, a generic payload's ``git.ref`` (or
  ``git.refs``).  Without one there is no branch to compare with the
  BuildConfig's, and OpenShift builds nothing then either;
- a push that deletes its branch is acknowledged and builds nothing;
- a generic payload's ``env`` names pass the build's own env-name rule,
  values are strings, ``valueFrom`` is refused (a secret holder must not
  point the build at the namespace's Secrets).

Provider events are OpenShift's: GitHub (and Gogs/Gitea) ``push`` and
``ping``; GitLab ``Push Hook``; Bitbucket Cloud ``repo:push`` and Bitbucket
Server ``repo:refs_changed``; any other event is a 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from builder.api import EnvVar
from builder.api.build import (
    BuildSourceType,
    GitSourceRevision,
    SourceControlUser,
    SourceRevision,
)
from builder.api.envnames import ENV_NAME_RULE, is_env_name

MAX_DEPTH = 64
"""Deepest JSON nesting accepted; a GitHub push nests 5 levels."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
_DELETED = re.compile(r"^0+$")


class HookError(Exception):
    """An answer other than "build started": HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Push:
    """One pushed ref and the revision it now points at (None: build the ref's head)."""

    branch: str
    revision: SourceRevision | None


@dataclass(frozen=True)
class Hook:
    """What a delivery asks for.

    ``skip``: acknowledged, nothing to build.  Else the first of ``pushes``
    whose branch matches the BuildConfig is built; no pushes at all (a
    generic hook without ``git``) builds the BuildConfig as it is.
    """

    pushes: tuple[Push, ...] = ()
    env: tuple[EnvVar, ...] = ()
    skip: str = ""


# --------------------------------------------------------------------------- JSON


def nesting(body: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep the JSON in ``body`` nests, counting no further than ``limit + 1``.

    Strings are removed first so brackets inside them do not count; for
    invalid JSON the answer is only an estimate, and ``json.loads`` refuses
    the body anyway.
    """
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def decode(body: bytes) -> Any:
    """The JSON value of ``body``, or HookError 400 (bounded nesting, any bytes)."""
    if nesting(body) > MAX_DEPTH:
        raise HookError(400, f"the payload nests deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as err:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and too many
        # integer digits; RecursionError stays as a backstop to the scan above.
        raise HookError(400, f"the payload is not JSON: {err}") from None


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _wrong(where: str, wanted: str, value: Any) -> HookError:
    return HookError(400, f"{where} must be {wanted}, not {_type(value)}")


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _object(value: Any, where: str) -> Mapping[str, Any]:
    """An object (null: empty), or a 400 naming ``where``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong(where, "an object", value)
    return value


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _wrong(_at(where, key), "a string", value)
    try:
        value.encode()
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): no API server takes it
        raise HookError(400, f"{_at(where, key)} is not valid Unicode") from None
    return value


def _obj(obj: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    return _object(obj.get(key), _at(where, key))


def _list(obj: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong(_at(where, key), "an array", value)
    return value


def _bool(obj: Mapping[str, Any], key: str, where: str) -> bool:
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _wrong(_at(where, key), "a boolean", value)
    return value


def _payload(body: bytes, what: str) -> Mapping[str, Any]:
    payload = decode(body)
    if not isinstance(payload, dict):
        raise HookError(400, f"a {what} payload must be a JSON object, not {_type(payload)}")
    return payload


# --------------------------------------------------------------------------- pieces


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").partition(";")[0].strip().lower()


def _require_json(headers: Mapping[str, str], *, optional: bool = False) -> None:
    media = _media_type(headers)
    if media == "application/json" or (optional and not media):
        return
    shown = headers.get("content-type", "")
    raise HookError(415, f"unsupported Content-Type {shown!r} (use application/json)")


def _user(obj: Mapping[str, Any], key: str, where: str) -> SourceControlUser:
    user = _obj(obj, key, where)
    where = _at(where, key)
    return SourceControlUser(name=_str(user, "name", where), email=_str(user, "email", where))


def _revision(
    commit: str,
    message: str,
    author: SourceControlUser | None = None,
    committer: SourceControlUser | None = None,
) -> SourceRevision:
    return SourceRevision(
        type=BuildSourceType.GIT,
        git=GitSourceRevision(
            commit=commit,
            message=message,
            author=author or SourceControlUser(),
            committer=committer or SourceControlUser(),
        ),
    )


def _ref(obj: Mapping[str, Any], key: str, where: str, what: str) -> str:
    ref = _str(obj, key, where)
    if not ref:
        raise HookError(400, f"the {what} names no {_at(where, key)}: no branch to build")
    return ref


def _deleted(commit: str) -> bool:
    return bool(_DELETED.match(commit))


# --------------------------------------------------------------------------- providers


def _github(headers: Mapping[str, str], body: bytes) -> Hook:
    _require_json(headers)
    event = headers.get("x-github-event") or headers.get("x-gogs-event") or ""
    if not event:
        raise HookError(400, "missing X-GitHub-Event or X-Gogs-Event")
    if event == "ping":
        return Hook(skip="ping received")
    if event != "push":
        raise HookError(400, f"unknown X-GitHub-Event or X-Gogs-Event {event!r} (push, ping)")
    payload = _payload(body, "GitHub push")
    ref = _ref(payload, "ref", "", "GitHub push")
    after = _str(payload, "after", "")
    if _bool(payload, "deleted", "") or _deleted(after):
        return Hook(skip=f"skipping build: the push deleted {ref!r}")
    head = _obj(payload, "head_commit", "")
    revision = _revision(
        _str(head, "id", "head_commit") or after,
        _str(head, "message", "head_commit"),
        _user(head, "author", "head_commit"),
        _user(head, "committer", "head_commit"),
    )
    return Hook(pushes=(Push(ref, revision),))


def _gitlab(headers: Mapping[str, str], body: bytes) -> Hook:
    _require_json(headers)
    event = headers.get("x-gitlab-event", "")
    if not event:
        raise HookError(400, "missing X-Gitlab-Event")
    if event != "Push Hook":
        raise HookError(400, f"unknown X-Gitlab-Event {event!r} (Push Hook)")
    payload = _payload(body, "GitLab push")
    ref = _ref(payload, "ref", "", "GitLab push")
    after = _str(payload, "after", "")
    if _deleted(after):
        return Hook(skip=f"skipping build: the push deleted {ref!r}")
    sha = _str(payload, "checkout_sha", "") or after
    commits = [_object(c, f"commits[{i}]") for i, c in enumerate(_list(payload, "commits", ""))]
    index = next((i for i, c in enumerate(commits) if c.get("id") == sha), len(commits) - 1)
    last = commits[index] if commits else {}
    where = f"commits[{index}]"
    author = _user(last, "author", where)  # GitLab names no committer
    revision = _revision(
        sha or _str(last, "id", where), _str(last, "message", where), author, author
    )
    return Hook(pushes=(Push(ref, revision),))


def _bitbucket_cloud(payload: Mapping[str, Any]) -> Hook:
    changes = _list(_obj(payload, "push", ""), "changes", "push")
    if not changes:
        raise HookError(400, "the Bitbucket push names no change: no branch to build")
    pushes: list[Push] = []
    deleted: list[str] = []
    for i, item in enumerate(changes):
        where = f"push.changes[{i}]"
        change = _object(item, where)
        new = _obj(change, "new", where)
        if not new:  # the branch was deleted: "old" names it
            deleted.append(_str(_obj(change, "old", where), "name", f"{where}.old"))
            continue
        name = _ref(new, "name", f"{where}.new", "Bitbucket push")
        target = _obj(new, "target", f"{where}.new")
        at = f"{where}.new.target"
        user = _obj(_obj(target, "author", at), "user", f"{at}.author")
        author = SourceControlUser(name=_str(user, "display_name", f"{at}.author.user"))
        revision = _revision(_str(target, "hash", at), _str(target, "message", at), author)
        pushes.append(Push(name, revision))
    if not pushes:
        return Hook(skip=f"skipping build: the push deleted {', '.join(map(repr, deleted))}")
    return Hook(pushes=tuple(pushes))


def _bitbucket_server(payload: Mapping[str, Any]) -> Hook:
    changes = _list(payload, "changes", "")
    if not changes:
        raise HookError(400, "the Bitbucket push names no change: no branch to build")
    pushes: list[Push] = []
    deleted: list[str] = []
    for i, item in enumerate(changes):
        where = f"changes[{i}]"
        change = _object(item, where)
        name = _ref(_obj(change, "ref", where), "displayId", f"{where}.ref", "Bitbucket push")
        if _str(change, "type", where) == "DELETE":
            deleted.append(name)
            continue
        pushes.append(Push(name, _revision(_str(change, "toHash", where), "")))
    if not pushes:
        return Hook(skip=f"skipping build: the push deleted {', '.join(map(repr, deleted))}")
    return Hook(pushes=tuple(pushes))


def _bitbucket(headers: Mapping[str, str], body: bytes) -> Hook:
    _require_json(headers)
    event = headers.get("x-event-key", "")
    if not event:
        raise HookError(400, "missing X-Event-Key")
    if event == "repo:push":
        return _bitbucket_cloud(_payload(body, "Bitbucket push"))
    if event == "repo:refs_changed":
        return _bitbucket_server(_payload(body, "Bitbucket push"))
    raise HookError(400, f"unknown X-Event-Key {event!r} (repo:push, repo:refs_changed)")


def _env(payload: Mapping[str, Any]) -> tuple[EnvVar, ...]:
    env: list[EnvVar] = []
    for i, item in enumerate(_list(payload, "env", "")):
        where = f"env[{i}]"
        entry = _object(item, where)
        name = _str(entry, "name", where)
        if not is_env_name(name):
            raise HookError(
                400, f"{where}.name {name!r} is not a valid variable name ({ENV_NAME_RULE})"
            )
        if entry.get("valueFrom") is not None:
            raise HookError(400, f"{where}.valueFrom is not accepted from a webhook")
        env.append(EnvVar(name=name, value=_str(entry, "value", where)))
    return tuple(env)


def _generic_push(git: Mapping[str, Any], where: str) -> Push:
    ref = _ref(git, "ref", where, "generic payload")
    revision = _revision(
        _str(git, "commit", where),
        _str(git, "message", where),
        _user(git, "author", where),
        _user(git, "committer", where),
    )
    return Push(ref, revision)


def _generic(headers: Mapping[str, str], body: bytes) -> Hook:
    if not body.strip():
        return Hook()  # no payload: build the BuildConfig as it is
    _require_json(headers, optional=True)
    payload = _payload(body, "generic")
    env = _env(payload)
    if payload.get("git") is None:
        return Hook(env=env)  # OpenShift too builds the BuildConfig as it is
    git = _obj(payload, "git", "")
    refs = _list(git, "refs", "git")
    if refs:
        pushes = tuple(
            _generic_push(_object(r, f"git.refs[{i}]"), f"git.refs[{i}]")
            for i, r in enumerate(refs)
        )
    else:
        pushes = (_generic_push(git, "git"),)
    return Hook(pushes=pushes, env=env)


_PROVIDERS = {
    "github": _github,
    "gitlab": _gitlab,
    "bitbucket": _bitbucket,
    "generic": _generic,
}


def hook_revision(kind: str, headers: Mapping[str, str], body: bytes) -> Hook:
    """What a delivery of ``kind`` asks for; HookError (4xx) for anything else.

    ``headers`` are matched without regard to case.
    """
    provider = _PROVIDERS.get(kind)
    if provider is None:
        raise HookError(404, f'unknown webhook type "{kind}"')
    return provider({k.lower(): v for k, v in headers.items()}, body)
