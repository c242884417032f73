"""``new-build``'s other outputs and sources, as ``oc new-build`` generates them.

``--to``/``--to-docker`` (the output), ``-D``/``--dockerfile``, ``--binary``,
``--source-image``/``--source-image-path`` and ``--docker-image``: each row is
a command line and the BuildConfig (and output ImageStream) oc makes of it
(openshift/oc ``pkg/helpers/newapp/app``: ``SourceRef.BuildSource``,
``BuildRef.BuildConfig``, ``pipelineBuilder.NewBuildPipeline``).
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from builder.api import BuildConfig, parse_as
from builder.cli.appobjects import app_objects
from builder.cli.common import CliError
from builder.cli.newapp import (
    FoundBuilder,
    Request,
    _wants_image,
    build_lines,
    find_builder,
    params_for,
    request_from_args,
    resolve_source_image,
    success_lines,
)
from tests.unit.cli.test_newapp import SECRETS, lookup_in, parse, stream

REPO = "https://git.example.com/team/app.git"
LOOKUP = lookup_in(stream("ci", "python", "3.11"), stream("ci", "assets", "1"))
WEBHOOKS = [
    {"type": "GitHub", "github": {"secret": SECRETS[0]}},
    {"type": "Generic", "generic": {"secret": SECRETS[1]}},
]
PYTHON = {"kind": "ImageStreamTag", "name": "python:3.11", "namespace": "ci"}


def objects_for(*argv: str) -> tuple[Request, list[dict[str, Any]]]:
    """The objects ``kbuild new-build ARGV`` creates, the builder found without a cluster."""
    request = request_from_args(parse("new-build", *argv), deploy=False)
    if request.builder is not None:
        found = find_builder(request.builder, "dev", LOOKUP)
    else:
        found = FoundBuilder(ref=None, input_text="")
    source_image = resolve_source_image(request, "dev", LOOKUP)
    params = params_for(request, found, SECRETS, source_image)
    objects = app_objects(params)
    for obj in objects:
        if obj["kind"] == "BuildConfig":
            parse_as(BuildConfig, obj)  # always a valid BuildConfig
    return request, objects


def only(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [found] = [o for o in objects if o["kind"] == kind]
    return found


DOCKERFILE = "FROM registry.example.com/base/centos:7\nRUN true\n"

CASES: list[tuple[str, list[str], dict[str, Any]]] = [
    (
        "--to a tag of another stream",
        ["ci/python:3.11~" + REPO, "--to", "out:v1"],
        {
            "name": "app",
            "streams": ["out"],
            "output": {"kind": "ImageStreamTag", "name": "out:v1"},
            "source": {"type": "Git", "git": {"uri": REPO}},
            "triggers": [
                *WEBHOOKS,
                {"type": "ConfigChange"},
                {"type": "ImageChange", "imageChange": {}},
            ],
        },
    ),
    (
        "--to a stream of another namespace: no stream created here",
        ["ci/python:3.11~" + REPO, "--to", "shared/out"],
        {
            "name": "app",
            "streams": [],
            "output": {"kind": "ImageStreamTag", "name": "out:latest", "namespace": "shared"},
        },
    ),
    (
        "--to-docker --to: a pull spec, no image stream",
        ["ci/python:3.11~" + REPO, "--to-docker", "--to", "reg.example.com/team/app:v2"],
        {
            "name": "app",
            "streams": [],
            "output": {"kind": "DockerImage", "name": "reg.example.com/team/app:v2"},
        },
    ),
    (
        "--to-docker alone: NAME:latest",
        ["ci/python:3.11~" + REPO, "--to-docker"],
        {"streams": [], "output": {"kind": "DockerImage", "name": "app:latest"}},
    ),
    (
        "-D alone: Dockerfile source, Docker strategy from its own FROM, named after the FROM",
        ["-D", DOCKERFILE],
        {
            "name": "centos",
            "streams": ["centos"],
            "source": {"type": "Dockerfile", "dockerfile": DOCKERFILE},
            "strategy": {"type": "Docker", "dockerStrategy": {}},
            "triggers": [*WEBHOOKS, {"type": "ConfigChange"}],
            "output": {"kind": "ImageStreamTag", "name": "centos:latest"},
        },
    ),
    (
        "-D --to: named after the output",
        ["-D", DOCKERFILE, "--to", "web"],
        {
            "name": "web",
            "streams": ["web"],
            "output": {"kind": "ImageStreamTag", "name": "web:latest"},
        },
    ),
    (
        "-D with a repository: the Dockerfile replaces the repository's, type Git",
        [REPO, "-D", DOCKERFILE],
        {
            "name": "app",
            "source": {"type": "Git", "git": {"uri": REPO}, "dockerfile": DOCKERFILE},
            "strategy": {"type": "Docker", "dockerStrategy": {}},
        },
    ),
    (
        "--binary BUILDER: binary source, webhooks only",
        ["ci/python:3.11", "--binary"],
        {
            "name": "python",
            "source": {"type": "Binary", "binary": {}},
            "strategy": {"type": "Source", "sourceStrategy": {"from": PYTHON}},
            "triggers": WEBHOOKS,
        },
    ),
    (
        "--binary --strategy docker: the uploaded Dockerfile's FROM",
        ["--binary", "--strategy", "docker", "--name", "upload"],
        {
            "name": "upload",
            "source": {"type": "Binary", "binary": {}},
            "strategy": {"type": "Docker", "dockerStrategy": {}},
            "triggers": WEBHOOKS,
        },
    ),
    (
        "--source-image: source.images and an ImageChange trigger on that image",
        [
            "ci/python:3.11~" + REPO,
            "--source-image",
            "ci/assets:1",
            "--source-image-path",
            "/opt/assets:static",
        ],
        {
            "source": {
                "type": "Image",
                "git": {"uri": REPO},
                "images": [
                    {
                        "from": {"kind": "ImageStreamTag", "name": "assets:1", "namespace": "ci"},
                        "paths": [{"sourcePath": "/opt/assets", "destinationDir": "static"}],
                    }
                ],
            },
            "triggers": [
                *WEBHOOKS,
                {
                    "type": "ImageChange",
                    "imageChange": {
                        "from": {"kind": "ImageStreamTag", "name": "assets:1", "namespace": "ci"}
                    },
                },
                {"type": "ConfigChange"},
                {"type": "ImageChange", "imageChange": {}},
            ],
        },
    ),
    (
        "--source-image as the only source, with a builder",
        [
            "ci/python:3.11",
            "--source-image",
            "reg.example.com/t/assets:1",
            "--source-image-path",
            "/opt/assets",
        ],
        {
            "name": "python",
            "source": {
                "type": "Image",
                "images": [
                    {
                        "from": {"kind": "DockerImage", "name": "reg.example.com/t/assets:1"},
                        "paths": [{"sourcePath": "/opt/assets", "destinationDir": ""}],
                    }
                ],
            },
        },
    ),
    (
        "--docker-image: the builder as a pull spec, never an image stream",
        [REPO, "--docker-image", "centos/python-38-centos7"],
        {
            "name": "app",
            "strategy": {
                "type": "Source",
                "sourceStrategy": {
                    "from": {"kind": "DockerImage", "name": "centos/python-38-centos7"}
                },
            },
            "triggers": [*WEBHOOKS, {"type": "ConfigChange"}],
        },
    ),
]


@pytest.mark.parametrize(("why", "argv", "expected"), CASES, ids=[c[0] for c in CASES])
def test_new_build_objects(why: str, argv: list[str], expected: dict[str, Any]) -> None:
    _, objects = objects_for(*argv)
    bc = only(objects, "BuildConfig")
    spec = bc["spec"]
    if "name" in expected:
        assert bc["metadata"]["name"] == expected["name"]
    if "streams" in expected:
        streams = [o["metadata"]["name"] for o in objects if o["kind"] == "ImageStream"]
        assert streams == expected["streams"]
    if "output" in expected:
        assert spec["output"]["to"] == expected["output"]
    if "source" in expected:
        assert spec["source"] == expected["source"]
    if "strategy" in expected:
        assert spec["strategy"] == expected["strategy"]
    if "triggers" in expected:
        assert spec["triggers"] == expected["triggers"]


def test_dockerfile_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(DOCKERFILE))
    _, objects = objects_for("-D", "-", "--name", "web")
    assert only(objects, "BuildConfig")["spec"]["source"]["dockerfile"] == DOCKERFILE


ERRORS = [
    (["ci/python:3.11~" + REPO, "--binary"], "binary builds and source repositories"),
    ([REPO, "--binary"], "binary builds and source repositories"),
    (["ci/python:3.11~" + REPO, "--source-image", "assets:1"], "--source-image-path must be"),
    (["ci/python:3.11~" + REPO, "--source-image-path", "/a:b"], "--source-image must be"),
    (["ci/python:3.11", "--source-image", "x:1", "--source-image-path", "rel:b"], "absolute"),
    (["ci/python:3.11", "--source-image", "x:1", "--source-image-path", "/a:../b"], "relative"),
    (["ci/python:3.11~" + REPO, "--to", "a/b/c"], "image stream tag"),
    (["ci/python:3.11~" + REPO, "--to", "Bad"], "not a valid image stream tag"),
    (["ci/python:3.11~" + REPO, "--to-docker", "--to", "reg.example.com/a b"], "--to:"),
    (["-D", DOCKERFILE, "--strategy", "source"], "docker strategy"),
    (["--binary"], "--binary needs a builder image"),
    (["-D", "RUN true\n"], "cannot derive a name"),
    (["x~" + REPO, "--docker-image", "y"], "give the builder once"),
]


@pytest.mark.parametrize(("argv", "message"), ERRORS)
def test_new_build_refusals(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message.replace("(", r"\(")):
        objects_for(*argv)


@pytest.mark.parametrize(
    ("argv", "lines"),
    [
        (
            ["-D", DOCKERFILE],
            ["    * A Docker build using a predefined Dockerfile will be created",
             '      * The resulting image will be pushed to image stream tag "centos:latest"',
             "      * Use 'kbuild start-build' to trigger a new build"],
        ),
        (
            ["ci/python:3.11", "--binary", "--to-docker", "--to", "reg.example.com/t/a:1"],
            ["    * A source build using binary input will be created",
             '      * The resulting image will be pushed to container image '
             '"reg.example.com/t/a:1"',
             "      * A binary build was created, use 'kbuild start-build --from-dir' to "
             "trigger a new build"],
        ),
    ],
)  # fmt: skip
def test_what_will_be_created(argv: list[str], lines: list[str]) -> None:
    request = request_from_args(parse("new-build", *argv), deploy=False)
    found = FoundBuilder(ref=None, input_text="")
    assert build_lines(params_for(request, found, SECRETS), request.repo) == lines


def test_a_binary_build_is_not_started_by_new_build() -> None:
    _, objects = objects_for("ci/python:3.11", "--binary")
    assert success_lines(objects, deploy=False) == [
        "    Use 'kbuild start-build python' to start a build."
    ]


@pytest.mark.parametrize(
    ("argv", "deployed"),
    [
        (["new-app", "--docker-image", "mysql"], True),
        (["new-app", "--image", "reg.example.com/t/db:1"], True),
        (["new-app", REPO, "--docker-image", "centos/python-38-centos7"], False),
        (["new-build", "--docker-image", "python", "--binary"], False),
    ],
)
def test_docker_image_alone_deploys_it(argv: list[str], deployed: bool) -> None:
    assert _wants_image(parse(*argv), argv[0] == "new-app") is deployed


def test_new_app_docker_image_with_a_repository_is_the_builder() -> None:
    request = request_from_args(
        parse("new-app", REPO, "--docker-image", "centos/python-38-centos7"), deploy=True
    )
    assert request.builder is not None
    assert request.builder.pull_spec == "centos/python-38-centos7"
    assert request.name == "app"
