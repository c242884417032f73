"""The seed transcripts replayed with kbuild (hack/seeds): the lines that make each scenario.

Each script runs the article's command lines with ``oc`` replaced by
``kbuild`` against this cluster (its own namespaces and controllers) and
prints a transcript; the test checks the lines that show the scenario
happened, and that the only failing commands are the ones listed with the
reason they fail (as on OpenShift, or a known difference).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cluster.conftest import BUILDPOD_TAG, REPO_ROOT, Cluster

pytestmark = pytest.mark.cluster

SEEDS = REPO_ROOT / "hack" / "seeds"


def replay(script: str, cluster: Cluster) -> str:
    done = subprocess.run(
        ["bash", str(SEEDS / script)],
        capture_output=True, text=True, check=False, timeout=1500, cwd=REPO_ROOT,
        env={**os.environ, "KBUILD_TEST_BUILDPOD_TAG": BUILDPOD_TAG,
             "KUBECONFIG": str(cluster.kubeconfig)},
    )  # fmt: skip
    transcript = done.stdout + done.stderr
    Path(os.environ.get("KBUILD_TEST_SEED_OUT", "/tmp"), f"{script}.out").write_text(transcript)
    assert done.returncode == 0, transcript[-4000:]
    return transcript


def failed_commands(transcript: str) -> list[str]:
    """The command lines whose exit status was not 0."""
    failed: list[str] = []
    command = ""
    for line in transcript.splitlines():
        if line.startswith("$ "):
            command = line[2:]
        elif line.startswith("[exit status"):
            failed.append(command)
    return failed


def test_seed_000_scheduled_builder_rebuilds_until_the_trigger_is_removed(
    cluster: Cluster, nodejs_builder: str, seccomp_profile: str
) -> None:
    del nodejs_builder, seccomp_profile
    text = replay("seed-000.sh", cluster)
    assert "imagestream.image.openshift.io/centos7-s2i-nodejs imported" in text
    assert "--> Success" in text
    assert 'deploymentconfig.apps.openshift.io "nodejs-ex" created' in text
    assert re.search(r"^nodejs-ex-1-[a-z0-9]{5} +1/1 +Running", text, re.M), "the DC's pod"
    assert re.search(r"^v\d+\.\d+\.\d+$", text, re.M), "node --version in the app's pod"
    assert re.search(r"Unique Images:\t+2", text), "the scheduled import saw the new builder"
    assert re.search(r"nodejs-ex-2 \t+complete", text), "the new builder rebuilt the app"
    assert 'replication controller "nodejs-ex-2" successfully rolled out' in text, "rollout 2"
    assert "buildconfig.build.openshift.io/nodejs-ex triggers updated" in text
    assert re.search(r"Unique Images:\t+3", text), "the third image is imported"
    last_table = text.rsplit("$ kbuild get builds", 1)[1]
    assert "nodejs-ex-3" not in last_table, "no build once the trigger is removed"
    assert failed_commands(text) == []


def test_seed_001_legacy_build_config_and_a_deployment_config_trigger(
    cluster: Cluster, images: dict[str, str], seccomp_profile: str
) -> None:
    del images, seccomp_profile
    text = replay("seed-001.sh", cluster)
    assert "buildconfig.build.openshift.io/foo-build created" in text
    assert re.search(r"^foo:latest +\S+/foo@sha256:", text, re.M)
    assert 'replication controller "foo-2" successfully rolled out' in text
    # oc answers the same: the BuildConfig's output tag has no external source to import.
    assert failed_commands(text) == ["kbuild import-image foo --scheduled"]
    assert 'the tag "latest" does not exist on the image stream' in text


def test_seed_002_a_deployment_follows_an_image_stream_tag(
    cluster: Cluster, images: dict[str, str], seccomp_profile: str
) -> None:
    del images, seccomp_profile
    text = replay("seed-002.sh", cluster)
    assert "deployment.apps/myapp created" in text
    assert "Dockerfile-ubi8-8.0-122" in text
    assert "deployment.apps/myapp triggers updated" in text
    assert (
        'image.openshift.io/triggers: \'[{"from":{"kind":"ImageStreamTag","name":"ubi:8"}' in text
    )
    assert "Dockerfile-ubi8-8.0-154" in text
    assert "ImageUpdated" in text
    # A repository import (--all) writes a spec tag per tag, as OpenShift's does.
    assert re.search(r"tagged from \S+/flozanorht/ubi:8\n", text), text
    assert failed_commands(text) == []
