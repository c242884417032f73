"""What the cluster verbs share: flags, the connection, names, errors, time text.

The formatting helpers reproduce the Go libraries ``oc`` prints with (Go's
``time.Duration.String``, docker/go-units ``HumanDuration``, apimachinery's
short ages, ``text/tabwriter``), because people and scripts compare kbuild's
output with what they know from ``oc``; they are pure so they are tested
without a cluster.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from builder.api import BuildError
from builder.api.labels import build_config_selector
from builder.api.nesting import load_json

if TYPE_CHECKING:
    from builder.api import Build
    from builder.kube import Kube

GROUP = "build.openshift.io"
IN_CLUSTER_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


# ---------------------------------------------------------------------------
# Flags and the connection


def add_cluster_flags(p: argparse.ArgumentParser) -> None:
    """``oc``'s global flags that every cluster verb takes."""
    p.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig context's)")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)")
    p.add_argument("--context", help="kubeconfig context to use")


def default_namespace(kubeconfig: str | None, context: str | None) -> str:
    """The kubeconfig context's namespace, else the pod's own one in a cluster, else default."""
    in_cluster = (
        kubeconfig is None
        and not os.environ.get("KUBECONFIG")
        and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    )
    if in_cluster:
        try:
            return IN_CLUSTER_NAMESPACE_FILE.read_text().strip() or "default"
        except OSError:
            return "default"
    from builder.kube.rest import ConfigError, kubeconfig_namespace  # noqa: PLC0415

    try:
        return kubeconfig_namespace(kubeconfig, context) or "default"
    except ConfigError:
        return "default"


def connect(ns: argparse.Namespace) -> tuple[Kube, str]:
    """The API connection and the namespace the verb works in."""
    # Imported here: the connection's modules (http, ssl, the models) cost
    # start-up time that ``kbuild --help`` and the formatting tests should not pay.
    from builder.kube import Kube, Unreachable  # noqa: PLC0415

    try:
        kube = Kube.connect(ns.kubeconfig, ns.context)
    except Unreachable as exc:  # an unusable kubeconfig: missing, malformed, incomplete
        raise CliError(f"invalid configuration: {one_line(exc.message)}") from None
    # The namespace of the configuration just read, not a second reading of it.
    return kube, ns.namespace or kube.namespace or "default"


# ---------------------------------------------------------------------------
# Resource names


@dataclass(frozen=True)
class Resource:
    kind: str
    plural: str
    singular: str
    aliases: frozenset[str]
    # API group; "" for the core group, whose names carry no group suffix.
    group: str = GROUP

    @property
    def qualified(self) -> str:
        """``builds.build.openshift.io``, as the API server names it in errors."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def ref(self, name: str) -> str:
        """``build.build.openshift.io/NAME``, as ``oc``'s name printer writes it."""
        return f"{self.singular}.{self.group}/{name}" if self.group else f"{self.singular}/{name}"


def _aliases(group: str, singular: str, plural: str, *short: str) -> frozenset[str]:
    names = {singular, plural, *short}
    if group:
        names |= {f"{name}.{group}" for name in (singular, plural, *short)}
    return frozenset(names)


IMAGE_GROUP = "image.openshift.io"
BUILDS = Resource("Build", "builds", "build", _aliases(GROUP, "build", "builds"))
BUILD_CONFIGS = Resource(
    "BuildConfig",
    "buildconfigs",
    "buildconfig",
    _aliases(GROUP, "buildconfig", "buildconfigs", "bc"),
)
IMAGE_STREAMS = Resource(
    "ImageStream",
    "imagestreams",
    "imagestream",
    _aliases(IMAGE_GROUP, "imagestream", "imagestreams", "is"),
    IMAGE_GROUP,
)
IMAGE_STREAM_TAGS = Resource(
    "ImageStreamTag",
    "imagestreamtags",
    "imagestreamtag",
    _aliases(IMAGE_GROUP, "imagestreamtag", "imagestreamtags", "istag"),
    IMAGE_GROUP,
)
RESOURCES = (BUILDS, BUILD_CONFIGS, IMAGE_STREAMS, IMAGE_STREAM_TAGS)

