"""Who may do what across namespaces: SubjectAccessReviews for the controller's acts.

The controller holds cluster-wide rights, so every act it does for one
namespace on the images of another must first be allowed for an identity of
the first namespace, exactly as OpenShift decides it (the table is in
docs/security.md):

- reading an image of namespace B (a build input, a spec tag ``from`` B, a
  workload trigger naming B's stream, the controller's registry credentials
  used for a path under ``B/``) needs ``get`` on ``imagestreams/layers`` in B,
  what OpenShift's ``system:image-puller`` role grants;
- writing a tag of namespace B (a build's output) needs ``update`` on
  ``imagestreams/layers`` in B, what ``system:image-builder`` grants.

The identity is a service account of the acting namespace, with the groups the
API server gives service accounts, so a RoleBinding to the service account,
to ``system:serviceaccounts:A`` (what ``oc policy add-role-to-group
system:image-puller system:serviceaccounts:A -n B`` writes) or to every
service account all count.  Acts within one namespace need no review: the
tenant could do them itself.

Answers are cached for a few seconds: a fan-out of 100 builds from one tag
asks once, a revoked RoleBinding takes effect within ``TTL`` seconds and a
new one within ``DENIAL_TTL``.
An API error is not a denial: it propagates, and the caller retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from builder.api import BuildConfig, BuildError, StatusReason
from builder.kube import Kube

IMAGE_GROUP = "image.openshift.io"
LAYERS = "imagestreams"
LAYERS_SUBRESOURCE = "layers"
TTL = 10.0
# A denial is remembered for less time: the usual next step is a RoleBinding.
DENIAL_TTL = 2.0
# The service account a namespace's spec tags are checked for.
DEFAULT_SERVICE_ACCOUNT = "default"


@dataclass(frozen=True)
class Identity:
    """A service account, as the API server would authenticate it."""

    namespace: str
    name: str

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"

    @property
    def groups(self) -> list[str]:
        return [
            "system:serviceaccounts",
            f"system:serviceaccounts:{self.namespace}",
            "system:authenticated",
        ]


class AccessDeniedError(BuildError):
    """A cross-namespace act the acting identity may not do.

    A BuildError so that builds end with OpenShift's reason for the role
    (``InvalidImageReference`` for inputs, ``InvalidOutputReference`` for
    outputs); image stream conditions and workload events say ``Forbidden``.
    """

    def __init__(self, reason: StatusReason, identity: Identity, verb: str, namespace: str) -> None:
        self.identity = identity
        self.verb = verb
        self.namespace = namespace
        super().__init__(
            reason,
            f"forbidden: {identity.user} may not {verb} imagestreams/layers in namespace "
            f"{namespace!r} (grant it with a RoleBinding to system:image-"
            f"{'puller' if verb == 'get' else 'builder'} in {namespace!r})",
        )


class Authorizer:
    """SubjectAccessReviews with a short cache; thread-safe (workers share one)."""

    def __init__(self, kube: Kube, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.kube = kube
        self._clock = clock
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str, str], tuple[float, bool]] = {}

    def allowed(self, identity: Identity, verb: str, namespace: str) -> bool:
        """May ``identity`` ``verb`` imagestreams/layers in ``namespace``?"""
        if identity.namespace == namespace:
            return True
        key = (identity.user, verb, namespace)
        now = self._clock()
        with self._lock:
            cached = self._answers.get(key)
            if cached is not None and now - cached[0] < (TTL if cached[1] else DENIAL_TTL):
                return cached[1]
            # Bounded: expired answers go when the cache grows past a few thousand.
            if len(self._answers) > 4096:
                self._answers = {k: v for k, v in self._answers.items() if now - v[0] < TTL}
        allowed, _ = self.kube.access_review(
            identity.user,
            identity.groups,
            {
                "namespace": namespace,
                "verb": verb,
                "group": IMAGE_GROUP,
                "resource": LAYERS,
                "subresource": LAYERS_SUBRESOURCE,
            },
        )
        with self._lock:
            self._answers[key] = (now, allowed)
        return allowed

    def check_read(self, identity: Identity, namespace: str, reason: StatusReason) -> None:
        """Raise AccessDeniedError unless ``identity`` may pull images of ``namespace``."""
        if not self.allowed(identity, "get", namespace):
            raise AccessDeniedError(reason, identity, "get", namespace)

    def check_write(self, identity: Identity, namespace: str, reason: StatusReason) -> None:
        """Raise AccessDeniedError unless ``identity`` may push images to ``namespace``."""
        if not self.allowed(identity, "update", namespace):
            raise AccessDeniedError(reason, identity, "update", namespace)


def build_identity(namespace: str, service_account: str, default: str) -> Identity:
    """The identity a Build acts as: the service account its pod runs as.

    ``spec.serviceAccount``, else the controller's default (``default``:
    plain namespaces have no ``builder`` account; OpenShift's is ``builder``).
    """
    return Identity(namespace, service_account or default)


def build_config_reader(
    authorizer: Authorizer, default_service_account: str
) -> Callable[[BuildConfig, str], bool]:
    """May the builds of a BuildConfig read images of a namespace? (for ``instantiate``)."""

    def readable(bc: BuildConfig, namespace: str) -> bool:
        identity = build_identity(
            bc.metadata.namespace, bc.spec.service_account, default_service_account
        )
        return authorizer.allowed(identity, "get", namespace)

    return readable


def registry_namespace(registry: str, pull_spec: str) -> str | None:
    """The namespace a pull spec of the controller's registry belongs to, else None.

    Images in the controller's registry live at ``<registry>/<namespace>/<stream>``.
    """
    prefix = registry.rstrip("/") + "/"
    if not registry or not pull_spec.startswith(prefix):
        return None
    namespace, sep, _ = pull_spec[len(prefix) :].partition("/")
    return namespace if sep and namespace else None


__all__ = [
    "DEFAULT_SERVICE_ACCOUNT",
    "AccessDeniedError",
    "Authorizer",
    "Identity",
    "build_config_reader",
    "build_identity",
    "registry_namespace",
]
