"""Importing image metadata from registries: what a tag points to, never the layers.

An import asks the source registry which manifest ``repo:tag`` names and
records its digest; nothing is pulled.  Credentials are the namespace's pull
secrets (``kubernetes.io/dockerconfigjson`` and ``dockercfg``), as OpenShift
uses them for imports; the controller's own credentials serve only its own
registry's paths of namespaces the importing one may read.  Every registry
request first takes a token from the controller's shared bucket, and a batch
of tags is spread over a few worker threads, each with its own HTTP session
(a session is not thread-safe, and reusing one per worker keeps connections and bearer tokens warm).

Failures are typed with OpenShift's import reasons (``NotFound``,
``Unauthorized``, ``InternalError``, ``Invalid``) and a one-line message
naming the registry and image; they never raise out of ``run``.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from builder.api import BuildError
from builder.controller.authz import (
    DEFAULT_SERVICE_ACCOUNT,
    Authorizer,
    Identity,
    registry_namespace,
)
from builder.controller.config import SECRETS_ROLE, ControllerConfig
from builder.controller.ratelimit import TokenBucket
from builder.kube import Kube, KubeError
from builder.registry import (
    DEFAULT_PLATFORM,
    CredentialsError,
    CredentialStore,
    ImageNotFound,
    ImageReference,
    InvalidReferenceError,
    Platform,
    RegistryClient,
    Unauthorized,
)
from builder.registry.transport import split_host_port

log = logging.getLogger(__name__)

SECRET_TYPES = ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg")
CREDENTIALS_TTL = 30.0
# OpenShift imports at most this many tags of a repository (spec.dockerImageRepository).
MAX_REPOSITORY_TAGS = 50


@dataclass(frozen=True)
class ImportRequest:
    tag: str
    source: str  # a DockerImage pull spec, as in spec.tags[].from.name
    insecure: bool = False
    # importMode PreserveOriginal: record a manifest list's own digest.
    whole_list: bool = False
    # referencePolicy Local: copy the image into this repository (the stream's
    # own in the controller's registry), where consumers will pull it.
    mirror_to: str = ""
    # The manifest-list entry to take (the tag's prefer-os/prefer-arch).
    platform: Platform = field(default_factory=lambda: Platform.parse(DEFAULT_PLATFORM))


@dataclass(frozen=True)
class ImportOutcome:
    tag: str
    reference: str = ""  # <registry>/<repo>@<digest>
    digest: str = ""
    # What the tag itself points to: a manifest list's digest, else ``digest``.
    top_digest: str = ""
    reason: str = ""  # empty on success
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason


def failure_reason(err: BuildError) -> str:
    """OpenShift's import status reason for a registry failure."""
    if isinstance(err, InvalidReferenceError):
        return "Invalid"
    if isinstance(err, ImageNotFound):
        return "NotFound"
    if isinstance(err, Unauthorized | CredentialsError):
        return "Unauthorized"
    return "InternalError"


def _secret_stores(
    namespace: str, secret: dict[str, Any], problems: list[str]
) -> list[CredentialStore]:
    """The docker config of one pull secret.

    A malformed one is skipped, and said in ``problems``: an import that then
    fails as Unauthorized names it, so the tenant learns why its secret was
    not used (the error names the secret and the key, never its content).
    """
    if secret.get("type") not in SECRET_TYPES:
        return []
    name = (secret.get("metadata") or {}).get("name", "?")
    stores = []
    for key, value in (secret.get("data") or {}).items():
        if key not in (".dockerconfigjson", ".dockercfg"):
            continue
        try:
            raw = base64.b64decode(value)
            stores.append(
                CredentialStore.from_docker_config(raw, source=f"secret {namespace}/{name}")
            )
        except (ValueError, TypeError, CredentialsError) as err:
            log.warning("skipping pull secret %s/%s: %s", namespace, name, err)
            problems.append(f"pull secret {name} ({key}) was skipped: {_short(err)}")
    return stores


def _short(err: Exception) -> str:
    """An error's first line, bounded: what a status condition can carry."""
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:200]


def unreadable_secrets_message(namespace: str) -> str:
    """What an import says when the controller may not list the namespace's secrets."""
    return (
        f"kbuild may not read the pull secrets of namespace {namespace}; to let imports use "
        f"them, bind the ClusterRole {SECRETS_ROLE} to kbuild's controller in {namespace}: "
        f"kubectl create rolebinding kbuild-pull-secrets -n {namespace} "
        f"--clusterrole={SECRETS_ROLE} --serviceaccount=kbuild-system:kbuild-controller"
    )


def _host(source: str) -> str:
    try:
        return ImageReference.parse(source).registry
    except InvalidReferenceError:
        return ""


