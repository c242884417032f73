"""The image-lookup admission webhook: which images resolve, for whom, and how it answers.

The rule (``builder.controller.admission.plan``) is table-driven here; the
tenancy cases use the fake API's RBAC table through the real Authorizer;
the HTTP cases run the real TLS server on a loopback port with a
certificate from ``admissioncert``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import socket
import ssl
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.api import ImageStream, parse_as
from builder.controller.admission import (
    POD_SPEC_PATHS,
    RESOLVE_NAMES_ANNOTATION,
    ImageLookupError,
    ReviewError,
    StreamName,
    decode_patch,
    parse_review,
    parse_short_name,
    plan,
)
from builder.controller.admissioncert import CertificateKeeper, generate, load_chain
from builder.controller.admissionserver import PATH, ImageLookupWebhook
from builder.controller.admissionsweep import REASON, LookupSweep
from builder.controller.authz import Authorizer
from builder.controller.metrics import serve
from builder.kube import KubeError, NotFound
from tests.unit.controller.tenancy_fake import FakeKube
from tests.unit.controller.test_admissioncert import MemoryStore

REG = "registry.test:5000"
DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64


def stream(namespace: str, name: str, *, local: bool = True, digest: str = DIGEST) -> ImageStream:
    return parse_as(
        ImageStream,
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"lookupPolicy": {"local": local}},
            "status": {
                "dockerImageRepository": f"{REG}/{namespace}/{name}",
                "tags": [
                    {
                        "tag": "latest",
                        "items": [
                            {
                                "created": "2026-01-01T00:00:00Z",
                                "dockerImageReference": f"{REG}/{namespace}/{name}@{digest}",
                                "image": digest,
                                "generation": 1,
                            }
                        ],
                    }
                ],
            },
        },
    )


STREAMS = {
    ("app", "myis"): stream("app", "myis"),
    ("app", "plain"): stream("app", "plain", local=False),
    ("base", "shared"): stream("base", "shared", digest=OTHER),
}


def streams(namespace: str, name: str) -> ImageStream | None:
    return STREAMS.get((namespace, name))


def pod(*images: str, annotations: dict[str, str] | None = None, sa: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]
    }
    if sa:
        spec["serviceAccountName"] = sa
    return {"metadata": {"annotations": annotations or {}}, "spec": spec}


def in_template(kind: str, pod_obj: dict[str, Any]) -> dict[str, Any]:
    template = {"metadata": pod_obj["metadata"], "spec": pod_obj["spec"]}
    if kind == "Pod":
        return pod_obj
    if kind == "CronJob":
        return {"spec": {"jobTemplate": {"spec": {"template": template}}}}
    return {"spec": {"template": template}}


def resolved_images(obj: dict[str, Any], kind: str, namespace: str = "app") -> dict[str, str]:
    result = plan(obj, kind, namespace, streams, lambda *_: False)
    return {r.image: r.resolved for r in result.resolutions}


MYIS = f"{REG}/app/myis@{DIGEST}"


@pytest.mark.parametrize(
    ("images", "annotations", "expected"),
    [
        (["myis:latest"], None, {"myis:latest": MYIS}),
        (["myis"], None, {"myis": MYIS}),
        (["myis:v2"], None, {}),  # the tag has no image
        (["plain:latest"], None, {}),  # the stream does not resolve local names
        (
            ["plain:latest"],
            {RESOLVE_NAMES_ANNOTATION: "*"},
            {"plain:latest": f"{REG}/app/plain@{DIGEST}"},
        ),
        (["plain:latest"], {RESOLVE_NAMES_ANNOTATION: "yes"}, {}),
        (["nothere:latest"], None, {}),
        (["docker.io/myis:latest"], None, {}),  # a registry host
        (["localhost/myis"], None, {}),
        (["registry.test:5000/app/myis:latest"], None, {}),
        (["myis@" + DIGEST], None, {}),  # already by digest
        (["MyIs:latest"], None, {}),
        ([MYIS], None, {}),  # resolved already: nothing to do
    ],
)
def test_which_images_of_a_pod_resolve(
    images: list[str], annotations: dict[str, str] | None, expected: dict[str, str]
) -> None:
    assert resolved_images(pod(*images, annotations=annotations), "Pod") == expected


@pytest.mark.parametrize("kind", sorted(POD_SPEC_PATHS))
def test_every_kind_with_a_pod_template_is_resolved_at_its_own_path(kind: str) -> None:
    obj = in_template(kind, pod("nginx:1", "myis:latest"))
    result = plan(obj, kind, "app", streams, lambda *_: False)
    (change,) = result.json_patch()
    assert change == {
        "op": "replace",
        "path": f"{POD_SPEC_PATHS[kind][0]}/containers/1/image",
        "value": MYIS,
    }


def test_init_containers_are_resolved_too() -> None:
    obj = pod("nginx:1")
    obj["spec"]["initContainers"] = [{"name": "init", "image": "myis"}]
    assert plan(obj, "Pod", "app", streams, lambda *_: False).json_patch() == [
        {"op": "replace", "path": "/spec/initContainers/0/image", "value": MYIS}
    ]


def test_the_annotation_on_a_pod_template_forces_resolution() -> None:
    obj = in_template("Deployment", pod("plain", annotations={RESOLVE_NAMES_ANNOTATION: "*"}))
    assert resolved_images(obj, "Deployment") == {"plain": f"{REG}/app/plain@{DIGEST}"}


@pytest.mark.parametrize(
    ("kind", "controller", "resolved"),
    [
        ("ReplicaSet", True, False),
        ("ReplicaSet", False, True),
        ("ReplicationController", True, False),
        ("Job", True, True),  # a CronJob's: its controller does not compare templates
        ("Pod", True, True),
    ],
)
def test_templates_a_controller_compares_are_left_to_their_owner(
    kind: str, controller: bool, resolved: bool
) -> None:
    """A Deployment whose ReplicaSet's template differs from its own makes another, forever."""
    obj = in_template(kind, pod("myis"))
    owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x", "uid": "u"}
    obj["metadata"] = {"ownerReferences": [{**owner, "controller": controller}]}
    assert bool(resolved_images(obj, kind)) is resolved


