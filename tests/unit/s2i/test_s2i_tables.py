"""source-to-image's own Dockerfile-generator tables, replayed against kbuild.

Facts carried over from s2i's ``test/integration/dockerfile`` (one row per
``TestDockerfile*`` function) and ``pkg/build/strategies/dockerfile``
(``TestGetImageScriptsDir``, ``TestInstallScripts``): the inputs, and the
lines s2i expects.  Each row runs kbuild's pipeline as ``kbuild build
--as-dockerfile`` does (fetch a real git repository, prepare, render) against
a stub registry serving the builder's config, with scripts URLs served by a
real HTTP server on 127.0.0.1.

kbuild's Dockerfile has OpenShift 4's shape, not plain s2i's, so the expected
lines are written in kbuild's form; ``TRANSLATION`` says how once for all:

=======================================  =========================================
s2i expects                              kbuild writes
=======================================  =========================================
``COPY upload/src /tmp/src`` and         ``COPY --chown=1001:0 upload/src /tmp/src``
``RUN chown -R 1001:0 /tmp/src``         (no root step, docs/architecture.md)
``CMD /usr/libexec/s2i/run``             ``CMD ["/usr/libexec/s2i/run"]`` (exec form)
``io.openshift.s2i.build.*`` labels      ``io.openshift.build.*`` (OpenShift's namespace)
``FROM image``                           ``FROM image[:tag]@sha256:...`` (pinned)
``Destination: /d`` (s2i flag)           builder label ``io.openshift.s2i.destination=/d``
``AssembleUser: 2250`` (s2i flag)        builder label ``io.openshift.s2i.assemble-user``
``ImageScriptsURL`` (the builder's)      builder label ``io.openshift.s2i.scripts-url``
``ScriptsURL: file://dir``               ``scripts: http://127.0.0.1:port/dir``: kbuild
                                         refuses file:// (last rows), the fact is the
                                         ranking of a downloaded URL, kept
``Tag`` (incremental)                    the output image; ``IncrementalFromTag``:
                                         ``--incremental-from``
``mkdir -p A; tar -xf T -C A; fi &&``    ``mkdir -p A && tar -xf T -C A; fi &&``
``rm T``                                 ``rm -f T``
=======================================  =========================================

Rows that kbuild does not pass as s2i states them carry ``differs``: the
reason, and the test then checks kbuild's own documented behaviour instead.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from builder.api import BuildError, StatusReason
from builder.buildah import Buildah, BuildahConfig
from builder.pipeline import BuildPlan, GitInput, SourcePlan, SourceStrategyPlan, run_build, steps
from builder.pipeline.steps import _download_scripts
from builder.registry import RegistryClient
from builder.registry.image_config import ImageConfig
from builder.s2i.scripts import (
    ASSEMBLE_USER_LABEL,
    DEFAULT_IMAGE_SCRIPTS_DIR,
    DESTINATION_LABEL,
    LEGACY_SCRIPTS_URL_LABEL,
    SCRIPTS_URL_LABEL,
    image_scripts_dir,
    strategy_takes_all_scripts,
)

BUILDER = "docker.io/centos/nodejs-8-centos7"
DIGEST = "sha256:" + "b" * 64
PREVIOUS = "sha256:" + "c" * 64
SERVED = "@served"  # stands for the HTTP server's URL in a row
DEST = {DESTINATION_LABEL: "/destination"}
SCRIPT = "#!/bin/sh\necho test script\n"


class StubRegistry:
    """The two reads the render step makes: the builder's config and the previous image."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = dict(labels)
        self.read_ahead_of: list[object] = []

    def read_ahead(self, ref: object, platform: object = None) -> None:  # noqa: ARG002
        self.read_ahead_of.append(ref)

    def image_config(self, ref: object, platform: object = None) -> ImageConfig:  # noqa: ARG002
        return ImageConfig(manifest_digest=DIGEST, config_digest=DIGEST, labels=self.labels)

    def resolve(self, ref: object, platform: object = None) -> SimpleNamespace:  # noqa: ARG002
        return SimpleNamespace(digest=PREVIOUS)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Served:
    root: Path
    url: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Shadow Man", "-c", "user.email=s@example.com",
         *args],
        check=True, capture_output=True,
    )  # fmt: skip


