"""An API server that accepts a connection and never answers cannot hold a caller."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.kube import Kube, KubeError
from builder.kube import client as kube_client


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections, reads the request, answers nothing."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def test_a_silent_api_server_times_out(
    silent_server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: s, cluster: {{server: 'http://127.0.0.1:{silent_server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: s, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    monkeypatch.setattr(kube_client, "REQUEST_TIMEOUT_SECONDS", 0.5)
    kube = Kube.connect(str(config))
    began = time.monotonic()
    with pytest.raises(KubeError):
        kube.get_lease("ns", "lease")
    assert time.monotonic() - began < 5


def test_raw_requests_time_out_too(
    silent_server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``apply -f``/``process`` requests get the timeout (they raised TypeError on it)."""
    from builder.kube import ApiResource  # noqa: PLC0415

    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: s, cluster: {{server: 'http://127.0.0.1:{silent_server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: s, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    monkeypatch.setattr(kube_client, "REQUEST_TIMEOUT_SECONDS", 0.5)
    kube = Kube.connect(str(config))
    resource = ApiResource("template.openshift.io/v1", "Template", "templates", True)
    began = time.monotonic()
    with pytest.raises(KubeError):
        kube.get_raw(resource, "ns", "x")
    assert time.monotonic() - began < 5