def test_kinds_without_a_pod_template_and_pods_without_a_namespace_are_left_alone() -> None:
    assert plan(pod("myis"), "Service", "app", streams, lambda *_: False).resolutions == []
    assert plan(pod("myis"), "Pod", "", streams, lambda *_: False).resolutions == []


# -- tenancy: another namespace's stream only if the pods' service account may read it


@pytest.mark.parametrize(
    ("grants", "sa", "resolved"),
    [
        (set(), "", False),
        ({("system:serviceaccounts:app", "get", "base")}, "", True),
        ({("system:serviceaccount:app:default", "get", "base")}, "", True),
        ({("system:serviceaccount:app:default", "get", "base")}, "runner", False),
        ({("system:serviceaccount:app:runner", "get", "base")}, "runner", True),
        ({("system:serviceaccounts:other", "get", "base")}, "", False),
    ],
)
def test_another_namespaces_stream_resolves_only_for_who_may_pull_from_it(
    grants: set[tuple[str, str, str]], sa: str, resolved: bool
) -> None:
    kube = FakeKube(grants)
    webhook = ImageLookupWebhook(_get, Authorizer(kube))  # type: ignore[arg-type]
    result = plan(pod("base/shared:latest", sa=sa), "Pod", "app", webhook.stream, webhook.may_read)
    assert bool(result.resolutions) is resolved
    if resolved:
        assert result.resolutions[0].resolved == f"{REG}/base/shared@{OTHER}"
        assert result.warnings == []
    else:
        (warning,) = result.warnings
        assert "may not get imagestreams/layers in namespace 'base'" in warning
    assert kube.reviews == [(f"system:serviceaccount:app:{sa or 'default'}", "get", "base")]


