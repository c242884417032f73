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
