"""A fake of ``builder.registry.RegistryClient`` for Importer and ImageStream reconciler tests.

``FakeRegistry`` holds what the "registry" answers: ``tags[source]`` is the
digest a ``repo:tag`` resolves to (a ``(list digest, image digest)`` pair
for a manifest list), ``errors[source]`` the BuildError it raises instead,
``repositories[repo]`` its tag list.  ``install`` puts a client class over
the importer module's ``RegistryClient``; every client made is recorded with
its credentials and insecure hosts, and every call in ``calls``.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from builder.api import BuildError
from builder.controller import importer as importer_module
from builder.registry import ImageReference
from builder.registry.manifest import Descriptor, ManifestInfo


class FakeRegistry:
    def __init__(self) -> None:
        self.tags: dict[str, str | tuple[str, str]] = {}
        self.errors: dict[str, BuildError] = {}
        self.repositories: dict[str, list[str]] = {}
        self.blobs: set[str] = set()  # "<repo>@<digest>" already present (a mirror's)
        self.copy_error: BuildError | None = None
        self.calls: list[str] = []
        self.clients: list[FakeClient] = []
        self._lock = threading.Lock()

    def record(self, call: str) -> None:
        with self._lock:
            self.calls.append(call)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
        registry = self

        def make(**kwargs: Any) -> FakeClient:
            client = FakeClient(registry, **kwargs)
            with registry._lock:
                registry.clients.append(client)
            return client

        monkeypatch.setattr(importer_module, "RegistryClient", make)
        return self


class FakeClient:
    def __init__(self, registry: FakeRegistry, **kwargs: Any) -> None:
        self.registry = registry
        self.credentials = kwargs.get("credentials")
        self.insecure = kwargs.get("insecure")
        self.timeout = kwargs.get("timeout")
        self.closed = False

    def resolve(self, source: str, platform: object = None) -> ManifestInfo:
        del platform  # one image per tag here
        self.registry.record(f"resolve {source}")
        if source in self.registry.errors:
            raise self.registry.errors[source]
        answer = self.registry.tags[source]
        list_digest, digest = answer if isinstance(answer, tuple) else (None, answer)
        return ManifestInfo(
            reference=ImageReference.parse(source),
            digest=digest,
            media_type="application/vnd.oci.image.manifest.v1+json",
            size=1,
            config=Descriptor("application/vnd.oci.image.config.v1+json", digest, 1),
            layers=(),
            list_digest=list_digest,
        )

    def exists(self, ref: str) -> bool:
        self.registry.record(f"exists {ref}")
        return ref in self.registry.blobs

    def copy(self, source: str, destination: str) -> None:
        self.registry.record(f"copy {source} {destination}")
        if self.registry.copy_error is not None:
            raise self.registry.copy_error

    def list_tags(self, repository: str, limit: int = 1000) -> list[str]:
        self.registry.record(f"list_tags {repository} {limit}")
        if repository in self.registry.errors:
            raise self.registry.errors[repository]
        return self.registry.repositories[repository][:limit]

    def close(self) -> None:
        self.closed = True