def test_the_own_namespace_asks_no_review() -> None:
    kube = FakeKube()
    webhook = ImageLookupWebhook(_get, Authorizer(kube))  # type: ignore[arg-type]
    result = plan(pod("myis", "app/myis"), "Pod", "app", webhook.stream, webhook.may_read)
    assert len(result.resolutions) == 2
    assert kube.reviews == []


def _get(namespace: str, name: str) -> ImageStream:
    found = streams(namespace, name)
    if found is None:
        raise NotFound(404, "no stream")
    return found


def test_an_api_error_admits_the_image_as_written_with_a_warning() -> None:
    def broken(namespace: str, name: str) -> ImageStream:
        raise KubeError(500, "etcd is down")

    webhook = ImageLookupWebhook(broken, Authorizer(FakeKube()))  # type: ignore[arg-type]
    result = plan(pod("myis"), "Pod", "app", webhook.stream, webhook.may_read)
    assert result.resolutions == []
    assert result.warnings == [
        "image 'myis' not resolved: reading image stream app/myis: 500: etcd is down"
    ]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("myis", StreamName("", "myis", "latest")),
        ("myis:v1.2", StreamName("", "myis", "v1.2")),
        ("base/myis:1", StreamName("base", "myis", "1")),
        ("a/b/c", None),
        ("host:5000/myis", None),
        ("my.host/myis", None),
        ("myis:", None),
        ("myis:bad/tag", None),
        ("", None),
        ("myis@sha256:" + "0" * 64, None),
    ],
)
def test_short_names(image: str, expected: StreamName | None) -> None:
    assert parse_short_name(image) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_image_string_parses_or_is_refused_without_raising(image: str) -> None:
    ref = parse_short_name(image)
    if ref is not None:
        assert "/" not in ref.name and ":" not in ref.name


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_body_is_a_review_or_a_review_error(body: bytes) -> None:
    with contextlib.suppress(ReviewError):
        parse_review(body)


@settings(max_examples=200, deadline=None)
@given(JSON, st.sampled_from(sorted(POD_SPEC_PATHS)))
def test_any_object_gets_a_plan_without_raising(obj: Any, kind: str) -> None:
    """What a tenant sends is admitted or patched, never a traceback."""
    wrapped = {"metadata": obj, "spec": {"template": {"spec": obj}, "containers": obj}}
    plan(wrapped, kind, "app", streams, lambda *_: False)
    plan(obj if isinstance(obj, dict) else {}, kind, "app", streams, lambda *_: False)


# -- the HTTP exchange, over TLS


def _review(obj: dict[str, Any], kind: str = "Pod", namespace: str = "app") -> bytes:
    return json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "req-1",
                "kind": {"group": "", "version": "v1", "kind": kind},
                "namespace": namespace,
                "operation": "CREATE",
                "object": obj,
            },
        }
    ).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tls_server() -> Any:
    bundle = generate(["localhost"], dt.datetime.now(dt.UTC))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    load_chain(context, bundle.cert, bundle.key)
    webhook = ImageLookupWebhook(_get, Authorizer(FakeKube()))  # type: ignore[arg-type]
    port = _free_port()
    server = serve(None, port, lambda: True, lambda: True, {PATH: webhook.handle},
                   name="admission-test", tls=context)  # fmt: skip
    client = ssl.create_default_context(cadata=bundle.ca.decode())
    yield port, client, bundle
    server.shutdown()
    server.server_close()


def _post(port: int, client: ssl.SSLContext, body: bytes, path: str = PATH) -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection("localhost", port, context=client, timeout=10)
    conn.request("POST", path, body, {"Content-Type": "application/json"})
    answer = conn.getresponse()
    return answer.status, answer.read()


