"""Run ``kbuild controller`` counting every API request it sends (for bench/scale.py).

Counts where every HTTP request of the process starts (``http.client``'s
``putrequest``, which urllib3 calls too), keeping those to the API server's
``/api`` and ``/apis`` paths: any checkout of kbuild (an old one that used
the kubernetes client library included) is measured the same way.  Usage:

    python bench/_counting.py COUNTS.json controller --kubeconfig ... (kbuild's argv)

COUNTS.json is rewritten twice a second: {"GET builds": 12, "WATCH pods": 1, ...}.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PLURALS = {
    "buildconfigs", "builds", "imagestreams", "pods", "events", "leases", "secrets",
    "deployments", "statefulsets", "daemonsets", "cronjobs", "jobs", "subjectaccessreviews",
}  # fmt: skip


def classify(method: str, url: str) -> str:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    plural = next((s for s in reversed(segments) if s in PLURALS), segments[-1] if segments else "")
    if "status" in segments[-1:]:
        plural += "/status"
    verb = "WATCH" if "watch=true" in parts.query.lower() else method.upper()
    return f"{verb} {plural}"


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    import http.client  # noqa: PLC0415

    original = http.client.HTTPConnection.putrequest

    def putrequest(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if urlsplit(url).path.startswith(("/api/", "/apis/")):
            with lock:
                counts[classify(method, url)] += 1
        return original(self, method, url, *args, **kwargs)

    http.client.HTTPConnection.putrequest = putrequest  # type: ignore[method-assign]

    def dump() -> None:
        while True:
            with lock:
                text = json.dumps(dict(counts))
            tmp = Path(f"{out}.tmp")
            tmp.write_text(text)
            tmp.replace(out)
            threading.Event().wait(0.5)

    threading.Thread(target=dump, daemon=True).start()
    from builder.cli.main import main as kbuild  # noqa: PLC0415

    return kbuild(argv)


if __name__ == "__main__":
    sys.exit(main())
