"""``kbuild set triggers``: flags, oc's table, and the edits of BuildConfigs and workloads."""

from __future__ import annotations

import argparse
import copy
import json
from typing import Any

import pytest

from builder.api import BuildConfig, to_dict
from builder.cli import main
from builder.cli.common import BUILD_CONFIGS, CRON_JOBS, DEPLOYMENTS, STATEFUL_SETS, CliError
from builder.cli.settriggers import (
    TriggerFlags,
    Workload,
    build_config_rows,
    edit_build_config,
    edit_workload,
    flags_from_args,
    parse_from_image,
    parse_target,
    same_triggers,
    triggers_table,
    workload_patch,
    workload_rows,
)
from tests.unit.cli.helpers import SOURCE_STRATEGY, build_config

ANNOTATION = "image.openshift.io/triggers"


def parse(*argv: str) -> argparse.Namespace:
    return main.parser().parse_args(["set", "triggers", *argv])


def flags(*argv: str, namespace: str = "dev") -> TriggerFlags:
    return flags_from_args(parse("bc/app", *argv), namespace)


def counter() -> Any:
    """Secrets s1, s2, ... so edits are deterministic."""
    issued: list[str] = []

    def secret() -> str:
        issued.append(f"s{len(issued) + 1}")
        return issued[-1]

    return secret


# ---------------------------------------------------------------------------
# Flags


def test_flags_as_parsed() -> None:
    ns = parse(
        "deploy/web", "sts/db", "--from-image", "ci/python:3.11", "-c", "a,b", "-c", "c,a",
        "--manual", "-n", "dev",
    )  # fmt: skip
    assert ns.targets == ["deploy/web", "sts/db"]
    got = flags_from_args(ns, "dev")
    assert got == TriggerFlags(
        manual=True,
        from_image="python:3.11",
        from_image_namespace="ci",
        containers=("a", "b", "c"),
    )
    assert (got.count, got.reset, got.print_table) == (1, False, False)


@pytest.mark.parametrize(
    ("argv", "table", "reset"),
    [
        ([], True, False),
        (["--auto"], False, True),
        (["--manual"], False, True),
        (["--from-config"], False, False),
        (["--remove-all"], False, False),
        (["--from-github", "--auto"], False, False),
    ],
)
def test_table_and_reset_modes(argv: list[str], table: bool, reset: bool) -> None:
    got = flags(*argv)
    assert (got.print_table, got.reset) == (table, reset)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--auto", "--manual"], "at most one of --auto or --manual"),
        (["--remove", "--remove-all"], "either --remove or --remove-all"),
        (["--remove-all", "--from-config"], "--remove-all may not be used with any other flag"),
        (["--remove-all", "--auto"], "--remove-all may not be used with any other flag"),
        (["--remove"], "--remove requires a flag defining a trigger type"),
        (["--from-config", "--from-github"], "only set one trigger type at a time"),
        (["--from-webhook", "--from-webhook-allow-env"], "only set one trigger type at a time"),
        (["-c", "web", "--auto"], "--containers applies to --from-image only"),
    ],
)
def test_flag_combinations_oc_refuses(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message):
        flags(*argv)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("python:3.11", ("python:3.11", "")),
        ("dev/python:3.11", ("python:3.11", "")),
        ("ci/python:v1.2-rc", ("python:v1.2-rc", "ci")),
    ],
)
def test_from_image(value: str, expected: tuple[str, str]) -> None:
    assert parse_from_image(value, "dev") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("python", "must include the tag"),
        ("python:", "must include the tag"),
        ("quay.io/team/python:3", "must point to an image stream tag on this server"),
        ("registry:5000/python:3", "must point to an image stream tag on this server"),
        ("python@sha256:" + "a" * 64, "must point to an image stream tag on this server"),
        ("Python:3", "does not appear to be a valid reference"),
    ],
)
def test_from_image_errors(value: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_from_image(value, "dev")


@pytest.mark.parametrize(
    ("text", "resource", "name"),
    [
        ("bc/app", BUILD_CONFIGS, "app"),
        ("buildconfig.build.openshift.io/app", BUILD_CONFIGS, "app"),
        ("deploy/web", DEPLOYMENTS, "web"),
        ("deployment/web", DEPLOYMENTS, "web"),
        ("sts/db", STATEFUL_SETS, "db"),
        ("cj/nightly", CRON_JOBS, "nightly"),
    ],
)
def test_targets(text: str, resource: object, name: str) -> None:
    assert parse_target(text) == (resource, name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("is/python", "imagestreams/python does not support triggers"),
        ("pods/x", "doesn't have a resource type"),
        ("app", "expected KIND/NAME"),
        ("bc/", "expected KIND/NAME"),
    ],
)
def test_target_errors(text: str, message: str) -> None:
    with pytest.raises(CliError, match=message):
        parse_target(text)


