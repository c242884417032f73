"""The Importer against a fake registry client: outcomes, typed failures, credentials, order."""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass, field

import pytest

from builder.api import BuildError
from builder.controller.authz import Authorizer
from builder.controller.config import ControllerConfig
from builder.controller.importer import (
    MAX_REPOSITORY_TAGS,
    Importer,
    ImportOutcome,
    ImportRequest,
)
from builder.controller.ratelimit import TokenBucket
from builder.registry import (
    CredentialsError,
    ImageNotFound,
    InvalidReferenceError,
    RegistryUnreachable,
    Unauthorized,
)
from tests.unit.controller.registry_fake import FakeRegistry
from tests.unit.controller.tenancy_fake import FakeKube

REGISTRY = "registry.example:5000"
CONFIG = ControllerConfig(registry=REGISTRY, build_pod_image=f"{REGISTRY}/kbuild/buildpod:1")
NS = "tenant"
SRC = "quay.example/app/web:1"


def digest(n: int) -> str:
    return "sha256:" + f"{n:x}".rjust(64, "0")


class CountingBucket(TokenBucket):
    def __init__(self) -> None:
        super().__init__(1000, 1000)
        self.taken = 0

    def take(self) -> None:  # type: ignore[override]
        self.taken += 1


def importer(kube: FakeKube, config: ControllerConfig = CONFIG, **kw: object) -> Importer:
    return Importer(
        kube, config, kw.pop("bucket", CountingBucket()), authorizer=Authorizer(kube), **kw
    )  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    name: str
    request: ImportRequest
    tags: dict[str, str | tuple[str, str]] = field(default_factory=dict)
    error: BuildError | None = None
    blobs: frozenset[str] = frozenset()
    copy_error: BuildError | None = None
    outcome: ImportOutcome | None = None
    reason: str = ""
    message: str = ""
    calls: tuple[str, ...] = ()


