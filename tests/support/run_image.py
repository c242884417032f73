"""Run a built image for a test, the way a person would check it answers.

buildah's chroot isolation runs the image's command as its USER on the host
network with no container daemon; podman/runc cannot start containers in
sandboxes that forbid setting rlimits, and the tests must run there too.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tests.support.registry import free_port


def _buildah(*args: str) -> str:
    done = subprocess.run(["buildah", *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


@contextlib.contextmanager
def container_of(image: str) -> Iterator[str]:
    container = _buildah("from", "--tls-verify=false", image).splitlines()[-1]
    try:
        yield container
    finally:
        subprocess.run(["buildah", "rm", container], check=False, capture_output=True)


def run_once(image: str, argv: Sequence[str]) -> str:
    """Run ``argv`` in ``image`` and return its stdout."""
    with container_of(image) as container:
        return _buildah("run", "--isolation", "chroot", container, "--", *argv)


@contextlib.contextmanager
def serving(
    image: str, argv: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 20
) -> Iterator[str]:
    """Start ``argv`` in ``image`` with ``PORT`` set to a free port; yield its URL."""
    port = free_port()
    with container_of(image) as container:
        for name, value in {"PORT": str(port), **(env or {})}.items():
            _buildah("config", "--env", f"{name}={value}", container)
        proc = subprocess.Popen(
            ["buildah", "run", "--isolation", "chroot", container, "--", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    out = proc.stdout.read() if proc.stdout else ""
                    raise AssertionError(f"{argv} exited {proc.returncode}: {out}")
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(url, timeout=1).close()
                    break
                time.sleep(0.2)
            else:
                raise AssertionError(f"{image} did not answer on {url} in {timeout}s")
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return json.load(response)
