"""Following a Build: waiting for its phase, and streaming its pod's logs.

Phases come from a watch on the Build (a background thread feeds a queue, so
a wait can time out without waiting for the server to close the watch).
Container states come from reading the pod once a second, as OpenShift's own
build log endpoint does: there is no watch by pod name, and a second is well
below what a person notices in a log.

The log is what ``oc logs build/NAME`` prints: the init containers in order
(``git-clone``, ``manage-dockerfile``), then the build container, each
started as soon as it runs, with no headers between them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from builder.cli.common import CliError

if TYPE_CHECKING:
    from builder.api import Build
    from builder.kube import Kube

TERMINAL = frozenset({"Complete", "Failed", "Error", "Cancelled"})
BUILD_CONTAINERS = ("custom-build", "sti-build", "docker-build")
NO_LOGS = "No logs are available."
POD_POLL_SECONDS = 1.0
# How long `logs` without -f waits for a new build to start, as OpenShift's
# build log endpoint does before giving up.
START_TIMEOUT_SECONDS = 30.0
# After this long waiting for a start, say what is being waited for.
SLOW_START_SECONDS = 30.0


def is_terminal(build: Build) -> bool:
    return build.status.phase.value in TERMINAL


def who(build: Build) -> str:
    return f"{build.metadata.namespace}/{build.metadata.name}"


class BuildWatch:
    """The successive states of one Build, fed by a watch in a daemon thread."""

    def __init__(self, kube: Kube, namespace: str, name: str) -> None:
        self._kube = kube
        self._namespace = namespace
        self._name = name
        self._queue: queue.Queue[Build | BaseException] = queue.Queue()
        self._stop = threading.Event()
        self.latest: Build | None = None
        self._thread = threading.Thread(target=self._run, name=f"watch-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from builder.kube import Gone, NotFound  # noqa: PLC0415

        resource_version = ""
        while not self._stop.is_set():
            try:
                if not resource_version:
                    build = self._kube.builds.get(self._namespace, self._name)
                    self._queue.put(build)
                    resource_version = build.metadata.resource_version
                for event in self._kube.builds.watch(self._namespace, resource_version):
                    if self._stop.is_set():
                        return
                    resource_version = event.resource_version or resource_version
                    obj = event.object
                    if obj is None or obj.metadata.name != self._name:
                        continue
                    if event.type == "DELETED":
                        message = f'builds.build.openshift.io "{self._name}" was deleted'
                        self._queue.put(NotFound(404, message))
                        return
                    self._queue.put(obj)
            except Gone:
                resource_version = ""  # too old: read the Build again, then watch on
            except BaseException as exc:  # handed to the waiting thread, which raises it
                self._queue.put(exc)
                return

    def until(
        self,
        done: Callable[[Build], bool],
        timeout: float | None = None,
        slow: tuple[float, Callable[[Build], None]] | None = None,
    ) -> Build | None:
        """The first state for which ``done`` holds; None if ``timeout`` passes first.

        ``slow`` is (seconds, callback): called once if the wait lasts that long.
        """
        start = time.monotonic()
        slow_pending = slow is not None
        while True:
            waits = []
            if timeout is not None:
                waits.append(timeout - (time.monotonic() - start))
            if slow is not None and slow_pending:
                waits.append(slow[0] - (time.monotonic() - start))
            wait = max(0.0, min(waits)) if waits else None
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                elapsed = time.monotonic() - start
                if slow is not None and slow_pending and elapsed >= slow[0]:
                    slow_pending = False
                    if self.latest is not None:
                        slow[1](self.latest)
                if timeout is not None and elapsed >= timeout:
                    return None
                continue
            if isinstance(item, BaseException):
                raise item
            self.latest = item
            if done(item):
                return item

    def close(self) -> None:
        self._stop.set()


def failure(build: Build) -> CliError | None:
    """None for a Complete build, else the one line ``--wait`` and ``--follow`` end with."""
    phase = build.status.phase.value
    if phase == "Complete":
        return None
    reason = build.status.reason or phase
    message = build.status.message
    text = f'{reason}: the build {who(build)} status is "{phase}"'
    return CliError(f"{text}: {message}" if message else text)


def _statuses(pod: dict[str, Any], init: bool) -> dict[str, dict[str, Any]]:
    key = "initContainerStatuses" if init else "containerStatuses"
    return {s.get("name", ""): s for s in pod.get("status", {}).get(key) or []}


def container_state(pod: dict[str, Any], name: str, init: bool) -> tuple[str, int | None]:
    """("waiting"|"running"|"terminated", exit code when terminated) of one container."""
    status = _statuses(pod, init).get(name)
    state = (status or {}).get("state") or {}
    if "terminated" in state:
        return "terminated", int(state["terminated"].get("exitCode", 0) or 0)
    if "running" in state:
        return "running", None
    return "waiting", None


def main_container(pod: dict[str, Any]) -> str:
    names = [c.get("name", "") for c in pod.get("spec", {}).get("containers") or []]
    for name in names:
        if name in BUILD_CONTAINERS:
            return str(name)
    return str(names[0]) if names else ""


def init_containers(pod: dict[str, Any]) -> list[str]:
    return [str(c.get("name", "")) for c in pod.get("spec", {}).get("initContainers") or []]


@dataclass(frozen=True)
class LogOptions:
    """``--tail``, ``--since`` and ``--timestamps``: the log endpoint's own options.

    ``tail`` is -1 for all lines.  A build's log is several containers' logs
    one after the other; ``--tail N`` without ``-f`` means the last N lines
    of that whole log (as ``oc logs`` shows the build's log as one), so each
    container is asked for its last N and the joined text is cut to N.
    With ``-f`` each container is asked for its last N as it is reached.
    """

    tail: int = -1
    since_seconds: int | None = None
    timestamps: bool = False

    def endpoint(self) -> dict[str, Any]:
        return {
            "tail_lines": self.tail if self.tail >= 0 else None,
            "since_seconds": self.since_seconds,
            "timestamps": self.timestamps,
        }


class LogStreamer:
    """Writes the log of one build's pod, container after container."""

    def __init__(
        self,
        kube: Kube,
        build: Build,
        pod_name: str,
        write: Callable[[str], None],
        note: Callable[[str], None],
        *,
        options: LogOptions | None = None,
    ) -> None:
        self.kube = kube
        self.build = build
        self.pod_name = pod_name
        self.write = write
        self.note = note
        self.options = options or LogOptions()

    def pod(self) -> dict[str, Any] | None:
        from builder.kube import NotFound  # noqa: PLC0415

        try:
            return self.kube.get_pod(self.build.metadata.namespace, self.pod_name)
        except NotFound:
            return None

    def _started(self, name: str, init: bool, follow: bool) -> tuple[str, int | None] | None:
        """The container's state once it has started; None if it never will (or no -f)."""
        while True:
            pod = self.pod()
            if pod is None:
                if follow:
                    self.note(f"The pod {self.pod_name} was deleted; the log ends here.")
                return None
            state, code = container_state(pod, name, init)
            if state != "waiting":
                return state, code
            if not follow or pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                return None
            time.sleep(POD_POLL_SECONDS)

    def _copy(self, name: str, follow: bool) -> None:
        for line in self.kube.pod_log(
            self.build.metadata.namespace,
            self.pod_name,
            name,
            follow=follow,
            **self.options.endpoint(),
        ):
            self.write(line + "\n")

    def stream(self, pod: dict[str, Any], follow: bool) -> None:
        """The containers' logs in order; without -f, ``--tail`` cuts the joined log."""
        if follow or self.options.tail < 0:
            self._stream(pod, follow)
            return
        kept: deque[str] = deque(maxlen=self.options.tail)
        write, self.write = self.write, kept.append
        try:
            self._stream(pod, follow)
        finally:
            self.write = write
        for line in kept:
            write(line)

    def _stream(self, pod: dict[str, Any], follow: bool) -> None:
        for name in init_containers(pod):
            started = self._started(name, init=True, follow=follow)
            if started is None:
                return
            self._copy(name, follow=follow and started[0] == "running")
            if follow and started[0] == "running":
                pod_now = self.pod()
                started = container_state(pod_now, name, True) if pod_now else ("gone", None)
            if started[0] == "terminated" and started[1]:
                return  # a failed init container: the build container never runs
        name = main_container(pod)
        started = self._started(name, init=False, follow=follow)
        if started is not None:
            self._copy(name, follow=follow and started[0] == "running")


def stream_build_logs(
    kube: Kube,
    build: Build,
    *,
    follow: bool,
    write: Callable[[str], None],
    note: Callable[[str], None],
    watch: BuildWatch | None = None,
    options: LogOptions | None = None,
) -> None:
    """Print the build's log; raise CliError when the build has none to give."""
    from builder.rules.names import pod_name  # noqa: PLC0415

    namespace, name = build.metadata.namespace, build.metadata.name
    if build.status.phase.value in ("New", "Pending") and not follow:
        own = watch or BuildWatch(kube, namespace, name)
        try:
            started = own.until(
                lambda b: b.status.phase.value not in ("New", "Pending"), START_TIMEOUT_SECONDS
            )
        finally:
            if watch is None:
                own.close()
        if started is None:
            raise CliError(
                f"timed out waiting for build {name} to start after "
                f"{int(START_TIMEOUT_SECONDS)}s (is the kbuild controller running?)"
            )
        build = started
    elif build.status.phase.value == "New":
        own = watch or BuildWatch(kube, namespace, name)

        def slow(latest: Build) -> None:
            note(
                f"Waiting for build {who(latest)} to start (phase {latest.status.phase.value}): "
                "it may be queued behind another build of its BuildConfig, or no kbuild "
                "controller is running."
            )

        try:
            started = own.until(
                lambda b: b.status.phase.value != "New", slow=(SLOW_START_SECONDS, slow)
            )
        finally:
            if watch is None:
                own.close()
        build = started if started is not None else build
    phase = build.status.phase.value
    if phase == "Cancelled":
        raise CliError(f"build {name} was cancelled. {NO_LOGS}")
    streamer = LogStreamer(kube, build, pod_name(build), write, note, options=options)
    pod = streamer.pod()
    if pod is None:
        if phase == "Error":
            cause = ": ".join(x for x in (build.status.reason, build.status.message) if x)
            raise CliError(f"build {name} is in an error state ({cause}). {NO_LOGS}")
        raise CliError(
            f"the pod {streamer.pod_name} of build {namespace}/{name} no longer exists "
            f"(deleted or pruned). {NO_LOGS}"
        )
    # Follow while the pod runs, whatever the Build says: its log is still being written.
    finished = pod.get("status", {}).get("phase") in ("Succeeded", "Failed")
    streamer.stream(pod, follow=follow and not finished)