def test_set_alone_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    ns = main.parser().parse_args(["set"])
    assert ns.run(ns) == 2
    assert "triggers" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# The table


def test_table_layout_is_ocs_tabwriter() -> None:
    # oc's own output for a new-app Deployment (tabwriter(0, 2, 2, ' ')), verified with Go.
    rows = [
        ("deployments/myapp", ["config", "", "true"]),
        ("deployments/myapp", ["image", "myapp:latest (myapp)", "true"]),
    ]
    assert triggers_table(rows) == (
        "NAME               TYPE    VALUE                 AUTO\n"
        "deployments/myapp  config                        true\n"
        "deployments/myapp  image   myapp:latest (myapp)  true\n"
    )


def bc_with(triggers: list[dict[str, Any]], strategy: dict[str, Any] | None = None) -> BuildConfig:
    return build_config(
        strategy=copy.deepcopy(SOURCE_STRATEGY if strategy is None else strategy),
        spec={"triggers": triggers},
    )


STRATEGY_TRIGGER: dict[str, Any] = {"type": "ImageChange", "imageChange": {}}


def test_build_config_table() -> None:
    # Expected text checked with Go's text/tabwriter(0, 2, 2, ' ', 0).
    bc = bc_with(
        [
            {"type": "GitHub", "github": {"secret": "a"}},
            {"type": "Generic", "generic": {"secret": "b", "allowEnv": True}},
            {"type": "ConfigChange"},
            STRATEGY_TRIGGER,
            {
                "type": "ImageChange",
                "imageChange": {
                    "from": {"kind": "ImageStreamTag", "name": "base:1", "namespace": "dev"},
                    "paused": True,
                },
            },
            {"type": "GitLab", "gitlab": {"secret": "c"}},
            {"type": "generic", "generic": {"secret": "d"}},
        ]
    )
    rows = [(f"buildconfigs/{bc.metadata.name}", row) for row in build_config_rows(bc)]
    assert triggers_table(rows) == (
        "NAME              TYPE     VALUE               AUTO\n"
        "buildconfigs/app  config                       true\n"
        "buildconfigs/app  image    ci/python:3.11      true\n"
        "buildconfigs/app  image    base:1              false\n"
        "buildconfigs/app  webhook  <secret>, allowenv  \n"
        "buildconfigs/app  webhook  <secret>            \n"
        "buildconfigs/app  github   <secret>            \n"
        "buildconfigs/app  gitlab   <secret>            \n"
    )


def test_strategy_image_is_listed_without_a_trigger_as_oc_does() -> None:
    assert build_config_rows(bc_with([])) == [
        ["config", "", "false"],
        ["image", "ci/python:3.11", "false"],
    ]


def test_docker_strategy_without_from_lists_no_image() -> None:
    strategy = {"type": "Docker", "dockerStrategy": {}}
    assert build_config_rows(bc_with([STRATEGY_TRIGGER], strategy)) == [["config", "", "false"]]


# ---------------------------------------------------------------------------
# BuildConfig edits


def edited(bc: BuildConfig, *argv: str) -> list[dict[str, Any]]:
    return [to_dict(t) for t in edit_build_config(bc, flags(*argv), counter())]


IST = "ImageStreamTag"


