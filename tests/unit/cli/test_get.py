"""``kbuild get``: oc's build and build config columns, row by row (pure)."""

from __future__ import annotations

import json

import pytest
import yaml

from builder.api import dump
from builder.cli.common import BUILD_CONFIGS, BUILDS, CliError
from builder.cli.get import (
    bc_row,
    build_row,
    parse_targets,
    render_build_configs,
    render_builds,
    render_objects,
    source_short,
)
from tests.unit.cli.helpers import COMMIT, DOCKER_STRATEGY, NOW, build, build_config

RUNNING = {"startTimestamp": "2024-05-01T11:58:00Z"}
FINISHED = {
    "startTimestamp": "2024-05-01T11:55:00Z",
    "completionTimestamp": "2024-05-01T11:56:35Z",
    "duration": 95_000_000_000,
}


@pytest.mark.parametrize(
    ("phase", "status", "expected"),
    [
        ("New", {}, ["New", "", ""]),
        ("Pending", {}, ["Pending", "", ""]),
        ("Running", RUNNING, ["Running", "2 minutes ago", ""]),
        ("Complete", FINISHED, ["Complete", "5 minutes ago", "1m35s"]),
        (
            "Failed",
            {
                **FINISHED,
                "reason": "DockerBuildFailed",
                "message": "Docker build strategy has failed.",
            },
            ["Failed (DockerBuildFailed)", "5 minutes ago", "1m35s"],
        ),
        (
            "Error",
            {"reason": "BuildPodDeleted", "completionTimestamp": "2024-05-01T11:59:00Z"},
            ["Error (BuildPodDeleted)", "", ""],
        ),
        (
            "Cancelled",
            {**RUNNING, "reason": "CancelledBuild", "cancelled": True, "duration": 30_000_000_000},
            ["Cancelled (CancelledBuild)", "2 minutes ago", "30s"],
        ),
    ],
)
def test_build_row_in_each_phase(
    phase: str, status: dict[str, object], expected: list[str]
) -> None:
    row = build_row(dump(build(phase=phase, status=status)), NOW)
    assert row == ["app-1", "Source", "Git@main", *expected]


def test_build_row_of_a_docker_build_shows_the_commit_built() -> None:
    b = build(
        strategy=DOCKER_STRATEGY,
        spec={"revision": {"type": "Git", "git": {"commit": COMMIT}}},
    )
    assert build_row(dump(b), NOW)[1:3] == ["Docker", "Git@b7b3c9f"]


@pytest.mark.parametrize(
    ("source", "revision", "expected"),
    [
        ({"git": {"uri": "u"}}, None, "Git"),
        ({"git": {"uri": "u", "ref": "v1.2"}}, None, "Git@v1.2"),
        ({"git": {"uri": "u", "ref": "main"}}, {"git": {"commit": COMMIT}}, "Git@b7b3c9f"),
        # Short hex is not shortened further; not-hex refs never are.
        ({"git": {"uri": "u", "ref": "abc1234"}}, None, "Git@abc1234"),
        ({"git": {"uri": "u", "ref": "feature/" + "x" * 30}}, None, "Git@feature/" + "x" * 30),
        ({"dockerfile": "FROM x"}, None, "Dockerfile"),
        ({"dockerfile": "FROM x", "git": {"uri": "u", "ref": "r"}}, None, "Dockerfile,Git@r"),
        ({"binary": {}}, None, "Binary"),
        ({"binary": {}}, {"git": {"commit": COMMIT}}, "Binary@b7b3c9f"),
        ({}, None, ""),
    ],
)
def test_source_short(
    source: dict[str, object], revision: dict[str, object] | None, expected: str
) -> None:
    spec = {"revision": {"type": "Git", **revision}} if revision else None
    assert source_short(dump(build(source=source, spec=spec))["spec"]) == expected


