"""oc's and kubectl's command-line conventions, across every verb (no cluster).

Boolean flags take ``=true|false`` as pflag does, global flags go before or
after the verb, resources are named ``TYPE NAME`` or ``TYPE/NAME`` with any
of their names, and ``kubectl-kbuild`` is installed.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

import pytest

from builder.cli import main, settriggers
from builder.cli.common import BUILD_CONFIGS, DEPLOYMENTS, IMAGE_STREAM_TAGS, CliError

ROOT = Path(__file__).resolve().parents[3]


def parse(*argv: str) -> argparse.Namespace:
    return main.parse_args(list(argv))


# ---------------------------------------------------------------------------
# Boolean flags: --flag, --flag=true, --flag=false (Go's ParseBool values)

BOOLEAN_FLAGS: list[tuple[list[str], str, str, Any]] = [
    # (verb and its arguments, flag, attribute, value when the flag is given bare)
    (["import-image", "app"], "--confirm", "confirm", True),
    (["import-image", "app"], "--scheduled", "scheduled", True),
    (["import-image", "app"], "--all", "all", True),
    (["import-image", "app"], "--insecure", "insecure", True),
    (["start-build", "app"], "--follow", "follow", True),
    (["start-build", "app"], "-F", "follow", True),
    (["start-build", "app"], "--wait", "wait", True),
    (["start-build", "app"], "-w", "wait", True),
    (["start-build", "app"], "--no-cache", "no_cache", True),
    (["cancel-build", "app-1"], "--dump-logs", "dump_logs", True),
    (["cancel-build", "app-1"], "--restart", "restart", True),
    (["logs", "bc/app"], "--follow", "follow", True),
    (["logs", "bc/app"], "-f", "follow", True),
    (["get", "is"], "--all-namespaces", "all_namespaces", True),
    (["get", "is"], "-A", "all_namespaces", True),
    (["tag", "a:b", "a:c"], "--alias", "alias", True),
    (["tag", "a:b", "a:c"], "--reference", "reference", True),
    (["tag", "a:b", "a:c"], "--scheduled", "scheduled", True),
    (["tag", "a:b", "a:c"], "--insecure", "insecure", True),
    (["tag", "a:c"], "--delete", "delete", True),
    (["set", "triggers", "bc/app"], "--remove", "remove", True),
    (["set", "triggers", "bc/app"], "--remove-all", "remove_all", True),
    (["set", "triggers", "bc/app"], "--from-config", "from_config", True),
    (["set", "triggers", "bc/app"], "--from-github", "from_github", True),
    (["set", "triggers", "bc/app"], "--auto", "auto", True),
    (["set", "triggers", "bc/app"], "--manual", "manual", True),
    (["new-app", "py~https://git.example.com/a.git"], "--dry-run", "dry_run", True),
    (
        ["new-build", "py~https://git.example.com/a.git"],
        "--insecure-registry",
        "insecure_registry",
        True,
    ),
    (["build", "src"], "--incremental", "incremental", True),
    (["build", "src"], "--no-cache", "no_cache", True),
    (["build", "src"], "--pull", "pull", True),
    (["controller"], "--verbose", "verbose", True),
]


@pytest.mark.parametrize(("argv", "flag", "attr", "bare"), BOOLEAN_FLAGS)
@pytest.mark.parametrize(
    ("suffix", "meaning"),
    [("", True), ("=true", True), ("=True", True), ("=1", True), ("=t", True),
     ("=false", False), ("=FALSE", False), ("=0", False), ("=f", False)],
)  # fmt: skip
def test_boolean_flags_take_go_boolean_values(
    argv: list[str], flag: str, attr: str, bare: Any, suffix: str, meaning: bool
) -> None:
    ns = parse(*argv, f"{flag}{suffix}")
    assert getattr(ns, attr) == (bare if meaning else not bare)


@pytest.mark.parametrize(
    "argv",
    [
        ["import-image", "app", "--confirm=yes"],
        ["start-build", "app", "--follow=2"],
        ["get", "is", "-A=on"],
    ],
)
def test_a_boolean_flag_with_another_value_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2


@pytest.mark.parametrize(
    ("argv", "attr", "value", "target_attr", "target"),
    [
        # pflag never takes the next argument as a boolean flag's value
        (["import-image", "--insecure", "app:base"], "insecure", True, "target", "app:base"),
        (["import-image", "--confirm", "app"], "confirm", True, "target", "app"),
        (["import-image", "--scheduled=true", "app"], "scheduled", True, "target", "app"),
    ],
)
def test_a_boolean_flag_never_takes_the_next_argument(
    argv: list[str], attr: str, value: bool, target_attr: str, target: str
) -> None:
    ns = parse(*argv)
    assert getattr(ns, attr) is value
    assert getattr(ns, target_attr) == target


def test_the_seed_import_image_line_parses() -> None:
    ns = parse("import-image", "python:3.11", "--confirm", "--scheduled=true")
    assert (ns.target, ns.confirm, ns.scheduled) == ("python:3.11", True, True)


def _switches(parser: argparse.ArgumentParser, path: str) -> list[tuple[str, argparse.Action]]:
    found: list[tuple[str, argparse.Action]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.extend(_switches(sub, f"{path} {name}"))
        elif (
            action.help is not argparse.SUPPRESS
            and action.nargs == 0
            and isinstance(action, argparse._StoreConstAction)
            and isinstance(action.const, bool)
        ):
            found.extend((f"{path} {opt}", action) for opt in action.option_strings)
    return found


def test_every_boolean_flag_of_every_verb_takes_true_and_false() -> None:
    root = main.parser()
    switches = _switches(root, "kbuild")
    assert len(switches) > 30
    for label, action in switches:
        opt = label.rsplit(" ", 1)[1]
        parser = root
        for word in label.split()[1:-1]:
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            parser = sub.choices[word]
        for value, stored in (("true", action.const), ("false", not action.const)):
            alias = parser._option_string_actions.get(f"{opt}={value}")
            assert alias is not None, f"{label}={value} is not accepted"
            assert (alias.dest, alias.const) == (action.dest, stored), label


def test_flags_are_never_abbreviated_as_pflag() -> None:
    with pytest.raises(SystemExit):
        parse("import-image", "app", "--conf")


# ---------------------------------------------------------------------------
# Global flags before or after the verb

CLUSTER_VERBS = [
    ["get", "is"],
    ["describe", "is/app"],
    ["start-build", "app"],
    ["cancel-build", "app-1"],
    ["logs", "bc/app"],
    ["import-image", "app"],
    ["tag", "a:b", "a:c"],
    ["set", "triggers", "bc/app"],
    ["new-app", "py~https://git.example.com/a.git"],
    ["new-build", "py~https://git.example.com/a.git"],
]


@pytest.mark.parametrize("verb", CLUSTER_VERBS, ids=lambda v: " ".join(v[:2]))
@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (["-n", "dev"], [], ("dev", None, None)),
        (["--namespace=dev"], [], ("dev", None, None)),
        (["-ndev"], [], ("dev", None, None)),
        (["--kubeconfig", "/k", "--context", "c"], [], (None, "/k", "c")),
        (["-n", "dev", "--context=c"], ["--kubeconfig", "/k"], ("dev", "/k", "c")),
        ([], ["-n", "dev"], ("dev", None, None)),
        # the flag after the verb is the later one, and the last one wins
        (["-n", "first"], ["-n", "last"], ("last", None, None)),
    ],
)
def test_global_flags_before_or_after_the_verb(
    verb: list[str], before: list[str], after: list[str], expected: tuple[Any, ...]
) -> None:
    ns = parse(*before, *verb, *after)
    assert (ns.namespace, ns.kubeconfig, ns.context) == expected


def test_the_seed_get_line_parses() -> None:
    ns = parse("-n", "ci", "get", "is")
    assert (ns.verb, ns.args, ns.namespace) == ("get", ["is"], "ci")


@pytest.mark.parametrize(
    ("argv", "verb"),
    [
        (["get", "is"], "get"),
        (["-n", "dev", "get", "is"], "get"),
        (["--kubeconfig", "/k", "--context", "c", "set", "triggers"], "set"),
        (["--namespace=dev", "-ndev", "logs"], "logs"),
        (["--version"], None),
        ([], None),
        (["--", "get"], "get"),
    ],
)
def test_verb_of(argv: list[str], verb: str | None) -> None:
    from builder.cli.conventions import verb_of  # noqa: PLC0415

    assert verb_of(argv) == verb


# ---------------------------------------------------------------------------
# TYPE NAME and TYPE/NAME, with every name of a type


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["bc", "app"], [(BUILD_CONFIGS, "app")]),
        (["bc/app"], [(BUILD_CONFIGS, "app")]),
        (["buildconfigs/app"], [(BUILD_CONFIGS, "app")]),
        (["buildconfigs", "a", "b"], [(BUILD_CONFIGS, "a"), (BUILD_CONFIGS, "b")]),
        (["BuildConfig", "app"], [(BUILD_CONFIGS, "app")]),
        (["bc.build.openshift.io/app"], [(BUILD_CONFIGS, "app")]),
        (["buildconfigs.build.openshift.io", "app"], [(BUILD_CONFIGS, "app")]),
        (["deploy", "web"], [(DEPLOYMENTS, "web")]),
        (["deployments.apps/web", "bc/app"], [(DEPLOYMENTS, "web"), (BUILD_CONFIGS, "app")]),
        (["deploy.apps", "web"], [(DEPLOYMENTS, "web")]),
    ],
)
def test_set_triggers_targets(args: list[str], expected: list[tuple[object, str]]) -> None:
    assert settriggers.parse_targets(args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bc", "bc/app"], "no need to specify a resource type as a separate argument"),
        (["bc"], "expected TYPE NAME"),
        (["app"], "expected TYPE NAME"),
        (["is", "python"], "imagestreams/python does not support triggers"),
        (["pods", "x"], "doesn't have a resource type"),
        (["bc/"], "expected TYPE NAME"),
    ],
)
def test_set_triggers_target_errors(args: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message):
        settriggers.parse_targets(args)


def test_the_seed_set_triggers_line_parses() -> None:
    ns = parse("set", "triggers", "bc", "app", "--remove", "--from-image=python:3.11")
    assert settriggers.parse_targets(ns.targets) == [(BUILD_CONFIGS, "app")]
    assert (ns.remove, ns.from_image) == (True, "python:3.11")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["istag", "app:latest"], [(IMAGE_STREAM_TAGS, "app:latest")]),
        (["imagestreamtags/app:latest"], [(IMAGE_STREAM_TAGS, "app:latest")]),
        (["bc.build.openshift.io", "app"], [(BUILD_CONFIGS, "app")]),
        (["buildconfigs/app"], [(BUILD_CONFIGS, "app")]),
    ],
)
def test_get_names_resources_every_way(args: list[str], expected: list[tuple[object, str]]) -> None:
    from builder.cli.get import parse_targets as get_targets  # noqa: PLC0415

    assert get_targets(args) == expected


# ---------------------------------------------------------------------------
# kubectl plugin


def test_installed_as_a_kubectl_plugin_too() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["kubectl-kbuild"] == scripts["kbuild"] == "builder.cli.main:entry"


def test_usage_names_the_plugin_when_run_as_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["/usr/local/bin/kubectl-kbuild", "get"])
    with pytest.raises(SystemExit):
        main.main(["get"])
    assert "usage: kubectl kbuild get" in capsys.readouterr().err