@pytest.mark.parametrize(
    ("argv", "added"),
    [
        # --from-image naming the strategy's own tag becomes the empty trigger.
        (["--from-image", "ci/python:3.11"], STRATEGY_TRIGGER),
        (
            ["--from-image", "base:1"],
            {"type": "ImageChange", "imageChange": {"from": {"kind": IST, "name": "base:1"}}},
        ),
        (
            ["--from-image", "other/base:1"],
            {
                "type": "ImageChange",
                "imageChange": {"from": {"kind": IST, "name": "base:1", "namespace": "other"}},
            },
        ),
        (
            ["--from-image", "base:1", "--manual"],
            {
                "type": "ImageChange",
                "imageChange": {"from": {"kind": IST, "name": "base:1"}, "paused": True},
            },
        ),
        (["--from-config"], {"type": "ConfigChange"}),
        (["--from-github"], {"type": "GitHub", "github": {"secret": "s1"}}),
        (["--from-webhook"], {"type": "Generic", "generic": {"secret": "s1"}}),
        (
            ["--from-webhook-allow-env"],
            {"type": "Generic", "generic": {"secret": "s1", "allowEnv": True}},
        ),
        (["--from-gitlab"], {"type": "GitLab", "gitlab": {"secret": "s1"}}),
        (["--from-bitbucket"], {"type": "Bitbucket", "bitbucket": {"secret": "s1"}}),
    ],
)
def test_adding_a_trigger_appends_it(argv: list[str], added: dict[str, Any]) -> None:
    existing = {"type": "GitHub", "github": {"secret": "old"}}
    assert edited(bc_with([existing]), *argv) == [existing, added]


def test_secrets_are_generated_like_ocs() -> None:
    from builder.cli.appobjects import generate_secret  # noqa: PLC0415

    new = edit_build_config(bc_with([]), flags("--from-github"), generate_secret)
    secret = to_dict(new[0])["github"]["secret"]
    assert len(secret) == 20
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_existing_triggers_are_not_duplicated() -> None:
    triggers = [{"type": "ConfigChange"}, STRATEGY_TRIGGER]
    bc = bc_with(triggers)
    for argv in (["--from-config"], ["--from-image", "ci/python:3.11"], ["--auto"]):
        assert same_triggers(bc.spec.triggers, edit_build_config(bc, flags(*argv), counter()))


def test_manual_pauses_image_triggers_and_auto_brings_them_back() -> None:
    from_other = {
        "type": "ImageChange",
        "imageChange": {"from": {"kind": IST, "name": "base:1"}, "lastTriggeredImageID": "x"},
    }
    bc = bc_with([{"type": "ConfigChange"}, STRATEGY_TRIGGER, from_other])
    manual = edited(bc, "--manual")
    assert manual == [
        {"type": "ImageChange", "imageChange": {"paused": True}},
        {"type": "ImageChange", "imageChange": {**from_other["imageChange"], "paused": True}},
    ]
    paused = bc_with(manual)
    assert edited(paused, "--auto") == [STRATEGY_TRIGGER, from_other, {"type": "ConfigChange"}]
    assert edited(paused, "--from-image", "base:1") == [manual[0], from_other]


def test_auto_adds_the_strategy_trigger_oc_lists() -> None:
    assert edited(bc_with([]), "--auto") == [{"type": "ConfigChange"}, STRATEGY_TRIGGER]


@pytest.mark.parametrize(
    ("argv", "left"),
    [
        # The strategy's tag: both the empty trigger and an explicit one, any namespace.
        (["--remove", "--from-image", "python:3.11"], [0, 1, 4, 5]),
        (["--remove", "--from-image", "base:1"], [0, 1, 2, 3, 5]),
        (["--remove", "--from-config"], [0, 2, 3, 4, 5]),
        (["--remove", "--from-github"], [1, 2, 3, 4]),
        (["--remove", "--from-webhook"], [0, 1, 2, 3, 4, 5]),
    ],
)
def test_remove(argv: list[str], left: list[int]) -> None:
    triggers = [
        {"type": "GitHub", "github": {"secret": "a"}},
        {"type": "ConfigChange"},
        STRATEGY_TRIGGER,
        {
            "type": "ImageChange",
            "imageChange": {"from": {"kind": IST, "name": "python:3.11", "namespace": "ci"}},
        },
        {"type": "ImageChange", "imageChange": {"from": {"kind": IST, "name": "base:1"}}},
        {"type": "github", "github": {"secret": "b"}},
    ]
    # --from-github removes the deprecated "github" spelling too.
    assert edited(bc_with(triggers), *argv) == [triggers[i] for i in left]