@dataclass(frozen=True)
class Row:
    name: str
    expected: tuple[str, ...] = ()
    not_expected: tuple[str, ...] = ()
    # The source repository (server.js is always there, as in nodejs-ex).
    files: Mapping[str, str] = field(default_factory=dict)
    # Scripts served at the strategy's scripts URL (None: no such URL) ...
    url_scripts: Mapping[str, str] | None = None
    # ... or the URL itself, verbatim.
    scripts_url: str | None = None
    # Scripts served at the builder's scripts-url label (None: no such label URL).
    label_scripts: Mapping[str, str] | None = None
    builder_labels: Mapping[str, str] = field(default_factory=dict)
    env: tuple[tuple[str, str], ...] = ()
    image_labels: tuple[tuple[str, str], ...] = ()
    incremental: bool = False
    incremental_from: str | None = None
    as_dockerfile: str = "Dockerfile"
    expected_files: tuple[str, ...] = ()
    absent_files: tuple[str, ...] = ()
    fails: StatusReason | None = None
    # Files the uploaded scripts must hold, by name.
    script_content: Mapping[str, str] = field(default_factory=dict)


UPLOAD_SRC = r"(?m)^COPY --chown=1001:0 upload/src /tmp/src$"
IMAGE_ASSEMBLE = r"(?m)^RUN /usr/libexec/s2i/assemble$"
IMAGE_RUN = r'(?m)^CMD \["/usr/libexec/s2i/run"\]$'
DEST_SCRIPTS = r"(?m)^COPY --chown=1001:0 upload/scripts /destination/scripts$"
COMMIT_LABELS = (
    '"io.openshift.build.commit.date"',
    '"io.openshift.build.commit.id"',
    '"io.openshift.build.commit.ref"',
    '"io.openshift.build.commit.message"',
    '"io.openshift.build.source-location"',
    f'"io.openshift.build.image"="{BUILDER}:latest@{DIGEST}"',
    '"io.openshift.build.commit.author"',
)
CACHED = rf"(?m)^FROM docker\.io/library/test:tag@{PREVIOUS} AS cached\n"

# test/integration/dockerfile/dockerfile_test.go, in its order.
# s2i's incremental build with a save-artifacts script of its own (from the
# repository or a scripts URL): the previous image runs the uploaded script.
SAVED_BY_UPLOADED_SCRIPT = (
    CACHED,
    r"(?m)^COPY --chown=1001:0 upload/scripts/save-artifacts "
    r"/destination/scripts/save-artifacts$",
    r"(?m)^USER 1001\nRUN if \[ -s /destination/scripts/save-artifacts \]; then "
    r"/destination/scripts/save-artifacts > /tmp/artifacts\.tar;",
    rf"(?m)^FROM {BUILDER}",
    r"mkdir -p /destination/artifacts",
    r"tar -xf /tmp/artifacts\.tar -C /destination/artifacts",
    IMAGE_ASSEMBLE,
    IMAGE_RUN,
)

