"""Kubernetes times (``metav1.Time``): RFC3339 strings read and written.

Apart from ``builder.api.base`` so that code printing times (``kbuild get``)
does not load pydantic with the models.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# \Z, not $ (which also matches before a final newline); ASCII digits only.
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})\Z", re.ASCII
)


def format_time(moment: datetime) -> str:
    """RFC3339 in UTC with second precision, the way ``metav1.Time`` writes it."""
    if moment.tzinfo is None:
        raise ValueError("format_time needs a timezone-aware datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """Parse an RFC3339 time string (as stored in a model) to an aware datetime."""
    if not RFC3339.match(value):
        raise ValueError(f"not an RFC3339 time: {value!r}")
    text = value.replace("Z", "+00:00")
    # datetime.fromisoformat accepts at most microseconds; Go writes nanoseconds.
    match = re.match(r"^(.*\.\d{6})\d+(.*)$", text)
    if match:
        text = match.group(1) + match.group(2)
    return datetime.fromisoformat(text)


def now_time() -> str:
    """The current time as a model time string."""
    return format_time(datetime.now(UTC))


__all__ = ["RFC3339", "format_time", "now_time", "parse_time"]