# Workloads, for ``set triggers`` and ``new-app``; as ``oc`` names them (``deployment.apps/x``).
DEPLOYMENTS = Resource(
    "Deployment", "deployments", "deployment",
    _aliases("apps", "deployment", "deployments", "deploy"), "apps",
)  # fmt: skip
STATEFUL_SETS = Resource(
    "StatefulSet", "statefulsets", "statefulset",
    _aliases("apps", "statefulset", "statefulsets", "sts"), "apps",
)  # fmt: skip
DAEMON_SETS = Resource(
    "DaemonSet", "daemonsets", "daemonset",
    _aliases("apps", "daemonset", "daemonsets", "ds"), "apps",
)  # fmt: skip
CRON_JOBS = Resource(
    "CronJob", "cronjobs", "cronjob", _aliases("batch", "cronjob", "cronjobs", "cj"), "batch"
)
JOBS = Resource("Job", "jobs", "job", _aliases("batch", "job", "jobs"), "batch")
SERVICES = Resource(
    "Service", "services", "service", _aliases("", "service", "services", "svc"), ""
)
WORKLOADS = (DEPLOYMENTS, STATEFUL_SETS, DAEMON_SETS, CRON_JOBS, JOBS)


def builds_of(kube: Kube, namespace: str, bc_name: str) -> list[Build]:
    """The Builds of one BuildConfig, oldest first (the label may be truncated, so re-checked)."""
    from builder.rules.names import config_name  # noqa: PLC0415

    selector = build_config_selector(bc_name)
    builds, _ = kube.builds.list(namespace, label_selector=selector)
    mine = [b for b in builds if config_name(b) == bc_name]
    return sorted(mine, key=lambda b: (b.metadata.creation_timestamp or "", b.metadata.name))


def resource_named(text: str, among: tuple[Resource, ...] = RESOURCES) -> Resource:
    for resource in among:
        if text.lower() in resource.aliases:
            return resource
    raise CliError(f'the server doesn\'t have a resource type "{text}"')


def split_ref(
    text: str, default: Resource | None, among: tuple[Resource, ...] = RESOURCES
) -> tuple[Resource, str]:
    """``bc/NAME`` or ``build/NAME`` (or a bare NAME of ``default``) to (resource, name)."""
    kind, sep, name = text.partition("/")
    if sep:
        if not name:
            raise CliError(f"expected TYPE/NAME, got {text!r}")
        return resource_named(kind, among), name
    if default is None:
        raise CliError(f"expected TYPE/NAME (build/NAME or bc/NAME), got {text!r}")
    return default, text


MIXED_FORMS = (
    "there is no need to specify a resource type as a separate argument "
    "when passing arguments in resource/name form"
)
"""kubectl's message for ``bc bc/x`` (the type given twice)."""


def typed_names(
    args: list[str], among: tuple[Resource, ...], usage: str
) -> list[tuple[Resource, str]]:
    """``TYPE NAME...`` or ``TYPE/NAME...``, as kubectl's resource builder reads them.

    The type may be the kind, singular, plural or short name, with or
    without its group (``bc``, ``buildconfigs``, ``buildconfig.build.openshift.io``).
    ``usage`` shows the expected form when no name is given.
    """
    if not args:
        raise CliError(f"expected {usage}")
    if any("/" in a for a in args):
        if not all("/" in a for a in args):
            raise CliError(MIXED_FORMS)
        refs: list[tuple[Resource, str]] = []
        for text in args:
            kind, _, name = text.partition("/")
            if not kind or not name or "/" in name:
                raise CliError(f"expected {usage}, got {text!r}")
            refs.append((resource_named(kind, among), name))
        return refs
    if len(args) < 2:
        raise CliError(f"expected {usage}, got {args[0]!r}")
    resource = resource_named(args[0], among)
    return [(resource, name) for name in args[1:]]


# ---------------------------------------------------------------------------
# Errors


class CliError(Exception):
    """A failure the verb explains in one line; ``run_guarded`` prints it."""


def one_line(text: str) -> str:
    return " ".join(text.split())


def not_found(resource: Resource, name: str) -> CliError:
    return CliError(f'{resource.qualified} "{name}" not found')


def server_message(message: str) -> str:
    """The ``message`` of a Status body, else the raw text, on one line."""
    try:
        body = load_json(message)
    except ValueError:
        return one_line(message)
    if isinstance(body, dict) and body.get("message"):
        return one_line(str(body["message"]))
    return one_line(message)


def run_guarded(verb: Callable[[argparse.Namespace], int], ns: argparse.Namespace) -> int:
    """Run a verb; whatever goes wrong ends as one ``error:`` line and exit 1, never a traceback."""
    from builder.kube import KubeError  # noqa: PLC0415

    try:
        return verb(ns)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `kbuild logs ... | head`: the reader is gone, nothing to say.
        return 0
    except CliError as err:
        message = str(err)
    except BuildError as err:
        message = str(err)
    except KubeError as err:
        message = server_message(err.message) or f"the server answered {err.status}"
    except Exception as err:  # the promise is one line, never a traceback
        if os.environ.get("KBUILD_DEBUG"):
            raise
        message = describe_unexpected(err)
    print(f"error: {message}", file=sys.stderr, flush=True)
    return 1


