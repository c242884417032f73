"""The only code in kbuild that talks to the Kubernetes API server.

Custom resources come and go as the pydantic models of ``builder.api``;
everything else (pods, events, leases, secrets) as plain dicts.  Every API
error is translated to ``builder.kube.errors`` so callers never see the
client library's exception types.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import kubernetes as _kubernetes
import urllib3
from kubernetes.client.exceptions import ApiException

from builder.api import Build, BuildConfig, ImageStream, ManifestError, dump, parse_as
from builder.api.apps import DeploymentConfig
from builder.kube.errors import Gone, KubeError, classify
from builder.kube.resources import (
    BUILD_CONFIGS,
    BUILDS,
    DEPLOYMENT_CONFIGS,
    IMAGE_STREAMS,
    ApiResource,
    CoreResource,
    CustomResource,
)

log = logging.getLogger(__name__)

# The client library's annotations are partial and in places wrong (a
# streamed log is typed ``str``); we treat it as untyped and type our own edges.
kubernetes: Any = _kubernetes

M = TypeVar("M", Build, BuildConfig, ImageStream, DeploymentConfig)
T = TypeVar("T")

# A watch is closed by the server after this long and re-opened by the
# caller; short enough that a silently dead connection is noticed.
WATCH_TIMEOUT_SECONDS = 300


class Unreachable(KubeError):  # noqa: N818 - like the other API outcomes
    """No answer from the API server: connection, TLS or timeout failure."""


def _unreachable(exc: Exception) -> Unreachable:
    # urllib3 nests the cause; its last line is the useful one.
    reason = getattr(exc, "reason", None) or exc
    return Unreachable(0, f"cannot reach the API server: {reason}")


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
_PLURALS = frozenset({BUILD_CONFIGS.plural, BUILDS.plural, IMAGE_STREAMS.plural,
                      DEPLOYMENT_CONFIGS.plural})  # fmt: skip
# The client library's method names start with its verb; the API server's differ in two.
_VERBS = {"read": "get", "get": "get", "list": "list", "create": "create", "replace": "update",
          "patch": "patch", "delete": "delete", "watch": "watch"}  # fmt: skip
_SUBRESOURCES = ("status", "log")


def request_of(method: str, args: tuple[Any, ...] = (), plural: str = "") -> Request:
    """(verb, resource) of a client library call, from its name and arguments.

    ``replace_namespaced_custom_object_status`` with ``builds`` among its
    arguments is ``("update", "builds/status")``; ``read_namespaced_pod_log``
    is ``("get", "pods/log")``; ``list_pod_for_all_namespaces`` is
    ``("list", "pods")``.
    """
    verb, _, rest = method.partition("_")
    for scope in ("namespaced_", "cluster_"):
        rest = rest.removeprefix(scope)
    rest = rest.removesuffix("_for_all_namespaces")
    subresource = next((s for s in _SUBRESOURCES if rest.endswith(f"_{s}")), "")
    if subresource:
        rest = rest.removesuffix(f"_{subresource}")
    if rest == "custom_object":
        resource = plural or next((a for a in args if isinstance(a, str) and a in _PLURALS), "")
        resource = resource or "customobjects"
    else:
        resource = rest.replace("_", "") + "s" if rest else "unknown"
    return _VERBS.get(verb, verb), f"{resource}/{subresource}" if subresource else resource


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


def _call(fn: Callable[..., T], *args: Any, _counted_as: Request | None = None, **kwargs: Any) -> T:
    REQUESTS.add(*(_counted_as or request_of(str(getattr(fn, "__name__", "request")), args)))
    if kwargs.get("_preload_content", True):
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT_SECONDS)
    try:
        return fn(*args, **kwargs)
    except ApiException as exc:
        message = str(exc.body or exc.reason or "")
        raise classify(int(exc.status or 0), message) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _unreachable(exc) from None


@dataclass(frozen=True)
class WatchEvent(Generic[T]):
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    # None for BOOKMARK, which only moves the resourceVersion forward.
    object: T | None
    resource_version: str


class _RawWatch(kubernetes.watch.Watch):  # type: ignore[misc]
    """A watch whose events are not deserialised into the library's models."""

    def get_return_type(self, func: Any) -> None:
        del func


