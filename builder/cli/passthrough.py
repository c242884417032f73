"""Kubernetes' own kinds in ``kbuild get|describe|logs``: handed to kubectl, as ``oc`` does.

(``kbuild logs`` of a pod is kbuild's own, ``builder.cli.logs``; only the
other kinds it does not read, ``deployment/NAME`` and the like, go to kubectl.)

``oc`` is kubectl plus OpenShift's kinds: ``oc get pod``, ``oc logs POD``
and ``oc describe deployment x`` are kubectl's commands.  The seeds' users
type them with ``oc`` (``oc get pod``, ``oc logs myapp-... | tail -n1``,
``oc get deployment myapp -o yaml``), so with ``oc`` replaced by ``kbuild``
those lines must work too.  kbuild does not re-implement kubectl's printers:
when the resource named is not one of OpenShift's groups (builds, images,
apps.openshift.io, templates), the whole command line goes to kubectl
(``$KBUILD_KUBECTL``, else ``kubectl`` on PATH), which takes the same
global flags (``-n``, ``--kubeconfig``, ``--context``) and the same verb
flags (``-o jsonpath=...``, ``-w``, ``--tail``).

OpenShift's kinds always stay with kbuild, implemented or not, so a kind
kbuild lacks is reported by kbuild rather than by a kubectl that has no
such resource.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence

from builder.cli.conventions import verb_of

VERBS = frozenset({"get", "describe", "logs"})
OPENSHIFT_GROUPS = ("build.openshift.io", "image.openshift.io", "apps.openshift.io",
                    "template.openshift.io")  # fmt: skip
OPENSHIFT_NAMES = frozenset(
    {
        "build", "builds", "buildconfig", "buildconfigs", "bc",
        "imagestream", "imagestreams", "is",
        "imagestreamtag", "imagestreamtags", "istag",
        "imagestreamimage", "imagestreamimages", "isimage",
        "imagestreamimport", "imagestreamimports", "image", "images",
        "deploymentconfig", "deploymentconfigs", "dc",
        "template", "templates", "processedtemplates",
    }
)  # fmt: skip
"""Types that are OpenShift's, singular, plural and short (lower case, without group)."""
POD_NAMES = frozenset({"pod", "pods", "po"})
"""``kbuild logs`` reads pods itself (``builder.cli.logs``)."""

# Flags of get/describe/logs that take a value as the next argument, so that
# value is not mistaken for the resource (``kbuild get -o yaml pods``).
_VALUED = frozenset(
    {
        "-n", "--namespace", "--kubeconfig", "--context", "-o", "--output", "-l", "--selector",
        "-L", "--label-columns", "--sort-by", "--field-selector", "-c", "--container",
        "--tail", "--since", "--since-time", "--template", "--chunk-size", "--version",
        "--limit-bytes", "--max-log-requests", "--pod-running-timeout", "--show-kind",
        "--request-timeout", "-f", "--filename", "-k", "--kustomize", "--subresource",
    }
)  # fmt: skip


def is_openshift_type(text: str) -> bool:
    """``bc``, ``buildconfigs``, ``buildconfigs.build.openshift.io``: an OpenShift kind."""
    name, _, group = text.lower().partition(".")
    if group:
        return group in OPENSHIFT_GROUPS or (group == "v1" and name in OPENSHIFT_NAMES)
    return name in OPENSHIFT_NAMES


def _positionals(argv: Sequence[str], verb: str) -> list[str]:
    """The arguments after the verb that are not flags or flag values."""
    args = list(argv)
    rest = args[args.index(verb) + 1 :]
    # -f is --follow for logs, --filename (a value) for get and describe.
    valued = _VALUED - {"-f"} if verb == "logs" else _VALUED
    out: list[str] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            out.extend(rest[i + 1 :])
            break
        if arg.startswith("-"):
            i += 2 if arg in valued else 1
            continue
        out.append(arg)
        i += 1
    return out


def delegated(argv: Sequence[str]) -> bool:
    """True when ``argv`` names Kubernetes' own kinds only, which kubectl serves."""
    verb = verb_of(list(argv))
    if verb not in VERBS:
        return False
    positionals = _positionals(argv, verb)
    if not positionals:
        return False
    first = positionals[0]
    if verb == "logs":
        # kbuild's logs reads builds, bc, dc and pods (a bare NAME is a pod, builder.cli.logs);
        # kubectl the rest (deployment/NAME, job/NAME: a pod they pick).
        kind, slash, _ = first.partition("/")
        return bool(slash) and not is_openshift_type(kind) and kind.lower() not in POD_NAMES
    kinds = [arg.partition("/")[0] for arg in positionals if "/" in arg] or first.split(",")
    return not any(is_openshift_type(kind) for kind in kinds if kind)


def kubectl_binary() -> str | None:
    explicit = os.environ.get("KBUILD_KUBECTL", "")
    if explicit:
        return explicit
    return shutil.which("kubectl")


def exec_kubectl(argv: Sequence[str]) -> int:
    """Replace this process with kubectl running the same command line (its exit status)."""
    import sys  # noqa: PLC0415

    binary = kubectl_binary()
    if binary is None:
        verb = verb_of(list(argv)) or ""
        print(
            f"error: 'kbuild {verb}' of Kubernetes' own kinds runs kubectl, and none was found "
            "(put it on PATH or set $KBUILD_KUBECTL)",
            file=sys.stderr,
        )
        return 1
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(binary, [binary, *argv])  # noqa: S606 - kubectl, argv as the user typed it
    except OSError as err:
        print(f"error: cannot run kubectl ({binary}): {err.strerror}", file=sys.stderr)
        return 1
