"""``kbuild logs``: --tail/--since/--timestamps, pods, and the container chosen (pure).

The log streamer runs against a small in-memory pod log endpoint that keeps
the API server's contract for ``tailLines`` (the last N lines of one
container) and records the options it was asked for.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest

from builder.cli import main
from builder.cli.common import BUILD_CONFIGS, BUILDS, CliError, split_ref
from builder.cli.follow import LogOptions, LogStreamer
from builder.cli.logs import LOGGABLE, PODS, log_options, pod_container, run
from tests.unit.cli.helpers import build


def parse(*argv: str) -> argparse.Namespace:
    return main.parse_args(list(argv))


def pod(containers: list[str], inits: list[str] = (), annotation: str = "") -> dict[str, Any]:  # type: ignore[assignment]
    meta: dict[str, Any] = {"name": "web-1"}
    if annotation:
        meta["annotations"] = {"kubectl.kubernetes.io/default-container": annotation}
    return {
        "metadata": meta,
        "spec": {
            "containers": [{"name": c} for c in containers],
            "initContainers": [{"name": c} for c in inits],
        },
    }


@pytest.mark.parametrize(
    ("containers", "inits", "annotation", "wanted", "chosen", "note"),
    [
        (["app"], [], "", "", "app", None),
        (["app", "proxy"], [], "", "", "app", 'Defaulted container "app" out of: app, proxy'),
        (
            ["app", "proxy"],
            ["setup"],
            "proxy",
            "",
            "proxy",
            'Defaulted container "proxy" out of: app, proxy, setup (setup are init containers)',
        ),
        (["app", "proxy"], [], "nope", "", "app", 'Defaulted container "app" out of: app, proxy'),
        (["app", "proxy"], ["setup"], "", "proxy", "proxy", None),
        (["app"], ["setup"], "", "setup", "setup", None),
    ],
)
def test_pod_container(
    containers: list[str],
    inits: list[str],
    annotation: str,
    wanted: str,
    chosen: str,
    note: str | None,
) -> None:
    assert pod_container(pod(containers, inits, annotation), wanted) == (chosen, note)


def test_pod_container_unknown_container() -> None:
    with pytest.raises(CliError, match="container nope is not valid for pod web-1"):
        pod_container(pod(["app"]), "nope")


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        ([], LogOptions()),
        (["--tail", "20"], LogOptions(tail=20)),
        (["--tail=0"], LogOptions(tail=0)),
        (["--since", "5m"], LogOptions(since_seconds=300)),
        (["--since", "1.5s"], LogOptions(since_seconds=2)),
        (["--timestamps"], LogOptions(timestamps=True)),
        (["--timestamps=true", "--tail", "3"], LogOptions(tail=3, timestamps=True)),
    ],
)
def test_log_options(argv: list[str], options: LogOptions) -> None:
    assert log_options(parse("logs", "build/app-1", *argv)) == options


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--tail", "-2"], "--tail must be -1"), (["--tail", "-10"], "--tail must be -1")],
)
def test_log_options_errors(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message):
        log_options(parse("logs", "build/app-1", *argv))


@pytest.mark.parametrize(
    ("target", "resource", "name"),
    [
        ("web-1", PODS, "web-1"),
        ("pod/web-1", PODS, "web-1"),
        ("po/web-1", PODS, "web-1"),
        ("pods/web-1", PODS, "web-1"),
        ("build/app-1", BUILDS, "app-1"),
        ("bc/app", BUILD_CONFIGS, "app"),
    ],
)
def test_logs_targets(target: str, resource: object, name: str) -> None:
    assert split_ref(parse("logs", target).target, PODS, LOGGABLE) == (resource, name)


class LogEndpoint:
    """A pod's containers' logs, served as the API server serves ``tailLines``."""

    def __init__(self, logs: dict[str, list[str]], pod_obj: dict[str, Any]) -> None:
        self.logs = logs
        self.pod_obj = pod_obj
        self.asked: list[dict[str, Any]] = []

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        del namespace, name
        return self.pod_obj

    def pod_log(
        self, namespace: str, name: str, container: str, *, follow: bool = False, **options: Any
    ) -> Iterator[str]:
        del namespace, name, follow  # one pod, read once
        self.asked.append({"container": container, **options})
        lines = self.logs[container]
        tail = options.get("tail_lines")
        yield from lines[-tail:] if tail else ([] if tail == 0 else lines)


def build_pod() -> dict[str, Any]:
    return {
        "metadata": {"name": "app-1-build"},
        "spec": {
            "initContainers": [{"name": "git-clone"}],
            "containers": [{"name": "sti-build"}],
        },
        "status": {
            "phase": "Succeeded",
            "initContainerStatuses": [
                {"name": "git-clone", "state": {"terminated": {"exitCode": 0}}}
            ],
            "containerStatuses": [{"name": "sti-build", "state": {"terminated": {"exitCode": 0}}}],
        },
    }


LOGS = {"git-clone": ["clone 1", "clone 2", "clone 3"], "sti-build": ["build 1", "build 2"]}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (LogOptions(), ["clone 1", "clone 2", "clone 3", "build 1", "build 2"]),
        # the last N lines of the build's whole log, not N of each container
        (LogOptions(tail=3), ["clone 3", "build 1", "build 2"]),
        (LogOptions(tail=1), ["build 2"]),
        (LogOptions(tail=0), []),
    ],
)
def test_build_log_tail_is_of_the_whole_log(options: LogOptions, expected: list[str]) -> None:
    endpoint = LogEndpoint(LOGS, build_pod())
    written: list[str] = []
    streamer = LogStreamer(
        endpoint,  # type: ignore[arg-type]
        build("app-1", phase="Complete"),
        "app-1-build",
        written.append,
        lambda _: None,
        options=options,
    )
    streamer.stream(build_pod(), follow=False)
    assert written == [line + "\n" for line in expected]


def test_build_log_passes_since_and_timestamps_to_every_container() -> None:
    endpoint = LogEndpoint(LOGS, build_pod())
    options = LogOptions(since_seconds=300, timestamps=True)
    streamer = LogStreamer(
        endpoint,  # type: ignore[arg-type]
        build("app-1", phase="Complete"),
        "app-1-build",
        lambda _: None,
        lambda _: None,
        options=options,
    )
    streamer.stream(build_pod(), follow=False)
    assert endpoint.asked == [
        {"container": c, "tail_lines": None, "since_seconds": 300, "timestamps": True}
        for c in ("git-clone", "sti-build")
    ]


def test_container_flag_is_for_pods_only() -> None:
    with pytest.raises(CliError, match="-c applies to pods only"):
        run(parse("logs", "build/app-1", "-c", "sti-build"))
