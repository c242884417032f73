"""The only code in kbuild that talks to the Kubernetes API server.

Custom resources come and go as the pydantic models of ``builder.api``;
everything else (pods, events, leases, secrets) as plain dicts.  Every
request goes through ``Kube.call`` (counted, timed out, its failure
translated to ``builder.kube.errors``) over ``builder.kube.rest``, which
holds the connection and the credentials.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from builder.kube.errors import KubeError, classify
from builder.kube.resources import (
    BUILD_CONFIGS,
    BUILDS,
    DEPLOYMENT_CONFIGS,
    IMAGE_STREAMS,
    ApiResource,
    CoreResource,
    CustomResource,
)
from builder.kube.rest import ConfigError, Rest, StreamRefused, load_incluster, load_kubeconfig

if TYPE_CHECKING:
    from builder.api import Build, BuildConfig, ImageStream, ManifestError
    from builder.api.apps import DeploymentConfig

log = logging.getLogger(__name__)

M = TypeVar("M", "Build", "BuildConfig", "ImageStream", "DeploymentConfig")
T = TypeVar("T")

# A watch is closed by the server after this long and re-opened by the
# caller; short enough that a silently dead connection is noticed.
WATCH_TIMEOUT_SECONDS = 300
# A watch that has sent nothing (not even a bookmark) for this long past its
# own timeout is a dead connection.
WATCH_READ_SLACK_SECONDS = 60


class Unreachable(KubeError):  # noqa: N818 - like the other API outcomes
    """No answer from the API server: connection, TLS or timeout failure."""


def _unreachable(exc: BaseException) -> Unreachable:
    return Unreachable(0, f"cannot reach the API server: {exc or type(exc).__name__}")


# Every request that is not a stream has a client-side timeout: an API server
# that accepts a connection and never answers must not hold a worker (or the
# lease thread) forever.  Watches and log follows set their own.
REQUEST_TIMEOUT_SECONDS = 60.0


Request = tuple[str, str]
"""(verb, resource) of one API request, as the API server's audit log names them:
``("get", "builds")``, ``("update", "builds/status")``, ``("watch", "pods")``."""


class RequestCounter:
    """API requests this process made, by verb and resource.

    What a controller costs the API server, counted where every request
    passes: the controller logs it each minute and exports it on /metrics
    (``kbuild_api_requests_total``).  Watches are counted when opened, as
    verb ``watch``.
    """

    def __init__(self) -> None:
        self._counts: dict[Request, int] = {}
        self._lock = threading.Lock()

    def add(self, verb: str, resource: str) -> None:
        with self._lock:
            key = (verb, resource)
            self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self) -> dict[Request, int]:
        with self._lock:
            return dict(self._counts)

    def total(self, *, watches: bool = False) -> int:
        with self._lock:
            return sum(n for (verb, _), n in self._counts.items() if watches or verb != "watch")


REQUESTS = RequestCounter()


_HTTP_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def path_request(method: str, path: str) -> Request:
    """(verb, resource) of a request by URL path: ``PATCH /apis/g/v/namespaces/ns/builds/x``
    is ``("patch", "builds")``; a group version's own path is discovery."""
    parts = [p for p in path.split("?", maxsplit=1)[0].split("/") if p]
    parts = parts[2:] if parts[:1] == ["api"] else parts[3:]
    if len(parts) >= 3 and parts[0] == "namespaces":
        parts = parts[2:]
    if not parts:
        return "get", "discovery"
    if method == "GET":
        verb = "get" if len(parts) > 1 else "list"
    else:
        verb = _HTTP_VERBS.get(method, method.lower())
    return verb, "/".join(parts[:1] + parts[2:3])


@dataclass(frozen=True)
class WatchEvent(Generic[T]):
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    # None for BOOKMARK, which only moves the resourceVersion forward.
    object: T | None
    resource_version: str


InvalidHandler = Callable[[dict[str, Any], "ManifestError"], None]
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


