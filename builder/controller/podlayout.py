"""Which build steps share a container of the build pod.

Every container of a pod costs time that no build step spends: the runtime
creates and starts it, Python starts and imports kbuild, and the next one
waits until the kubelet has noticed the exit (its pod lifecycle event
generator relists once a second) and written the status.  Measured on the
test cluster, the five containers of the per-step pod spent about 6 s of a
7.7 s warm build that way (docs/build-pod.md).  So steps share a container
wherever the tenancy rule allows it.

The rule (docs/security.md, "Secrets are mounted per container"): a secret
reaches only the container whose step needs it, and none where the
committer's files are read (``prepare``) or the committer's code runs
(``build``).  So a step that mounts anything secret (a source, pull or push
secret, the build's own inputs, a ``valueFrom`` variable) keeps a container
of its own, exactly as in the per-step pod; a run of consecutive steps that
mount nothing shares one, where nothing can be read because nothing is
there.  A build with no secret (a public repository pushed to a registry
that needs no credential) runs in one container; one with every secret gets
the five containers it had.

Names stay OpenShift's: the run holding ``push`` is the main container
(``sti-build`` / ``docker-build``); any other run is named for its first
step (``git-clone`` for fetch + prepare).  ``kbuild logs`` prints the
containers in order whatever their number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# kbuild controller --build-pod-containers
PER_STEP = "per-step"
FEWEST = "fewest"
LAYOUTS = (FEWEST, PER_STEP)


@dataclass(frozen=True)
class Run:
    """Steps that run in one container, in order, and that container's name."""

    name: str
    steps: tuple[str, ...]


def group_steps(
    steps: Sequence[str],
    *,
    secret: Mapping[str, bool],
    names: Mapping[str, str],
    layout: str = FEWEST,
) -> list[Run]:
    """The pod's containers for ``steps`` (in pipeline order).

    ``secret[step]`` says whether the step mounts anything secret;
    ``names[step]`` is the container the step has in the per-step pod (the
    last step's is the main container's).  Raises ValueError for an unknown
    layout: the controller's flag is checked before any pod is made.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown build pod layout {layout!r}; expected one of {LAYOUTS}")
    groups: list[list[str]] = []
    for step in steps:
        shares = (
            layout == FEWEST
            and groups
            and not secret.get(step, True)
            and not any(secret.get(s, True) for s in groups[-1])
        )
        if shares:
            groups[-1].append(step)
        else:
            groups.append([step])
    last = steps[-1] if steps else ""
    return [
        Run(names[last] if last in group else names[group[0]], tuple(group)) for group in groups
    ]


__all__ = ["FEWEST", "LAYOUTS", "PER_STEP", "Run", "group_steps"]
