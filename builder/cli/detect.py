"""What ``kbuild new-app REPO`` builds with: the repository's language and a builder image stream.

As ``oc new-app`` (openshift/oc ``pkg/helpers/newapp/source/detector.go``),
the files at the top of the source (its context directory) name the
platforms it is written for; every detector that matches counts:

==============  ==========================================
platform        files
==============  ==========================================
ruby            Gemfile, Rakefile, config.ru
jee             pom.xml
nodejs          app.json, package.json
php             index.php, composer.json
python          requirements.txt, setup.py
perl            index.pl, cpanfile
scala           build.sbt
dotnet, .net    project.json, \\*.csproj
golang          main.go, Godeps
httpd           index.html (kbuild's: only when nothing else matched)
==============  ==========================================

A ``Dockerfile`` there means the Docker strategy (unless ``--strategy
source``), and no builder is looked for: the Dockerfile's FROM is the base.

A builder is a spec tag of an image stream whose ``supports`` annotation
(a comma-separated list such as ``nodejs:18,nodejs``) names the platform,
with or without a version; tags whose ``tags`` annotation holds ``hidden``
are skipped, as in oc.  Streams of the current namespace come before those
of ``openshift``; then an entry naming the platform without a version
before one with a version; then the ``latest`` tag, then the highest
version; then stream name order.

The repository's file names are read from a bare, depth-1 clone made with
no checkout and, where the server allows, no file contents
(``list_repository``): nothing of the repository is written to a working
tree or run (no hooks, filters or submodules), only the file, git, http(s)
and ssh transports are allowed (``GIT_ALLOW_PROTOCOL``), git never prompts,
and the clone is removed afterwards.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DETECTORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ruby", ("Gemfile", "Rakefile", "config.ru")),
    ("jee", ("pom.xml",)),
    ("nodejs", ("app.json", "package.json")),
    ("php", ("index.php", "composer.json")),
    ("python", ("requirements.txt", "setup.py")),
    ("perl", ("index.pl", "cpanfile")),
    ("scala", ("build.sbt",)),
    ("dotnet", ("project.json", "*.csproj")),
    (".net", ("project.json", "*.csproj")),
    ("golang", ("main.go", "Godeps")),
)
"""oc's detectors, in oc's order."""
STATIC = ("httpd", ("index.html",))
"""kbuild's addition: a static site, when no language matched."""
DOCKERFILE = "Dockerfile"
SUPPORTS_ANNOTATION = "supports"
TAGS_ANNOTATION = "tags"
GIT_TIMEOUT_SECONDS = 120
MAX_LISTED_FILES = 10_000


def detect_platforms(names: Iterable[str]) -> list[str]:
    """The platforms the top-level file ``names`` show, in oc's order."""
    files = list(names)

    def has(globs: tuple[str, ...]) -> bool:
        return any(fnmatch.filter(files, g) for g in globs)

    found = [platform for platform, globs in DETECTORS if has(globs)]
    if not found and has(STATIC[1]):
        found.append(STATIC[0])
    return found


def has_dockerfile(names: Iterable[str]) -> bool:
    return DOCKERFILE in set(names)


@dataclass(frozen=True)
class StreamTag:
    """A spec tag of an image stream, as the search sees it."""

    namespace: str
    stream: str
    tag: str
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class Candidate:
    tag: StreamTag
    platform: str
    exact: bool
    """The ``supports`` entry names the platform without a version."""


def _version_key(tag: str) -> tuple[tuple[int, int | str], ...]:
    parts = re.split(r"[.-]", tag)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def _matches(tag: StreamTag, platform: str) -> Candidate | None:
    if "hidden" in [t.strip() for t in tag.annotations.get(TAGS_ANNOTATION, "").split(",")]:
        return None
    entries = [e.strip() for e in tag.annotations.get(SUPPORTS_ANNOTATION, "").split(",")]
    if platform in entries:
        return Candidate(tag, platform, exact=True)
    if any(e.startswith(platform + ":") for e in entries):
        return Candidate(tag, platform, exact=False)
    return None


def select_builder(
    platforms: Sequence[str], tags: Sequence[StreamTag], namespaces: Sequence[str]
) -> Candidate | None:
    """The best builder for ``platforms`` among ``tags`` (see the module docstring)."""
    found = [c for t in tags for p in platforms if (c := _matches(t, p)) is not None]
    if not found:
        return None
    order = {ns: i for i, ns in enumerate(namespaces)}
    # Highest version first, then by name; min() keeps the first of equals.
    found.sort(key=lambda c: (c.tag.stream, c.tag.tag))
    found.sort(key=lambda c: _version_key(c.tag.tag), reverse=True)
    return min(
        found,
        key=lambda c: (order.get(c.tag.namespace, len(order)), not c.exact, c.tag.tag != "latest"),
    )


class ListingError(Exception):
    """The repository's files could not be listed; the message says why, on one line."""


def list_repository(uri: str, ref: str, context_dir: str) -> list[str]:
    """The names at the top of ``context_dir`` in ``uri`` at ``ref`` (default branch if empty)."""
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ASKPASS": "true",
        # The transports new-app accepts; never ext:: or fd:: whatever the user's config says.
        "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
    }
    with tempfile.TemporaryDirectory(prefix="kbuild-detect-") as scratch:
        repo = str(Path(scratch) / "repo.git")
        clone = ["git", "clone", "--bare", "--depth", "1", "--no-tags", "--single-branch", "-q"]
        # Only trees are read: blobs are not fetched where the server can filter.
        clone.append("--filter=blob:none")
        if ref:
            clone += ["--branch", ref]
        _git([*clone, "--", uri, repo], env, f"cannot clone {uri}")
        tree = "HEAD:" + context_dir.strip("/") if context_dir.strip("/") else "HEAD^{tree}"
        out = _git(
            ["git", "-C", repo, "ls-tree", "--name-only", "-z", tree],
            env,
            f"cannot read {context_dir or 'the top directory'} of {uri}",
        )
    names = [n for n in out.split("\0") if n]
    return names[:MAX_LISTED_FILES]


def _git(argv: list[str], env: Mapping[str, str], what: str) -> str:
    try:
        proc = subprocess.run(  # a fixed git argv; the URL comes after --
            argv,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ListingError(f"{what}: git took more than {GIT_TIMEOUT_SECONDS}s") from None
    except OSError as err:
        raise ListingError(f"{what}: {err.strerror}") from None
    if proc.returncode != 0:
        last = [line for line in proc.stderr.splitlines() if line.strip()]
        raise ListingError(f"{what}: {last[-1] if last else f'git exited {proc.returncode}'}")
    return proc.stdout