def test_the_webhook_answers_a_review_with_a_json_patch_over_tls(tls_server: Any) -> None:
    port, client, _ = tls_server
    code, body = _post(port, client, _review(pod("nginx", "myis:latest")))
    assert code == 200
    answer = json.loads(body)["response"]
    assert answer["uid"] == "req-1"
    assert answer["allowed"] is True
    assert answer["patchType"] == "JSONPatch"
    assert decode_patch(body) == [
        {"op": "replace", "path": "/spec/containers/1/image", "value": MYIS}
    ]


def test_nothing_to_resolve_is_admitted_without_a_patch(tls_server: Any) -> None:
    port, client, _ = tls_server
    code, body = _post(port, client, _review(pod("nginx:1"), kind="Deployment"))
    assert code == 200
    assert json.loads(body)["response"] == {"uid": "req-1", "allowed": True}


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        (b"not json", PATH, 400),
        (b"{}", PATH, 400),
        (b'{"request": {"uid": ""}}', PATH, 400),
        (b"[]", PATH, 400),
        (_review(pod("myis")), "/other", 404),
    ],
)
def test_malformed_reviews_get_a_typed_4xx(
    tls_server: Any, body: bytes, path: str, code: int
) -> None:
    port, client, _ = tls_server
    assert _post(port, client, body, path)[0] == code


def test_plain_http_and_an_untrusted_client_get_no_answer_and_the_server_lives_on(
    tls_server: Any,
) -> None:
    port, client, _ = tls_server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"POST /admission/image-lookup HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}")
        assert b"HTTP/1" not in raw.recv(100)
    untrusting = ssl.create_default_context(
        cadata=generate(["localhost"], dt.datetime.now(dt.UTC)).ca.decode()
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        _post(port, untrusting, _review(pod("myis")))
    assert _post(port, client, _review(pod("myis")))[0] == 200


def test_a_rotated_certificate_is_served_to_new_connections() -> None:
    """The keeper loads a new pair into the context being served; no restart needed."""
    store = MemoryStore()
    now = dt.datetime.now(dt.UTC)
    clock = [now - dt.timedelta(days=300)]  # valid now, due for renewal now
    keeper = CertificateKeeper(store, "sys", "tls", "hook", ["localhost"], clock=lambda: clock[0])
    keeper.ensure()
    webhook = ImageLookupWebhook(_get, Authorizer(FakeKube()))  # type: ignore[arg-type]
    own = _free_port()
    server = serve(None, own, lambda: True, lambda: True, {PATH: webhook.handle},
                   name="admission-rotate", tls=keeper.context)  # fmt: skip
    try:
        first = keeper.serving
        assert first is not None
        trust_first = ssl.create_default_context(cadata=first.ca.decode())
        assert _post(own, trust_first, _review(pod("myis")))[0] == 200
        clock[0] = now  # within RENEW_BEFORE of expiry
        second = keeper.ensure()
        assert second.cert != first.cert
        fresh = ssl.create_default_context(cadata=second.ca.decode())
        assert _post(own, fresh, _review(pod("myis")))[0] == 200
        with pytest.raises(ssl.SSLCertVerificationError):
            only_old = ssl.create_default_context(cadata=first.ca.decode())
            _post(own, only_old, _review(pod("myis")))
    finally:
        server.shutdown()
        server.server_close()


# -- the sweep: pods admitted while the webhook was down get an event


class _PodsKube(FakeKube):
    def list_pods(self, namespace: str | None, label_selector: str) -> tuple[list[Any], str]:
        assert label_selector == ""
        return [
            json.loads(json.dumps(p)) for (ns, _), p in sorted(self.pods.items()) if ns == namespace
        ], "1"


def _running_pod(name: str, image: str, uid: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "app", "uid": uid},
        "spec": {"containers": [{"name": "x", "image": image}]},
        "status": {"phase": "Pending"},
    }