class CustomResources(Generic[M]):
    """Typed access to one custom resource kind.

    The CRD schema cannot express every rule of the models (a quantity's
    grammar, cross-field rules), so the API server may store an object the
    model refuses.  One such object must not stop a list or a watch for every
    other tenant: lists and watches skip it and hand it to ``on_invalid``
    (the controller records an event on it); ``get`` raises ``ManifestError``.
    """

    def __init__(self, api: Api, resource: CustomResource, model: type[M]) -> None:
        self._api = api
        self.resource = resource
        self.model: type[M] = model
        self.on_invalid: InvalidHandler | None = None

    def _parse_or_report(self, data: Any) -> M | None:
        from builder.api import ManifestError  # noqa: PLC0415 - the models load on first use

        try:
            return self._parse(data)
        except ManifestError as err:
            meta = data.get("metadata", {}) if isinstance(data, dict) else {}
            log.warning(
                "skipping invalid %s %s/%s: %s",
                self.resource.kind, meta.get("namespace", ""), meta.get("name", ""), err,
            )  # fmt: skip
            if self.on_invalid is not None and isinstance(data, dict):
                self.on_invalid(data, err)
            return None

    def _parse(self, data: Any) -> M:
        from builder.api import parse_as  # noqa: PLC0415

        parsed: M = parse_as(self.model, data)
        return parsed

    def _path(self, namespace: str | None, name: str | None = None, sub: str = "") -> str:
        return self.resource.path(namespace, name, sub)

    def get(self, namespace: str, name: str) -> M:
        return self._parse(self._api.call("GET", self._path(namespace, name)))

    def list(self, namespace: str | None = None, label_selector: str = "") -> tuple[list[M], str]:
        query = [("labelSelector", label_selector)] if label_selector else []
        data = self._api.call("GET", self._path(namespace or None), query)
        items = [m for item in data.get("items", []) if (m := self._parse_or_report(item))]
        return items, str(data.get("metadata", {}).get("resourceVersion", ""))

    def _body(self, obj: M) -> dict[str, Any]:
        from builder.api import dump  # noqa: PLC0415

        body = dump(obj)
        body["apiVersion"] = self.resource.api_version
        body["kind"] = self.resource.kind
        return body

    def create(self, obj: M) -> M:
        path = self._path(obj.metadata.namespace)
        return self._parse(self._api.call("POST", path, body=self._body(obj)))

    def replace(self, obj: M) -> M:
        """Update spec and metadata; fails with Conflict if the object changed."""
        path = self._path(obj.metadata.namespace, obj.metadata.name)
        return self._parse(self._api.call("PUT", path, body=self._body(obj)))

    def replace_status(self, obj: M) -> M:
        """Update status only (the status subresource); Conflict if it changed."""
        path = self._path(obj.metadata.namespace, obj.metadata.name, "status")
        return self._parse(self._api.call("PUT", path, body=self._body(obj)))

    def patch_metadata(self, namespace: str, name: str, metadata: dict[str, Any]) -> M:
        data = self._api.call(
            "PATCH", self._path(namespace, name), body={"metadata": metadata},
            content_type=MERGE_PATCH,
        )  # fmt: skip
        return self._parse(data)

    def delete(self, namespace: str, name: str) -> None:
        self._api.call("DELETE", self._path(namespace, name))

    def watch(
        self, namespace: str | None, resource_version: str, label_selector: str = ""
    ) -> Iterator[WatchEvent[M]]:
        raw = self._api.watch(self._path(namespace or None), resource_version, label_selector)
        for kind, data in raw:
            rv = str(data.get("metadata", {}).get("resourceVersion", ""))
            if kind == "BOOKMARK":
                yield WatchEvent(kind, None, rv)
                continue
            # An invalid object moves the resourceVersion like a bookmark.
            yield WatchEvent(kind, self._parse_or_report(data), rv)