INTEGRATION = [
    Row(
        "TestDockerfileBuild",
        (
            rf"(?m)^FROM {BUILDER}",
            *COMMIT_LABELS,
            UPLOAD_SRC,
            r"(?m)^USER 1001\n(#.*\n)*RUN /usr/libexec/s2i/assemble$",
            IMAGE_RUN,
        ),
        as_dockerfile="MyDockerfile",
        expected_files=("upload/src/server.js", "MyDockerfile"),
    ),
    Row(
        "TestDockerfileBuildDefaultDockerfile",
        (rf"(?m)^FROM {BUILDER}", *COMMIT_LABELS, UPLOAD_SRC, IMAGE_ASSEMBLE, IMAGE_RUN),
        as_dockerfile="",  # the directory itself, given as "DIR/"
        expected_files=("upload/src/server.js", "Dockerfile"),
    ),
    Row(
        "TestDockerfileBuildEnv",
        ('key1="value1"', 'key2="value2"'),
        env=(("key1", "value1"), ("key2", "value2")),
    ),
    Row(
        "TestDockerfileBuildLabels",
        (
            '"io.openshift.s2i.scripts-url"="image:///scripts"',
            '"io.openshift.s2i.destination"="/destination"',
            *COMMIT_LABELS[:-1],
            '"io.openshift.build.commit.author"="shadowman"',
            '"label1"="value1"',
            '"label2"="value2"',
        ),
        scripts_url="image:///scripts",
        builder_labels=DEST,
        image_labels=(
            ("label1", "value1"),
            ("label2", "value2"),
            ("io.openshift.build.commit.author", "shadowman"),
        ),
    ),
    Row(
        "TestDockerfileBuildScriptsURLAssemble",
        (DEST_SCRIPTS, r"(?m)^RUN /destination/scripts/assemble$", IMAGE_RUN),
        url_scripts={"assemble": SCRIPT},
        builder_labels=DEST,
        expected_files=("upload/src/server.js", "upload/scripts/assemble"),
    ),
    Row(
        "TestDockerfileBuildScriptsURLRun",
        (DEST_SCRIPTS, IMAGE_ASSEMBLE, r'(?m)^CMD \["/destination/scripts/run"\]$'),
        url_scripts={"run": SCRIPT},
        builder_labels=DEST,
        expected_files=("upload/src/server.js", "upload/scripts/run"),
    ),
    Row(
        "TestDockerfileBuildScriptsURLNone",
        url_scripts={},
        builder_labels=DEST,
        fails=StatusReason.MANAGE_DOCKERFILE_FAILED,
    ),
    Row(
        "TestDockerfileBuildSourceScriptsAssemble",
        (DEST_SCRIPTS, r"(?m)^RUN /destination/scripts/assemble$", IMAGE_RUN),
        files={".s2i/bin/assemble": SCRIPT},
        builder_labels=DEST,
        expected_files=("upload/scripts/assemble",),
    ),
    Row(
        "TestDockerfileBuildSourceScriptsRun",
        (DEST_SCRIPTS, IMAGE_ASSEMBLE, r'(?m)^CMD \["/destination/scripts/run"\]$'),
        files={".s2i/bin/run": SCRIPT},
        builder_labels=DEST,
        expected_files=("upload/scripts/run",),
    ),
    Row(
        "TestDockerfileBuildScriptsURLImage",
        (r"(?m)^RUN /usr/custom/s2i/assemble$", r'(?m)^CMD \["/usr/custom/s2i/run"\]$'),
        not_expected=(
            r"(?m)^COPY .*upload/scripts /destination/scripts",
            r"(?m)^RUN /destination/scripts/assemble",
        ),
        files={".s2i/bin/assemble": SCRIPT},
        scripts_url="image:///usr/custom/s2i",
        builder_labels=DEST,
        # Not even copied into the context (s2i's test does not check this).
        absent_files=("upload/scripts/assemble",),
    ),
    Row(
        "TestDockerfileBuildImageScriptsURLAssemble",
        (DEST_SCRIPTS, r"(?m)^RUN /destination/scripts/assemble$", IMAGE_RUN),
        label_scripts={"assemble": SCRIPT},
        builder_labels=DEST,
        expected_files=("upload/src/server.js", "upload/scripts/assemble"),
    ),
    Row(
        "TestDockerfileBuildImageScriptsURLRun",
        (DEST_SCRIPTS, IMAGE_ASSEMBLE, r'(?m)^CMD \["/destination/scripts/run"\]$'),
        label_scripts={"run": SCRIPT},
        builder_labels=DEST,
        expected_files=("upload/src/server.js", "upload/scripts/run"),
    ),
    Row(
        "TestDockerfileBuildImageScriptsURLImage",
        (
            DEST_SCRIPTS,
            r"(?m)^RUN /destination/scripts/assemble$",
            r'(?m)^CMD \["/usr/custom/s2i/run"\]$',
        ),
        files={".s2i/bin/assemble": SCRIPT},
        builder_labels={**DEST, SCRIPTS_URL_LABEL: "image:///usr/custom/s2i"},
        expected_files=("upload/scripts/assemble",),
    ),
    Row(
        "TestDockerfileBuildScriptsAndImageURL",
        (
            DEST_SCRIPTS,
            r"(?m)^RUN /destination/scripts/assemble$",
            r'(?m)^CMD \["/usr/some/dir/run"\]$',
        ),
        url_scripts={"assemble": SCRIPT},
        builder_labels={**DEST, SCRIPTS_URL_LABEL: "image:///usr/some/dir"},
        expected_files=("upload/src/server.js", "upload/scripts/assemble"),
    ),
    Row(
        "TestDockerfileBuildScriptsAndImageURLConflicts",
        (DEST_SCRIPTS, r"(?m)^RUN /destination/scripts/assemble$", IMAGE_RUN),
        url_scripts={"assemble": '#!/bin/bash\necho "Hello World!"'},
        label_scripts={"assemble": ""},
        builder_labels=DEST,
        expected_files=("upload/src/server.js", "upload/scripts/assemble"),
        script_content={"assemble": '#!/bin/bash\necho "Hello World!"'},
    ),
    Row(
        "TestDockerfileIncrementalBuild",
        (
            CACHED + r"(#.*\n)*USER 1001\n",
            r"(?m)^RUN if \[ -s /usr/libexec/s2i/save-artifacts \]; then "
            r"/usr/libexec/s2i/save-artifacts > /tmp/artifacts\.tar; "
            r"else touch /tmp/artifacts\.tar; fi$",
            rf"(?m)^FROM {BUILDER}",
            r"(?m)^COPY --from=cached --chown=1001:0 /tmp/artifacts\.tar /tmp/artifacts\.tar$",
            r"if \[ -s /tmp/artifacts\.tar \]; then mkdir -p /tmp/artifacts && "
            r"tar -xf /tmp/artifacts\.tar -C /tmp/artifacts; fi",
            r"rm -f /tmp/artifacts\.tar",
            UPLOAD_SRC,
            IMAGE_ASSEMBLE,
            IMAGE_RUN,
        ),
        incremental=True,
    ),
    Row(
        "TestDockerfileIncrementalSourceSave",
        SAVED_BY_UPLOADED_SCRIPT,
        files={".s2i/bin/save-artifacts": SCRIPT},
        builder_labels=DEST,
        incremental=True,
        expected_files=("upload/scripts/save-artifacts",),
    ),
    Row(
        "TestDockerfileIncrementalSaveURL",
        SAVED_BY_UPLOADED_SCRIPT,
        url_scripts={"save-artifacts": SCRIPT},
        builder_labels=DEST,
        incremental=True,
        expected_files=("upload/scripts/save-artifacts",),
    ),
    Row(
        "TestDockerfileIncrementalTag",
        (
            rf"(?m)^FROM docker\.io/library/incremental:tag@{PREVIOUS} AS cached$",
            r"/usr/libexec/s2i/save-artifacts > /tmp/artifacts\.tar",
            rf"(?m)^FROM {BUILDER}",
            r"mkdir -p /tmp/artifacts",
            r"tar -xf /tmp/artifacts\.tar -C /tmp/artifacts",
            r"rm -f /tmp/artifacts\.tar",
            IMAGE_ASSEMBLE,
            IMAGE_RUN,
        ),
        incremental=True,
        incremental_from="incremental:tag",
    ),
    Row(
        "TestDockerfileIncrementalAssembleUser",
        (
            CACHED + r"(#.*\n)*USER 2250\n",
            r"/usr/libexec/s2i/save-artifacts > /tmp/artifacts\.tar",
            rf"(?m)^FROM {BUILDER}",
            r"(?m)^COPY --from=cached --chown=2250:0 /tmp/artifacts\.tar /tmp/artifacts\.tar$",
            r"mkdir -p /tmp/artifacts",
            r"tar -xf /tmp/artifacts\.tar -C /tmp/artifacts",
            r"rm -f /tmp/artifacts\.tar",
            IMAGE_ASSEMBLE,
            IMAGE_RUN,
        ),
        builder_labels={ASSEMBLE_USER_LABEL: "2250"},
        incremental=True,
    ),
    Row(
        "TestDockerfileLocalSource",
        files={
            "foo/a_file": "Hello World!",
            "foo/bar/a_file": "Hello World!",
            "foo/bar/another_file": "Hello World!",
            "foo/baz/foobar/a_file": "Hello World!",
        },
        expected_files=(
            "upload/src/foo/a_file",
            "upload/src/foo/bar",
            "upload/src/foo/bar/a_file",
            "upload/src/foo/bar/another_file",
            "upload/src/foo/baz/foobar",
            "upload/src/foo/baz/foobar/a_file",
        ),
    ),
    Row(
        "TestDockerfileLocalSource (with .s2iignore)",
        files={
            "foo/a_file": "Hello World!",
            "foo/bar/a_file": "Hello World!",
            "foo/bar/another_file": "Hello World!",
            "foo/baz/foobar/a_file": "Hello World!",
            ".s2iignore": "dummy\n#skip_file\nfoo/bar/another_file\nfoo/baz/foobar",
        },
        expected_files=("upload/src/foo/a_file", "upload/src/foo/bar", "upload/src/foo/bar/a_file"),
        # s2i's test checks only what stays; what goes is checked too.
        absent_files=("upload/src/foo/bar/another_file", "upload/src/foo/baz/foobar"),
    ),
    # kbuild's own rows: what the translation above relies on.
    Row(
        "kbuild: a file:// strategy scripts URL is refused, never ignored",
        scripts_url="file:///tmp/scripts",
        fails=StatusReason.MANAGE_DOCKERFILE_FAILED,
    ),
    Row(
        "kbuild: a file:// scripts-url label is refused, never ignored",
        builder_labels={SCRIPTS_URL_LABEL: "file:///usr/libexec/s2i"},
        fails=StatusReason.MANAGE_DOCKERFILE_FAILED,
    ),
    Row(
        "kbuild: a destination that could add words is refused",
        builder_labels={DESTINATION_LABEL: "/tmp; rm -rf /"},
        fails=StatusReason.MANAGE_DOCKERFILE_FAILED,
    ),
    Row(
        "kbuild: .s2i/environment listed in .s2iignore is not read (s2i reads it after ignoring)",
        not_expected=(r"FROM_ENV_FILE",),
        files={".s2i/environment": "FROM_ENV_FILE=1\n", ".s2iignore": ".s2i/environment\n"},
        absent_files=("upload/src/.s2i/environment",),
    ),
    Row(
        "kbuild: $ in env values and labels reaches the image unexpanded",
        (r'(?m)PASSWORD="pa\\\$\\\$w0rd"', r'"note"="costs \\\$5"'),
        env=(("PASSWORD", "pa$$w0rd"),),
        image_labels=(("note", "costs $5"),),
    ),
]

