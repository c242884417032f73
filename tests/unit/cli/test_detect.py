"""``new-app REPO``: oc's language detectors and the choice of a builder by ``supports``."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from builder.api import ImageStream, parse_as
from builder.cli.common import CliError
from builder.cli.detect import (
    ListingError,
    StreamTag,
    detect_platforms,
    has_dockerfile,
    list_repository,
    select_builder,
)
from builder.cli.newapp import Request, detected, parse_repo
from builder.kube import NotFound


@pytest.mark.parametrize(
    ("files", "platforms"),
    [
        (["requirements.txt", "app.py"], ["python"]),
        (["setup.py"], ["python"]),
        (["package.json", "server.js"], ["nodejs"]),
        (["app.json"], ["nodejs"]),
        (["Gemfile", "config.ru"], ["ruby"]),
        (["Rakefile"], ["ruby"]),
        (["pom.xml", "src"], ["jee"]),
        (["main.go", "go.mod"], ["golang"]),
        (["Godeps"], ["golang"]),
        (["index.php"], ["php"]),
        (["composer.json"], ["php"]),
        (["cpanfile"], ["perl"]),
        (["index.pl"], ["perl"]),
        (["build.sbt"], ["scala"]),
        (["app.csproj", "Program.cs"], ["dotnet", ".net"]),
        (["project.json"], ["dotnet", ".net"]),
        (["index.html", "style.css"], ["httpd"]),
        # every detector that matches counts, in oc's order; html only when nothing else did
        (["package.json", "requirements.txt", "index.html"], ["nodejs", "python"]),
        (["README.md", "go.mod"], []),
        ([], []),
        (["Package.json", "REQUIREMENTS.TXT"], []),  # names are case-sensitive, as on Linux
    ],
)
def test_detect_platforms(files: list[str], platforms: list[str]) -> None:
    assert detect_platforms(files) == platforms


def test_dockerfile() -> None:
    assert has_dockerfile(["Dockerfile", "app.py"])
    assert not has_dockerfile(["dockerfile", "Dockerfile.dev"])


def tag(ns: str, stream: str, name: str, supports: str = "", tags: str = "builder") -> StreamTag:
    annotations = {"supports": supports, "tags": tags} if supports else {"tags": tags}
    return StreamTag(ns, stream, name, annotations)


PLACES = ["dev", "openshift"]
CATALOG = [
    tag("openshift", "python", "3.11", "python:3.11,python"),
    tag("openshift", "python", "3.9", "python:3.9,python"),
    tag("openshift", "python", "latest"),  # no supports: a reference to a version
    tag("openshift", "nodejs", "18", "nodejs:18,nodejs"),
    tag("openshift", "nodejs", "20", "nodejs:20,nodejs"),
    tag("openshift", "nodejs", "10", "nodejs:10,nodejs", tags="builder,hidden"),
    tag("openshift", "httpd", "2.4", "httpd"),
    tag("openshift", "dotnet", "8.0", "dotnet:8.0,dotnet"),
]


@pytest.mark.parametrize(
    ("platforms", "tags", "expected"),
    [
        (["python"], CATALOG, ("openshift", "python", "3.11")),  # the highest version
        (["nodejs"], CATALOG, ("openshift", "nodejs", "20")),  # "10" is hidden
        (["httpd"], CATALOG, ("openshift", "httpd", "2.4")),
        (["dotnet", ".net"], CATALOG, ("openshift", "dotnet", "8.0")),
        # the namespace's own stream before openshift's
        (["python"], [*CATALOG, tag("dev", "py", "x", "python:3.8")], ("dev", "py", "x")),
        # naming the platform without a version wins over a versioned entry
        (
            ["python"],
            [tag("dev", "a", "1", "python:3.12"), tag("dev", "b", "1", "python")],
            ("dev", "b", "1"),
        ),
        # latest when it supports the platform
        (
            ["nodejs"],
            [tag("dev", "n", "22", "nodejs"), tag("dev", "n", "latest", "nodejs")],
            ("dev", "n", "latest"),
        ),
        (["ruby"], CATALOG, None),
        (["nodejs"], [tag("dev", "x", "1", "nodejsx,node")], None),  # whole entries only
    ],
)
def test_select_builder(
    platforms: list[str], tags: list[StreamTag], expected: tuple[str, str, str] | None
) -> None:
    found = select_builder(platforms, tags, PLACES)
    got = None if found is None else (found.tag.namespace, found.tag.stream, found.tag.tag)
    assert got == expected


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "web").mkdir(parents=True)
    (src / "package.json").write_text("{}")
    (src / "web" / "index.html").write_text("<p>hi</p>")
    _git(src, "init", "-q", "-b", "main")
    _git(src, "add", "-A")
    _git(src, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "one")
    _git(src, "checkout", "-qb", "other")
    (src / "requirements.txt").write_text("flask\n")
    _git(src, "add", "-A")
    _git(src, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "two")
    _git(src, "checkout", "-q", "main")
    return src


def test_list_repository_reads_names_without_a_checkout(repo: Path) -> None:
    uri = f"file://{repo}"
    assert sorted(list_repository(uri, "", "")) == ["package.json", "web"]
    assert "requirements.txt" in list_repository(uri, "other", "")
    assert list_repository(uri, "main", "web/") == ["index.html"]


@pytest.mark.parametrize(
    ("ref", "context_dir", "message"),
    [("nope", "", "cannot clone"), ("", "missing", "cannot read missing")],
)
def test_list_repository_errors(repo: Path, ref: str, context_dir: str, message: str) -> None:
    with pytest.raises(ListingError, match=message):
        list_repository(f"file://{repo}", ref, context_dir)


# -- new-app REPO end to end (a real git repository, image streams in memory) ---------


@dataclass
class Streams:
    items: dict[str, list[ImageStream]] = field(default_factory=dict)

    def list(self, namespace: str | None = None, label_selector: str = "") -> Any:
        del label_selector
        if namespace not in self.items:
            raise NotFound(404, "no such namespace")
        return self.items[namespace or ""], "1"


@dataclass
class FakeKube:
    image_streams: Streams


def catalog_stream(ns: str, name: str, *tags: tuple[str, str]) -> ImageStream:
    return parse_as(
        ImageStream,
        {
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "tags": [
                    {"name": t, "annotations": {"supports": s, "tags": "builder"}} for t, s in tags
                ]
            },
        },
    )


def request_for(repo: str, *, strategy: str | None = None, context_dir: str = "") -> Request:
    return Request(
        builder=None,
        repo=parse_repo(repo),
        name="app",
        strategy="docker" if strategy == "docker" else "source",
        strategy_given=strategy is not None,
        labels={},
        env=(),
        build_env=(),
        deploy=True,
        context_dir=context_dir,
    )


KUBE = FakeKube(
    Streams(
        {
            "openshift": [
                catalog_stream("openshift", "nodejs", ("20", "nodejs:20,nodejs")),
                catalog_stream("openshift", "httpd", ("2.4", "httpd")),
            ]
        }
    )
)


def test_new_app_repo_picks_the_stream_that_supports_it(repo: Path) -> None:
    out = detected(request_for(f"file://{repo}"), KUBE, "dev")  # type: ignore[arg-type]
    assert out.builder is not None
    assert (out.builder.namespace, out.builder.stream, out.builder.tag) == (
        "openshift",
        "nodejs",
        "20",
    )
    assert out.builder.text == "nodejs"  # oc's 'Found image ... for "nodejs"'
    web = detected(request_for(f"file://{repo}", context_dir="web"), KUBE, "dev")  # type: ignore[arg-type]
    assert web.builder is not None and web.builder.stream == "httpd"


def test_new_app_repo_with_a_dockerfile_is_a_docker_build(repo: Path) -> None:
    (repo / "Dockerfile").write_text("FROM scratch\n")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "docker")
    out = detected(request_for(f"file://{repo}"), KUBE, "dev")  # type: ignore[arg-type]
    assert (out.builder, out.strategy) == (None, "docker")
    source = detected(request_for(f"file://{repo}", strategy="source"), KUBE, "dev")  # type: ignore[arg-type]
    assert source.builder is not None and source.builder.stream == "nodejs"


@pytest.mark.parametrize(
    ("strategy", "context_dir", "message"),
    [
        ("docker", "", "has no Dockerfile"),
        (None, "nothing", "cannot read nothing"),
    ],
)
def test_new_app_repo_errors(
    repo: Path, strategy: str | None, context_dir: str, message: str
) -> None:
    with pytest.raises(CliError, match=message):
        detected(
            request_for(f"file://{repo}", strategy=strategy, context_dir=context_dir), KUBE, "dev"
        )  # type: ignore[arg-type]


def test_new_app_repo_without_a_matching_stream(repo: Path) -> None:
    empty = FakeKube(Streams({}))
    with pytest.raises(CliError, match="looks like nodejs, but no image stream"):
        detected(request_for(f"file://{repo}"), empty, "dev")  # type: ignore[arg-type]


def test_list_repository_refuses_the_ext_transport(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even where the user's git config allows ext:: (which runs a command)."""
    config = tmp_path / "gitconfig"
    config.write_text('[protocol "ext"]\n\tallow = always\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    marker = tmp_path / "ran"
    with pytest.raises(ListingError, match="cannot clone"):
        list_repository(f"ext::sh -c touch% {marker}", "", "")
    assert not marker.exists()
