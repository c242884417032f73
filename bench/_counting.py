"""Run ``kbuild controller`` counting every API request it sends (for bench/scale.py).

Counts at the client library's REST layer, so any checkout of kbuild (an
old commit included) is measured the same way.  Usage:

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
    from kubernetes.client import rest  # noqa: PLC0415

    original = rest.RESTClientObject.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        with lock:
            counts[classify(method, url)] += 1
        return original(self, method, url, *args, **kwargs)

    rest.RESTClientObject.request = request

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
