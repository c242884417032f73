"""``kbuild new-app`` / ``new-build``: arguments, oc's objects, and the text oc prints."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from builder.api import ImageStream, parse_as
from builder.cli import main
from builder.cli.appobjects import (
    AppParams,
    BuilderRef,
    GitSource,
    Port,
    app_objects,
    generate_secret,
    image_app_objects,
    name_is_valid,
    object_labels,
    ports_from_exposed,
    suggest_name,
)
from builder.cli.common import CliError
from builder.cli.newapp import (
    BuilderArg,
    FoundBuilder,
    RepoArg,
    created_line,
    creating_header,
    describe_builder,
    find_builder,
    kind_label,
    params_for,
    parse_builder,
    parse_labels,
    parse_repo,
    ports_warning,
    render_list,
    request_from_args,
    split_component,
    success_lines,
)
from builder.cli.newapp_image import image_name, looks_like_image
from builder.registry.image_config import ImageConfig
from tests.unit.cli.helpers import NOW

DATA = Path(__file__).parent / "data"
SECRETS = ("gh-secret-0123456789", "gen-secret-012345678")

APP = AppParams(
    name="my-app",
    builder=BuilderRef(kind="ImageStreamTag", name="python:3.11", namespace="ci"),
    source=GitSource(uri="https://git.example.com/team/my-app.git", ref="main", context_dir="web"),
    env=(("A", "1"),),
    build_env=(("B", "2"),),
    labels={"tier": "web"},
    ports=ports_from_exposed(("8080/tcp", "8443/tcp", "53/udp", "8080")),
    webhook_secrets=SECRETS,
)


def parse(*argv: str) -> argparse.Namespace:
    return main.parser().parse_args(list(argv))


# ---------------------------------------------------------------------------
# Arguments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("python", BuilderArg(text="python", stream="python", tag="latest")),
        ("python:3.11", BuilderArg(text="python:3.11", stream="python", tag="3.11")),
        (
            "ci/python:3.11",
            BuilderArg("ci/python:3.11", namespace="ci", stream="python", tag="3.11"),
        ),
        ("quay.io/team/py:3", BuilderArg("quay.io/team/py:3", pull_spec="quay.io/team/py:3")),
        ("localhost/py", BuilderArg("localhost/py", pull_spec="localhost/py")),
        ("reg:5000/py", BuilderArg("reg:5000/py", pull_spec="reg:5000/py")),
        (
            "py@sha256:" + "a" * 64,
            BuilderArg("py@sha256:" + "a" * 64, pull_spec="py@sha256:" + "a" * 64),
        ),
    ],
)
def test_builder(text: str, expected: BuilderArg) -> None:
    assert parse_builder(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("team/sub/python", "must be an image stream tag"),
        ("Python", "not a valid image stream name"),
        ("python:", "invalid tag"),
        ("quay.io/Team/py", "invalid image reference"),
    ],
)
def test_builder_errors(text: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_builder(text)


def never_a_dir(_path: str) -> bool:
    return False


GIT = "git.example.com"


@pytest.mark.parametrize(
    ("text", "ref", "base"),
    [
        (f"https://{GIT}/team/app.git#v1.2", "v1.2", "app"),
        (f"http://{GIT}/app/", "", "app"),
        (f"git://{GIT}/app", "", "app"),
        (f"ssh://git@{GIT}:2222/team/My_App.git", "", "My_App"),
        ("git@github.com:team/lib.git#main", "main", "lib"),
        ("file:///srv/git/tool.git", "", "tool"),
        (f"https://{GIT}", "", GIT),
    ],
)
def test_repo(text: str, ref: str, base: str) -> None:
    uri = text.partition("#")[0]
    assert parse_repo(text, is_dir=never_a_dir) == RepoArg(uri, ref, text, base)


def test_a_local_directory_is_refused_with_a_way_forward() -> None:
    with pytest.raises(CliError, match=r"local directory.*push it to a git server"):
        parse_repo("./app", is_dir=lambda path: path == "./app")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ftp://example.com/app.git", "unsupported git URL scheme"),
        ("app-source", "is not a git URL"),
    ],
)
def test_repo_errors(text: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_repo(text, is_dir=never_a_dir)


@pytest.mark.parametrize("text", ["~https://x/y.git", "python~"])
def test_component_needs_builder_and_repo(text: str) -> None:
    with pytest.raises(CliError, match="expected BUILDER~REPO or REPO"):
        split_component(text)


def test_a_repository_alone_is_detected() -> None:
    assert split_component("https://x/y.git#main") == ("", "https://x/y.git#main")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("my-app", "my-app"),
        ("My_App", "myapp"),
        ("-web-", "web"),
        ("x", ""),
        ("2048", ""),
        ("a" * 70, "a" * 58),
    ],
)
def test_suggested_names_are_made_valid_as_oc(text: str, name: str) -> None:
    assert suggest_name(text) == name


@pytest.mark.parametrize(
    ("name", "valid"),
    [("app", True), ("a-1", True), ("App", False), ("-a", False), ("a-", False), ("a" * 59, False)],
)
def test_name_validation(name: str, valid: bool) -> None:
    assert name_is_valid(name) is valid


def test_labels() -> None:
    assert parse_labels(["a=1,b=2", "c="]) == {"a": "1", "b": "2", "c": ""}
    with pytest.raises(CliError, match="invalid label spec"):
        parse_labels(["a"])


def test_new_app_arguments() -> None:
    ns = parse(
        "new-app", "ci/python:3.11~https://git.example.com/team/my-app.git#main",
        "--context-dir", "web", "-e", "A=1", "--build-env", "B=2", "-l", "tier=web",
        "--strategy", "docker", "-n", "dev",
    )  # fmt: skip
    request = request_from_args(ns, deploy=True)
    assert request.name == "my-app"
    assert request.builder == BuilderArg(
        "ci/python:3.11", namespace="ci", stream="python", tag="3.11"
    )
    assert (request.repo.uri, request.repo.ref) == (
        "https://git.example.com/team/my-app.git",
        "main",
    )
    assert (request.env, request.build_env) == ((("A", "1"),), (("B", "2"),))
    assert (request.labels, request.strategy, request.context_dir) == (
        {"tier": "web"},
        "docker",
        "web",
    )


def test_new_build_env_is_the_builds() -> None:
    ns = parse(
        "new-build", "python~https://git.example.com/lib.git", "-e", "A=1", "--name", "x-lib"
    )
    request = request_from_args(ns, deploy=False)
    assert (request.env, request.build_env, request.name) == ((), (("A", "1"),), "x-lib")


def test_invalid_name_is_ocs_message() -> None:
    ns = parse("new-app", "python~https://git.example.com/app.git", "--name", "My_App")
    with pytest.raises(CliError, match=r"invalid name: My_App\. Must be an a lower case"):
        request_from_args(ns, deploy=True)


# ---------------------------------------------------------------------------
# Objects


def test_new_app_objects() -> None:
    expected = json.loads((DATA / "newapp_app.json").read_text())
    assert app_objects(APP) == expected


def test_new_build_objects_as_yaml() -> None:
    params = replace(
        APP,
        deploy=False,
        labels={},
        strategy="docker",
        builder=BuilderRef(kind="DockerImage", name="registry.example.com/team/python:3.11"),
    )
    text = render_list(app_objects(params), "yaml")
    assert text == (DATA / "newapp_build.yaml").read_text()
    assert [o["kind"] for o in yaml.safe_load(text)["items"]] == ["ImageStream", "BuildConfig"]


def test_deployment_annotation_is_ocs_exact_text() -> None:
    deployment = app_objects(APP)[2]
    assert deployment["metadata"]["annotations"]["image.openshift.io/triggers"] == (
        '[{"from":{"kind":"ImageStreamTag","name":"my-app:latest"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"my-app\\")].image"}]'
    )


def test_no_ports_no_service() -> None:
    kinds = [o["kind"] for o in app_objects(replace(APP, ports=()))]
    assert kinds == ["ImageStream", "BuildConfig", "Deployment"]


APP_LABELS = dict.fromkeys(
    ("app", "app.kubernetes.io/component", "app.kubernetes.io/instance"), "my-app"
)


@pytest.mark.parametrize(
    ("labels", "deploy", "expected"),
    [
        ({}, True, APP_LABELS),
        ({"app": "shop"}, True, {"app": "shop"}),
        ({"app.kubernetes.io/instance": "i"}, True, {"app.kubernetes.io/instance": "i"}),
        ({"x": "y"}, True, {"x": "y", **APP_LABELS}),
        ({}, False, {"build": "my-app"}),
        ({"team": "a"}, False, {"team": "a"}),
    ],
)
def test_object_labels(labels: dict[str, str], deploy: bool, expected: dict[str, str]) -> None:
    params = replace(APP, labels=labels, deploy=deploy)
    assert object_labels(params) == expected
    assert all(o["metadata"]["labels"] == expected for o in app_objects(params))


def test_selector_keeps_deployment_label_over_user_label() -> None:
    deployment = app_objects(replace(APP, labels={"deployment": "other"}))[2]
    assert deployment["spec"]["selector"]["matchLabels"] == {"deployment": "my-app"}


@pytest.mark.parametrize(
    ("exposed", "ports"),
    [
        (("8080/tcp",), (Port(8080),)),
        (("8080",), (Port(8080),)),
        (("53/udp", "53/tcp"), (Port(53, "TCP"), Port(53, "UDP"))),
        (("8080/tcp 9090/tcp",), (Port(8080), Port(9090))),
        (("http/tcp", "70000/tcp", "80/xyz"), ()),
    ],
)
def test_ports_from_exposed(exposed: tuple[str, ...], ports: tuple[Port, ...]) -> None:
    assert ports_from_exposed(exposed) == ports


def test_generated_secrets() -> None:
    one, two = generate_secret(), generate_secret()
    assert len(one) == 20 and one != two


def found_stream(config: ImageConfig | None = None) -> FoundBuilder:
    return FoundBuilder(
        ref=APP.builder,
        input_text="ci/python:3.11",
        stream="ci/python",
        tag="3.11",
        pull_spec="registry.example.com/ci/python@sha256:" + "b" * 64,
        config=config,
        problem="" if config else "cannot reach registry registry.example.com",
    )


CONFIG = ImageConfig(
    manifest_digest="sha256:" + "b" * 64,
    config_digest="sha256:1f066b7" + "0" * 57,
    labels={
        "io.k8s.display-name": "Python 3.11",
        "io.k8s.description": "Python builder.",
        "io.openshift.tags": "builder,python",
    },
    exposed_ports=("8080/tcp", "8443/tcp"),
    created=NOW - timedelta(days=3),
)


def test_params_use_the_builder_ports_or_8080() -> None:
    ns = parse("new-app", "ci/python:3.11~https://git.example.com/team/my-app.git")
    request = request_from_args(ns, deploy=True)
    assert params_for(request, found_stream(CONFIG), SECRETS).ports == (Port(8080), Port(8443))
    assert params_for(request, found_stream(), SECRETS).ports == (Port(8080),)
    assert ports_warning(found_stream()) == (
        "warning: could not read the exposed ports of the builder image "
        "(cannot reach registry registry.example.com); assuming 8080/TCP"
    )
    assert ports_warning(found_stream(CONFIG)) is None


# ---------------------------------------------------------------------------
# Text


REPO = RepoArg(
    "https://git.example.com/team/my-app.git",
    "main",
    "https://git.example.com/team/my-app.git#main",
    "my-app",
)


def test_describe_found_image() -> None:
    text = describe_builder(found_stream(CONFIG), APP, REPO, NOW)
    assert text == (
        '--> Found image 1f066b7 (3 days old) in image stream "ci/python" under tag "3.11" '
        'for "ci/python:3.11"\n'
        "\n"
        "    Python 3.11 \n"
        "    ----------- \n"
        "    Python builder.\n"
        "\n"
        "    Tags: builder, python\n"
        "\n"
        "    * A source build using source code from https://git.example.com/team/my-app.git#main "
        "will be created\n"
        '      * The resulting image will be pushed to image stream tag "my-app:latest"\n'
        "      * Use 'kbuild start-build' to trigger a new build\n"
        "\n"
    )


def test_describe_spec_tag_annotations_win_over_image_labels() -> None:
    found = replace(found_stream(CONFIG), tag_annotations={"io.openshift.tags": "py"})
    assert "    Tags: py\n" in describe_builder(found, APP, REPO, NOW)


def test_describe_without_image_metadata() -> None:
    text = describe_builder(found_stream(), replace(APP, strategy="docker"), REPO, NOW)
    assert text.splitlines()[:3] == [
        '--> Found tag :3.11 in image stream "ci/python" for "ci/python:3.11"',
        "",
        f"    * A Docker build using source code from {REPO.display} will be created",
    ]


def test_describe_pull_spec_builder() -> None:
    image = BuilderRef(kind="DockerImage", name="registry.example.com/team/python:3.11")
    found = FoundBuilder(ref=image, input_text=image.name, pull_spec=image.name, config=CONFIG)
    first = describe_builder(found, APP, REPO, NOW).splitlines()[0]
    assert first == (
        "--> Found container image 1f066b7 (3 days old) from registry.example.com for "
        '"registry.example.com/team/python:3.11"'
    )


def test_creation_lines() -> None:
    objects = app_objects(APP)
    assert [kind_label(o) for o in objects] == [
        "imagestream.image.openshift.io",
        "buildconfig.build.openshift.io",
        "deployment.apps",
        "service",
    ]
    assert (
        created_line(objects[0], dry_run=False)
        == '    imagestream.image.openshift.io "my-app" created'
    )
    assert created_line(objects[3], dry_run=True) == '    service "my-app" created (dry run)'
    assert creating_header({}) == "--> Creating resources ..."
    assert creating_header({"tier": "web", "app": "x"}) == (
        "--> Creating resources with label app=x,tier=web ..."
    )


def test_after_success_new_app() -> None:
    assert success_lines(app_objects(APP), deploy=True) == [
        "    Build scheduled, use 'kbuild logs -f buildconfig/my-app' to track its progress.",
        "    Application is not exposed. You can expose services to the outside world by "
        "executing one or more of the commands below:",
        "     'kubectl expose service/my-app --type=NodePort --name=my-app-external' ",
        "    Run 'kbuild get builds' and 'kubectl get deployment/my-app' to view your app.",
    ]


def test_after_success_new_build() -> None:
    assert success_lines(app_objects(replace(APP, deploy=False)), deploy=False) == [
        '    Build configuration "my-app" created and build triggered.',
        "    Run 'kbuild logs -f buildconfig/my-app' to stream the build progress.",
    ]


def test_json_list() -> None:
    data: dict[str, Any] = json.loads(render_list(app_objects(APP), "json"))
    assert (data["apiVersion"], data["kind"]) == ("v1", "List")
    assert [o["metadata"]["name"] for o in data["items"]] == ["my-app"] * 4


# ---------------------------------------------------------------------------
# Finding the builder


def stream(namespace: str, name: str, *tags: str, image: bool = True) -> ImageStream:
    data: dict[str, Any] = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "tags": [
                {
                    "name": t,
                    "from": {"kind": "DockerImage", "name": f"quay.io/{name}:{t}"},
                    "annotations": {"io.openshift.tags": "builder"},
                }
                for t in tags
            ]
        },
    }
    if image:
        data["status"] = {
            "tags": [
                {
                    "tag": t,
                    "items": [
                        {
                            "created": "2024-05-01T11:00:00Z",
                            "dockerImageReference": f"quay.io/{name}@sha256:{'c' * 64}",
                            "image": f"sha256:{'c' * 64}",
                            "generation": 1,
                        }
                    ],
                }
                for t in tags
            ]
        }
    return parse_as(ImageStream, data)


def lookup_in(*streams: ImageStream) -> Any:
    known = {(s.metadata.namespace, s.metadata.name): s for s in streams}
    return lambda namespace, name: known.get((namespace, name))


def test_builder_in_the_current_namespace_first() -> None:
    found = find_builder(
        parse_builder("python:3.11"),
        "dev",
        lookup_in(stream("dev", "python", "3.11"), stream("openshift", "python", "3.11")),
    )
    assert found.ref == BuilderRef(kind="ImageStreamTag", name="python:3.11", namespace="dev")
    assert (found.stream, found.tag) == ("dev/python", "3.11")
    assert found.pull_spec == f"quay.io/python@sha256:{'c' * 64}"
    assert found.tag_annotations == {"io.openshift.tags": "builder"}


def test_builder_in_openshift_when_the_current_namespace_lacks_the_tag() -> None:
    found = find_builder(
        parse_builder("python:3.12"),
        "dev",
        lookup_in(stream("dev", "python", "3.11"), stream("openshift", "python", "3.12")),
    )
    assert found.ref.namespace == "openshift"


def test_builder_tag_without_an_image_yet() -> None:
    found = find_builder(
        parse_builder("ci/python"), "dev", lookup_in(stream("ci", "python", "latest", image=False))
    )
    assert (found.ref.name, found.pull_spec) == ("python:latest", None)


def test_missing_builder_says_how_to_import_it() -> None:
    with pytest.raises(CliError) as err:
        find_builder(parse_builder("ruby"), "dev", lookup_in())
    assert str(err.value) == (
        'image stream "ruby" not found in namespace "dev" or "openshift": create the builder '
        "first, e.g. 'kbuild import-image ruby:latest --from=REGISTRY/REPOSITORY:TAG "
        "--confirm -n dev'"
    )


def test_missing_builder_tag_lists_the_tags() -> None:
    with pytest.raises(CliError, match=r'"dev/python" has no tag "2" \(it has: 3, latest\)'):
        find_builder(
            parse_builder("python:2"), "dev", lookup_in(stream("dev", "python", "latest", "3"))
        )


def test_a_pull_spec_builder_is_not_looked_up() -> None:
    found = find_builder(parse_builder("quay.io/team/py:3"), "dev", lookup_in())
    assert found.ref == BuilderRef(kind="DockerImage", name="quay.io/team/py:3")
    assert found.pull_spec == "quay.io/team/py:3"


# ---------------------------------------------------------------------------
# new-app IMAGE / IS:TAG


@pytest.mark.parametrize(
    ("text", "image"),
    [
        ("python:3.11", True),
        ("openshift/python", True),
        ("registry.local:5000/team/app:1", True),
        ("quay.io/team/app@sha256:" + "a" * 64, True),
        ("https://git.example.com/app.git", False),
        ("git@github.com:team/app.git", False),
        ("file:///srv/app", False),
    ],
)
def test_an_image_or_a_repository(text: str, image: bool) -> None:
    assert looks_like_image(text) is image


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("python:3.11", "python"),
        ("openshift/nodejs", "nodejs"),
        ("registry.local:5000/team/my_app:1", "myapp"),
        ("quay.io/team/web@sha256:" + "a" * 64, "web"),
    ],
)
def test_image_names(text: str, name: str) -> None:
    assert image_name(parse_builder(text)) == name


def test_image_app_objects_from_a_stream_tag() -> None:
    params = replace(
        APP, builder=BuilderRef(kind="ImageStreamTag", name="python:3.11", namespace="openshift")
    )
    deployment, service = image_app_objects(params)
    trigger = json.loads(deployment["metadata"]["annotations"]["image.openshift.io/triggers"])
    assert trigger[0]["from"] == {
        "kind": "ImageStreamTag",
        "name": "python:3.11",
        "namespace": "openshift",
    }
    assert deployment["kind"] == "Deployment" and service["kind"] == "Service"
    assert deployment["metadata"]["labels"]["app"] == params.name


def test_image_app_objects_from_a_pull_spec_import_it_first() -> None:
    params = replace(APP, builder=BuilderRef(kind="DockerImage", name="quay.io/team/web:2"))
    stream, deployment, _ = image_app_objects(params, "2")
    assert stream["spec"]["tags"] == [
        {
            "name": "2",
            "from": {"kind": "DockerImage", "name": "quay.io/team/web:2"},
            "importPolicy": {},
            "referencePolicy": {"type": "Source"},
        }
    ]
    trigger = json.loads(deployment["metadata"]["annotations"]["image.openshift.io/triggers"])
    assert trigger[0]["from"] == {"kind": "ImageStreamTag", "name": f"{params.name}:2"}
