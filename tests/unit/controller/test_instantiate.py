"""new_build: the Build a BuildConfig's next instantiation creates (pure)."""

from __future__ import annotations

from builder.api import BuildConfig, BuildTriggerCause, EnvVar, dump, parse_as
from builder.api.build import BinaryBuildSource
from builder.rules.instantiate import BuildOptions, is_paused, new_build


def bc(strategy: dict[str, object], **extra: object) -> BuildConfig:
    return parse_as(
        BuildConfig,
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "BuildConfig",
            "metadata": {"name": "app", "namespace": "dev", "uid": "u-1", **extra},
            "spec": {
                "runPolicy": "SerialLatestOnly",
                "source": {"git": {"uri": "https://example.com/app.git", "ref": "main"}},
                "strategy": strategy,
                "output": {"to": {"kind": "ImageStreamTag", "name": "app:latest"}},
                "triggers": [{"type": "ConfigChange"}],
                "successfulBuildsHistoryLimit": 2,
            },
        },
    )


SOURCE = {
    "type": "Source",
    "sourceStrategy": {
        "from": {"kind": "ImageStreamTag", "name": "python:3.11", "namespace": "openshift"},
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
    },
}
DOCKER = {
    "type": "Docker",
    "dockerStrategy": {"buildArgs": [{"name": "V", "value": "1"}], "noCache": False},
}


def test_name_labels_annotations_owner() -> None:
    build = new_build(bc(SOURCE), 7, BuildOptions())
    assert build.metadata.name == "app-7"
    assert build.metadata.namespace == "dev"
    assert build.metadata.labels == {
        "buildconfig": "app",
        "openshift.io/build-config.name": "app",
        "openshift.io/build.start-policy": "SerialLatestOnly",
    }
    assert build.metadata.annotations == {
        "openshift.io/build-config.name": "app",
        "openshift.io/build.number": "7",
    }
    owner = build.metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid, owner.controller) == (
        "BuildConfig",
        "app",
        "u-1",
        True,
    )


def test_spec_is_copied_without_buildconfig_only_fields() -> None:
    build = new_build(bc(SOURCE), 1, BuildOptions())
    assert build.spec.source.git is not None
    assert build.spec.source.git.uri == "https://example.com/app.git"
    assert build.spec.output.to is not None and build.spec.output.to.name == "app:latest"
    dumped = build.spec.model_dump(by_alias=True)
    assert "triggers" not in dumped and "runPolicy" not in dumped


def test_start_build_env_overrides_and_cause() -> None:
    cause = BuildTriggerCause(message="Manually triggered")
    options = BuildOptions(
        causes=(cause,), env=(EnvVar(name="B", value="x"), EnvVar(name="C", value="3"))
    )
    build = new_build(bc(SOURCE), 1, options)
    strategy = build.spec.strategy.source_strategy
    assert strategy is not None
    assert [(e.name, e.value) for e in strategy.env] == [("A", "1"), ("B", "x"), ("C", "3")]
    assert build.spec.triggered_by == [cause]


def test_docker_build_args_no_cache_and_commit() -> None:
    options = BuildOptions(
        build_args=(EnvVar(name="V", value="2"),), no_cache=True, commit="abc123"
    )
    build = new_build(bc(DOCKER), 3, options)
    docker = build.spec.strategy.docker_strategy
    assert docker is not None
    assert [(e.name, e.value) for e in docker.build_args] == [("V", "2")]
    assert docker.no_cache is True
    assert build.spec.revision is not None and build.spec.revision.git is not None
    assert build.spec.revision.git.commit == "abc123"


def test_the_buildconfig_is_not_modified() -> None:
    config = bc(SOURCE)
    new_build(config, 1, BuildOptions(env=(EnvVar(name="A", value="changed"),)))
    assert config.spec.strategy.source_strategy is not None
    assert config.spec.strategy.source_strategy.env[0].value == "1"


def test_paused_annotation() -> None:
    assert is_paused(bc(SOURCE, annotations={"openshift.io/build-config.paused": "true"}))
    assert not is_paused(bc(SOURCE, annotations={"openshift.io/build-config.paused": "false"}))
    assert not is_paused(bc(SOURCE))


def test_the_build_spec_holds_only_what_the_buildconfig_set() -> None:
    build = new_build(bc(SOURCE), 1, BuildOptions())
    spec = dump(build)["spec"]
    assert spec == {
        "source": {"git": {"uri": "https://example.com/app.git", "ref": "main"}},
        "strategy": SOURCE,
        "output": {"to": {"kind": "ImageStreamTag", "name": "app:latest"}},
        "triggeredBy": [],
    }


def test_a_binary_buildconfig_reuses_its_last_uploaded_input() -> None:
    config = bc(SOURCE, annotations={"build.kbuild.io/binary-source": "reg/ns/app-src@sha256:1"})
    config.spec.source = config.spec.source.model_copy(update={"binary": BinaryBuildSource()})
    reused = new_build(config, 2, BuildOptions())
    assert (reused.metadata.annotations or {})["build.kbuild.io/binary-source"] == (
        "reg/ns/app-src@sha256:1"
    )
    fresh = new_build(
        config, 3, BuildOptions(annotations={"build.kbuild.io/binary-source": "reg/new@sha256:2"})
    )
    assert (fresh.metadata.annotations or {})["build.kbuild.io/binary-source"] == "reg/new@sha256:2"
    # Not a binary BuildConfig: a stray annotation is not copied.
    plain = bc(SOURCE, annotations={"build.kbuild.io/binary-source": "reg/ns/app-src@sha256:1"})
    assert "build.kbuild.io/binary-source" not in (
        new_build(plain, 1, BuildOptions()).metadata.annotations or {}
    )