class Api:
    """Requests as JSON: counted, timed out, failures as ``builder.kube.errors``."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest
        self.server_warnings: list[str] = []
        """``Warning`` headers of the answers, for the CLI to print."""
        self._lock = threading.Lock()

    def send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        *,
        content_type: str = JSON,
        accept: str = JSON,
    ) -> bytes:
        """One request; its body as sent, or the error the status means."""
        REQUESTS.add(*path_request(method, path))
        with _translated():
            reply = self.rest.call(
                method, path, query, body, content_type=content_type, accept=accept,
                timeout=REQUEST_TIMEOUT_SECONDS,
            )  # fmt: skip
        if reply.warnings:
            with self._lock:
                self.server_warnings.extend(_warning_text(w) for w in reply.warnings)
        if not 200 <= reply.status <= 299:
            raise classify(reply.status, reply.text() or reply.reason)
        return reply.body

    def call(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        *,
        content_type: str = JSON,
    ) -> dict[str, Any]:
        """One request whose answer is a JSON object."""
        payload = self.send(method, path, query, body, content_type=content_type)
        try:
            data = json.loads(payload) if payload else {}
        except ValueError:
            raise KubeError(0, f"the API server's answer is not JSON: {payload[:200]!r}") from None
        return data if isinstance(data, dict) else {}

    def watch(
        self, path: str, resource_version: str, label_selector: str = ""
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Raw watch events; a 410 (as an answer or as an ERROR event) raises Gone.

        Objects stay the JSON the server sent: kbuild reads few fields, and
        ``json.loads`` is the cheapest way to them.
        """
        REQUESTS.add("watch", path_request("GET", path)[1])
        query = [("watch", "true"), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", str(WATCH_TIMEOUT_SECONDS))]  # fmt: skip
        if resource_version:
            query.append(("resourceVersion", resource_version))
        if label_selector:
            query.append(("labelSelector", label_selector))
        lines = self.rest.stream(
            path, query, read_timeout=WATCH_TIMEOUT_SECONDS + WATCH_READ_SLACK_SECONDS
        )
        with _translated():
            try:
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        event = json.loads(line)
                    except ValueError:
                        raise KubeError(0, f"a watch event is not JSON: {line[:200]!r}") from None
                    kind = str(event.get("type", ""))
                    raw = event.get("object")
                    if kind == "ERROR":
                        code = int(raw.get("code", 0)) if isinstance(raw, dict) else 0
                        message = str(raw.get("message", "")) if isinstance(raw, dict) else str(raw)
                        raise classify(code, message) if code else KubeError(500, message)
                    if isinstance(raw, dict):
                        yield kind, raw
            finally:
                lines.close()

    def stream_text(self, path: str, query: list[tuple[str, str]]) -> Iterator[str]:
        """Lines of a followed text answer (a container's log) until the server ends it."""
        REQUESTS.add(*path_request("GET", path))
        lines = self.rest.stream(path, query, read_timeout=None, accept="*/*")
        with _translated():
            try:
                for line in lines:
                    yield line.decode(errors="replace").rstrip("\n")
            finally:
                lines.close()


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Failures below the API's answers as ``builder.kube.errors``: never a socket's exception.

    An unusable kubeconfig (a token file gone, an exec plugin failing), no
    connection, a timeout, TLS, or a malformed HTTP answer are ``Unreachable``;
    a stream the server refused is the error its status means.
    """
    try:
        yield
    except StreamRefused as refused:
        raise classify(refused.reply.status, refused.reply.text()) from None
    except ConfigError as err:
        raise Unreachable(0, str(err)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _unreachable(exc) from None


PODS = ApiResource("v1", "Pod", "pods", True)
SECRETS = ApiResource("v1", "Secret", "secrets", True)
EVENTS = ApiResource("v1", "Event", "events", True)
LEASES = ApiResource("coordination.k8s.io/v1", "Lease", "leases", True)
MUTATING_WEBHOOKS = ApiResource(
    "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration",
    "mutatingwebhookconfigurations", False,
)  # fmt: skip
SUBJECT_ACCESS_REVIEWS = ApiResource(
    "authorization.k8s.io/v1", "SubjectAccessReview", "subjectaccessreviews", False
)


class Kube:
    """One connection to one API server."""

    def __init__(self, api: Api, namespace: str = "") -> None:
        self.api = api
        self.namespace = namespace
        """The kubeconfig context's namespace (or the pod's own), empty if it names none."""
        self._discovered: dict[str, dict[str, ApiResource]] = {}

    # The models are loaded when a verb first reads a kind, not on connect:
    # ``kbuild get pods`` and ``kbuild apply`` of a Service never build them.

    @functools.cached_property
    def build_configs(self) -> CustomResources[BuildConfig]:
        from builder.api import BuildConfig  # noqa: PLC0415

        return CustomResources(self.api, BUILD_CONFIGS, BuildConfig)

    @functools.cached_property
    def builds(self) -> CustomResources[Build]:
        from builder.api import Build  # noqa: PLC0415

        return CustomResources(self.api, BUILDS, Build)

    @functools.cached_property
    def image_streams(self) -> CustomResources[ImageStream]:
        from builder.api import ImageStream  # noqa: PLC0415

        return CustomResources(self.api, IMAGE_STREAMS, ImageStream)

    @functools.cached_property
    def deployment_configs(self) -> CustomResources[DeploymentConfig]:
        from builder.api.apps import DeploymentConfig  # noqa: PLC0415

        return CustomResources(self.api, DEPLOYMENT_CONFIGS, DeploymentConfig)

    @property
    def server_warnings(self) -> list[str]:
        """``Warning`` headers of the answers so far, for the CLI to print (and clear)."""
        return self.api.server_warnings

    @property
    def live(self) -> Kube:
        """The API server itself (a cache-reading client's differs: ``builder.kube.cached``)."""
        return self

    @classmethod
    def connect(cls, kubeconfig: str | None = None, context: str | None = None) -> Kube:
        """In-cluster when running in a pod, else ``kubeconfig`` / ``$KUBECONFIG``.

        A kubeconfig that cannot be used is ``Unreachable`` with the reason.
        """
        try:
            if (
                kubeconfig is None
                and os.environ.get("KUBERNETES_SERVICE_HOST")
                and not os.environ.get("KUBECONFIG")
            ):
                endpoint = load_incluster()
            else:
                endpoint = load_kubeconfig(kubeconfig, context)
            return cls(Api(Rest(endpoint)), endpoint.namespace)
        except ConfigError as err:
            raise Unreachable(0, str(err)) from None

    # -- pods -----------------------------------------------------------------

    def create_pod(self, namespace: str, pod: dict[str, Any]) -> dict[str, Any]:
        return self.api.call("POST", PODS.path(namespace, None), body=pod)

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return self.api.call("GET", PODS.path(namespace, name))

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        body = None if grace_seconds is None else {"gracePeriodSeconds": grace_seconds}
        self.api.call("DELETE", PODS.path(namespace, name), body=body)

    def list_pods(
        self, namespace: str | None, label_selector: str
    ) -> tuple[list[dict[str, Any]], str]:
        query = [("labelSelector", label_selector)] if label_selector else []
        data = self.api.call("GET", PODS.path(namespace, None), query)
        return list(data.get("items", [])), str(data.get("metadata", {}).get("resourceVersion", ""))

    def watch_pods(
        self, namespace: str | None, label_selector: str, resource_version: str
    ) -> Iterator[WatchEvent[dict[str, Any]]]:
        raw = self.api.watch(PODS.path(namespace, None), resource_version, label_selector)
        for kind, data in raw:
            rv = str(data.get("metadata", {}).get("resourceVersion", ""))
            yield WatchEvent(kind, None if kind == "BOOKMARK" else data, rv)

    def pod_log(
        self,
        namespace: str,
        name: str,
        container: str,
        *,
        follow: bool = False,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        timestamps: bool = False,
    ) -> Iterator[str]:
        """Log lines of one container; with ``follow`` until the container ends.

        ``tail_lines``, ``since_seconds`` and ``timestamps`` are the log
        endpoint's own options (``kubectl logs --tail --since --timestamps``).
        """
        query = [("container", container)]
        if tail_lines is not None and tail_lines >= 0:
            query.append(("tailLines", str(tail_lines)))
        if since_seconds is not None:
            query.append(("sinceSeconds", str(since_seconds)))
        if timestamps:
            query.append(("timestamps", "true"))
        path = PODS.path(namespace, name) + "/log"
        if not follow:
            text = self.api.send("GET", path, query, accept="*/*")
            yield from text.decode(errors="replace").splitlines()
            return
        yield from self.api.stream_text(path, [*query, ("follow", "true")])

    # -- workloads and services (plain dicts) ---------------------------------

    def get_object(self, resource: CoreResource, namespace: str, name: str) -> dict[str, Any]:
        return self.api.call("GET", resource.path(namespace, name))

    def list_objects(
        self, resource: CoreResource, namespace: str | None, label_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        query = [("labelSelector", label_selector)] if label_selector else []
        data = self.api.call("GET", resource.path(namespace), query)
        items = list(data.get("items", []))
        for item in items:  # list items carry no kind; callers want whole objects
            item.setdefault("kind", resource.kind)
            item.setdefault("apiVersion", resource.api_version)
        return items, str(data.get("metadata", {}).get("resourceVersion", ""))

    def watch_objects(
        self,
        resource: CoreResource,
        namespace: str | None,
        resource_version: str,
        label_selector: str = "",
    ) -> Iterator[WatchEvent[dict[str, Any]]]:
        raw = self.api.watch(resource.path(namespace), resource_version, label_selector)
        for kind, data in raw:
            rv = str(data.get("metadata", {}).get("resourceVersion", ""))
            if kind != "BOOKMARK":  # watch events carry kind; keep lists and watches alike
                data.setdefault("kind", resource.kind)
                data.setdefault("apiVersion", resource.api_version)
            yield WatchEvent(kind, None if kind == "BOOKMARK" else data, rv)

    def patch_object(
        self, resource: CoreResource, namespace: str, name: str, patch: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A JSON patch (RFC 6902); its ``test`` operations make it a compare-and-swap."""
        return self.api.call(
            "PATCH", resource.path(namespace, name), body=patch, content_type=JSON_PATCH
        )

    def create_object(
        self, resource: CoreResource, namespace: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.api.call("POST", resource.path(namespace), body=body)

    def delete_object(self, resource: CoreResource, namespace: str, name: str) -> None:
        """Delete with background propagation: the garbage collector removes dependents."""
        self.api.call(
            "DELETE", resource.path(namespace, name),
            body={"propagationPolicy": "Background"},
        )  # fmt: skip

    # -- any kind, as kubectl apply and create reach it ---------------------

    def resource_for(self, api_version: str, kind: str) -> ApiResource | None:
        """The resource serving ``kind`` in ``api_version``, from discovery; None if not served.

        Discovery is read once per group version (``/api/v1``, ``/apis/G/V``),
        as kubectl's RESTMapper does.
        """
        if api_version not in self._discovered:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            try:
                data = self.api.call("GET", path)
            except KubeError as err:
                if err.status != 404:
                    raise
                data = {}
            found: dict[str, ApiResource] = {}
            for entry in data.get("resources") or []:
                name = str(entry.get("name") or "")
                if not name or "/" in name:  # subresources (builds/log, .../status)
                    continue
                resource = ApiResource(
                    api_version, str(entry.get("kind") or ""), name, bool(entry.get("namespaced"))
                )
                found.setdefault(resource.kind, resource)
            self._discovered[api_version] = found
        return self._discovered[api_version].get(kind)

    def get_raw(self, resource: ApiResource, namespace: str | None, name: str) -> dict[str, Any]:
        return self.api.call("GET", resource.path(namespace, name))

    def list_raw(
        self, resource: ApiResource, namespace: str | None, label_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """A collection as JSON (``kbuild get templates``); items get their kind back."""
        query = [("labelSelector", label_selector)] if label_selector else []
        data = self.api.call("GET", resource.path(namespace, None), query)
        items = [i for i in data.get("items") or [] if isinstance(i, dict)]
        for item in items:
            item.setdefault("kind", resource.kind)
            item.setdefault("apiVersion", resource.api_version)
        return items, str(data.get("metadata", {}).get("resourceVersion", ""))

    def apply_raw(
        self,
        resource: ApiResource,
        namespace: str | None,
        name: str,
        body: dict[str, Any],
        *,
        field_manager: str,
        force: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Server-side apply (``kubectl apply --server-side``): the fields given are ours."""
        query = [("fieldManager", field_manager)]
        if force:
            query.append(("force", "true"))
        if dry_run:
            query.append(("dryRun", "All"))
        # JSON is YAML: the apply patch goes as JSON text.
        return self.api.call(
            "PATCH", resource.path(namespace, name), query, body, content_type=APPLY_PATCH
        )

    def create_raw(
        self,
        resource: ApiResource,
        namespace: str | None,
        body: dict[str, Any],
        *,
        field_manager: str,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        query = [("fieldManager", field_manager)]
        if dry_run:
            query.append(("dryRun", "All"))
        return self.api.call("POST", resource.path(namespace, None), query, body)

    # -- secrets and events --------------------------------------------------

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        return self.api.call("GET", SECRETS.path(namespace, name))

    def create_secret(self, namespace: str, secret: dict[str, Any]) -> dict[str, Any]:
        return self.api.call("POST", SECRETS.path(namespace, None), body=secret)

    def replace_secret(self, namespace: str, name: str, secret: dict[str, Any]) -> dict[str, Any]:
        """Replace; Conflict when its ``metadata.resourceVersion`` is no longer current."""
        return self.api.call("PUT", SECRETS.path(namespace, name), body=secret)

    def list_secrets(self, namespace: str, field_selector: str = "") -> list[dict[str, Any]]:
        query = [("fieldSelector", field_selector)] if field_selector else []
        return list(self.api.call("GET", SECRETS.path(namespace, None), query).get("items", []))

    def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.api.call("POST", EVENTS.path(namespace, None), body=event)

    def list_events(self, namespace: str, field_selector: str) -> list[dict[str, Any]]:
        query = [("fieldSelector", field_selector)] if field_selector else []
        return list(self.api.call("GET", EVENTS.path(namespace, None), query).get("items", []))

    # -- the admission webhook's configuration --------------------------------

    def get_webhook_config(self, name: str) -> dict[str, Any]:
        return self.api.call("GET", MUTATING_WEBHOOKS.path(None, name))

    def patch_webhook_config(self, name: str, patch: list[dict[str, Any]]) -> None:
        """A JSON patch of one MutatingWebhookConfiguration."""
        self.api.call(
            "PATCH", MUTATING_WEBHOOKS.path(None, name), body=patch, content_type=JSON_PATCH
        )

    # -- authorization --------------------------------------------------------

    def access_review(
        self,
        user: str,
        groups: list[str],
        resource_attributes: dict[str, str],
    ) -> tuple[bool, str]:
        """Ask the API server whether ``user`` may do what ``resource_attributes`` say.

        A SubjectAccessReview: the answer comes from the cluster's authorizers
        (RBAC), so a RoleBinding made by the namespace's admin is what grants a
        cross-namespace act.  Returns (allowed, the authorizer's reason).
        """
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "groups": groups, "resourceAttributes": resource_attributes},
        }
        data = self.api.call("POST", SUBJECT_ACCESS_REVIEWS.path(None, None), body=body)
        status = data.get("status") or {}
        reason = str(status.get("reason") or status.get("evaluationError") or "")
        return bool(status.get("allowed")) and not status.get("denied"), reason

    # -- leases ---------------------------------------------------------------

    def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        return self.api.call("GET", LEASES.path(namespace, name))

    def create_lease(self, namespace: str, lease: dict[str, Any]) -> dict[str, Any]:
        return self.api.call("POST", LEASES.path(namespace, None), body=lease)

    def replace_lease(self, namespace: str, name: str, lease: dict[str, Any]) -> dict[str, Any]:
        return self.api.call("PUT", LEASES.path(namespace, name), body=lease)


def _warning_text(header: str) -> str:
    """The text of an RFC 7234 ``Warning: 299 - "text"`` header, as kubectl prints it."""
    code, _, rest = header.partition(" ")
    agent, _, text = rest.partition(" ")
    if code.isdigit() and agent and text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('\\"', '"')
    return header


__all__ = [
    "REQUESTS",
    "Api",
    "CustomResources",
    "Kube",
    "Request",
    "RequestCounter",
    "Unreachable",
    "WatchEvent",
    "path_request",
]
