"""``kbuild describe``: oc's build and build config describers, as text (pure).

The two golden files in data/ were checked line by line against oc's
describer code (pkg/helpers/describe); the alignment itself is Go's
tabwriter, checked against Go in test_go_formats.py.
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest

from builder.cli.common import BUILD_CONFIGS, BUILDS, CliError
from builder.cli.describe import (
    build_duration,
    describe_build,
    describe_build_config,
    events_text,
    targets,
)
from tests.unit.cli.helpers import COMMIT, NOW, build, build_config

DATA = Path(__file__).parent / "data"

FAILED_STATUS: dict[str, Any] = {
    "reason": "DockerBuildFailed",
    "message": "step 2 failed",
    "startTimestamp": "2024-05-01T11:51:00Z",
    "completionTimestamp": "2024-05-01T11:52:35Z",
    "duration": 95_000_000_000,
    "config": {"kind": "BuildConfig", "name": "app", "namespace": "dev"},
    "stages": [
        {"name": "FetchInputs", "startTime": "2024-05-01T11:51:00Z", "durationMilliseconds": 1400},
        {"name": "Build", "startTime": "2024-05-01T11:51:02Z", "durationMilliseconds": 61600},
    ],
    "logSnippet": "STEP 2/3: RUN make\nmake: *** [all] Error 1",
}
REVISION = {
    "type": "Git",
    "git": {
        "commit": COMMIT,
        "message": "Fix the thing",
        "author": {"name": "Ann"},
        "committer": {"name": "Bob"},
    },
}


def event(
    kind: str, reason: str, first: str, last: str, count: int = 1, **extra: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "reason": reason,
        "message": f"{reason} happened ",
        "firstTimestamp": first,
        "lastTimestamp": last,
        "count": count,
        **extra,
    }


EVENTS = [
    {
        **event("Normal", "BuildStarted", "2024-05-01T11:51:00Z", "2024-05-01T11:51:00Z"),
        "message": "Build dev/app-3 is now running",
        "source": {"component": "kbuild-controller"},
    },
    {
        **event("Warning", "BuildFailed", "2024-05-01T11:52:35Z", "2024-05-01T11:52:35Z"),
        "message": "Build dev/app-3 failed: DockerBuildFailed: step 2 failed ",
        "source": {"component": "kbuild-controller"},
    },
    {
        **event("Normal", "Pulled", "2024-05-01T11:40:00Z", "2024-05-01T11:50:30Z", 3),
        "message": "x",
        "reportingComponent": "kubelet",
    },
]


def failed_build() -> Any:
    return build("app-3", phase="Failed", status=FAILED_STATUS, spec={"revision": REVISION})


def test_describe_failed_build_matches_golden_text() -> None:
    text = describe_build(failed_build(), EVENTS, NOW, "app-3-build", UTC)
    assert text == (DATA / "describe_build_failed.txt").read_text()


def test_describe_build_status_reason_stages_and_events() -> None:
    lines = describe_build(failed_build(), EVENTS, NOW, "app-3-build", UTC).splitlines()
    assert "Status:\t\tFailed (step 2 failed)" in lines
    assert "Reason:\t\tDockerBuildFailed" in lines
    assert "Started:\tWed, 01 May 2024 11:51:00 UTC" in lines
    assert "Duration:\t1m35s" in lines
    # Stage durations are rounded to whole seconds, as oc does.
    assert "  FetchInputs:\t  1s" in lines
    assert "  Build:\t  1m2s" in lines
    assert "Commit:\t\t\tb7b3c9f (Fix the thing)" in lines
    assert "Author/Committer:\tAnn / Bob" in lines
    assert "Build trigger cause:\tManually triggered" in lines
    # Events oldest-seen first; a repeated event shows its count and span.
    reasons = [line.split()[1] for line in lines if line.startswith(("  Normal", "  Warning"))]
    assert reasons == ["Pulled", "BuildStarted", "BuildFailed"]
    assert any("9m30s (x3 over 20m)" in line for line in lines)


def test_describe_new_build_without_events() -> None:
    text = describe_build(build(), [], NOW, "app-1-build", UTC)
    assert "Status:\t\tNew\nDuration:\twaiting for 10m0s\n" in text
    assert "Started:" not in text
    assert "Reason:" not in text
    assert text.endswith("Build trigger cause:\tManually triggered\n\nEvents:\t<none>\n")


def test_describe_build_config_matches_golden_text() -> None:
    bc = build_config(
        last_version=3,
        spec={
            "runPolicy": "SerialLatestOnly",
            "triggers": [
                {"type": "ConfigChange"},
                {
                    "type": "ImageChange",
                    "imageChange": {"from": {"kind": "ImageStreamTag", "name": "base:1"}},
                },
                {"type": "GitHub", "github": {"secretReference": {"name": "gh"}}},
                {"type": "Generic", "generic": {"secret": "s", "allowEnv": True}},
            ],
            "failedBuildsHistoryLimit": 2,
            "postCommit": {"script": "make test"},
        },
    )
    builds = [failed_build(), build("app-1", phase="New")]
    text = describe_build_config(bc, builds, [], NOW)
    assert text == (DATA / "describe_bc.txt").read_text()
    assert "Triggered by:\t\tConfig, Image(ImageStreamTag base:1)\n" in text
    assert 'Post Commit Hook:\t["/bin/sh", "-ic", "make test"]\n' in text


def test_describe_build_config_never_built_with_no_triggers() -> None:
    text = describe_build_config(build_config(), [], [], NOW)
    assert "Latest Version:\tNever built\n" in text
    assert "Build Run Policy:\tSerial\n" in text
    assert "Triggered by:\t\t<none>\n" in text
    assert "Creation Time" not in text


def _cells(text: str) -> str:
    """The text with alignment collapsed: what is said, not how it lines up."""
    return re.sub(r"\t+", "\t", text)


def test_describe_source_inputs() -> None:
    binary = build(source={"binary": {"asFile": "app.jar"}})
    text = _cells(describe_build(binary, [], NOW, "p", UTC))
    assert 'Binary:\tprovided as file "app.jar" on build\n' in text
    assert "Empty Source" not in text
    empty = _cells(describe_build(build(source={}), [], NOW, "p", UTC))
    assert "Empty Source:\tno input source provided\n" in empty
    inline = build(source={"dockerfile": "FROM x\nRUN y"})
    assert "Dockerfile:\n  FROM x\n  RUN y\n" in describe_build(inline, [], NOW, "p", UTC)


@pytest.mark.parametrize(
    ("phase", "status", "expected"),
    [
        ("New", {}, "waiting for 10m0s"),
        ("Running", {"startTimestamp": "2024-05-01T11:58:30Z"}, "running for 1m30s"),
        (
            "Complete",
            {
                "startTimestamp": "2024-05-01T11:51:00Z",
                "completionTimestamp": "2024-05-01T11:53:05Z",
            },
            "2m5s",
        ),
        ("Cancelled", {"completionTimestamp": "2024-05-01T11:51:00Z"}, "waited for 1m0s"),
        ("Error", {"completionTimestamp": "2024-05-01T11:50:40Z"}, "waited for 40s"),
        ("Cancelled", {}, "<none>"),
    ],
)
def test_build_duration(phase: str, status: dict[str, Any], expected: str) -> None:
    assert build_duration(build(phase=phase, status=status), NOW) == expected


def test_events_text_empty() -> None:
    assert events_text([], NOW) == "Events:\t<none>\n"


def test_events_text_unknown_time_and_series() -> None:
    series = {
        "type": "Normal",
        "reason": "Pulling",
        "message": "m",
        "eventTime": "2024-05-01T11:00:00.123456Z",
        "series": {"count": 4, "lastObservedTime": "2024-05-01T11:59:00.000000Z"},
        "reportingComponent": "kubelet",
    }
    text = events_text([{"type": "Normal", "reason": "Odd", "message": "m"}, series], NOW)
    assert "  Normal\tOdd\t<unknown>\t\tm\n" in text
    assert "  Normal\tPulling\t60s (x4 over 59m)\tkubelet\tm\n" in text


def test_describe_targets() -> None:
    assert targets(["bc/app", "build/app-1"]) == [(BUILD_CONFIGS, "app"), (BUILDS, "app-1")]
    assert targets(["build", "a", "b"]) == [(BUILDS, "a"), (BUILDS, "b")]
    assert targets(["bc"]) == [(BUILD_CONFIGS, None)]
    with pytest.raises(CliError):
        targets(["bc/app", "x"])
