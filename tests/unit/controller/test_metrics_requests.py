"""/metrics exports the API request counter as ``kbuild_api_requests_total{verb,resource}``."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from builder.controller.metrics import Metrics, serve
from builder.kube.client import REQUESTS, RequestCounter


def samples(text: str) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "kbuild_api_requests_total":
                found[(sample.labels["verb"], sample.labels["resource"])] = sample.value
    return found


def test_the_counter_in_prometheus_text_format() -> None:
    counter = RequestCounter()
    metrics = Metrics(requests=counter)
    assert samples(metrics.exposition().decode()) == {}
    counter.add("get", "builds")
    counter.add("get", "builds")
    counter.add("update", "imagestreams/status")
    counter.add("watch", "pods")
    text = metrics.exposition().decode()
    assert "# TYPE kbuild_api_requests_total counter" in text
    assert 'kbuild_api_requests_total{resource="builds",verb="get"} 2.0' in text
    assert samples(text) == {
        ("get", "builds"): 2.0,
        ("update", "imagestreams/status"): 1.0,
        ("watch", "pods"): 1.0,
    }


def test_served_on_metrics_from_the_process_counter() -> None:
    metrics = Metrics()  # the process's own counter, as the Manager makes it
    REQUESTS.add("delete", "pods")
    server = serve(metrics, 0, lambda: True, lambda: True)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert answer.headers["Content-Type"].startswith("text/plain; version=")
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert samples(text)[("delete", "pods")] >= 1
