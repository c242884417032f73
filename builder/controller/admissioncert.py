"""The admission webhook's TLS: a CA and a serving certificate the controller makes and rotates.

The API server calls a webhook over TLS only, and trusts the ``caBundle``
of the MutatingWebhookConfiguration.  Nothing can be downloaded here (no
cert-manager), so the controller makes both itself with ``cryptography``:

- a CA (EC P-256) valid ``VALIDITY``, whose private key is used once, to
  sign the serving certificate, and then forgotten: it is never stored, so
  nobody who reads the Secret can sign another name;
- a serving certificate for the Service's DNS names, valid as long.

Both live in one Secret of the controller's namespace (``tls.crt``,
``tls.key``, ``ca.crt``, type ``kubernetes.io/tls``), shared by the
replicas; every replica checks it every ``CHECK_SECONDS`` and the first to
find it missing, unreadable, not covering the Service's names, or within
``RENEW_BEFORE`` of expiry makes a new pair.  Rotation never leaves the API
server without trust in what is served: the caBundle is first set to the
new CA *and* the previous one (while it is valid), then the Secret is
written, then the replicas serve the new certificate; the old CA leaves the
bundle at the next rotation.  Concurrent replicas are ordered by the
Secret's and the configuration's resourceVersions (a Conflict re-reads).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import os
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from builder.kube import AlreadyExists, Conflict, Invalid, KubeError, NotFound

log = logging.getLogger(__name__)

VALIDITY = dt.timedelta(days=365)
RENEW_BEFORE = dt.timedelta(days=90)
CHECK_SECONDS = 3600.0
# While the MutatingWebhookConfiguration is missing (deploy/admission.yaml not
# applied yet), it is looked for again this often.
UNTRUSTED_CHECK_SECONDS = 30.0
CA_KEY = "ca.crt"
CERT_KEY = "tls.crt"
KEY_KEY = "tls.key"
MAX_ATTEMPTS = 5


def service_names(service: str, namespace: str) -> list[str]:
    """The names the API server may use to reach the Service (it uses ``svc``)."""
    return [
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
        f"{service}.{namespace}",
        service,
    ]


@dataclass(frozen=True)
class Bundle:
    """PEM texts: the CAs to trust (newest first), the serving chain and its key."""

    ca: bytes
    cert: bytes
    key: bytes


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate(hosts: list[str], now: dt.datetime, validity: dt.timedelta = VALIDITY) -> Bundle:
    """A new CA and a serving certificate for ``hosts`` signed by it (the CA key is dropped)."""
    start = now - dt.timedelta(minutes=5)  # clock skew between nodes
    ca_key = ec.generate_private_key(ec.SECP256R1())
    signing_only = x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True,
        crl_sign=True, encipher_only=False, decipher_only=False,
    )  # fmt: skip
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, f"kbuild-admission-ca@{int(now.timestamp())}")]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(signing_only, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + validity)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return Bundle(ca=ca.public_bytes(pem), cert=cert.public_bytes(pem), key=_key_pem(key))


def _certificates(pem: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        return []


def _broken(bundle: Bundle) -> str:
    """What is unreadable or inconsistent in ``bundle``; "" if nothing."""
    certs = _certificates(bundle.cert)
    cas = _certificates(bundle.ca)
    if not certs or not cas:
        return "the Secret holds no readable certificate"
    try:
        key = serialization.load_pem_private_key(bundle.key, password=None)
    except (ValueError, TypeError):
        return "the Secret holds no readable private key"
    if key.public_key() != certs[0].public_key():
        return "the private key does not match the certificate"
    if not any(_signed_by(certs[0], ca) for ca in cas):
        return "the certificate is not signed by the CA in the bundle"
    return ""


def renewal_reason(bundle: Bundle | None, hosts: list[str], now: dt.datetime) -> str:
    """Why ``bundle`` must be replaced ("" if it may stay): what the keeper logs."""
    if bundle is None:
        return "no serving certificate yet"
    broken = _broken(bundle)
    if broken:
        return broken
    cert = _certificates(bundle.cert)[0]
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        covered = set(names.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        covered = set()
    missing = [h for h in hosts if h not in covered]
    if missing:
        return f"the certificate does not name {', '.join(missing)}"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return f"the certificate expires at {cert.not_valid_after_utc.isoformat()}"
    return ""


def _signed_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def trust_bundle(new_ca: bytes, previous: bytes, now: dt.datetime) -> bytes:
    """The new CA followed by the previous bundle's CAs that are still valid (one at most)."""
    kept = [c for c in _certificates(previous) if c.not_valid_after_utc > now][:1]
    pem = serialization.Encoding.PEM
    return new_ca + b"".join(c.public_bytes(pem) for c in kept if c.public_bytes(pem) != new_ca)


def _decode(data: dict[str, Any], key: str) -> bytes:
    value = data.get(key)
    if not isinstance(value, str):
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return b""


def bundle_of(secret: dict[str, Any]) -> Bundle:
    data = secret.get("data") or {}
    if not isinstance(data, dict):
        data = {}
    return Bundle(_decode(data, CA_KEY), _decode(data, CERT_KEY), _decode(data, KEY_KEY))


def secret_body(name: str, bundle: Bundle, resource_version: str = "") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {"app.kubernetes.io/name": "kbuild"}}
    if resource_version:
        meta["resourceVersion"] = resource_version
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "kubernetes.io/tls",
        "data": {
            CA_KEY: base64.b64encode(bundle.ca).decode(),
            CERT_KEY: base64.b64encode(bundle.cert).decode(),
            KEY_KEY: base64.b64encode(bundle.key).decode(),
        },
    }