def describe_unexpected(err: Exception) -> str:
    from urllib3.exceptions import HTTPError  # noqa: PLC0415

    if isinstance(err, HTTPError | OSError):
        return f"unable to connect to the server: {one_line(str(err))}"
    return f"{type(err).__name__}: {one_line(str(err))}"


# ---------------------------------------------------------------------------
# Time as oc writes it


def parse_when(value: str | None) -> datetime | None:
    if not value:
        return None
    from builder.api import parse_time  # noqa: PLC0415

    try:
        return parse_time(value)
    except ValueError:
        return None


def utcnow() -> datetime:
    return datetime.now(UTC)


def _trim_fraction(whole: int, fraction: int, digits: int) -> str:
    if fraction == 0:
        return str(whole)
    return f"{whole}.{fraction:0{digits}d}".rstrip("0")


def go_duration(nanoseconds: int) -> str:  # noqa: PLR0911 - one return per Go case
    """Go's ``time.Duration.String``: ``1m30s``, ``2h0m5s``, ``1.5s``, ``250ms``."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    n = abs(nanoseconds)
    if n < 1_000:
        return f"{sign}{n}ns"
    if n < 1_000_000:
        return f"{sign}{_trim_fraction(n // 1_000, n % 1_000, 3)}µs"
    if n < 1_000_000_000:
        return f"{sign}{_trim_fraction(n // 1_000_000, n % 1_000_000, 6)}ms"
    hours, rest = divmod(n, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = _trim_fraction(rest // 1_000_000_000, rest % 1_000_000_000, 9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return f"{sign}{seconds}"


def go_seconds(seconds: float) -> str:
    """A whole-second span as Go prints it (timestamps have second precision)."""
    return go_duration(int(seconds) * 1_000_000_000)


def human_duration(seconds: float) -> str:  # noqa: PLR0911 - mirrors go-units
    """docker/go-units ``HumanDuration``, which ``oc`` uses for STARTED and Created."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def short_age(seconds: float) -> str:  # noqa: PLR0911 - mirrors apimachinery
    """apimachinery ``duration.HumanDuration``, kubectl's AGE: ``45s``, ``3m20s``, ``5d``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def since(moment: datetime | None, now: datetime) -> float:
    return (now - moment).total_seconds() if moment is not None else 0.0


# ---------------------------------------------------------------------------
# Go's text/tabwriter


def tabwrite(
    text: str,
    *,
    minwidth: int = 0,
    tabwidth: int = 8,
    padding: int = 1,
    padchar: str = "\t",
) -> str:
    """Align tab-separated cells exactly as Go's ``text/tabwriter`` (flags 0) does.

    ``oc describe`` writes through ``tabwriter(0, 8, 1, '\\t')`` and table
    output through ``tabwriter(6, 4, 3, ' ')``.  A column block is a run of
    consecutive lines that have a tab-terminated cell in that column; its
    width is the widest cell plus padding (rounded up to the tab width when
    padding with tabs).  The last cell of a line is never padded.
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []

    def pad(textw: int, cellw: int) -> str:
        if padchar == "\t":
            cellw = (cellw + tabwidth - 1) // tabwidth * tabwidth
            return "\t" * ((cellw - textw + tabwidth - 1) // tabwidth)
        return padchar * (cellw - textw)

    def write_lines(widths: list[int], line0: int, line1: int) -> None:
        for i in range(line0, line1):
            cells = lines[i]
            for j, cell in enumerate(cells):
                out.append(cell)
                if j < len(widths):
                    out.append(pad(len(cell), widths[j]))
            if i + 1 < len(lines):
                out.append("\n")

    def fmt(widths: list[int], line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(widths, line0, this)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            fmt([*widths, width], line0, this)
            line0 = this
        write_lines(widths, line0, line1)

    fmt([], 0, len(lines))
    return "".join(out)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """kubectl's table layout: upper-case headers, columns three spaces apart."""
    lines = ["\t".join(h.upper() for h in headers), *("\t".join(r) for r in rows)]
    return tabwrite("\n".join(lines) + "\n", minwidth=6, tabwidth=4, padding=3, padchar=" ")