class Importer:
    def __init__(
        self,
        kube: Kube,
        config: ControllerConfig,
        bucket: TokenBucket,
        *,
        authorizer: Authorizer,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.authorizer = authorizer
        self.config = config
        self.bucket = bucket
        self._clock = clock
        self._credentials: dict[str, tuple[float, CredentialStore, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    # -- credentials ---------------------------------------------------------

    def credentials(self, namespace: str) -> CredentialStore:
        """The namespace's pull secrets as one store, re-read at most every 30 s.

        Only secrets of a pull-secret type are listed (a field selector on
        ``type``), so the controller never reads the namespace's other
        secrets.  The controller's own credentials are not in this store:
        see ``_controller_credentials``.

        The controller may list secrets only in namespaces that bound
        ``SECRETS_ROLE`` to it (deploy/rbac.yaml); elsewhere the list is
        forbidden and the import runs without secrets.  That is said, not
        swallowed: ``secret_problems`` keeps it for the failure message.
        """
        with self._lock:
            cached = self._credentials.get(namespace)
            if cached is not None and self._clock() - cached[0] < CREDENTIALS_TTL:
                return cached[1]
        stores: list[CredentialStore] = []
        problems: list[str] = []
        for secret_type in SECRET_TYPES:
            try:
                secrets = self.kube.list_secrets(namespace, field_selector=f"type={secret_type}")
            except KubeError as err:
                log.warning("cannot list pull secrets in %s: %s", namespace, err)
                message = (
                    unreadable_secrets_message(namespace)
                    if err.status == 403
                    else f"listing the pull secrets of {namespace} failed: {_short(err)}"
                )
                if message not in problems:
                    problems.append(message)
                continue
            for secret in secrets:
                stores.extend(_secret_stores(namespace, secret, problems))
        store = CredentialStore.merge(stores)
        with self._lock:
            self._credentials[namespace] = (self._clock(), store, tuple(problems))
        return store

    def secret_problems(self, namespace: str) -> tuple[str, ...]:
        """Why the namespace's pull secrets were (partly) not used, as last read."""
        with self._lock:
            cached = self._credentials.get(namespace)
        return cached[2] if cached is not None else ()

    def _controller_credentials(self, namespaces: set[str]) -> CredentialStore:
        """The controller's own credentials, for its registry's ``<ns>/`` paths only.

        Merging them into every import would let a tenant with no secret
        import any repository the controller can read (a confused deputy).
        The caller passes the namespaces whose images the importing namespace
        may read: its own, and those a SubjectAccessReview allowed.
        """
        try:
            own = CredentialStore.from_environment()
        except CredentialsError as err:
            log.warning("ignoring the controller's registry credentials: %s", err)
            return CredentialStore()
        registry = self.config.registry
        return CredentialStore.merge(
            own.scoped(registry, f"{ns}/") for ns in sorted(namespaces) if registry
        )

    def readable_namespaces(self, namespace: str, sources: Sequence[str]) -> set[str]:
        """Namespaces of the controller's registry whose images ``namespace`` may read."""
        allowed = {namespace}
        identity = Identity(namespace, DEFAULT_SERVICE_ACCOUNT)
        for source in sources:
            other = registry_namespace(self.config.registry, source)
            if (
                other is not None
                and other not in allowed
                and self.authorizer.allowed(identity, "get", other)
            ):
                allowed.add(other)
        return allowed

    def _client(
        self, namespace: str, insecure_hosts: set[str], sources: Sequence[str] = ()
    ) -> RegistryClient:
        # The namespace's own secrets first: for equal keys the earlier store wins.
        credentials = CredentialStore.merge([
            self.credentials(namespace),
            self._controller_credentials(self.readable_namespaces(namespace, sources)),
        ])  # fmt: skip
        return RegistryClient(
            credentials=credentials,
            insecure=sorted(insecure_hosts | set(self.config.insecure_registries)),
            timeout=(5.0, 20.0),
        )

    # -- importing -----------------------------------------------------------

    def _failure(self, namespace: str, tag: str, err: BuildError, message: str) -> ImportOutcome:
        """A typed failure; an authorization failure also says why secrets were not used."""
        reason = failure_reason(err)
        if reason == "Unauthorized":
            message = "; ".join([message, *self.secret_problems(namespace)])
        return ImportOutcome(tag, reason=reason, message=message)

    def _one(self, namespace: str, client: RegistryClient, request: ImportRequest) -> ImportOutcome:
        self.bucket.take()
        try:
            info = client.resolve(request.source, request.platform)
        except BuildError as err:
            return self._failure(namespace, request.tag, err, err.detail)
        digest = info.top_digest if request.whole_list else info.digest
        reference = f"{info.reference.name}@{digest}"
        if request.mirror_to:
            try:
                if not client.exists(f"{request.mirror_to}@{digest}"):
                    client.copy(reference, request.mirror_to)
            except BuildError as err:
                return self._failure(
                    namespace,
                    request.tag,
                    err,
                    f"copying {reference} into {request.mirror_to} failed: {err.detail}",
                )
        return ImportOutcome(
            request.tag, reference=reference, digest=digest, top_digest=info.top_digest
        )

    def run(self, namespace: str, requests: Sequence[ImportRequest]) -> list[ImportOutcome]:
        """Import every request; outcomes come back in the order asked."""
        if not requests:
            return []
        workers = max(1, min(self.config.import_workers, len(requests)))
        shares = [list(requests[i::workers]) for i in range(workers)]

        def work(share: list[ImportRequest]) -> list[ImportOutcome]:
            hosts = {_host(r.source) for r in share if r.insecure} - {""}
            hosts |= {split_host_port(h)[0] for h in hosts}
            client = self._client(namespace, hosts, [r.source for r in share])
            try:
                return [self._one(namespace, client, r) for r in share]
            finally:
                client.close()

        if workers == 1:
            done = work(shares[0])
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="import") as pool:
                done = [o for outcomes in pool.map(work, shares) for o in outcomes]
        by_tag = {o.tag: o for o in done}
        return [by_tag[r.tag] for r in requests]

    def repository_tags(
        self, namespace: str, repository: str, insecure: bool
    ) -> tuple[list[str], ImportOutcome | None]:
        """The tags of a repository to import (``spec.dockerImageRepository``), or a failure."""
        hosts = {_host(repository)} - {""} if insecure else set()
        client = self._client(namespace, hosts, [repository])
        try:
            self.bucket.take()
            tags = client.list_tags(repository, limit=MAX_REPOSITORY_TAGS)
        except BuildError as err:
            return [], self._failure(namespace, "", err, err.detail)
        finally:
            client.close()
        return tags, None
