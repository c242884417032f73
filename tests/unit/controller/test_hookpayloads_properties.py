"""Property tests: no body, header or field makes the webhook parsers raise but HookError.

Bounded: ``max_examples`` per test, ``deadline=None``; the whole module runs in a few seconds.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.controller.hookpayloads import MAX_DEPTH, HookError, decode, hook_revision, nesting
from builder.controller.hooksignatures import Signed, verify
from tests.support.jsontree import paths, replaced

KINDS = {
    "github": {"Content-Type": "application/json", "X-Github-Event": "push"},
    "gitlab": {"Content-Type": "application/json", "X-Gitlab-Event": "Push Hook"},
    "bitbucket": {"Content-Type": "application/json", "X-Event-Key": "repo:push"},
    "bitbucket-server": {"Content-Type": "application/json", "X-Event-Key": "repo:refs_changed"},
    "generic": {"Content-Type": "application/json"},
}
VALID: dict[str, Any] = {
    "github": {"ref": "refs/heads/main", "after": "a", "deleted": False,
               "head_commit": {"id": "a", "message": "m", "author": {"name": "n", "email": "e"},
                               "committer": {"name": "n"}}},
    "gitlab": {"ref": "refs/heads/main", "after": "b", "checkout_sha": "b",
               "commits": [{"id": "b", "message": "m", "author": {"name": "n"}}]},
    "bitbucket": {"push": {"changes": [{"new": {"name": "main", "target": {
        "hash": "c", "message": "m", "author": {"user": {"display_name": "n"}}}},
        "old": {"name": "main"}}]}},
    "bitbucket-server": {"changes": [{"ref": {"displayId": "main"}, "type": "UPDATE",
                                      "toHash": "d"}]},
    "generic": {"git": {"ref": "main", "commit": "e", "author": {"name": "n"},
                        "refs": [{"ref": "main", "commit": "e"}]},
                "env": [{"name": "A", "value": "1"}]},
}  # fmt: skip
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def parse(kind: str, headers: dict[str, str], data: bytes) -> None:
    """Run the parser; only HookError with a 4xx status may come out."""
    provider = "bitbucket" if kind == "bitbucket-server" else kind
    try:
        hook_revision(provider, headers, data)
    except HookError as err:
        assert 400 <= err.status < 500, err.status


@SETTINGS
@given(kind=st.sampled_from(sorted(KINDS)), value=json_values)
def test_any_json_value_as_the_payload(kind: str, value: Any) -> None:
    parse(kind, KINDS[kind], json.dumps(value).encode())


@SETTINGS
@given(kind=st.sampled_from(sorted(KINDS)), data=st.data(), value=json_values)
def test_any_json_value_in_any_field_of_a_valid_payload(kind: str, data: Any, value: Any) -> None:
    path = data.draw(st.sampled_from(paths(VALID[kind])))
    parse(kind, KINDS[kind], json.dumps(replaced(VALID[kind], path, value)).encode())


@SETTINGS
@given(
    kind=st.sampled_from(sorted(KINDS)),
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(["application/json", "", "text/plain", "application/json; x"]),
    event=st.text(max_size=12),
)
def test_any_bytes_and_headers(kind: str, raw: bytes, content_type: str, event: str) -> None:
    headers = {**KINDS[kind], "Content-Type": content_type}
    parse(kind, headers, raw)
    for name in ("X-Github-Event", "X-Gitlab-Event", "X-Event-Key"):
        parse(kind, {**headers, name: event}, raw)


@SETTINGS
@given(value=json_values, spaces=st.booleans())
def test_nesting_counts_what_json_nests(value: Any, spaces: bool) -> None:
    """The pre-scan agrees with the parser on valid JSON (brackets in strings do not count)."""
    text = json.dumps(value, indent=1 if spaces else None).encode()

    def depth(v: Any) -> int:
        if isinstance(v, dict):
            return 1 + max(map(depth, v.values()), default=0)
        if isinstance(v, list):
            return 1 + max(map(depth, v), default=0)
        return 0

    assert nesting(text) == depth(value)
    assert json.dumps(decode(text)) == json.dumps(value)  # NaN included


@SETTINGS
@given(opening=st.text(alphabet="[{", min_size=MAX_DEPTH + 1, max_size=3 * MAX_DEPTH))
def test_anything_deeper_than_the_limit_is_refused(opening: str) -> None:
    closing = "".join("]" if c == "[" else "}" for c in reversed(opening))
    text = opening.replace("{", '{"k":') + closing
    try:
        decode(text.encode())
    except HookError as err:
        assert err.status == 400
    else:
        raise AssertionError("a payload deeper than MAX_DEPTH was parsed")


@SETTINGS
@given(
    headers=st.dictionaries(
        st.sampled_from(["X-Hub-Signature-256", "X-Hub-Signature", "X-Gitea-Signature",
                         "X-Gogs-Signature", "X-Gitlab-Token", "X-Other"]),
        st.text(max_size=80), max_size=4,
    ),
    data=st.binary(max_size=100),
    key=st.binary(max_size=20),
)  # fmt: skip
def test_any_signature_header_is_an_answer(
    headers: dict[str, str], data: bytes, key: bytes
) -> None:
    assert verify(headers, data, key) in set(Signed)