def test_bc_row_counts_builds_by_last_version() -> None:
    assert bc_row(dump(build_config(last_version=7))) == ["app", "Docker", "Git@main", "7"]
    source = build_config(strategy={"sourceStrategy": {"from": {"name": "x"}}})
    assert bc_row(dump(source))[1] == "Source"


def test_rows_read_the_servers_json_with_openshifts_defaults() -> None:
    """As stored: no status yet (a Build is New), ``type: Docker`` alone, ``type: Binary``."""
    bc = {"metadata": {"name": "app"}, "spec": {"strategy": {"type": "Docker"},
          "source": {"type": "Binary"}}}  # fmt: skip
    assert bc_row(bc) == ["app", "Docker", "Binary", "0"]
    new = {"metadata": {"name": "app-1"}, "spec": bc["spec"]}
    assert build_row(new, NOW) == ["app-1", "Docker", "Binary", "New", "", ""]
    strategy = {"customStrategy": {"from": {"name": "builder:1"}}}
    custom = {"metadata": {"name": "c"}, "spec": {"strategy": strategy}}
    assert bc_row(custom) == ["c", "Custom", "builder:1", "0"]
    assert bc_row({}) == ["", "", "", "0"]


def test_builds_table_sorted_by_creation_like_oc() -> None:
    later = build("app-2", phase="Running", status=RUNNING, created="2024-05-01T11:57:00Z")
    earlier = build("app-1", phase="Complete", status=FINISHED, created="2024-05-01T11:54:00Z")
    assert render_builds([dump(later), dump(earlier)], NOW) == (
        "NAME    TYPE     FROM       STATUS     STARTED         DURATION\n"
        "app-1   Source   Git@main   Complete   5 minutes ago   1m35s\n"
        "app-2   Source   Git@main   Running    2 minutes ago   \n"
    )


def test_tables_with_namespace_and_kind() -> None:
    bc = dump(build_config(last_version=2))
    text = render_build_configs([bc], all_namespaces=True, with_kind=True)
    assert text == (
        "NAMESPACE   NAME                                 TYPE     FROM       LATEST\n"
        "dev         buildconfig.build.openshift.io/app   Docker   Git@main   2\n"
    )


def test_render_objects_name_json_yaml() -> None:
    b = build()
    assert render_objects([b], "name", single=True) == "build.build.openshift.io/app-1\n"
    assert render_objects([build_config()], "name", single=False) == (
        "buildconfig.build.openshift.io/app\n"
    )
    one = json.loads(render_objects([b], "json", single=True))
    assert one["kind"] == "Build"
    assert one["metadata"]["name"] == "app-1"
    listed = yaml.safe_load(render_objects([b, build("app-2")], "yaml", single=False))
    assert listed["kind"] == "List"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["app-1", "app-2"]


def test_render_objects_drops_managed_fields() -> None:
    b = build()
    b.metadata.managed_fields = [{"manager": "kubectl"}]  # type: ignore[list-item]
    assert "managedFields" not in json.loads(render_objects([b], "json", single=True))["metadata"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bc"], [(BUILD_CONFIGS, None)]),
        (["builds"], [(BUILDS, None)]),
        (
            ["buildconfigs.build.openshift.io", "a", "b"],
            [(BUILD_CONFIGS, "a"), (BUILD_CONFIGS, "b")],
        ),
        (["build", "app-1"], [(BUILDS, "app-1")]),
        (["bc/app", "build/app-1"], [(BUILD_CONFIGS, "app"), (BUILDS, "app-1")]),
        (["bc,build"], [(BUILD_CONFIGS, None), (BUILDS, None)]),
    ],
)
def test_parse_targets(args: list[str], expected: list[tuple[object, str | None]]) -> None:
    assert parse_targets(args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pods"], 'the server doesn\'t have a resource type "pods"'),
        (["bc/app", "x"], "no need to specify a resource type"),
        (["bc,build", "x"], "single resource type"),
    ],
)
def test_parse_targets_rejects(args: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_targets(args)
