"""``new-build``/``new-app --build-secret`` and ``--build-config-map``, as ``oc`` takes them."""

from __future__ import annotations

import argparse

import pytest

from builder.api import BuildConfig, parse_as
from builder.cli.appobjects import build_config
from builder.cli.newapp import build_input, params_for, request_from_args
from tests.unit.cli.test_newapp import CONFIG, SECRETS, found_stream, parse


@pytest.mark.parametrize("verb", ["new-build", "new-app"])
def test_build_secrets_and_config_maps_reach_the_build_config(verb: str) -> None:
    ns = parse(
        verb, "ci/python:3.11~https://git.example.com/team/app.git",
        "--build-secret", "subscription:etc/pki", "--build-secret", "npmrc",
        "--build-config-map", "settings:conf",
    )  # fmt: skip
    request = request_from_args(ns, deploy=verb == "new-app")
    bc = build_config(params_for(request, found_stream(CONFIG), SECRETS))
    source = bc["spec"]["source"]
    assert source["secrets"] == [
        {"secret": {"name": "subscription"}, "destinationDir": "etc/pki"},
        {"secret": {"name": "npmrc"}},
    ]
    assert source["configMaps"] == [{"configMap": {"name": "settings"}, "destinationDir": "conf"}]
    parse_as(BuildConfig, bc)  # a valid BuildConfig


@pytest.mark.parametrize("text", ["", "Bad_Name", "s:/etc", "s:../up", "s:a/../../b"])
def test_bad_build_inputs_are_refused_by_the_parser(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        build_input(text)