def test_remove_all() -> None:
    assert edited(bc_with([{"type": "ConfigChange"}, STRATEGY_TRIGGER]), "--remove-all") == []


def test_containers_make_no_sense_on_a_build_config() -> None:
    with pytest.raises(CliError, match="--containers applies to workloads"):
        edited(bc_with([]), "--from-image", "base:1", "-c", "web")


# ---------------------------------------------------------------------------
# Workloads


def deployment(
    *,
    annotation: str | None = None,
    containers: tuple[str, ...] = ("web",),
    init: tuple[str, ...] = (),
    paused: bool | None = None,
    annotations: bool = True,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "web", "namespace": "dev", "resourceVersion": "42"}
    if annotations:
        meta["annotations"] = {"deployment.kubernetes.io/revision": "3"}
        if annotation is not None:
            meta["annotations"][ANNOTATION] = annotation
    spec: dict[str, Any] = {"containers": [{"name": n, "image": f"{n}:old"} for n in containers]}
    if init:
        spec["initContainers"] = [{"name": n, "image": f"{n}:old"} for n in init]
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {"template": {"spec": spec}},
    }
    if paused is not None:
        obj["spec"]["paused"] = paused
    return obj


def workload(obj: dict[str, Any], kind: str = "Deployment") -> Workload:
    return Workload.of(kind, f"{kind.lower()}.apps/web", obj)


def path(name: str, lst: str = "containers", spec: str = "spec.template.spec") -> str:
    return f'{spec}.{lst}[?(@.name=="{name}")].image'


def trigger(name: str, container: str, **extra: Any) -> dict[str, Any]:
    lst = extra.pop("lst", "containers")
    source = {"kind": IST, "name": name, **extra.pop("source", {})}
    return {"from": source, "fieldPath": path(container, lst), **extra}


def annotation(*triggers: dict[str, Any]) -> str:
    return json.dumps(list(triggers), separators=(",", ":"))


def wflags(*argv: str) -> TriggerFlags:
    return flags_from_args(parse("deploy/web", *argv), "dev")


def test_workload_rows() -> None:
    obj = deployment(
        annotation=annotation(
            trigger("app:latest", "web"),
            trigger("side:1", "sidecar", paused=True, source={"namespace": "ci"}),
            trigger("gone:1", "missing"),
            {
                "from": {"kind": IST, "name": "idx:1"},
                "fieldPath": "spec.template.spec.containers[2].image",
            },
            trigger("db:1", "migrate", lst="initContainers"),
        ),
        containers=("web", "sidecar", "third"),
        init=("migrate",),
        paused=True,
    )
    assert workload_rows(workload(obj)) == [
        ["config", "", "false"],
        ["image", "app:latest (web)", "true"],
        ["image", "ci/side:1 (sidecar)", "false"],
        ["image", "idx:1 (third)", "true"],
        ["image", "db:1 (migrate)", "true"],
    ]


def test_cron_job_rows_use_its_pod_template() -> None:
    obj = {
        "kind": "CronJob",
        "metadata": {
            "name": "nightly",
            "namespace": "dev",
            "annotations": {
                ANNOTATION: annotation(
                    {
                        "from": {"kind": IST, "name": "job:1"},
                        "fieldPath": path("run", spec="spec.jobTemplate.spec.template.spec"),
                    }
                )
            },
        },
        "spec": {
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "run"}]}}}}
        },
    }
    assert workload_rows(Workload.of("CronJob", "cronjob.batch/nightly", obj)) == [
        ["config", "", "true"],
        ["image", "job:1 (run)", "true"],
    ]


def test_an_unreadable_annotation_is_an_error_row() -> None:
    assert workload_rows(workload(deployment(annotation="{nope"))) == [["<error>", "", "false"]]


