"""``start-build --incremental`` and ``-e``: what they change in the Build, as OpenShift's request.

Each row: the BuildConfig's strategy, the command line, and the strategy of
the Build that ``new_build`` makes with the options the command line gives.
"""

from __future__ import annotations

from typing import Any

import pytest

from builder.api import BuildConfig, dump, parse_as
from builder.cli.startbuild import options_from_args
from builder.rules.instantiate import new_build
from tests.unit.cli.test_newapp import parse

SECRET_ENV = {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}}
FROM = {"kind": "DockerImage", "name": "registry.example.com/builder:1"}


def config(strategy: dict[str, Any]) -> BuildConfig:
    return parse_as(
        BuildConfig,
        {
            "metadata": {"name": "app", "namespace": "dev", "uid": "u"},
            "spec": {
                "source": {"git": {"uri": "https://git.example.com/app.git"}},
                "strategy": strategy,
                "output": {"to": {"kind": "ImageStreamTag", "name": "app:latest"}},
            },
        },
    )


def pruned(value: Any) -> Any:
    """Without the empty lists the dump writes for unset list fields."""
    if isinstance(value, dict):
        return {k: pruned(v) for k, v in value.items() if v != []}
    return value


def source(**fields: Any) -> dict[str, Any]:
    return {"type": "Source", "sourceStrategy": {"from": FROM, **fields}}


CASES = [
    ("no flag: as configured", source(incremental=True), [], source(incremental=True)),
    ("--incremental turns it on", source(), ["--incremental"], source(incremental=True)),
    (
        "--incremental=false turns it off",
        source(incremental=True),
        ["--incremental=false"],
        source(incremental=False),
    ),
    (
        "--incremental is ignored by the docker strategy",
        {"type": "Docker", "dockerStrategy": {}},
        ["--incremental"],
        {"type": "Docker", "dockerStrategy": {}},
    ),
    (
        "-e replaces a valueFrom entry of the same name with the plain value",
        source(env=[SECRET_ENV, {"name": "A", "value": "1"}]),
        ["-e", "TOKEN=plain", "-e", "B=2"],
        source(
            env=[
                {"name": "A", "value": "1"},
                {"name": "TOKEN", "value": "plain"},
                {"name": "B", "value": "2"},
            ]
        ),
    ),
    (
        "-e reaches the docker strategy's env",
        {"type": "Docker", "dockerStrategy": {"env": [{"name": "A", "value": "1"}]}},
        ["-e", "A=2"],
        {"type": "Docker", "dockerStrategy": {"env": [{"name": "A", "value": "2"}]}},
    ),
    (
        "-e reaches the custom strategy's env",
        {"type": "Custom", "customStrategy": {"from": FROM}},
        ["-e", "A=1"],
        {"type": "Custom", "customStrategy": {"from": FROM, "env": [{"name": "A", "value": "1"}]}},
    ),
]


@pytest.mark.parametrize(("why", "strategy", "argv", "expected"), CASES, ids=[c[0] for c in CASES])
def test_start_build_flags_in_the_build(
    why: str, strategy: dict[str, Any], argv: list[str], expected: dict[str, Any]
) -> None:
    options = options_from_args(parse("start-build", "app", *argv))
    build = new_build(config(strategy), 1, options)
    assert pruned(dump(build)["spec"]["strategy"]) == expected