# Rows of s2i's that kbuild has no equivalent for, with why.
NO_EQUIVALENT = {
    "TestDockerfileBuildInjections": (
        "s2i's Injections (files copied in, then `rm`-ed or truncated after assemble) are "
        "OpenShift's source.secrets/configMaps; kbuild mounts those into the assemble step "
        "instead, so no COPY or rm line exists to compare (build inputs, not the renderer)"
    ),
}


def _write(root: Path, files: Mapping[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def build_row(row: Row, tmp_path: Path, served: Served) -> tuple[str, Path]:
    repo = tmp_path / "repo"
    _write(repo, {"server.js": "console.log('hi')\n", **row.files})
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "nodejs-ex")
    scripts_url = row.scripts_url
    if row.url_scripts is not None:
        _write(served.root / "url", row.url_scripts)
        scripts_url = f"{served.url}/url"
    labels = dict(row.builder_labels)
    if row.label_scripts is not None:
        _write(served.root / "label", row.label_scripts)
        labels[SCRIPTS_URL_LABEL] = f"{served.url}/label"
    plan = BuildPlan(
        source=SourcePlan(git=GitInput(uri=str(repo))),
        strategy=SourceStrategyPlan(
            builder_image=BUILDER,
            scripts_url=scripts_url,
            incremental=row.incremental,
            incremental_from=row.incremental_from,
            env=row.env,
        ),
        output="test:tag",
        image_labels=row.image_labels,
    )
    out = tmp_path / "out"
    run_build(
        plan,
        registry=cast(RegistryClient, StubRegistry(labels)),
        buildah=Buildah(BuildahConfig()),
        log=lambda _line: None,
        workdir=tmp_path / "ws",
        as_dockerfile=f"{out}/{row.as_dockerfile}",
    )
    return (out / (row.as_dockerfile or "Dockerfile")).read_text(), out


@pytest.mark.parametrize("row", INTEGRATION, ids=[r.name for r in INTEGRATION])
def test_s2i_dockerfile_integration_table(row: Row, tmp_path: Path, served: Served) -> None:
    import re  # noqa: PLC0415 - local to the one test that uses it

    if row.fails is not None:
        with pytest.raises(BuildError) as caught:
            build_row(row, tmp_path, served)
        assert caught.value.reason is row.fails
        return
    dockerfile, out = build_row(row, tmp_path, served)
    for pattern in row.expected:
        assert re.search(pattern, dockerfile), f"missing {pattern!r} in:\n{dockerfile}"
    for pattern in row.not_expected:
        assert not re.search(pattern, dockerfile), f"unexpected {pattern!r} in:\n{dockerfile}"
    for path in row.expected_files:
        assert (out / path).exists(), path
    for path in row.absent_files:
        assert not (out / path).exists(), path
    for name, text in row.script_content.items():
        assert (out / "upload" / "scripts" / name).read_text() == text


@pytest.mark.parametrize("name", sorted(NO_EQUIVALENT))
def test_s2i_rows_without_an_equivalent_say_why(name: str) -> None:
    assert NO_EQUIVALENT[name]
    assert not any(row.name == name for row in INTEGRATION)


# pkg/build/strategies/dockerfile: TestGetImageScriptsDir.  s2i's ImageScriptsURL
# and BuilderImageLabels are both the builder's label here.
@dataclass(frozen=True)
class DirRow:
    scripts_url: str | None
    labels: Mapping[str, str]
    directory: str
    all_scripts: bool
    differs: str = ""


LABEL_ALL = (
    "s2i's label-reading path (s2i generate, which has no source) takes a label's image:// "
    "URL as every script's directory; kbuild, as OpenShift and DESIGN.md §2, lets the "
    "source's .s2i/bin override it (s2i's own TestDockerfileBuildImageScriptsURLImage agrees)"
)
GET_IMAGE_SCRIPTS_DIR = [
    DirRow(None, {}, DEFAULT_IMAGE_SCRIPTS_DIR, False),
    DirRow("image:///usr/some/dir", {}, "/usr/some/dir", True),
    DirRow("https://github.com/openshift/source-to-image", {}, DEFAULT_IMAGE_SCRIPTS_DIR, False),
    DirRow(None, {SCRIPTS_URL_LABEL: "image:///usr/some/dir"}, "/usr/some/dir", False),
    DirRow(
        None,
        {SCRIPTS_URL_LABEL: "https://github.com/openshift/source-to-image"},
        DEFAULT_IMAGE_SCRIPTS_DIR,
        False,
    ),
    DirRow(
        "https://github.com/openshift/source-to-image",
        {SCRIPTS_URL_LABEL: "image:///usr/some/dir"},
        "/usr/some/dir",
        False,
    ),
    DirRow(
        "image:///usr/some/dir",
        {SCRIPTS_URL_LABEL: "image:///usr/other/dir"},
        "/usr/some/dir",
        True,
    ),
    DirRow(None, {SCRIPTS_URL_LABEL: "image:///usr/some/dir"}, "/usr/some/dir", True, LABEL_ALL),
    DirRow(
        None,
        {
            SCRIPTS_URL_LABEL: "image:///usr/some/dir",
            LEGACY_SCRIPTS_URL_LABEL: "image:///usr/other/dir",
        },
        "/usr/some/dir",
        True,
        LABEL_ALL,
    ),
    DirRow(
        None, {LEGACY_SCRIPTS_URL_LABEL: "image:///usr/some/dir"}, "/usr/some/dir", True, LABEL_ALL
    ),
]


@pytest.mark.parametrize("row", GET_IMAGE_SCRIPTS_DIR)
def test_get_image_scripts_dir_table(row: DirRow) -> None:
    assert image_scripts_dir(row.scripts_url, row.labels) == row.directory
    # Only a strategy URL takes every script; where s2i says a label does, kbuild differs.
    expected_all = row.all_scripts and not row.differs
    assert strategy_takes_all_scripts(row.scripts_url) is expected_all


# pkg/build/strategies/dockerfile: TestInstallScripts.  Which scripts a URL installs.
@dataclass(frozen=True)
class InstallRow:
    name: str
    served: tuple[str, ...] | None  # None: the URL is not served at all
    url: str | None = None
    differs: str = ""


INSTALL_SCRIPTS = [
    InstallRow("empty", None, url=""),
    InstallRow("bad url", None, url="http://127.0.0.1:1"),
    InstallRow(
        "image url",
        None,
        url="image://path/to/scripts",
        differs="a relative image:// path is refused (ManageDockerfileFailed): it would be "
        "written into RUN relative to the builder's WORKDIR; s2i installs nothing and succeeds",
    ),
    InstallRow("assemble script", ("assemble",)),
    InstallRow("run script", ("run",)),
    InstallRow("save-artifacts script", ("save-artifacts",)),
    InstallRow("all scripts", ("assemble", "run", "save-artifacts")),
]


@pytest.mark.parametrize("row", INSTALL_SCRIPTS, ids=[r.name for r in INSTALL_SCRIPTS])
def test_install_scripts_table(row: InstallRow, tmp_path: Path, served: Served) -> None:
    if row.differs:
        with pytest.raises(BuildError) as caught:
            strategy_takes_all_scripts(row.url)
        assert caught.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
        return
    url = row.url
    if row.served is not None:
        _write(served.root / "scripts", dict.fromkeys(row.served, SCRIPT))
        url = f"{served.url}/scripts"
    installed = _download_scripts(url, tmp_path / "upload", lambda _line: None) if url else set()
    assert installed == set(row.served or ())


def test_the_tally_reported_to_the_issue() -> None:
    """39 s2i cases: 22 integration functions, 10 + 7 unit rows."""
    s2i_integration = {r.name.split(" (")[0] for r in INTEGRATION if r.name.startswith("Test")}
    assert len(s2i_integration | set(NO_EQUIVALENT)) == 22
    assert len(GET_IMAGE_SCRIPTS_DIR) + len(INSTALL_SCRIPTS) == 17
    differing = [r for r in GET_IMAGE_SCRIPTS_DIR if r.differs] + [
        r for r in INSTALL_SCRIPTS if r.differs
    ]
    assert len(differing) == 4


def test_a_downloaded_script_is_bounded(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "MAX_SCRIPT_BYTES", 100)
    _write(served.root / "big", {"assemble": "x" * 101})
    with pytest.raises(BuildError) as caught:
        _download_scripts(f"{served.url}/big", tmp_path / "upload", lambda _line: None)
    assert caught.value.reason is StatusReason.MANAGE_DOCKERFILE_FAILED
    assert not (tmp_path / "upload" / "assemble").exists()
