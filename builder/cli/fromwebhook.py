"""``kbuild start-build --from-webhook URL``: start a build by POSTing its generic webhook.

As ``oc start-build --from-webhook``: no BuildConfig name and no other
``--from-*`` flag; the body is empty, or with ``--git-post-receive FILE``
(``-`` for stdin: the ``OLD NEW REF`` lines git hands a post-receive hook)
the generic webhook event ``{"git": {"refs": [{"ref", "commit", ...}]}}``,
one entry per ref that moved, with author, committer and message read from
``--git-repository DIR`` when given.  A 2xx answer whose body is a Build is
printed as ``build.build.openshift.io/NAME started``; any other status is
``server rejected our request STATUS`` with the server's message.  A
redirect is not followed (oc does not either).

The URL carries the webhook's secret, so it is never printed: messages name
only its scheme, host and port.  The answer read is bounded (1 MiB) and the
request times out, so a hostile endpoint cannot hold the client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from builder.cli.common import CliError

MAX_ANSWER = 1 << 20
TIMEOUT_S = 30.0
_ZERO = "0" * 40


@dataclass(frozen=True)
class ChangedRef:
    old: str
    new: str
    ref: str


def parse_post_receive(lines: Iterable[str]) -> list[ChangedRef]:
    """git's post-receive input: ``OLD NEW REF`` per line (blank lines skipped)."""
    refs: list[ChangedRef] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3:
            raise CliError(
                f"--git-post-receive line {number}: expected 'OLD NEW REF', got {line.strip()!r}"
            )
        refs.append(ChangedRef(*parts))
    return refs


def commit_info(repository: Path | None, commit: str) -> dict[str, Any]:
    """Author, committer and message of ``commit`` in ``repository`` ({} when unknown)."""
    if repository is None:
        return {}
    done = subprocess.run(
        ["git", "-C", str(repository), "show", "-s", "--format=%H%n%an%n%ae%n%cn%n%ce%n%B",
         commit, "--"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    if done.returncode != 0:
        return {}  # oc logs it and sends the ref and commit alone
    lines = (done.stdout.split("\n", 5) + [""] * 6)[:6]
    return {
        "author": {"name": lines[1], "email": lines[2]},
        "committer": {"name": lines[3], "email": lines[4]},
        "message": lines[5].rstrip("\n"),
    }


def event(refs: list[ChangedRef], repository: Path | None) -> dict[str, Any] | None:
    """The generic webhook event for ``refs``; None when no post-receive input was given."""
    if not refs:
        return None
    entries: list[dict[str, Any]] = []
    for changed in refs:
        if not changed.new or changed.new in (changed.old, _ZERO):
            continue
        entries.append(
            {**commit_info(repository, changed.new), "ref": changed.ref, "commit": changed.new}
        )
    return {"git": {"refs": entries}}


def where(url: str) -> str:
    """``https://host:port``: the URL without its path, where the secret is."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError("--from-webhook must be an http:// or https:// URL")


def check_url(url: str) -> None:
    check_scheme(url)
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith("/generic"):
        print(
            "warning: the '--from-webhook' flag should be called with a generic webhook URL.",
            file=sys.stderr,
            flush=True,
        )


def post(url: str, body: dict[str, Any] | None) -> tuple[int, bytes]:
    """POST ``body`` (JSON, or nothing) to ``url``: the status and the (bounded) answer."""
    check_scheme(url)
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(  # noqa: S310 - the scheme is http(s), checked above
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=TIMEOUT_S) as answer:
            return int(answer.status), answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as err:
        return err.code, err.read(MAX_ANSWER)
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise CliError(f"cannot reach the webhook at {where(url)}: {reason}") from None


def _server_message(answer: bytes) -> str:
    text = answer.decode(errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return text.strip()


def started(answer: bytes) -> str | None:
    """``build.build.openshift.io/NAME``: the Build a 2xx answer carries, if it is one."""
    try:
        data = json.loads(answer.decode(errors="replace"))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") != "Build":
        return None
    name = (data.get("metadata") or {}).get("name")
    return f"build.build.openshift.io/{name}" if isinstance(name, str) and name else None


def trigger(url: str, post_receive: str, repository: Path | None) -> str | None:
    """Run ``--from-webhook``: the started build's reference, or None when none was named."""
    check_url(url)
    refs: list[ChangedRef] = []
    if post_receive == "-":
        refs = parse_post_receive(sys.stdin)
    elif post_receive:
        try:
            text = Path(post_receive).read_text(errors="replace")
        except OSError as err:
            raise CliError(
                f"unable to open --git-post-receive argument as a file: {err.strerror}"
            ) from None
        refs = parse_post_receive(text.splitlines())
    status, answer = post(url, event(refs, repository))
    if status in (301, 302):
        return None  # oc: not followed, nothing printed
    if not 200 <= status < 300:
        raise CliError(f"server rejected our request {status}\nremote: {_server_message(answer)}")
    return started(answer)
