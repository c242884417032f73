"""Build stages with timings, in OpenShift's ``status.stages`` vocabulary.

Users compare build times across runs by stage (FetchInputs, PullImages,
Build, PostCommit, PushImage); recording them in the same shape lets
``kbuild describe build`` and the benchmark show where time goes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from builder.record import Record, field


class StepInfo(Record, frozen=False):
    name: str
    start_time: str
    duration_milliseconds: int


class StageInfo(Record, frozen=False):
    name: str
    start_time: str
    duration_milliseconds: int = 0
    steps: list[StepInfo] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class StageRecorder(Record, frozen=False):
    stages: list[StageInfo] = field(default_factory=list)

    @contextmanager
    def stage(self, stage: str, step: str) -> Iterator[None]:
        """Time ``step`` and add it to ``stage`` (created on first use)."""
        existing = next((s for s in self.stages if s.name == stage), None)
        if existing is None:
            existing = StageInfo(stage, _now())
            self.stages.append(existing)
        started_at = _now()
        began = time.monotonic()
        try:
            yield
        finally:
            elapsed = int((time.monotonic() - began) * 1000)
            existing.steps.append(StepInfo(step, started_at, elapsed))
            existing.duration_milliseconds += elapsed


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def stages_json(stages: list[StageInfo]) -> list[dict[str, Any]]:
    """Stages in OpenShift's ``status.stages`` shape."""
    return [
        {
            "name": s.name,
            "startTime": s.start_time,
            "durationMilliseconds": s.duration_milliseconds,
            "steps": [
                {
                    "name": step.name,
                    "startTime": step.start_time,
                    "durationMilliseconds": step.duration_milliseconds,
                }
                for step in s.steps
            ],
        }
        for s in stages
    ]


def stages_from_json(data: object) -> list[StageInfo]:
    """``stages_json``'s output back; what is not in its shape is skipped or zero."""
    stages: list[StageInfo] = []
    if not isinstance(data, list):
        return stages
    for item in data:
        if not isinstance(item, dict):
            continue
        steps = [
            StepInfo(
                _str(step.get("name")),
                _str(step.get("startTime")),
                int(step.get("durationMilliseconds") or 0),
            )
            for step in item.get("steps") or []
            if isinstance(step, dict)
        ]
        stages.append(
            StageInfo(
                _str(item.get("name")),
                _str(item.get("startTime")),
                int(item.get("durationMilliseconds") or 0),
                steps,
            )
        )
    return stages
