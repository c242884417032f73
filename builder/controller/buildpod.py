"""The build pod for one Build: a pure function from the Build to a Pod manifest.

The shape follows OpenShift's build pods, so ``oc``-trained eyes (and
``kbuild logs``) find what they expect: pod ``<build>-build``, label and
annotation ``openshift.io/build.name``, the Build serialised into ``$BUILD``,
init containers ``git-clone`` then ``manage-dockerfile``, and the main
container ``sti-build`` or ``docker-build``, with secrets mounted at
OpenShift's paths.  Unlike OpenShift's, the work is split further (init
containers ``pull-images`` and ``build-image``, the main container only
pushes) so that each secret is mounted only into the container whose step
needs it, and none where the committer's files are read or code runs
(``build_pod``).  Each container runs ``kbuild pipeline <step>`` from
the controller's build pod image; they hand over through a shared emptyDir
(``builder.pipeline.workspace``) and report through their termination
messages (``builder.pipeline.pod``), read back by
``builder.controller.podstatus``.

Unlike OpenShift's, the pod is unprivileged (docs/build-pod.md): no
privileged container, no root, no hostPath, no container engine socket, and
a seccomp profile rather than none, so Pod Security ``baseline`` admits it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from builder.api import Build, BuildError, BuildSpec, StatusReason, dump
from builder.api.constants import (
    ALLOWED_BUILD_ENV_NAMES,
    BUILD_ANNOTATION,
    BUILD_API_VERSION,
    BUILD_LABEL,
    KIND_BUILD,
)
from builder.api.labels import label_value
from builder.controller.config import ControllerConfig
from builder.controller.podlayout import Run, group_steps
from builder.controller.seccomp import LOCALHOST_PROFILE
from builder.pipeline.custom import check_custom, output_variables
from builder.pipeline.from_build import plan_from_spec
from builder.pipeline.inputs import SECRET, ClusterInputs, value_from_variable
from builder.pipeline.plan import BuildPlan
from builder.pipeline.pod import (
    BUILD_ENV,
    INSECURE_REGISTRIES_ENV,
    PULL_SECRET_MOUNT,
    PULL_SECRET_PATH_ENV,
    PUSH_SECRET_MOUNT,
    PUSH_SECRET_PATH_ENV,
    SOURCE_IMAGE_PULL_MOUNT_PREFIX,
    SOURCE_IMAGE_PULL_PATH_ENV_PREFIX,
    SOURCE_SECRET_MOUNT,
    SOURCE_SECRET_PATH_ENV,
    STORAGE_DIR_ENV,
    TERMINATION_LOG,
    TRUSTED_CA_ENV,
    TRUSTED_CA_KEY,
    TRUSTED_CA_MOUNT,
    WORKSPACE_ENV,
    WORKSPACE_MOUNT,
)
from builder.rules.names import build_pod_name
from builder.source import redact_url

# OpenShift's container names (openshift-controller-manager strategy/util.go).
GIT_CLONE_CONTAINER = "git-clone"
MANAGE_DOCKERFILE_CONTAINER = "manage-dockerfile"
# kbuild's own: the pull and the build run apart from the push, each with
# only the secret it needs (build_pod).
PULL_IMAGES_CONTAINER = "pull-images"
BUILD_IMAGE_CONTAINER = "build-image"
STI_BUILD_CONTAINER = "sti-build"
DOCKER_BUILD_CONTAINER = "docker-build"

WORKSPACE_VOLUME = "buildworkdir"
STORAGE_VOLUME = "container-storage-root"
# buildah's rootless storage in the build pod image (images/buildpod/storage.conf:
# rootless_storage_path = $HOME/.local/share/containers/storage).
STORAGE_MOUNT = "/home/build/.local/share/containers"

# OpenShift's default when completionDeadlineSeconds is unset: builds are meant
# to end, and a week bounds a pod stuck pulling its image or hung in a step.
DEFAULT_ACTIVE_DEADLINE_SECONDS = 7 * 24 * 3600

# Secrets are read by the build user through its group (gid 0, see below).
SECRET_MODE = 0o440
# A build's own inputs are read inside the build's user namespace, by the
# builder image's user (often 1001, not in group 0): readable by all.  Only
# the build-image container mounts them, where nothing else runs.
INPUT_MODE = 0o444

# ---------------------------------------------------------------------------
# The unprivileged pod contract: docs/build-pod.md ("Why each part") gives the
# failure observed without each field; tests/cluster/test_cluster_smoke.py
# proves the whole.  Change the three together.  Pod Security admits the spec
# at "baseline": the seccomp profile is a Localhost one (builder.controller.
# seccomp, installed on every node by deploy/seccomp-installer.yaml), and
# allowPrivilegeEscalation and the two added capabilities are within what
# baseline allows.  "restricted" rejects it (both of those), see docs/build-pod.md.
BUILD_USER_UID = 1000
BUILD_USER_GID = 0
# seccomp_profile value that selects the old spec (needs a "privileged" namespace).
UNCONFINED = "Unconfined"


def seccomp_profile(profile: str = LOCALHOST_PROFILE) -> dict[str, str]:
    """``seccompProfile`` for ``profile``: a path under the kubelet's seccomp root, or Unconfined.

    The runtime's default profile allows unshare(CLONE_NEWUSER) and mount
    only with CAP_SYS_ADMIN; rootless buildah makes a user namespace and
    mounts inside it.  The Localhost profile is that default plus those
    calls, narrowed to what buildah makes (builder.controller.seccomp).
    Unconfined is kept for clusters that cannot install a profile on their
    nodes; Pod Security admits it only at "privileged".
    """
    return _localhost_or_unconfined(profile)


def _localhost_or_unconfined(profile: str) -> dict[str, str]:
    # seccompProfile and appArmorProfile share the shape.
    if profile == UNCONFINED:
        return {"type": UNCONFINED}
    return {"type": "Localhost", "localhostProfile": profile}


def apparmor_profile(profile: str) -> dict[str, str] | None:
    """``appArmorProfile`` for ``--apparmor-profile``: unset, Unconfined, or a Localhost profile.

    Unset (the default) leaves the runtime's default profile, which is no
    profile on a node without AppArmor and, on a node with it, one that
    denies the mounts rootless buildah makes; the Localhost profile
    (builder.controller.apparmor, loaded by deploy/apparmor-loader.yaml) is
    that default plus them.  The kubelet refuses a pod that asks for any
    profile on a node without AppArmor, so it is set only when asked for.
    """
    return _localhost_or_unconfined(profile) if profile else None


def pod_security_context(profile: str = LOCALHOST_PROFILE, apparmor: str = "") -> dict[str, Any]:
    context = {
        # Never root.  1000 is the image's user "build", the one /etc/subuid
        # and /etc/subgid name: newuidmap looks its caller up by uid.
        "runAsNonRoot": True,
        "runAsUser": BUILD_USER_UID,
        # "build"'s primary group is 0 (OpenShift's arbitrary-uid convention),
        # and newgidmap refuses a caller whose gid differs from its passwd
        # entry's.  A group, not root: it grants no capability.  It is also
        # what lets the build user read the mounted secrets (SECRET_MODE).
        "runAsGroup": BUILD_USER_GID,
        # Every container of the pod: a missing file fails container creation
        # with CreateContainerError, which podstatus turns into the Build's reason.
        "seccompProfile": seccomp_profile(profile),
    }
    armor = apparmor_profile(apparmor)
    if armor is not None:
        context["appArmorProfile"] = armor
    return context


def container_security_context() -> dict[str, Any]:
    return {
        "privileged": False,
        # newuidmap/newgidmap get CAP_SETUID/CAP_SETGID from file capabilities
        # at exec to write the namespace's ID maps; false would set
        # no_new_privs, and the kernel then ignores file capabilities.
        "allowPrivilegeEscalation": True,
        # File capabilities are capped by the bounding set, so those two stay
        # in it; all else goes.  The build itself runs with no effective
        # capability: the user namespace makes it root inside only.
        "capabilities": {"drop": ["ALL"], "add": ["SETUID", "SETGID"]},
    }


# ---------------------------------------------------------------------------
# The pod


def _env(name: str, value: str) -> dict[str, str]:
    """A container variable the build reads as written.

    The kubelet expands ``$(NAME)`` in env values and turns ``$$`` into ``$``:
    a Build env ``pa$$w0rd`` inside ``BUILD`` reached the build as ``pa$w0rd``.
    Doubling every ``$`` is Kubernetes' own escape, so nothing is expanded.
    """
    return {"name": name, "value": value.replace("$", "$$")}


def _build_json(pod_build: Build) -> str:
    data = copy.deepcopy(dump(pod_build))
    # Server bookkeeping the pod never reads; it only makes $BUILD longer.
    data.get("metadata", {}).pop("managedFields", None)
    return json.dumps(data, separators=(",", ":"))


def _check(pod_build: Build) -> BuildPlan:
    """Fail now, with the reason the Build will show, rather than in the pod."""
    # The same translation the pod will make: unresolved images, unimplemented
    # fields and strategies, a binary build with no uploaded input, invalid
    # input secrets or volumes, all are reported here as typed BuildErrors.
    return plan_from_spec(pod_build.spec, metadata=pod_build.metadata, cluster=ClusterInputs())


def _input_volumes(
    pod_build: Build, plan: BuildPlan
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pod volumes and build-image mounts for the build's own inputs (builder.pipeline.inputs).

    ``source.secrets``/``configMaps`` and the strategy's ``volumes`` go to the
    build-image container only: the build is what they are for, and no other
    step reads them.  The controller names the objects; the kubelet reads them.
    """
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in plan.source.inputs:
        if item.volume in seen:
            continue
        seen.add(item.volume)
        if item.kind == SECRET:
            source = {"secret": {"secretName": item.name, "defaultMode": INPUT_MODE}}
        else:
            source = {"configMap": {"name": item.name, "defaultMode": INPUT_MODE}}
        volumes.append({"name": item.volume, **source})
        mounts.append(_mount(item.volume, item.mount_path))
    strategy = pod_build.spec.strategy.source_strategy or pod_build.spec.strategy.docker_strategy
    given = strategy.volumes if strategy is not None else []
    for volume, checked in zip(given, plan.strategy.volumes, strict=True):
        kind = volume.source
        if kind.secret is not None:
            source = {"secret": dump(kind.secret)}
        elif kind.config_map is not None:
            source = {"configMap": dump(kind.config_map)}
        else:
            # Inline CSI volumes are read-only to the build whatever the driver.
            source = {"csi": {**dump(kind.csi), "readOnly": True}} if kind.csi else {}
        volumes.append({"name": checked.volume, **source})
        mounts.append(_mount(checked.volume, checked.mount_path))
    return volumes, mounts