MIRROR = f"{REGISTRY}/{NS}/web"
CASES = [
    Case("a tag resolves to its digest", ImportRequest("1", SRC), tags={SRC: digest(1)},
         outcome=ImportOutcome("1", f"quay.example/app/web@{digest(1)}", digest(1), digest(1)),
         calls=(f"resolve {SRC}",)),
    Case("a manifest list: the platform's image, the list kept as top digest",
         ImportRequest("1", SRC), tags={SRC: (digest(9), digest(1))},
         outcome=ImportOutcome("1", f"quay.example/app/web@{digest(1)}", digest(1), digest(9))),
    Case("PreserveOriginal: the list's own digest", ImportRequest("1", SRC, whole_list=True),
         tags={SRC: (digest(9), digest(1))},
         outcome=ImportOutcome("1", f"quay.example/app/web@{digest(9)}", digest(9), digest(9))),
    Case("no such tag: NotFound", ImportRequest("1", SRC),
         error=ImageNotFound(f"image {SRC} not found"), reason="NotFound",
         message=f"image {SRC} not found"),
    Case("refused: Unauthorized", ImportRequest("1", SRC), error=Unauthorized("denied"),
         reason="Unauthorized", message="denied"),
    Case("bad credentials: Unauthorized", ImportRequest("1", SRC),
         error=CredentialsError("bad auth"), reason="Unauthorized"),
    Case("a bad reference: Invalid", ImportRequest("1", SRC),
         error=InvalidReferenceError("x", "bad"), reason="Invalid"),
    Case("registry down: InternalError", ImportRequest("1", SRC),
         error=RegistryUnreachable("connection refused"), reason="InternalError",
         message="connection refused"),
    Case("referencePolicy Local: copied into the stream's repository",
         ImportRequest("1", SRC, mirror_to=MIRROR), tags={SRC: digest(1)},
         outcome=ImportOutcome("1", f"quay.example/app/web@{digest(1)}", digest(1), digest(1)),
         calls=(f"resolve {SRC}", f"exists {MIRROR}@{digest(1)}",
                f"copy quay.example/app/web@{digest(1)} {MIRROR}")),
    Case("referencePolicy Local, already copied: no copy",
         ImportRequest("1", SRC, mirror_to=MIRROR), tags={SRC: digest(1)},
         blobs=frozenset({f"{MIRROR}@{digest(1)}"}),
         outcome=ImportOutcome("1", f"quay.example/app/web@{digest(1)}", digest(1), digest(1)),
         calls=(f"resolve {SRC}", f"exists {MIRROR}@{digest(1)}")),
    Case("the copy fails: a typed failure naming both ends",
         ImportRequest("1", SRC, mirror_to=MIRROR), tags={SRC: digest(1)},
         copy_error=RegistryUnreachable("push refused"), reason="InternalError",
         message=f"copying quay.example/app/web@{digest(1)} into {MIRROR} failed: push refused"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_import(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry().install(monkeypatch)
    registry.tags.update(case.tags)
    registry.blobs |= case.blobs
    registry.copy_error = case.copy_error
    if case.error is not None:
        registry.errors[case.request.source] = case.error
    bucket = CountingBucket()
    (outcome,) = importer(FakeKube(), bucket=bucket).run(NS, [case.request])
    if case.outcome is not None:
        assert outcome == case.outcome
        assert outcome.ok
    else:
        assert not outcome.ok
        assert outcome.reason == case.reason
        assert outcome.message.startswith(case.message)
    if case.calls:
        assert registry.calls == list(case.calls)
    assert bucket.taken == 1  # every import takes a token first
    assert all(c.closed for c in registry.clients)


def test_many_tags_over_several_workers_come_back_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry().install(monkeypatch)
    requests = [ImportRequest(str(n), f"quay.example/app/web:{n}") for n in range(7)]
    for n in range(7):
        registry.tags[f"quay.example/app/web:{n}"] = digest(n)
    registry.errors["quay.example/app/web:3"] = ImageNotFound("gone")
    bucket = CountingBucket()
    config = dataclasses.replace(CONFIG, import_workers=3)
    outcomes = importer(FakeKube(), config, bucket=bucket).run(NS, requests)
    assert [o.tag for o in outcomes] == [str(n) for n in range(7)]
    assert [o.digest for o in outcomes] == [digest(n) if n != 3 else "" for n in range(7)]
    assert outcomes[3].reason == "NotFound"
    assert len(registry.clients) == 3 and bucket.taken == 7
    assert importer(FakeKube()).run(NS, []) == []


def test_insecure_hosts_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry().install(monkeypatch)
    registry.tags["plain.example:5000/app:1"] = digest(1)
    importer(FakeKube()).run(NS, [ImportRequest("1", "plain.example:5000/app:1", insecure=True)])
    (client,) = registry.clients
    assert client.insecure is not None
    assert {"plain.example:5000", "plain.example"} <= set(client.insecure)


def secret(
    name: str, registry: str, user: str, kind: str = "kubernetes.io/dockerconfigjson"
) -> dict[str, object]:
    config = {"auths": {registry: {"auth": base64.b64encode(f"{user}:pw".encode()).decode()}}}
    key = ".dockerconfigjson" if kind.endswith("json") else ".dockercfg"
    body = config if key == ".dockerconfigjson" else config["auths"]
    return {
        "metadata": {"name": name},
        "type": kind,
        "data": {key: base64.b64encode(json.dumps(body).encode()).decode()},
    }


def test_the_namespaces_pull_secrets_and_only_those(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry().install(monkeypatch)
    registry.tags[SRC] = digest(1)
    kube = FakeKube()
    kube.secrets[NS] = [
        secret("pull", "quay.example", "tenant-user"),
        secret("old", "other.example", "old-user", "kubernetes.io/dockercfg"),
    ]
    kube.secrets["elsewhere"] = [secret("theirs", "quay.example", "someone-else")]
    importer(kube).run(NS, [ImportRequest("1", SRC)])
    # Secrets are listed by type only: no other secret of the namespace is read.
    assert kube.secret_selectors == [
        "type=kubernetes.io/dockerconfigjson",
        "type=kubernetes.io/dockercfg",
    ]
    (client,) = registry.clients
    found = client.credentials.lookup("quay.example", "app/web")
    assert found is not None and found.username == "tenant-user"
    assert client.credentials.lookup("other.example", "x").username == "old-user"


def test_unreadable_secrets_are_said_in_an_unauthorized_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = FakeRegistry().install(monkeypatch)
    registry.errors[SRC] = Unauthorized("authentication required")
    kube = FakeKube()
    kube.secrets_forbidden.add(NS)
    (outcome,) = importer(kube).run(NS, [ImportRequest("1", SRC)])
    assert outcome.reason == "Unauthorized"
    assert outcome.message.startswith("authentication required; kbuild may not read the pull")
    assert "kubectl create rolebinding kbuild-pull-secrets -n tenant" in outcome.message


def test_a_malformed_secret_is_skipped_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry().install(monkeypatch)
    registry.errors[SRC] = Unauthorized("denied")
    kube = FakeKube()
    bad = {"metadata": {"name": "broken"}, "type": "kubernetes.io/dockerconfigjson",
           "data": {".dockerconfigjson": base64.b64encode(b"{not json").decode()}}  # fmt: skip
    kube.secrets[NS] = [bad]
    (outcome,) = importer(kube).run(NS, [ImportRequest("1", SRC)])
    assert "pull secret broken (.dockerconfigjson) was skipped" in outcome.message
    assert "{not json" not in outcome.message


def test_secrets_are_read_again_after_thirty_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeRegistry().install(monkeypatch)
    now = [0.0]
    kube = FakeKube()
    imp = importer(kube, clock=lambda: now[0])
    imp.credentials(NS)
    imp.credentials(NS)
    assert len(kube.secret_selectors) == 2  # one list per secret type, once
    now[0] = 31.0
    imp.credentials(NS)
    assert len(kube.secret_selectors) == 4


def test_repository_tags_are_bounded_and_failures_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = FakeRegistry().install(monkeypatch)
    registry.repositories["quay.example/app/web"] = [str(n) for n in range(80)]
    bucket = CountingBucket()
    tags, failure = importer(FakeKube(), bucket=bucket).repository_tags(
        NS, "quay.example/app/web", insecure=False
    )
    assert failure is None
    assert tags == [str(n) for n in range(MAX_REPOSITORY_TAGS)]
    assert registry.calls == [f"list_tags quay.example/app/web {MAX_REPOSITORY_TAGS}"]
    assert bucket.taken == 1
    registry.errors["quay.example/gone"] = ImageNotFound("no such repository")
    tags, failure = importer(FakeKube()).repository_tags(NS, "quay.example/gone", insecure=False)
    assert tags == []
    assert failure is not None and failure.reason == "NotFound"
    assert failure.message == "no such repository"


def test_the_controllers_registry_paths_of_readable_namespaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeRegistry().install(monkeypatch)
    kube = FakeKube(grants={("system:serviceaccount:tenant:default", "get", "shared")})
    imp = importer(kube)
    sources = [f"{REGISTRY}/shared/base:1", f"{REGISTRY}/private/x:1", "quay.example/a:1"]
    allowed = imp.readable_namespaces(NS, sources)
    assert allowed == {"tenant", "shared"}
    assert ("system:serviceaccount:tenant:default", "get", "private") in kube.reviews