def test_from_image_defaults_to_the_only_container() -> None:
    edit = edit_workload(workload(deployment()), wflags("--from-image", "app:latest"))
    assert edit.annotation == (
        '[{"from":{"kind":"ImageStreamTag","name":"app:latest"},'
        '"fieldPath":"spec.template.spec.containers[?(@.name==\\"web\\")].image"}]'
    )
    assert edit.paused is None


def test_from_image_needs_containers_when_there_are_several() -> None:
    with pytest.raises(CliError, match=r"you must specify --containers.*containers: a, b, init"):
        edit_workload(
            workload(deployment(containers=("a", "b"), init=("init",))),
            wflags("--from-image", "app:latest"),
        )


def test_unknown_container() -> None:
    with pytest.raises(
        CliError, match=r"not all container names exist: x \(accepts: migrate, web\)"
    ):
        edit_workload(
            workload(deployment(init=("migrate",))), wflags("--from-image", "a:1", "-c", "web,x")
        )


def test_from_image_replaces_only_the_named_containers_trigger() -> None:
    obj = deployment(
        annotation=annotation(trigger("old:1", "web"), trigger("side:1", "side")),
        containers=("web", "side", "extra"),
        init=("migrate",),
    )
    edit = edit_workload(
        workload(obj), wflags("--from-image", "ci/new:2", "-c", "migrate,web", "--manual")
    )
    assert edit.annotation is not None
    assert json.loads(edit.annotation) == [
        trigger("new:2", "web", source={"namespace": "ci"}, paused=True),
        trigger("side:1", "side"),
        trigger("new:2", "migrate", source={"namespace": "ci"}, paused=True, lst="initContainers"),
    ]


def test_manual_and_auto_pause_every_trigger_and_the_deployment() -> None:
    obj = deployment(annotation=annotation(trigger("a:1", "web")))
    manual = edit_workload(workload(obj), wflags("--manual"))
    assert manual.paused is True
    assert manual.annotation == annotation(trigger("a:1", "web", paused=True))
    paused = deployment(annotation=manual.annotation, paused=True)
    auto = edit_workload(workload(paused), wflags("--auto"))
    assert (auto.annotation, auto.paused) == (annotation(trigger("a:1", "web")), False)


def test_statefulsets_have_no_paused_switch() -> None:
    obj = deployment(annotation=annotation(trigger("a:1", "web")))
    obj["kind"] = "StatefulSet"
    sts = workload(obj, "StatefulSet")
    assert edit_workload(sts, wflags("--manual")).paused is None
    assert edit_workload(sts, wflags("--remove-all")).paused is None
    assert sts.config_change is True
    with pytest.raises(CliError, match="only a Deployment can turn its config trigger off"):
        edit_workload(sts, wflags("--remove", "--from-config"))


def test_remove_from_image() -> None:
    obj = deployment(
        annotation=annotation(
            trigger("a:1", "web"), trigger("a:1", "side"), trigger("b:1", "other")
        ),
        containers=("web", "side", "other"),
    )
    every = edit_workload(workload(obj), wflags("--remove", "--from-image", "a:1"))
    assert every.annotation == annotation(trigger("b:1", "other"))
    one = edit_workload(workload(obj), wflags("--remove", "--from-image", "a:1", "-c", "side"))
    assert one.annotation == annotation(trigger("a:1", "web"), trigger("b:1", "other"))
    last = edit_workload(workload(deployment(annotation=annotation(trigger("a:1", "web")))),
                         wflags("--remove", "--from-image", "a:1"))  # fmt: skip
    assert last.annotation is None


def test_remove_all_drops_the_annotation_and_pauses_the_deployment_as_oc() -> None:
    edit = edit_workload(workload(deployment(annotation="{broken")), wflags("--remove-all"))
    assert (edit.annotation, edit.paused) == (None, True)


def test_config_trigger_of_a_deployment_is_spec_paused() -> None:
    paused = workload(deployment(paused=True))
    assert edit_workload(paused, wflags("--from-config")).paused is False
    running = workload(deployment())
    assert edit_workload(running, wflags("--remove", "--from-config")).paused is True
    assert not edit_workload(running, wflags("--from-config")).changes(running)


