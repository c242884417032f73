"""How often a scheduled tag is re-imported.

OpenShift has one cluster-wide interval (15 minutes by default, the
``scheduledImageImportMinimumIntervalSeconds`` setting).  kbuild has the
controller's ``--scheduled-import-interval`` as the default and lets a
stream, or a single spec tag, ask for another one with the annotation
``image.kbuild.io/import-interval``; the controller's
``--scheduled-import-minimum-interval`` is a floor nobody goes below.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from builder.api.constants import IMPORT_INTERVAL_ANNOTATION

if TYPE_CHECKING:  # parse_interval is a CLI flag type: no models at start-up
    from builder.api import ImageStream
    from builder.api.image import TagReference

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_interval(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``1h``, ``1500ms`` to seconds; ValueError otherwise."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {text!r}")
    return seconds


def tag_interval(
    stream: ImageStream, ref: TagReference, default: float, minimum: float
) -> tuple[float, str]:
    """The re-import interval of a scheduled tag, and a problem to report if the asked one is bad.

    The tag's own annotation wins over the stream's; a value that cannot be
    read falls back to ``default`` with a message, and nothing goes below
    ``minimum``.
    """
    asked = (ref.annotations or {}).get(IMPORT_INTERVAL_ANNOTATION) or (
        stream.metadata.annotations or {}
    ).get(IMPORT_INTERVAL_ANNOTATION)
    if not asked:
        return max(default, minimum), ""
    try:
        seconds = parse_interval(asked)
    except ValueError as err:
        return max(default, minimum), f"{IMPORT_INTERVAL_ANNOTATION}: {err}"
    return max(seconds, minimum), ""
