"""Fixtures for the integration tier: real registries and real images.

``registry``            session-wide plain-HTTP registry (``.host``, ``.url``, ``.stop()``).
``htpasswd_registry``   session-wide registry with Basic auth; ``.credentials`` -> (user, pw).
``token_registry``      session-wide registry with Bearer token auth; ``.token_server``
                        records token requests; ``.credentials`` as above.
``registry_factory``    ``registry_factory(**start_registry_kwargs)`` -> a fresh registry,
                        stopped and removed after the test (for tests that stop it).
``image_builder``       ``ImageBuilder`` (buildah, private vfs storage) for any registry.
``push_image``          ``push_image(repo, tag="latest", *, format="oci", labels=...,
                        user=..., env=..., cmd=..., entrypoint=..., workdir=..., ports=...,
                        files=..., platform=...)`` -> ``PushedImage`` in ``registry``.
``push_manifest_list``  ``push_manifest_list(repo, tag="latest", platforms=(...),
                        format="oci")`` -> ``PushedImage`` with ``.members``.
``unique_repo``         a repository name no other test in the session uses.

The tools are required, not optional: without docker-registry or buildah
these fixtures fail with a message saying what to install, rather than
skipping and letting a broken machine pass.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.images import ImageBuilder, PushedImage, tools_available
from tests.support.registry import RunningRegistry, registry_available, start_registry
from tests.support.token_server import TokenServer

_repo_counter = itertools.count()


def _require_tools() -> None:
    if not registry_available():
        pytest.fail("docker-registry not found: apt-get install docker-registry", pytrace=False)
    if not tools_available():
        pytest.fail("buildah/skopeo not found: apt-get install buildah skopeo", pytrace=False)


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    _require_tools()
    running = start_registry(tmp_path_factory.mktemp("registry"))
    yield running
    running.cleanup()


@pytest.fixture(scope="session")
def htpasswd_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    _require_tools()
    users = {"kbuild": secrets.token_urlsafe(12)}
    running = start_registry(tmp_path_factory.mktemp("registry-htpasswd"), htpasswd=users)
    yield running
    running.cleanup()


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRegistry]:
    _require_tools()
    workdir = tmp_path_factory.mktemp("registry-token")
    server = TokenServer(workdir / "token", users={"kbuild": secrets.token_urlsafe(12)}).start()
    try:
        running = start_registry(workdir / "registry", token=server)
        running.users = dict(server.users)
        yield running
        running.cleanup()
    finally:
        server.stop()


@pytest.fixture
def registry_factory(
    tmp_path: Path,
) -> Iterator[Callable[..., RunningRegistry]]:
    _require_tools()
    started: list[RunningRegistry] = []

    def factory(**kwargs: Any) -> RunningRegistry:
        running = start_registry(tmp_path / f"registry-{len(started)}", **kwargs)
        started.append(running)
        return running

    yield factory
    for running in started:
        running.cleanup()


@pytest.fixture(scope="session")
def image_builder(tmp_path_factory: pytest.TempPathFactory) -> ImageBuilder:
    _require_tools()
    return ImageBuilder(tmp_path_factory.mktemp("buildah"))


@pytest.fixture(scope="session")
def push_image(
    registry: RunningRegistry, image_builder: ImageBuilder
) -> Callable[..., PushedImage]:
    def push(
        repository: str,
        tag: str = "latest",
        *,
        format: str = "oci",
        **config: Any,
    ) -> PushedImage:
        return image_builder.build_and_push(
            f"{registry.host}/{repository}:{tag}", format=format, **config
        )

    return push


@pytest.fixture(scope="session")
def push_manifest_list(
    registry: RunningRegistry, image_builder: ImageBuilder
) -> Callable[..., PushedImage]:
    def push(
        repository: str,
        tag: str = "latest",
        platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
        *,
        format: str = "oci",
    ) -> PushedImage:
        return image_builder.push_manifest_list(
            f"{registry.host}/{repository}:{tag}", platforms, format=format
        )

    return push


@pytest.fixture
def unique_repo(request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60] or "test"
    return f"kbuild-test/{name}-{next(_repo_counter)}"