def _value_from_env(pod_build: Build) -> list[dict[str, Any]]:
    """The strategy env's valueFrom references, for the kubelet to resolve.

    Under kbuild's own names (``KBUILD_VALUE_FROM_<index>``): a user's
    ``PATH`` or ``BUILD`` must not replace the step's own.  The controller
    never reads the Secret or ConfigMap.  pull-images writes them into the
    Dockerfile; build-image, whose buildah prints its ENV lines, masks the
    secretKeyRef values in the log.
    """
    strategy = pod_build.spec.strategy.source_strategy or pod_build.spec.strategy.docker_strategy
    return [
        {"name": value_from_variable(index), "valueFrom": dump(var.value_from)}
        for index, var in enumerate(strategy.env if strategy is not None else [])
        if var.value_from is not None
    ]


def _common_env(pod_build: Build, config: ControllerConfig) -> list[dict[str, str]]:
    spec = pod_build.spec
    env = [_env(BUILD_ENV, _build_json(pod_build)), _env("LANG", "C.utf8")]
    # OpenShift's source variables, for people reading `kubectl describe pod`:
    # never with a password that the URI itself carries.
    if spec.source.git is not None:
        env += [_env("SOURCE_REPOSITORY", redact_url(spec.source.git.uri))]
        env += [_env("SOURCE_URI", redact_url(spec.source.git.uri))]
    if spec.source.context_dir:
        env.append(_env("SOURCE_CONTEXT_DIR", spec.source.context_dir))
    if spec.source.git is not None and spec.source.git.ref:
        env.append(_env("SOURCE_REF", spec.source.git.ref))
    env.append(_env(WORKSPACE_ENV, WORKSPACE_MOUNT))
    if config.insecure_registries:
        env.append(_env(INSECURE_REGISTRIES_ENV, ",".join(sorted(config.insecure_registries))))
    # As OpenShift does, the strategy's proxy and log-level variables reach the
    # build containers themselves (git and buildah honour them), others only the build.
    strategy = spec.strategy.source_strategy or spec.strategy.docker_strategy
    names = {e["name"] for e in env}
    for var in strategy.env if strategy is not None else []:
        trusted = var.name in ALLOWED_BUILD_ENV_NAMES and var.value_from is None
        if trusted and var.name not in names:
            env.append(_env(var.name, var.value))
            names.add(var.name)
    return env


