"""The admission webhook's certificate: made, trusted, stored, rotated without a gap.

``MemoryStore`` stands in for the Secret and the MutatingWebhookConfiguration
(with resourceVersions, Conflict on a stale Secret and a failed ``test`` on
a stale configuration, as the API server answers).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
from typing import Any

import pytest
from cryptography import x509

from builder.controller.admissioncert import (
    RENEW_BEFORE,
    Bundle,
    CertificateKeeper,
    bundle_of,
    generate,
    renewal_reason,
    service_names,
    trust_bundle,
)
from builder.kube import AlreadyExists, Conflict, Invalid, NotFound

HOSTS = service_names("kbuild-admission", "kbuild-system")
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


class MemoryStore:
    """The Secret and the MutatingWebhookConfiguration, with resourceVersions."""

    def __init__(self, webhooks: int = 1) -> None:
        self.secret: dict[str, Any] | None = None
        self.config: dict[str, Any] | None = {
            "metadata": {"resourceVersion": "1"},
            "webhooks": [{"name": f"w{i}", "clientConfig": {}} for i in range(webhooks)],
        }
        self.writes: list[str] = []
        self._rv = 1

    def _next(self) -> str:
        self._rv += 1
        return str(self._rv)

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        del namespace, name
        if self.secret is None:
            raise NotFound(404, "no secret")
        return copy.deepcopy(self.secret)

    def create_secret(self, namespace: str, secret: dict[str, Any]) -> dict[str, Any]:
        del namespace
        if self.secret is not None:
            raise AlreadyExists(409, "already exists")
        self.writes.append("secret")
        self.secret = {
            **secret,
            "metadata": {**secret["metadata"], "resourceVersion": self._next()},
        }
        return self.secret

    def replace_secret(self, namespace: str, name: str, secret: dict[str, Any]) -> dict[str, Any]:
        del namespace, name
        assert self.secret is not None
        if secret["metadata"].get("resourceVersion") != self.secret["metadata"]["resourceVersion"]:
            raise Conflict(409, "the object has been modified")
        self.writes.append("secret")
        self.secret = {
            **secret,
            "metadata": {**secret["metadata"], "resourceVersion": self._next()},
        }
        return self.secret

    def get_webhook_config(self, name: str) -> dict[str, Any]:
        del name
        if self.config is None:
            raise NotFound(404, "no such configuration")
        return copy.deepcopy(self.config)

    def set_ca_bundle(self, name: str, resource_version: str, bundle_b64: str, count: int) -> None:
        del name
        assert self.config is not None
        if resource_version != self.config["metadata"]["resourceVersion"]:
            raise Invalid(422, "the test operation failed")
        assert count == len(self.config["webhooks"])
        self.writes.append("caBundle")
        for hook in self.config["webhooks"]:
            hook["clientConfig"]["caBundle"] = bundle_b64
        self.config["metadata"]["resourceVersion"] = self._next()

    def ca_bundle(self) -> bytes:
        assert self.config is not None
        return base64.b64decode(self.config["webhooks"][0]["clientConfig"]["caBundle"])


def keeper(store: MemoryStore, clock: list[dt.datetime]) -> CertificateKeeper:
    return CertificateKeeper(store, "kbuild-system", "tls", "hook", HOSTS, clock=lambda: clock[0])


def cas(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


def test_the_names_are_the_services() -> None:
    assert HOSTS[0] == "kbuild-admission.kbuild-system.svc"
    assert "kbuild-admission.kbuild-system.svc.cluster.local" in HOSTS


def test_a_fresh_certificate_needs_no_renewal_and_covers_the_service() -> None:
    assert renewal_reason(generate(HOSTS, NOW), HOSTS, NOW) == ""


def _swap(bundle: Bundle, **parts: bytes) -> Bundle:
    return Bundle(**{"ca": bundle.ca, "cert": bundle.cert, "key": bundle.key, **parts})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda _b: None, "no serving certificate yet"),
        (lambda b: _swap(b, cert=b"garbage"), "no readable certificate"),
        (lambda b: _swap(b, ca=b""), "no readable certificate"),
        (lambda b: _swap(b, key=b"-----BEGIN PRIVATE KEY-----\nxx"), "no readable private key"),
        (lambda b: _swap(b, key=generate(HOSTS, NOW).key), "does not match"),
        (lambda b: _swap(b, ca=generate(HOSTS, NOW).ca), "not signed by the CA"),
        (lambda _b: generate(["other.kbuild-system.svc"], NOW), "does not name kbuild-admission"),
        (lambda _b: generate(HOSTS, NOW - dt.timedelta(days=300)), "expires at"),
    ],
)
def test_renewal_reasons(change: Any, reason: str) -> None:
    assert reason in renewal_reason(change(generate(HOSTS, NOW)), HOSTS, NOW)


def test_the_ca_key_is_not_kept() -> None:
    store = MemoryStore()
    keeper(store, [NOW]).ensure()
    assert store.secret is not None
    assert sorted(store.secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]
    assert store.secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(store.secret["data"]["tls.key"]).count(b"PRIVATE KEY-----") == 2


def test_the_first_replica_makes_it_and_the_next_one_reuses_it() -> None:
    store = MemoryStore(webhooks=2)
    first = keeper(store, [NOW]).ensure()
    assert store.writes == ["caBundle", "secret"]  # trusted before it is stored
    assert all(
        base64.b64decode(h["clientConfig"]["caBundle"]) == first.ca
        for h in store.config["webhooks"]
    )
    second = keeper(store, [NOW + dt.timedelta(hours=1)]).ensure()
    assert second == first
    assert store.writes == ["caBundle", "secret"]


def test_rotation_trusts_the_new_ca_and_the_old_one_before_serving_the_new_certificate() -> None:
    store = MemoryStore()
    clock = [NOW]
    old = keeper(store, clock).ensure()
    clock[0] = NOW + VALIDITY_LEFT_FOR_RENEWAL
    new = keeper(store, clock).ensure()
    assert new.cert != old.cert
    assert store.writes == ["caBundle", "secret", "caBundle", "secret"]
    trusted = cas(store.ca_bundle())
    assert trusted[0] == cas(new.ca)[0]
    assert cas(old.ca)[0] in trusted  # a replica still serving the old one is trusted
    assert bundle_of(store.secret or {}) == new
    # The next rotation drops the CA before: at most the newest two are trusted.
    clock[0] += VALIDITY_LEFT_FOR_RENEWAL
    newest = keeper(store, clock).ensure()
    assert cas(old.ca)[0] not in cas(store.ca_bundle())
    assert cas(newest.ca)[0] == cas(store.ca_bundle())[0]


VALIDITY_LEFT_FOR_RENEWAL = dt.timedelta(days=365) - RENEW_BEFORE + dt.timedelta(days=1)


def test_a_ca_bundle_reset_by_reapplying_the_manifest_is_restored_without_a_new_certificate() -> (
    None
):
    store = MemoryStore()
    made = keeper(store, [NOW]).ensure()
    store.config["webhooks"][0]["clientConfig"].pop("caBundle")  # kubectl apply -f deploy/
    again = keeper(store, [NOW]).ensure()
    assert again == made
    assert store.ca_bundle() == made.ca
    assert store.writes == ["caBundle", "secret", "caBundle"]


def test_a_concurrent_writer_is_read_again_not_overwritten() -> None:
    store = MemoryStore()
    clock = [NOW]
    racer = keeper(store, clock)
    original = store.get_secret

    def late(namespace: str, name: str) -> dict[str, Any]:
        # Another replica creates the Secret between our read and our write.
        store.get_secret = original  # type: ignore[method-assign]
        keeper(store, clock).ensure()
        raise NotFound(404, "not yet seen")

    store.get_secret = late  # type: ignore[method-assign]
    mine = racer.ensure()
    assert bundle_of(store.secret or {}) == mine  # the one stored is the one served
    assert store.writes.count("secret") == 1


def test_trust_bundle_keeps_one_valid_previous_ca() -> None:
    a, b = generate(HOSTS, NOW), generate(HOSTS, NOW)
    expired = generate(HOSTS, NOW - dt.timedelta(days=400))
    assert cas(trust_bundle(b.ca, a.ca, NOW)) == [*cas(b.ca), *cas(a.ca)]
    assert cas(trust_bundle(b.ca, expired.ca, NOW)) == cas(b.ca)
    assert cas(trust_bundle(b.ca, b"", NOW)) == cas(b.ca)


def test_without_the_webhook_configuration_the_certificate_is_still_made_and_served() -> None:
    """deploy/admission.yaml applied after the controller (as the demo does)."""
    store = MemoryStore()
    config, store.config = store.config, None
    first = keeper(store, [NOW])
    made = first.ensure()
    assert first.serving == made and first.trusted is False
    assert store.writes == ["secret"]
    store.config = config
    assert first.ensure() == made
    assert first.trusted is True
    assert store.ca_bundle() == made.ca