class TLSStore(Protocol):
    """builder.kube.webhookconfig.WebhookTLSStore; an in-memory one in unit tests."""

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]: ...
    def create_secret(self, namespace: str, secret: dict[str, Any]) -> dict[str, Any]: ...
    def replace_secret(
        self, namespace: str, name: str, secret: dict[str, Any]
    ) -> dict[str, Any]: ...
    def get_webhook_config(self, name: str) -> dict[str, Any]: ...
    def set_ca_bundle(
        self, name: str, resource_version: str, bundle_b64: str, count: int
    ) -> None: ...


class CertificateKeeper:
    """Keeps the Secret, the caBundle and this process's SSL context in step."""

    def __init__(
        self,
        store: TLSStore,
        namespace: str,
        secret: str,
        webhook_config: str,
        hosts: list[str],
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.store = store
        self.namespace = namespace
        self.secret = secret
        self.webhook_config = webhook_config
        self.hosts = hosts
        self.clock = clock
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.serving: Bundle | None = None
        # False while the webhook configuration is missing: nothing calls us yet.
        self.trusted = False
        self._lock = threading.Lock()

    def ensure(self) -> Bundle:
        """Make sure a valid certificate is stored, trusted and served; the one served.

        Raises KubeError when the API server cannot be reached or refuses
        (the caller retries); never leaves the caBundle without the served CA.
        """
        for _ in range(MAX_ATTEMPTS):
            try:
                bundle = self._ensure_once()
            except (Conflict, AlreadyExists, Invalid) as err:
                log.info("admission certificate: %s; reading again", err)
                continue
            self._serve(bundle)
            return bundle
        raise KubeError(409, "admission certificate: too many concurrent writers")

    def _ensure_once(self) -> Bundle:
        now = self.clock()
        try:
            secret: dict[str, Any] | None = self.store.get_secret(self.namespace, self.secret)
        except NotFound:
            secret = None
        current = bundle_of(secret) if secret is not None else None
        reason = renewal_reason(current, self.hosts, now)
        if not reason and current is not None:
            self._trust(current.ca)
            return current
        log.info("admission certificate: %s; making a new one", reason)
        fresh = generate(self.hosts, now)
        previous = current.ca if current is not None else b""
        bundle = Bundle(trust_bundle(fresh.ca, previous, now), fresh.cert, fresh.key)
        # Trust first, then store: a replica still serving the old certificate
        # is trusted throughout (the old CA stays in the bundle).
        self._trust(bundle.ca, replace=True)
        if secret is None:
            self.store.create_secret(self.namespace, secret_body(self.secret, bundle))
        else:
            version = str((secret.get("metadata") or {}).get("resourceVersion") or "")
            self.store.replace_secret(
                self.namespace, self.secret, secret_body(self.secret, bundle, version)
            )
        return bundle

    def _trust(self, ca: bytes, *, replace: bool = False) -> None:
        """Put ``ca`` in every webhook's caBundle (unless each already holds its CAs).

        A missing configuration is not an error: the certificate is still
        made and served, and the keeper looks again soon (``run``).
        """
        try:
            config = self.store.get_webhook_config(self.webhook_config)
        except NotFound:
            if self.trusted or self.serving is None:
                log.warning(
                    "admission certificate: no MutatingWebhookConfiguration %s (apply "
                    "deploy/admission.yaml); the API server does not call the webhook",
                    self.webhook_config,
                )
            self.trusted = False
            return
        self.trusted = True
        webhooks = config.get("webhooks") or []
        wanted = base64.b64encode(ca).decode()
        current = [str((w.get("clientConfig") or {}).get("caBundle") or "") for w in webhooks]
        if not replace and all(_holds(c, ca) for c in current):
            return
        if current and all(c == wanted for c in current):
            return
        version = str((config.get("metadata") or {}).get("resourceVersion") or "")
        self.store.set_ca_bundle(self.webhook_config, version, wanted, len(webhooks))
        log.info("admission certificate: caBundle of %s updated", self.webhook_config)

    def _serve(self, bundle: Bundle) -> None:
        with self._lock:
            if self.serving == bundle:
                return
            load_chain(self.context, bundle.cert, bundle.key)
            self.serving = bundle

    def run(self, stop: threading.Event, on_ready: Callable[[], None]) -> None:
        """Ensure now and every CHECK_SECONDS; ``on_ready`` once something is served."""
        ready = False
        while not stop.is_set():
            try:
                self.ensure()
            except KubeError as err:
                log.warning("admission certificate: %s; retrying in 10s", err)
                stop.wait(10.0)
                continue
            if not ready:
                ready = True
                on_ready()
            stop.wait(CHECK_SECONDS if self.trusted else UNTRUSTED_CHECK_SECONDS)


def _holds(bundle_b64: str, ca: bytes) -> bool:
    """Whether a caBundle trusts every CA of ``ca`` (the newest is what matters)."""
    try:
        held = base64.b64decode(bundle_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    first = _certificates(ca)[:1]
    return bool(first) and any(c == first[0] for c in _certificates(held))


def load_chain(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Load a certificate and key held in memory into ``context`` (new connections use it).

    ``load_cert_chain`` reads files only; the controller's root filesystem
    is read-only, and the key should not touch a disk: an anonymous memory
    file (``memfd``) serves, a private temporary file where there is none.
    """
    pem = cert + key
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("kbuild-admission-tls", os.MFD_CLOEXEC)
        try:
            os.write(fd, pem)
            context.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.NamedTemporaryFile() as handle:  # pragma: no cover - non-Linux
        handle.write(pem)
        handle.flush()
        context.load_cert_chain(handle.name)


__all__ = [
    "Bundle",
    "CertificateKeeper",
    "TLSStore",
    "bundle_of",
    "generate",
    "load_chain",
    "renewal_reason",
    "secret_body",
    "service_names",
    "trust_bundle",
]