def _source_image_secrets(pod_build: Build) -> dict[str, tuple[str, str, str]]:
    """``source.images[i].pullSecret``: kind -> (secret, mount path, variable)."""
    return {
        f"pull-source-{index}": (
            image.pull_secret.name,
            f"{SOURCE_IMAGE_PULL_MOUNT_PREFIX}{index}",
            f"{SOURCE_IMAGE_PULL_PATH_ENV_PREFIX}{index}",
        )
        for index, image in enumerate(pod_build.spec.source.images)
        if image.pull_secret is not None and image.pull_secret.name
    }


def _trusted_ca(
    pod_build: Build, config: ControllerConfig
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, str]]]:
    """The cluster's trusted CA bundle: a volume, and a mount and variable for every container.

    OpenShift creates ``<build>-global-ca`` labelled
    ``config.openshift.io/inject-trusted-cabundle`` and its network operator
    fills it; kbuild mounts a ConfigMap the admin names
    (``--trusted-ca-configmap``) from the build's namespace, put there by a
    distributor such as trust-manager.  Optional in the pod: a namespace
    without it builds with the image's CAs, except a build that asks for
    ``mountTrustedCA``, which the steps fail naming the ConfigMap.  Every
    step trusts it (system CAs plus the bundle) for git, pulls and pushes;
    RUN steps see it only with ``mountTrustedCA`` (builder.pipeline.steps).
    """
    name = config.trusted_ca_configmap
    if not name:
        if pod_build.spec.mount_trusted_ca:
            raise BuildError(
                StatusReason.CANNOT_CREATE_BUILD_POD_SPEC,
                "spec.mountTrustedCA is set but this cluster names no trusted CA bundle "
                "(the controller's --trusted-ca-configmap)",
            )
        return [], [], []
    volume = {
        "name": "trusted-ca",
        "configMap": {
            "name": name,
            "items": [{"key": TRUSTED_CA_KEY, "path": TRUSTED_CA_KEY}],
            "optional": True,
        },
    }
    mount = _mount("trusted-ca", TRUSTED_CA_MOUNT)
    return [volume], [mount], [_env(TRUSTED_CA_ENV, f"{TRUSTED_CA_MOUNT}/{TRUSTED_CA_KEY}")]