def test_workloads_take_no_webhooks() -> None:
    with pytest.raises(CliError, match=r"deployment\.apps/web does not support GitHub web hooks"):
        edit_workload(workload(deployment()), wflags("--from-github"))
    with pytest.raises(CliError, match="does not support web hooks"):
        edit_workload(workload(deployment()), wflags("--from-webhook"))


def test_an_unchanged_annotation_keeps_its_text() -> None:
    text = (
        '[ {"from": {"kind": "ImageStreamTag", "name": "a:1"},\n "fieldPath": '
        + json.dumps(path("web"))
        + "} ]"
    )
    obj = workload(deployment(annotation=text))
    edit = edit_workload(obj, wflags("--from-image", "a:1"))
    assert edit.annotation == text
    assert not edit.changes(obj)


def test_unreadable_entries_are_kept() -> None:
    odd = {"from": {"kind": IST, "name": "x:1"}, "fieldPath": "spec.template.spec.volumes[0]"}
    obj = deployment(annotation=annotation(odd))
    edit = edit_workload(workload(obj), wflags("--from-image", "a:1"))
    assert edit.annotation == annotation(odd, trigger("a:1", "web"))


# ---------------------------------------------------------------------------
# The JSON patch


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def apply_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 for objects (what these patches use); a failed test raises."""
    doc = copy.deepcopy(obj)
    for op in ops:
        *parents, key = _pointer(op["path"])
        node = doc
        for part in parents:
            node = node[part]
        if op["op"] == "test":
            assert node.get(key) == op["value"], f"test failed at {op['path']}"
        elif op["op"] == "remove":
            del node[key]
        elif op["op"] == "replace":
            assert key in node
            node[key] = op["value"]
        else:
            node[key] = op["value"]
    return doc


def test_patch_replaces_the_annotation_it_read() -> None:
    obj = deployment(annotation=annotation(trigger("a:1", "web")))
    read = workload(obj)
    edit = edit_workload(read, wflags("--from-image", "b:1"))
    ops = workload_patch(read, edit)
    assert ops[0] == {
        "op": "test",
        "path": "/metadata/annotations/image.openshift.io~1triggers",
        "value": annotation(trigger("a:1", "web")),
    }
    patched = apply_patch(obj, ops)
    assert patched["metadata"]["annotations"][ANNOTATION] == annotation(trigger("b:1", "web"))
    assert patched["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert patched["spec"]["template"] == obj["spec"]["template"]  # the image is not touched
    # Someone else changed the annotation meanwhile: the patch does not apply.
    raced = deployment(annotation=annotation(trigger("c:1", "web")))
    with pytest.raises(AssertionError, match="test failed"):
        apply_patch(raced, ops)


@pytest.mark.parametrize("has_annotations", [True, False])
def test_patch_adding_the_annotation_tests_the_resource_version(has_annotations: bool) -> None:
    obj = deployment(annotations=has_annotations)
    read = workload(obj)
    ops = workload_patch(read, edit_workload(read, wflags("--from-image", "a:1")))
    assert ops[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "42"}
    patched = apply_patch(obj, ops)
    assert patched["metadata"]["annotations"][ANNOTATION] == annotation(trigger("a:1", "web"))
    assert ("deployment.kubernetes.io/revision" in patched["metadata"]["annotations"]) is (
        has_annotations
    )


def test_patch_removing_the_annotation_and_pausing() -> None:
    obj = deployment(annotation=annotation(trigger("a:1", "web")))
    read = workload(obj)
    patched = apply_patch(obj, workload_patch(read, edit_workload(read, wflags("--remove-all"))))
    assert ANNOTATION not in patched["metadata"]["annotations"]
    assert patched["spec"]["paused"] is True


def test_no_change_no_patch() -> None:
    read = workload(deployment())
    edit = edit_workload(read, wflags("--auto"))
    assert not edit.changes(read)
    assert workload_patch(read, edit) == []
