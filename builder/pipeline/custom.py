"""The Custom strategy: the user's builder image runs the whole build.

OpenShift's contract (openshift-controller-manager's custom build pod, and
the ``customStrategy`` docs in openshift/api): one container of the
``customStrategy.from`` image, with

- ``BUILD``: the Build serialised as JSON (in ``customStrategy.buildAPIVersion``,
  default ``build.openshift.io/v1``), images already resolved to pull specs;
- ``SOURCE_REPOSITORY``/``SOURCE_URI``, ``SOURCE_CONTEXT_DIR``, ``SOURCE_REF``
  from ``source.git``; ``OUTPUT_REGISTRY`` and ``OUTPUT_IMAGE`` from the
  output pull spec (registry host, then the rest);
- ``customStrategy.env`` as given (the kubelet resolves ``valueFrom``);
- ``customStrategy.secrets``, each mounted at its ``mountPath``; the push
  secret at ``/var/run/secrets/openshift.io/push`` (``PUSH_DOCKERCFG_PATH``),
  the pull secret at ``.../pull`` (``PULL_DOCKERCFG_PATH``) and the source
  secret at ``.../source`` (``SOURCE_SECRET_PATH``), as OpenShift mounts them;
- ``forcePull``: the kubelet always pulls the builder image.

What differs, by kbuild's rules: ``exposeDockerSocket: true`` is refused
(``expose_docker_socket_problem``): kbuild's nodes run no docker daemon and
its build pods mount nothing from the host; the builder runs buildah itself
(``images/custom-builder``).  The container is not privileged: it gets the
build pod's security context (uid 1000, gid 0, SETUID/SETGID only, the
Localhost seccomp profile), which Pod Security ``baseline`` admits and under
which rootless buildah works.  Inputs kbuild would have to stage for the
builder (``source.secrets``/``configMaps``/``images``, binary input, a
post-commit hook) are refused with a reason rather than silently left to it.

The digest: OpenShift's integrated registry learns it from the push.  kbuild's
controller learns it from the pod, so after the builder exits 0 a container of
kbuild's own (``custom-report``) asks the registry, with the push secret, what
``OUTPUT_IMAGE`` now names, and reports that digest.
"""

from __future__ import annotations

from builder.api import BuildError, CommonSpec, StatusReason, unimplemented_fields_in_use
from builder.api.build import CustomBuildStrategy
from builder.api.constants import BUILD_API_VERSION

DEFAULT_BUILD_API_VERSION = BUILD_API_VERSION
ACCEPTED_BUILD_API_VERSIONS = (BUILD_API_VERSION, "v1")


def expose_docker_socket_problem(strategy: CustomBuildStrategy) -> str:
    if not strategy.expose_docker_socket:
        return ""
    return (
        "spec.strategy.customStrategy.exposeDockerSocket: kbuild build pods have no container "
        "engine socket to expose (no docker daemon on the nodes, no host path in the pod); "
        "run buildah inside the custom builder image instead (see images/custom-builder)"
    )


def check_custom(spec: CommonSpec) -> CustomBuildStrategy:
    """The custom strategy of ``spec``, or a ``BuildError`` saying why it cannot run."""
    unimplemented = unimplemented_fields_in_use(spec)
    if unimplemented:
        path, why = unimplemented[0]
        more = f" (and {len(unimplemented) - 1} more)" if len(unimplemented) > 1 else ""
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, f"spec.{path}: {why}{more}")
    problem = spec.strategy.strategy_problem()
    custom = spec.strategy.custom_strategy
    if not problem and custom is None:
        problem = "spec.strategy.customStrategy is not set"
    if problem or custom is None:
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, problem)
    problems = [expose_docker_socket_problem(custom)]
    if custom.build_api_version not in ("", *ACCEPTED_BUILD_API_VERSIONS):
        problems.append(
            f"spec.strategy.customStrategy.buildAPIVersion {custom.build_api_version!r} is not "
            f"one kbuild serialises ({', '.join(ACCEPTED_BUILD_API_VERSIONS)})"
        )
    source = spec.source
    for given, what in (
        (source.secrets, "spec.source.secrets"),
        (source.config_maps, "spec.source.configMaps"),
        (source.images, "spec.source.images"),
        (source.binary, "spec.source.binary"),
    ):
        if given:
            problems.append(
                f"{what} with customStrategy: kbuild stages these only for the Source and "
                "Docker strategies; give the custom builder what it needs through "
                "customStrategy.secrets or env"
            )
    hook = spec.post_commit
    if hook.script or hook.command or hook.args:
        problems.append("spec.postCommit with customStrategy: the custom builder runs its own")
    for index, secret in enumerate(custom.secrets):
        if not secret.mount_path.startswith("/") or not secret.secret_source.name:
            problems.append(
                f"spec.strategy.customStrategy.secrets[{index}] needs a secretSource name and "
                "an absolute mountPath"
            )
    found = [p for p in problems if p]
    if found:
        raise BuildError(StatusReason.CANNOT_CREATE_BUILD_POD_SPEC, "; ".join(found))
    return custom


def output_variables(pull_spec: str) -> tuple[str, str]:
    """``(OUTPUT_REGISTRY, OUTPUT_IMAGE)``: the pull spec's registry host, then the rest."""
    first, sep, rest = pull_spec.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "", pull_spec


__all__ = [
    "ACCEPTED_BUILD_API_VERSIONS",
    "DEFAULT_BUILD_API_VERSION",
    "check_custom",
    "expose_docker_socket_problem",
    "output_variables",
]