def _resources(build: Build) -> dict[str, Any]:
    resources = build.spec.resources
    out: dict[str, Any] = {}
    if resources.limits:
        out["limits"] = dict(resources.limits)
    if resources.requests:
        out["requests"] = dict(resources.requests)
    return out


def _container(
    name: str,
    steps: tuple[str, ...],
    *,
    config: ControllerConfig,
    env: list[dict[str, str]],
    mounts: list[dict[str, Any]],
    resources: dict[str, Any],
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": name,
        "image": config.build_pod_image,
        "command": ["kbuild", "pipeline", *steps],
        "env": env,
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": WORKSPACE_VOLUME, "mountPath": WORKSPACE_MOUNT}, *mounts],
        # The step writes JSON there (builder.pipeline.pod); the log is for people.
        "terminationMessagePath": TERMINATION_LOG,
        "terminationMessagePolicy": "File",
    }
    if resources:
        container["resources"] = copy.deepcopy(resources)
    return container


def _secret_volume(volume: str, secret: str) -> dict[str, Any]:
    return {"name": volume, "secret": {"secretName": secret, "defaultMode": SECRET_MODE}}


def _mount(volume: str, path: str) -> dict[str, Any]:
    return {"name": volume, "mountPath": path, "readOnly": True}


def _pod(build: Build, pod_build: Build, pod_spec: dict[str, Any]) -> dict[str, Any]:
    """The build pod around ``pod_spec``: its name, the Build's label, and the Build as owner.

    The owner reference (with the Build's uid) is what makes a pod the
    controller's: a pod of the same name without it is never believed.
    """
    name = build.metadata.name
    if pod_build.spec.node_selector:
        pod_spec["nodeSelector"] = dict(pod_build.spec.node_selector)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": build_pod_name(name),
            "namespace": build.metadata.namespace,
            "labels": {BUILD_LABEL: label_value(name)},
            "annotations": {BUILD_ANNOTATION: name},
            "ownerReferences": [
                {
                    "apiVersion": BUILD_API_VERSION,
                    "kind": KIND_BUILD,
                    "name": name,
                    "uid": build.metadata.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": pod_spec,
    }


def _registry_secrets(pod_build: Build) -> dict[str, tuple[str, str, str]]:
    """Each secret the steps may mount: kind -> (secret, mount path, variable).

    Kinds ``source``, ``pull``, ``push`` and ``pull-source-<i>`` (the pull
    secret of ``source.images[i]``); ``build_pod`` decides which step's
    container mounts which.
    """
    spec = pod_build.spec
    secrets: dict[str, tuple[str, str, str]] = {}
    if spec.source.source_secret is not None and spec.source.source_secret.name:
        secrets["source"] = (
            spec.source.source_secret.name,
            SOURCE_SECRET_MOUNT,
            SOURCE_SECRET_PATH_ENV,
        )
    strategy = spec.strategy.source_strategy or spec.strategy.docker_strategy
    pull_secret = strategy.pull_secret if strategy is not None else None
    if pull_secret is not None and pull_secret.name:
        secrets["pull"] = (pull_secret.name, PULL_SECRET_MOUNT, PULL_SECRET_PATH_ENV)
    push_secret = spec.output.push_secret
    if push_secret is not None and push_secret.name:
        secrets["push"] = (push_secret.name, PUSH_SECRET_MOUNT, PUSH_SECRET_PATH_ENV)
    secrets.update(_source_image_secrets(pod_build))
    return secrets


def build_pod(build: Build, config: ControllerConfig, *, pod_build: Build) -> dict[str, Any]:
    """The Pod manifest that runs ``build``.

    ``pod_build`` is ``build`` with every image already resolved to a
    DockerImage pull spec (strategy ``from``, ``output.to``); it is what the
    pod receives in ``$BUILD``.  ``build`` gives the identity: name,
    namespace and the uid the owner reference needs.

    Raises BuildError (CannotCreateBuildPodSpec, InvalidImageReference, ...)
    when ``pod_build`` cannot run, as OpenShift fails a pod spec.
    """
    if pod_build.spec.strategy.custom_strategy is not None:
        return custom_build_pod(build, config, pod_build=pod_build)
    plan = _check(pod_build)
    spec = pod_build.spec
    docker = spec.strategy.docker_strategy is not None
    main_name = DOCKER_BUILD_CONTAINER if docker else STI_BUILD_CONTAINER
    env = _common_env(pod_build, config)
    resources = _resources(pod_build)
    volumes: list[dict[str, Any]] = [
        # Every emptyDir has a sizeLimit: source and layers come from
        # whoever may start a build, and the node's disk is shared.
        {"name": WORKSPACE_VOLUME, "emptyDir": {"sizeLimit": config.workspace_size_limit}},
        # Image layers are unpacked on a volume, not in the container's own
        # overlayfs root, which cannot hold another overlay's upper directory.
        {"name": STORAGE_VOLUME, "emptyDir": {"sizeLimit": config.storage_size_limit}},
    ]

    # Each secret reaches only the containers whose step needs it
    # (builder.pipeline.steps has the table):
    #   git-clone          fetch            source secret
    #   manage-dockerfile  prepare          none: it reads the committer's files
    #   pull-images        pull             pull secret (+ push, incremental only)
    #   build-image        build            no credential: assemble and RUN lines run
    #                                       here; the build's own inputs (source
    #                                       secrets/configMaps, volumes) only
    #   sti/docker-build   push             push secret
    # A link in the repository has nothing to lead to where the tree is read,
    # and the committer's code runs where no secret is mounted: under chroot
    # isolation a RUN step shares the container's PID namespace and sees its
    # processes; only the kernel's ptrace check keeps it from their files
    # through /proc/<pid>/root.
    secrets = _registry_secrets(pod_build)
    # source.images[i].pullSecret: read by pull-images only, which pulls them.
    source_image_secrets = [kind for kind in secrets if kind.startswith("pull-source-")]
    for kind, (secret, _, _) in secrets.items():
        volumes.append(_secret_volume(f"{kind}-secret", secret))
    input_volumes, input_mounts = _input_volumes(pod_build, plan)
    volumes.extend(input_volumes)
    ca_volumes, ca_mounts, ca_env = _trusted_ca(pod_build, config)
    volumes.extend(ca_volumes)
    env.extend(ca_env)
    source = spec.strategy.source_strategy
    incremental = source is not None and bool(source.incremental)

    def with_secrets(*kinds: str) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
        step_env, step_mounts = list(env), []
        for kind in kinds:
            if kind in secrets:
                _, path, variable = secrets[kind]
                step_mounts.append(_mount(f"{kind}-secret", path))
                step_env.append(_env(variable, path))
        return step_env, step_mounts

    storage_mount = {"name": STORAGE_VOLUME, "mountPath": STORAGE_MOUNT}
    isolation = _env("BUILDAH_ISOLATION", "chroot")
    # Kernel overlay in the build's user namespace, on this emptyDir (an
    # overlay upper directory cannot live on the container's own overlayfs
    # root); the first buildah container falls back to vfs if the kernel
    # refuses and records the choice here for the others
    # (builder.buildah.storage).
    storage_dir = _env(STORAGE_DIR_ENV, STORAGE_MOUNT)

    @dataclass(frozen=True)
    class Step:
        container: str  # its name in the per-step pod
        command: str
        kinds: tuple[str, ...] = ()
        buildah: bool = False
        extra_env: tuple[dict[str, Any], ...] = ()
        extra_mounts: tuple[dict[str, Any], ...] = ()

        @property
        def secret(self) -> bool:
            """Whether it mounts anything secret: then no other step shares its container."""
            has_registry_secret = any(kind in secrets for kind in self.kinds)
            return has_registry_secret or bool(self.extra_env) or bool(self.extra_mounts)

    value_from = tuple(_value_from_env(pod_build))
    pipeline = [
        Step(GIT_CLONE_CONTAINER, "fetch", ("source",)),
        Step(MANAGE_DOCKERFILE_CONTAINER, "prepare"),
        Step(
            PULL_IMAGES_CONTAINER,
            "pull",
            # source.images[i].pullSecret: read by pull-images only, which pulls them.
            (*(("pull", "push") if incremental else ("pull",)), *source_image_secrets),
            buildah=True,
            # It writes the build's env into the Dockerfile.
            extra_env=value_from,
        ),
        Step(
            BUILD_IMAGE_CONTAINER,
            "build",
            buildah=True,
            # buildah prints the ENV lines: the step masks secret values.
            extra_env=value_from,
            extra_mounts=tuple(input_mounts),
        ),
        Step(main_name, "push", ("push",), buildah=True),
    ]

    def container(run: Run) -> dict[str, Any]:
        """One container running ``run``'s steps with exactly what they mount."""
        members = [s for s in pipeline if s.command in run.steps]
        step_env, step_mounts = with_secrets(*(k for s in members for k in s.kinds))
        # The cluster's trusted CA bundle: every step trusts it (not secret).
        step_mounts.extend(ca_mounts)
        if any(s.buildah for s in members):
            step_env += [isolation, storage_dir]
            step_mounts.append(storage_mount)
        for member in members:
            step_env.extend(member.extra_env)
            step_mounts.extend(member.extra_mounts)
        return _container(
            run.name, run.steps, config=config, env=step_env, mounts=step_mounts,
            resources=resources,
        )  # fmt: skip

    # Steps that mount nothing secret share a container (builder.controller.podlayout).
    runs = [
        container(run)
        for run in group_steps(
            [s.command for s in pipeline],
            secret={s.command: s.secret for s in pipeline},
            names={s.command: s.container for s in pipeline},
            layout=config.build_pod_containers,
        )
    ]
    return _pod(build, pod_build, _pod_spec(spec, config, runs, volumes))


def _pod_spec(
    spec: BuildSpec,
    config: ControllerConfig,
    containers: list[dict[str, Any]],
    volumes: list[dict[str, Any]],
) -> dict[str, Any]:
    """A build pod's spec: ``containers`` run in order, the last one as the pod's container."""
    return {
        "serviceAccountName": spec.service_account or config.default_service_account,
        # The steps never call the API server: they report in termination messages.
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "activeDeadlineSeconds": spec.completion_deadline_seconds
        or DEFAULT_ACTIVE_DEADLINE_SECONDS,
        "securityContext": pod_security_context(config.seccomp_profile, config.apparmor_profile),
        "initContainers": containers[:-1],
        "containers": containers[-1:],
        "volumes": volumes,
    }


# ---------------------------------------------------------------------------
# The Custom strategy's pod (builder.pipeline.custom has the contract)

CUSTOM_BUILD_CONTAINER = "custom-build"
CUSTOM_REPORT_CONTAINER = "custom-report"


def _custom_json(pod_build: Build, api_version: str) -> str:
    data = copy.deepcopy(dump(pod_build))
    data.get("metadata", {}).pop("managedFields", None)
    # OpenShift serialises the Build in the version the strategy asks for;
    # "v1" is the legacy group-less spelling of the same schema.
    data["apiVersion"] = api_version or BUILD_API_VERSION
    return json.dumps(data, separators=(",", ":"))


def custom_build_pod(build: Build, config: ControllerConfig, *, pod_build: Build) -> dict[str, Any]:
    """The pod of a ``customStrategy`` build: the user's image, then kbuild's digest report.

    The user's builder runs as the init container ``custom-build`` with
    OpenShift's environment and mounts (builder.pipeline.custom) and the
    build pod's unprivileged security context; the main container
    ``custom-report`` (kbuild's image, push secret only) reports the digest
    the builder pushed.  Kept apart from ``build_pod``: nothing here is
    shared with the Source/Docker steps but the security contract.
    """
    custom = check_custom(pod_build.spec)
    spec = pod_build.spec
    resources = _resources(pod_build)
    env = [
        _env(BUILD_ENV, _custom_json(pod_build, custom.build_api_version)),
        _env("LANG", "C.utf8"),
    ]
    if spec.source.git is not None:
        env += [_env("SOURCE_REPOSITORY", redact_url(spec.source.git.uri))]
        env += [_env("SOURCE_URI", redact_url(spec.source.git.uri))]
        if spec.source.git.ref:
            env.append(_env("SOURCE_REF", spec.source.git.ref))
    if spec.source.context_dir:
        env.append(_env("SOURCE_CONTEXT_DIR", spec.source.context_dir))
    if spec.output.to is not None:
        registry, image = output_variables(spec.output.to.name)
        env += [_env("OUTPUT_REGISTRY", registry), _env("OUTPUT_IMAGE", image)]
    if config.insecure_registries:
        env.append(_env(INSECURE_REGISTRIES_ENV, ",".join(sorted(config.insecure_registries))))
    # The builder may leave the pushed digest in $KBUILD_WORKSPACE/pushed-digest.
    env.append(_env(WORKSPACE_ENV, WORKSPACE_MOUNT))
    ca_volumes, ca_mounts, ca_env = _trusted_ca(pod_build, config)
    env += ca_env
    volumes: list[dict[str, Any]] = [
        # Rootless buildah in the builder needs its store on a volume (an
        # overlay upper directory cannot live on the container's overlay root).
        {"name": STORAGE_VOLUME, "emptyDir": {"sizeLimit": config.storage_size_limit}},
        {"name": WORKSPACE_VOLUME, "emptyDir": {"sizeLimit": config.workspace_size_limit}},
        *ca_volumes,
    ]
    mounts: list[dict[str, Any]] = [
        {"name": STORAGE_VOLUME, "mountPath": STORAGE_MOUNT},
        {"name": WORKSPACE_VOLUME, "mountPath": WORKSPACE_MOUNT},
        *ca_mounts,
    ]
    secret_env: list[dict[str, str]] = []
    given = (
        ("source", spec.source.source_secret, SOURCE_SECRET_MOUNT, SOURCE_SECRET_PATH_ENV),
        ("pull", custom.pull_secret, PULL_SECRET_MOUNT, PULL_SECRET_PATH_ENV),
        ("push", spec.output.push_secret, PUSH_SECRET_MOUNT, PUSH_SECRET_PATH_ENV),
    )
    for kind, ref, path, variable in given:
        if ref is not None and ref.name:
            volumes.append(_secret_volume(f"{kind}-secret", ref.name))
            mounts.append(_mount(f"{kind}-secret", path))
            secret_env.append(_env(variable, path))
    for index, secret in enumerate(custom.secrets):
        volume = f"custom-secret-{index}"
        volumes.append(_secret_volume(volume, secret.secret_source.name))
        mounts.append(_mount(volume, secret.mount_path))
    builder = {
        "name": CUSTOM_BUILD_CONTAINER,
        "image": custom.from_.name,
        "imagePullPolicy": "Always" if custom.force_pull else "IfNotPresent",
        # The user's variables after OpenShift's, as given: valueFrom is the kubelet's.
        "env": [*env, *secret_env, *(dump(var) for var in custom.env)],
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
    }
    if resources:
        builder["resources"] = copy.deepcopy(resources)
    push = spec.output.push_secret
    report_env = [*env, *([_env(PUSH_SECRET_PATH_ENV, PUSH_SECRET_MOUNT)] if push else [])]
    report_mounts = [*ca_mounts, *([_mount("push-secret", PUSH_SECRET_MOUNT)] if push else [])]
    report = _container(
        CUSTOM_REPORT_CONTAINER,
        ("custom-report",),
        config=config,
        env=report_env,
        mounts=report_mounts,
        resources=resources,
    )
    pod_spec = _pod_spec(spec, config, [builder, report], volumes)
    if custom.pull_secret is not None and custom.pull_secret.name:
        # The kubelet pulls the builder image with it, as OpenShift's pod does.
        pod_spec["imagePullSecrets"] = [{"name": custom.pull_secret.name}]
    return _pod(build, pod_build, pod_spec)


__all__ = [
    "BUILD_IMAGE_CONTAINER",
    "BUILD_USER_GID",
    "BUILD_USER_UID",
    "CUSTOM_BUILD_CONTAINER",
    "CUSTOM_REPORT_CONTAINER",
    "DEFAULT_ACTIVE_DEADLINE_SECONDS",
    "DOCKER_BUILD_CONTAINER",
    "GIT_CLONE_CONTAINER",
    "MANAGE_DOCKERFILE_CONTAINER",
    "PULL_IMAGES_CONTAINER",
    "STI_BUILD_CONTAINER",
    "UNCONFINED",
    "apparmor_profile",
    "build_pod",
    "build_pod_name",
    "container_security_context",
    "custom_build_pod",
    "label_value",
    "pod_security_context",
    "seccomp_profile",
]