def test_pods_admitted_unresolved_get_one_warning_event_each() -> None:
    kube = _PodsKube()
    kube.pods[("app", "unresolved")] = _running_pod("unresolved", "myis:latest", "u1")
    kube.pods[("app", "resolved")] = _running_pod("resolved", MYIS, "u2")
    kube.pods[("app", "other")] = _running_pod("other", "nginx:1", "u3")
    webhook = ImageLookupWebhook(_get, Authorizer(kube))  # type: ignore[arg-type]
    sweep = LookupSweep(kube, lambda: list(STREAMS.values()), webhook)  # type: ignore[arg-type]
    assert sweep.sweep() == 1
    assert sweep.sweep() == 0  # once per pod
    (event,) = kube.events
    assert event["reason"] == REASON
    assert event["type"] == "Warning"
    assert event["involvedObject"]["name"] == "unresolved"
    assert event["involvedObject"]["kind"] == "Pod"
    assert "'myis:latest'" in event["message"] and MYIS in event["message"]
    assert "failurePolicy Ignore" in event["message"]


def test_the_sweep_lists_pods_only_where_a_stream_resolves_local_names() -> None:
    listed: list[str | None] = []

    class Counting(_PodsKube):
        def list_pods(self, namespace: str | None, label_selector: str) -> tuple[list[Any], str]:
            listed.append(namespace)
            return super().list_pods(namespace, label_selector)

    kube = Counting()
    webhook = ImageLookupWebhook(_get, Authorizer(kube))  # type: ignore[arg-type]
    only_plain = [stream("quiet", "plain", local=False), stream("app", "myis")]
    LookupSweep(kube, lambda: only_plain, webhook).sweep()  # type: ignore[arg-type]
    assert listed == ["app"]


def test_a_sweep_survives_an_api_error() -> None:
    class Broken(_PodsKube):
        def list_pods(self, namespace: str | None, label_selector: str) -> tuple[list[Any], str]:
            raise KubeError(500, f"down: {namespace} {label_selector}")

    kube = Broken()
    webhook = ImageLookupWebhook(_get, Authorizer(kube))  # type: ignore[arg-type]
    assert LookupSweep(kube, lambda: list(STREAMS.values()), webhook).sweep() == 0  # type: ignore[arg-type]
    stop = threading.Event()
    stop.set()
    LookupSweep(kube, lambda: list(STREAMS.values()), webhook).run(stop, 1.0)  # type: ignore[arg-type]


def test_image_lookup_error_is_raised_for_a_review_error() -> None:
    class Failing(FakeKube):
        def access_review(self, *_: Any) -> tuple[bool, str]:
            raise KubeError(503, "no authorizer")

    webhook = ImageLookupWebhook(_get, Authorizer(Failing()))  # type: ignore[arg-type]
    with pytest.raises(ImageLookupError):
        webhook.may_read("app", "default", "base")


# -- the manager's stream reader: the cache, but never a stale "no"


def test_a_stream_whose_lookup_was_enabled_just_now_is_read_live_not_from_the_cache() -> None:
    """``kbuild set image-lookup myis`` then ``kubectl create`` at once: the watch may lag."""
    from builder.controller.manager import Manager  # noqa: PLC0415
    from tests.unit.controller.informers import sync  # noqa: PLC0415
    from tests.unit.controller.test_resync import CONFIG  # noqa: PLC0415

    kube = FakeKube()
    manager = Manager(kube, CONFIG)  # type: ignore[arg-type]
    kube.image_streams.create(stream("app", "myis", local=False))
    sync(manager, kube)  # the cache holds the stream without local lookup
    enabled = kube.image_streams.get("app", "myis")
    enabled.spec.lookup_policy.local = True
    kube.image_streams.replace(enabled)  # its watch event not delivered yet
    webhook = manager.image_lookup
    result = plan(pod("myis"), "Pod", "app", webhook.stream, webhook.may_read)
    assert [r.resolved for r in result.resolutions] == [MYIS]
    kube.calls.clear()
    sync(manager, kube)
    assert plan(pod("myis"), "Pod", "app", webhook.stream, webhook.may_read).resolutions
    assert kube.calls == []  # resolved from the cache: no request