def _raw_list(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """A list call's JSON as sent, without the library's typed models."""
    kwargs["_preload_content"] = False
    kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT_SECONDS)
    response: Any = _call(fn, *args, **kwargs)
    data = json.loads(response.data or b"{}")
    return data if isinstance(data, dict) else {}


def _watch(
    list_fn: Callable[..., Any], resource_version: str, **kwargs: Any
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Stream raw watch events; a 410 (in either of its two shapes) raises Gone.

    Objects stay the JSON the server sent: the client library's typed models
    cost far more per object than ``json.loads`` and kbuild reads few fields.
    """
    _, resource = request_of(str(getattr(list_fn, "__name__", "")), (), kwargs.get("plural", ""))
    REQUESTS.add("watch", resource)
    watcher = _RawWatch()
    try:
        for event in watcher.stream(
            list_fn,
            resource_version=resource_version,
            timeout_seconds=WATCH_TIMEOUT_SECONDS,
            allow_watch_bookmarks=True,
            **kwargs,
        ):
            kind = str(event.get("type", ""))
            raw = event.get("raw_object") or event.get("object")
            if kind == "ERROR":
                code = int(raw.get("code", 0)) if isinstance(raw, dict) else 0
                message = str(raw.get("message", "")) if isinstance(raw, dict) else str(raw)
                raise classify(code, message) if code else KubeError(500, message)
            if isinstance(raw, dict):
                yield kind, raw
    except ApiException as exc:
        raise classify(int(exc.status or 0), str(exc.body or exc.reason or "")) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise _unreachable(exc) from None
    finally:
        watcher.stop()


InvalidHandler = Callable[[dict[str, Any], ManifestError], None]


class CustomResources(Generic[M]):
    """Typed access to one custom resource kind.

    The CRD schema cannot express every rule of the models (a quantity's
    grammar, cross-field rules), so the API server may store an object the
    model refuses.  One such object must not stop a list or a watch for every
    other tenant: lists and watches skip it and hand it to ``on_invalid``
    (the controller records an event on it); ``get`` raises ``ManifestError``.
    """

    def __init__(self, api: Any, resource: CustomResource, model: type[M]) -> None:
        self._api = api
        self.resource = resource
        self.model: type[M] = model
        self.on_invalid: InvalidHandler | None = None

    def _parse_or_report(self, data: Any) -> M | None:
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

    def _args(self) -> tuple[str, str]:
        return self.resource.group, self.resource.version

    def _parse(self, data: Any) -> M:
        parsed: M = parse_as(self.model, data)
        return parsed

    def get(self, namespace: str, name: str) -> M:
        group, version = self._args()
        data = _call(
            self._api.get_namespaced_custom_object,
            group, version, namespace, self.resource.plural, name,
        )  # fmt: skip
        return self._parse(data)

    def list(self, namespace: str | None = None, label_selector: str = "") -> tuple[list[M], str]:
        group, version = self._args()
        if namespace:
            data = _call(
                self._api.list_namespaced_custom_object,
                group, version, namespace, self.resource.plural, label_selector=label_selector,
            )  # fmt: skip
        else:
            data = _call(
                self._api.list_cluster_custom_object,
                group, version, self.resource.plural, label_selector=label_selector,
            )  # fmt: skip
        items = [m for item in data.get("items", []) if (m := self._parse_or_report(item))]
        return items, str(data.get("metadata", {}).get("resourceVersion", ""))

    def _body(self, obj: M) -> dict[str, Any]:
        body = dump(obj)
        body["apiVersion"] = self.resource.api_version
        body["kind"] = self.resource.kind
        return body

    def create(self, obj: M) -> M:
        group, version = self._args()
        data = _call(
            self._api.create_namespaced_custom_object,
            group, version, obj.metadata.namespace, self.resource.plural, self._body(obj),
        )  # fmt: skip
        return self._parse(data)

    def replace(self, obj: M) -> M:
        """Update spec and metadata; fails with Conflict if the object changed."""
        group, version = self._args()
        data = _call(
            self._api.replace_namespaced_custom_object,
            group, version, obj.metadata.namespace, self.resource.plural,
            obj.metadata.name, self._body(obj),
        )  # fmt: skip
        return self._parse(data)

    def replace_status(self, obj: M) -> M:
        """Update status only (the status subresource); Conflict if it changed."""
        group, version = self._args()
        data = _call(
            self._api.replace_namespaced_custom_object_status,
            group, version, obj.metadata.namespace, self.resource.plural,
            obj.metadata.name, self._body(obj),
        )  # fmt: skip
        return self._parse(data)

    def patch_metadata(self, namespace: str, name: str, metadata: dict[str, Any]) -> M:
        group, version = self._args()
        data = _call(
            self._api.patch_namespaced_custom_object,
            group, version, namespace, self.resource.plural, name, {"metadata": metadata},
        )  # fmt: skip
        return self._parse(data)

    def delete(self, namespace: str, name: str) -> None:
        group, version = self._args()
        _call(
            self._api.delete_namespaced_custom_object,
            group, version, namespace, self.resource.plural, name,
        )  # fmt: skip

    def watch(
        self, namespace: str | None, resource_version: str, label_selector: str = ""
    ) -> Iterator[WatchEvent[M]]:
        group, version = self._args()
        extra = {"label_selector": label_selector} if label_selector else {}
        if namespace:
            raw = _watch(
                self._api.list_namespaced_custom_object, resource_version,
                group=group, version=version, namespace=namespace, plural=self.resource.plural,
                **extra,
            )  # fmt: skip
        else:
            raw = _watch(
                self._api.list_cluster_custom_object, resource_version,
                group=group, version=version, plural=self.resource.plural, **extra,
            )  # fmt: skip
        for kind, data in raw:
            rv = str(data.get("metadata", {}).get("resourceVersion", ""))
            if kind == "BOOKMARK":
                yield WatchEvent(kind, None, rv)
                continue
            # An invalid object moves the resourceVersion like a bookmark.
            yield WatchEvent(kind, self._parse_or_report(data), rv)


class Kube:
    """One connection to one API server."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client
        custom = kubernetes.client.CustomObjectsApi(api_client)
        self.build_configs: CustomResources[BuildConfig] = CustomResources(
            custom, BUILD_CONFIGS, BuildConfig
        )
        self.builds: CustomResources[Build] = CustomResources(custom, BUILDS, Build)
        self.image_streams: CustomResources[ImageStream] = CustomResources(
            custom, IMAGE_STREAMS, ImageStream
        )
        self.deployment_configs: CustomResources[DeploymentConfig] = CustomResources(
            custom, DEPLOYMENT_CONFIGS, DeploymentConfig
        )
        self._discovered: dict[str, dict[str, ApiResource]] = {}
        self.server_warnings: list[str] = []
        """``Warning`` headers of the answers to the generic calls, for the CLI to print."""

    @property
    def live(self) -> Kube:
        """The API server itself (a cache-reading client's differs: ``builder.kube.cached``)."""
        return self

    # The client library's typed API classes import their (pydantic) models:
    # CoreV1Api alone costs most of a second. They are made on first use so
    # that ``kbuild get bc`` (custom objects only) does not pay for them.

    @functools.cached_property
    def core(self) -> Any:
        return kubernetes.client.CoreV1Api(self.api_client)

    @functools.cached_property
    def coordination(self) -> Any:
        return kubernetes.client.CoordinationV1Api(self.api_client)

    @functools.cached_property
    def authorization(self) -> Any:
        return kubernetes.client.AuthorizationV1Api(self.api_client)

    def _typed_api(self, name: str) -> Any:
        if name == "CoreV1Api":
            return self.core
        apis: dict[str, Any] = self.__dict__.setdefault("_typed", {})
        if name not in apis:
            apis[name] = getattr(kubernetes.client, name)(self.api_client)
        return apis[name]

    @classmethod
    def connect(cls, kubeconfig: str | None = None, context: str | None = None) -> Kube:
        """In-cluster when running in a pod, else ``kubeconfig`` / ``$KUBECONFIG``."""
        configuration = kubernetes.client.Configuration()
        if (
            kubeconfig is None
            and os.environ.get("KUBERNETES_SERVICE_HOST")
            and not os.environ.get("KUBECONFIG")
        ):
            kubernetes.config.load_incluster_config(client_configuration=configuration)
        else:
            kubernetes.config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=configuration
            )
        return cls(kubernetes.client.ApiClient(configuration))

    # -- pods -----------------------------------------------------------------

    def create_pod(self, namespace: str, pod: dict[str, Any]) -> dict[str, Any]:
        return self._dict(_call(self.core.create_namespaced_pod, namespace, pod))

    def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        return self._dict(_call(self.core.read_namespaced_pod, name, namespace))

    def delete_pod(self, namespace: str, name: str, grace_seconds: int | None = None) -> None:
        body = kubernetes.client.V1DeleteOptions(grace_period_seconds=grace_seconds)
        _call(self.core.delete_namespaced_pod, name, namespace, body=body)

    def list_pods(
        self, namespace: str | None, label_selector: str
    ) -> tuple[list[dict[str, Any]], str]:
        if namespace:
            data = _raw_list(
                self.core.list_namespaced_pod, namespace, label_selector=label_selector
            )
        else:
            data = _raw_list(self.core.list_pod_for_all_namespaces, label_selector=label_selector)
        return list(data.get("items", [])), str(data.get("metadata", {}).get("resourceVersion", ""))

    def watch_pods(
        self, namespace: str | None, label_selector: str, resource_version: str
    ) -> Iterator[WatchEvent[dict[str, Any]]]:
        if namespace:
            raw = _watch(
                self.core.list_namespaced_pod, resource_version,
                namespace=namespace, label_selector=label_selector,
            )  # fmt: skip
        else:
            raw = _watch(
                self.core.list_pod_for_all_namespaces, resource_version,
                label_selector=label_selector,
            )  # fmt: skip
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
        options: dict[str, Any] = {}
        if tail_lines is not None and tail_lines >= 0:
            options["tail_lines"] = tail_lines
        if since_seconds is not None:
            options["since_seconds"] = since_seconds
        if timestamps:
            options["timestamps"] = True
        if not follow:
            text = _call(
                self.core.read_namespaced_pod_log, name, namespace, container=container, **options
            )
            yield from str(text).splitlines()
            return
        response: Any = _call(
            self.core.read_namespaced_pod_log,
            name, namespace, container=container, follow=True, _preload_content=False, **options,
        )  # fmt: skip
        try:
            buffer = b""
            for chunk in response.stream(4096):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.decode(errors="replace")
            if buffer:
                yield buffer.decode(errors="replace")
        finally:
            response.release_conn()

    # -- workloads and services (plain dicts) ---------------------------------

    def _method(self, resource: CoreResource, verb: str) -> Callable[..., Any]:
        api = self._typed_api(resource.api)
        method: Callable[..., Any] = getattr(api, f"{verb}_{resource.suffix}")
        return method

    def get_object(self, resource: CoreResource, namespace: str, name: str) -> dict[str, Any]:
        return self._dict(_call(self._method(resource, "read_namespaced"), name, namespace))

    def list_objects(
        self, resource: CoreResource, namespace: str | None, label_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        api = self._typed_api(resource.api)
        if namespace:
            data = _raw_list(
                getattr(api, f"list_namespaced_{resource.suffix}"), namespace,
                label_selector=label_selector,
            )  # fmt: skip
        else:
            data = _raw_list(
                getattr(api, f"list_{resource.suffix}_for_all_namespaces"),
                label_selector=label_selector,
            )
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
        api = self._typed_api(resource.api)
        extra = {"label_selector": label_selector} if label_selector else {}
        if namespace:
            raw = _watch(
                getattr(api, f"list_namespaced_{resource.suffix}"), resource_version,
                namespace=namespace, **extra,
            )  # fmt: skip
        else:
            raw = _watch(
                getattr(api, f"list_{resource.suffix}_for_all_namespaces"), resource_version,
                **extra,
            )  # fmt: skip
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
        return self._dict(_call(self._method(resource, "patch_namespaced"), name, namespace, patch))

    def create_object(
        self, resource: CoreResource, namespace: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self._dict(_call(self._method(resource, "create_namespaced"), namespace, body))

    def delete_object(self, resource: CoreResource, namespace: str, name: str) -> None:
        """Delete with background propagation: the garbage collector removes dependents."""
        _call(
            self._method(resource, "delete_namespaced"), name, namespace,
            propagation_policy="Background",
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
                data = self._request("GET", path)
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
        return self._request("GET", resource.path(namespace, name))

    def list_raw(
        self, resource: ApiResource, namespace: str | None, label_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """A collection as JSON (``kbuild get templates``); items get their kind back."""
        query = [("labelSelector", label_selector)] if label_selector else []
        data = self._request("GET", resource.path(namespace, None), query)
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
        return self._request(
            "PATCH",
            resource.path(namespace, name),
            query,
            body,
            content_type="application/apply-patch+yaml",
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
        return self._request("POST", resource.path(namespace, None), query, body)

    def _request(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None = None,
        body: dict[str, Any] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        def call(_request_timeout: float | None = None) -> dict[str, Any]:
            # _call passes the request timeout every API call gets.
            headers = {"Accept": "application/json", "Content-Type": content_type}
            request = self.api_client.param_serialize(
                method=method,
                resource_path=path,
                query_params=query or [],
                header_params=headers,
                body=body,  # the client serialises it (JSON is YAML, for apply)
                auth_settings=["BearerToken"],
            )
            response = self.api_client.call_api(*request, _request_timeout=_request_timeout)
            response.read()
            text = (response.data or b"").decode(errors="replace")
            if not 200 <= response.status <= 299:
                raise ApiException(status=response.status, reason=response.reason, body=text)
            self.server_warnings.extend(_warnings(response.getheaders()))
            data = json.loads(text) if text else {}
            return data if isinstance(data, dict) else {}

        return _call(call, _counted_as=path_request(method, path))

    # -- secrets and events --------------------------------------------------

    def get_secret(self, namespace: str, name: str) -> dict[str, Any]:
        return self._dict(_call(self.core.read_namespaced_secret, name, namespace))

    def create_secret(self, namespace: str, secret: dict[str, Any]) -> dict[str, Any]:
        return self._dict(_call(self.core.create_namespaced_secret, namespace, secret))

    def list_secrets(self, namespace: str, field_selector: str = "") -> list[dict[str, Any]]:
        data = self._dict(
            _call(self.core.list_namespaced_secret, namespace, field_selector=field_selector)
        )
        return list(data.get("items", []))

    def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        _call(self.core.create_namespaced_event, namespace, event)

    def list_events(self, namespace: str, field_selector: str) -> list[dict[str, Any]]:
        data = self._dict(
            _call(self.core.list_namespaced_event, namespace, field_selector=field_selector)
        )
        return list(data.get("items", []))

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
        data = self._dict(_call(self.authorization.create_subject_access_review, body))
        status = data.get("status") or {}
        reason = str(status.get("reason") or status.get("evaluationError") or "")
        return bool(status.get("allowed")) and not status.get("denied"), reason

    # -- leases ---------------------------------------------------------------

    def get_lease(self, namespace: str, name: str) -> dict[str, Any]:
        return self._dict(_call(self.coordination.read_namespaced_lease, name, namespace))

    def create_lease(self, namespace: str, lease: dict[str, Any]) -> dict[str, Any]:
        return self._dict(_call(self.coordination.create_namespaced_lease, namespace, lease))

    def replace_lease(self, namespace: str, name: str, lease: dict[str, Any]) -> dict[str, Any]:
        return self._dict(_call(self.coordination.replace_namespaced_lease, name, namespace, lease))

    def _dict(self, obj: Any) -> dict[str, Any]:
        """Client models to JSON-shaped dicts (camelCase keys, RFC3339 times)."""
        if isinstance(obj, dict):
            return obj
        data = self.api_client.sanitize_for_serialization(obj)
        return data if isinstance(data, dict) else {}


def _warnings(headers: Any) -> list[str]:
    if headers is None:
        return []
    if hasattr(headers, "getlist"):
        values = headers.getlist("Warning")
    else:
        values = [headers["Warning"]] if "Warning" in headers else []
    return [_warning_text(str(v)) for v in values]


def _warning_text(header: str) -> str:
    """The text of an RFC 7234 ``Warning: 299 - "text"`` header, as kubectl prints it."""
    code, _, rest = header.partition(" ")
    agent, _, text = rest.partition(" ")
    if code.isdigit() and agent and text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('\\"', '"')
    return header


__all__ = [
    "REQUESTS",
    "CustomResources",
    "Gone",
    "Kube",
    "Request",
    "RequestCounter",
    "Unreachable",
    "WatchEvent",
    "path_request",
    "request_of",
]
