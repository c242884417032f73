"""Argument types shared by the verbs (``K=V`` pairs, as ``oc`` accepts them)."""

from __future__ import annotations

import argparse
import os
import re

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not _ENV_NAME.match(name):
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return name, value


def insecure_registries_from_env() -> list[str]:
    """``$KBUILD_INSECURE_REGISTRIES``, comma-separated: what every verb's flag adds to."""
    return [h for h in os.environ.get("KBUILD_INSECURE_REGISTRIES", "").split(",") if h]


def label(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def duration_seconds(text: str) -> float:
    """``30s``, ``2m``, ``1.5h`` or plain seconds (a flag type: errors are usage errors)."""
    from builder.streams.schedule import parse_interval  # noqa: PLC0415

    try:
        return parse_interval(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 30s or 2m, got {text!r}"
        ) from None


SHARED_NAMESPACE = "openshift"
"""Where oc looks for builder image streams and templates after the current namespace."""


def shared_namespace() -> str:
    """``$KBUILD_SHARED_NAMESPACE``, else ``openshift``: the catalog namespace oc searches.

    oc hard-codes ``openshift``.  On a cluster shared by teams (or by test
    runs) the namespace named ``openshift`` may not be the platform team's to
    fill, so the catalog can live elsewhere; read at call time, so one
    process can serve a test that changes it.
    """
    return os.environ.get("KBUILD_SHARED_NAMESPACE", "") or SHARED_NAMESPACE
