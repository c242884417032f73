"""``kbuild apply|create -f``: legacy manifests converted, everything else sent unchanged.

The API server is an in-memory fake with discovery, server-side apply
(a merge of the given top-level fields, resourceVersion bumped only on a
change), create and dry runs; the real OpenShift manifests come from
``tests/data/openshift-legacy``.
"""

from __future__ import annotations

import copy
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from builder.api import ImageStream
from builder.api.legacy import convert, flatten, tag_request
from builder.api.manifest import ManifestError
from builder.cli import apply as apply_verb
from builder.cli import main
from builder.cli.apply import read_sources
from builder.kube import AlreadyExists, ApiResource, NotFound
from tests.unit.controller.tenancy_fake import Store

DATA = Path(__file__).resolve().parents[2] / "data" / "openshift-legacy"
_rv = itertools.count(100)

SERVED = [
    ApiResource("v1", "Secret", "secrets", True),
    ApiResource("v1", "Service", "services", True),
    ApiResource("v1", "Namespace", "namespaces", False),
    ApiResource("build.openshift.io/v1", "BuildConfig", "buildconfigs", True),
    ApiResource("build.openshift.io/v1", "Build", "builds", True),
    ApiResource("image.openshift.io/v1", "ImageStream", "imagestreams", True),
]
DEPLOYMENT_CONFIGS = ApiResource("apps.openshift.io/v1", "DeploymentConfig", "deploymentconfigs", True)  # fmt: skip # noqa: E501


class FakeApi:
    """Discovery, GET, server-side apply and POST of any served kind, in memory."""

    def __init__(self, served: list[ApiResource] | None = None) -> None:
        self.served = list(SERVED if served is None else served)
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.server_warnings: list[str] = []
        self.image_streams: Store[ImageStream] = Store()
        self.warn_on: str = ""

    def resource_for(self, api_version: str, kind: str) -> ApiResource | None:
        return next(
            (r for r in self.served if (r.api_version, r.kind) == (api_version, kind)), None
        )

    def _key(self, resource: ApiResource, namespace: str | None, name: str) -> tuple[str, str, str]:
        return (resource.plural, namespace or "", name)

    def get_raw(self, resource: ApiResource, namespace: str | None, name: str) -> dict[str, Any]:
        self.calls.append(("get", resource.ref(name)))
        try:
            return copy.deepcopy(self.objects[self._key(resource, namespace, name)])
        except KeyError:
            raise NotFound(404, "not found") from None

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
        assert (field_manager, force) == ("kbuild", False)
        self.calls.append(("apply" + ("-dry" if dry_run else ""), resource.ref(name)))
        if self.warn_on and self.warn_on == name:
            self.server_warnings.append(f"unknown field in {name}")
        key = self._key(resource, namespace, name)
        old = self.objects.get(key)
        merged = copy.deepcopy(old or {})
        rv = merged.get("metadata", {}).get("resourceVersion")
        merged.update(copy.deepcopy(body))
        merged["metadata"] = {**(old or {}).get("metadata", {}), **body.get("metadata", {})}
        if old is None or {**merged, "metadata": {}} != {**old, "metadata": {}}:
            rv = str(next(_rv))
        merged["metadata"]["resourceVersion"] = rv
        if not dry_run:
            self.objects[key] = merged
        return copy.deepcopy(merged)

    def create_raw(
        self,
        resource: ApiResource,
        namespace: str | None,
        body: dict[str, Any],
        *,
        field_manager: str,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        assert field_manager == "kbuild"
        name = body["metadata"]["name"]
        self.calls.append(("create" + ("-dry" if dry_run else ""), resource.ref(name)))
        key = self._key(resource, namespace, name)
        if key in self.objects:
            raise AlreadyExists(
                409,
                f'{resource.plural}.{resource.group} "{name}" already exists'.replace('."', '"'),
            )
        stored = copy.deepcopy(body)
        stored["metadata"]["resourceVersion"] = str(next(_rv))
        if not dry_run:
            self.objects[key] = stored
        return copy.deepcopy(stored)

    def stored(self, plural: str, name: str, namespace: str = "dev") -> dict[str, Any]:
        return self.objects[(plural, namespace, name)]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()

    def connect(ns: Any) -> tuple[FakeApi, str]:
        return fake, ns.namespace or "dev"

    monkeypatch.setattr(apply_verb, "connect", connect)
    return fake


def kbuild(*argv: str) -> int:
    return main.main(list(argv))


def _legacy(kind: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, **extra}


# ---------------------------------------------------------------------------
# Conversion (pure)


@pytest.mark.parametrize(
    ("doc", "api_version", "legacy"),
    [
        (_legacy("BuildConfig", spec={"strategy": {"dockerStrategy": {}}}), "build.openshift.io/v1", True),  # noqa: E501
        (_legacy("Build", spec={"strategy": {"dockerStrategy": {}}}), "build.openshift.io/v1", True),  # noqa: E501
        (_legacy("ImageStream"), "image.openshift.io/v1", True),
        (_legacy("ImageStreamTag", tag={"from": {"kind": "DockerImage", "name": "a"}}), "image.openshift.io/v1", True),  # noqa: E501
        (_legacy("DeploymentConfig", spec={"replicas": 1}), "apps.openshift.io/v1", True),
        (_legacy("Template", objects=[]), "template.openshift.io/v1", True),
        (_legacy("Service", spec={"ports": []}), "v1", False),
        (_legacy("Secret"), "v1", False),
        ({**_legacy("BuildConfig"), "apiVersion": "build.openshift.io/v1"}, "build.openshift.io/v1", False),  # noqa: E501
        ({**_legacy("Route"), "apiVersion": "route.openshift.io/v1"}, "route.openshift.io/v1", False),  # noqa: E501
        (_legacy("Route", spec={"to": {"name": "s"}}), "route.openshift.io/v1", True),
    ],
)  # fmt: skip
def test_legacy_kinds_go_to_their_group_versions(
    doc: dict[str, Any], api_version: str, legacy: bool
) -> None:
    converted = convert(doc)
    assert converted.obj["apiVersion"] == api_version
    assert converted.legacy is legacy
    assert doc["apiVersion"] in ("v1", api_version)  # the input is not changed


def test_other_objects_are_sent_exactly_as_read() -> None:
    service = _legacy("Service", spec={"ports": [{"port": 80}]}, status={"loadBalancer": {}})
    assert convert(service).obj == service


@pytest.mark.parametrize(
    "kind", ["ImageStreamMapping", "ImageStreamImport", "BuildRequest", "DeploymentRequest", "TemplateInstance"]  # noqa: E501
)  # fmt: skip
def test_legacy_requests_and_views_are_refused_by_name(kind: str) -> None:
    with pytest.raises(ManifestError, match=f"{kind} .* cannot be applied"):
        convert(_legacy(kind))


def _bc(spec: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "BuildConfig",
        "metadata": {"name": "app"},
        "spec": spec,
        **extra,
    }


DOCKER_IMAGE = {"kind": "DockerImage", "name": "centos/ruby"}
STREAM_TAG = {"kind": "ImageStreamTag", "name": "ruby:3"}


@pytest.mark.parametrize(
    ("spec", "path", "expected"),
    [
        # deprecated trigger types (openshift-apiserver's Convert_v1_BuildTriggerPolicy)
        ({"triggers": [{"type": "github", "github": {"secret": "s"}}]}, ("triggers", 0, "type"), "GitHub"),  # noqa: E501
        ({"triggers": [{"type": "generic", "generic": {"secret": "s"}}]}, ("triggers", 0, "type"), "Generic"),  # noqa: E501
        ({"triggers": [{"type": "imageChange", "imageChange": {}}], "strategy": {"sourceStrategy": {"from": STREAM_TAG}}}, ("triggers", 0, "type"), "ImageChange"),  # noqa: E501
        # a type follows the field that is set
        ({"source": {"type": "binary", "binary": {}}}, ("source", "type"), "Binary"),
        ({"source": {"type": "git", "git": {"uri": "https://x/y.git"}}}, ("source", "type"), "Git"),
        ({"strategy": {"type": "source", "sourceStrategy": {"from": DOCKER_IMAGE}}}, ("strategy", "type"), "Source"),  # noqa: E501
        ({"strategy": {"type": "Source", "dockerStrategy": {}}}, ("strategy", "type"), "Docker"),
        # an ImageStream reference is its :latest tag
        ({"strategy": {"sourceStrategy": {"from": {"kind": "ImageStream", "name": "ruby"}}}}, ("strategy", "sourceStrategy", "from"), {"kind": "ImageStreamTag", "name": "ruby:latest"}),  # noqa: E501
        ({"output": {"to": {"kind": "ImageStream", "name": "app"}}}, ("output", "to"), {"kind": "ImageStreamTag", "name": "app:latest"}),  # noqa: E501
        # an ImageChange trigger without from is kept when the strategy follows a tag
        ({"triggers": [{"type": "ImageChange", "imageChange": {}}], "strategy": {"sourceStrategy": {"from": STREAM_TAG}}}, ("triggers",), [{"type": "ImageChange", "imageChange": {}}]),  # noqa: E501
        ({"triggers": [{"type": "ImageChange", "imageChange": {"from": STREAM_TAG}}], "strategy": {"sourceStrategy": {"from": DOCKER_IMAGE}}}, ("triggers",), [{"type": "ImageChange", "imageChange": {"from": STREAM_TAG}}]),  # noqa: E501
    ],
)  # fmt: skip
def test_openshift_v1_conversions(
    spec: dict[str, Any], path: tuple[Any, ...], expected: Any
) -> None:
    spec.setdefault("strategy", {"dockerStrategy": {}})
    out = convert(_bc(spec)).obj["spec"]
    for key in path:
        out = out[key]
    assert out == expected


@pytest.mark.parametrize(
    ("doc", "gone", "warning"),
    [
        (_bc({"triggers": [{"type": "ImageChange", "imageChange": {}}], "strategy": {"sourceStrategy": {"from": DOCKER_IMAGE}}}), ("spec", "triggers", 0), "spec.triggers[0] dropped: an ImageChange trigger without 'from'"),  # noqa: E501
        (_bc({"strategy": {"dockerStrategy": {}}}, status={"lastVersion": 3}), ("status",), "status dropped"),  # noqa: E501
        (_bc({"strategy": {"dockerStrategy": {}}, "unknownThing": 1}), ("spec", "unknownThing"), "unknown field 'spec.unknownThing' dropped"),  # noqa: E501
        (_bc({"strategy": {"dockerStrategy": {"noSuchOption": True}}}), ("spec", "strategy", "dockerStrategy", "noSuchOption"), "unknown field 'spec.strategy.dockerStrategy.noSuchOption' dropped"),  # noqa: E501
        ({**_bc({"strategy": {"dockerStrategy": {}}}), "metadata": {"name": "app", "uid": "u-1", "resourceVersion": "7"}}, ("metadata", "resourceVersion"), "metadata.resourceVersion dropped"),  # noqa: E501
        ({"apiVersion": "v1", "kind": "ImageStream", "metadata": {"name": "s"}, "spec": {"tags": [{"name": "a"}, {"name": "a", "reference": True}]}}, ("spec", "tags", 1), "spec.tags has 'a' twice; the last one is kept"),  # noqa: E501
        ({"apiVersion": "v1", "kind": "ImageStreamTag", "metadata": {"name": "s:a"}, "tag": {}, "image": {"dockerImageReference": "x"}}, ("image",), "image dropped"),  # noqa: E501
    ],
)  # fmt: skip
def test_fields_openshift_drops_are_dropped_with_a_warning(
    doc: dict[str, Any], gone: tuple[Any, ...], warning: str
) -> None:
    converted = convert(doc)
    out: Any = converted.obj
    for key in gone[:-1]:
        out = out[key]
    assert gone[-1] not in out if isinstance(out, dict) else len(out) <= gone[-1]
    assert any(warning in w for w in converted.warnings), converted.warnings


def test_empty_status_and_null_timestamps_are_dropped_quietly() -> None:
    doc = _bc({"strategy": {"dockerStrategy": {}}}, status={"lastVersion": 0})
    doc["metadata"]["creationTimestamp"] = None
    converted = convert(doc)
    assert converted.warnings == []
    assert "status" not in converted.obj
    assert "creationTimestamp" not in converted.obj["metadata"]


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (_bc({"strategy": {"dockerStrategy": {}}, "runPolicy": 3}), "spec.runPolicy"),
        (_bc({"strategy": {"dockerStrategy": {"noCache": "yes"}}}), "noCache: expected true or false"),  # noqa: E501
        ({"apiVersion": "v1", "metadata": {"name": "x"}}, "kind is missing"),
        ({"kind": "BuildConfig", "metadata": {"name": "x"}}, "apiVersion is missing"),
    ],
)  # fmt: skip
def test_wrong_values_are_errors_not_drops(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        convert(doc)


# ---------------------------------------------------------------------------
# ImageStreamTag: a spec tag of its stream


def _istag(name: str = "app:prod", **extra: Any) -> dict[str, Any]:
    doc = {"apiVersion": "v1", "kind": "ImageStreamTag", "metadata": {"name": name}}
    doc.setdefault("tag", {"from": {"kind": "DockerImage", "name": "registry.local/app:1"}})
    doc.update(extra)
    return convert(doc).obj


def test_tag_request() -> None:
    request = tag_request(_istag(lookupPolicy={"local": True}), "dev")
    assert (request.namespace, request.stream, request.tag.name) == ("dev", "app", "prod")
    assert request.tag.from_ is not None and request.tag.from_.name == "registry.local/app:1"
    assert request.lookup_policy is not None and request.lookup_policy.local is True


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (_istag("app"), "metadata.name must be STREAM:TAG"),
        (_istag("a:b:c"), "metadata.name must be STREAM:TAG"),
        (_istag(":b"), "metadata.name must be STREAM:TAG"),
        (_istag(tag=None), "tag is required"),
        (_istag(tag={"name": "other"}), "tag.name 'other' must be the tag of metadata.name"),
        (_istag(tag={"reference": "yes"}), "tag: reference: expected true or false"),
        (_istag(spec={}), "unknown field 'spec'"),
    ],
)
def test_tag_request_errors(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        tag_request(doc, "dev")


def test_lists_are_flattened_at_any_depth() -> None:
    inner = {"kind": "List", "apiVersion": "v1", "items": [{"kind": "Secret"}]}
    outer = {"kind": "BuildConfigList", "apiVersion": "v1", "items": [inner, {"kind": "Service"}]}
    found = flatten([outer, None, {"kind": "Pod"}])
    assert [(d["kind"], w) for d, w in found] == [
        ("Secret", "document 1 item 1 item 1"),
        ("Service", "document 1 item 2"),
        ("Pod", "document 3"),
    ]
    with pytest.raises(ManifestError, match="items of List must be a list"):
        flatten([{"kind": "List", "items": {}}])


# ---------------------------------------------------------------------------
# Reading -f


def test_read_sources_files_dirs_recursion_and_stdin(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a")
    (tmp_path / "b.json").write_text("b")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yml").write_text("c")
    texts = [t for t, _ in read_sources([str(tmp_path)], recursive=False)]
    assert texts == ["a", "b"]
    texts = [t for t, _ in read_sources([str(tmp_path)], recursive=True)]
    assert texts == ["a", "b", "c"]
    assert read_sources(["-"], False, stdin=io.BytesIO(b"\xef\xbb\xbfs").read) == [("s", "stdin")]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("/nonexistent/x.yaml", 'the path "/nonexistent/x.yaml" does not exist'),
        ("https://example.com/x.yaml", "URLs are not read"),
    ],
)
def test_read_sources_errors(name: str, problem: str) -> None:
    with pytest.raises(apply_verb.CliError, match=problem):
        read_sources([name], False)


def test_a_file_over_the_api_servers_limit_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * ((3 << 20) + 1))
    with pytest.raises(apply_verb.CliError, match="larger than 3 MiB"):
        read_sources([str(big)], False)


# ---------------------------------------------------------------------------
# The verbs, against the fake API server


def test_apply_the_seed_legacy_list(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert kbuild("apply", "-f", str(DATA / "test-build.yaml")) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[:3] == [
        "imagestream.image.openshift.io/origin-ruby-sample created",
        "secret/webhooksecret created",
        "buildconfig.build.openshift.io/sample-build created",
    ]
    assert len(out.splitlines()) == 10
    assert err.count("Warning: BuildConfig") == 7  # the ImageChange triggers OpenShift drops
    bc = api.stored("buildconfigs", "sample-build")
    assert bc["apiVersion"] == "build.openshift.io/v1"
    assert bc["metadata"]["namespace"] == "dev"
    assert [t["type"] for t in bc["spec"]["triggers"]] == ["Generic"]
    assert "status" not in bc
    assert api.stored("secrets", "webhooksecret")["apiVersion"] == "v1"
    # applied again: nothing changes
    assert kbuild("apply", "-f", str(DATA / "test-build.yaml")) == 0
    again = capsys.readouterr().out.splitlines()
    assert again[0] == "imagestream.image.openshift.io/origin-ruby-sample unchanged"
    assert all(line.endswith(" unchanged") for line in again)


def test_a_deployment_config_without_its_crd_is_refused_by_name(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kbuild("apply", "-f", str(DATA / "test-context-build.json"), "-n", "dev") == 1
    out, err = capsys.readouterr()
    assert (
        "error: DeploymentConfig 'frontend': this cluster does not serve apps.openshift.io/v1"
        in err
    )
    assert out.splitlines() == [
        "buildconfig.build.openshift.io/dockercontext created",
        "buildconfig.build.openshift.io/s2icontext created",
        "imagestream.image.openshift.io/test created",
        "service/frontend created",
    ]
    assert api.stored("buildconfigs", "dockercontext")["spec"]["source"]["type"] == "Binary"


def test_a_deployment_config_goes_on_when_the_cluster_serves_it(
    api: FakeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    api.served.append(DEPLOYMENT_CONFIGS)
    assert kbuild("create", "-f", str(DATA / "test-context-build.json")) == 0
    assert "deploymentconfig.apps.openshift.io/frontend created" in capsys.readouterr().out
    assert api.stored("deploymentconfigs", "frontend")["apiVersion"] == "apps.openshift.io/v1"


def test_create_refuses_what_exists(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(DATA / "default-legacy-build-config.yaml")
    assert kbuild("create", "-f", path) == 0
    assert capsys.readouterr().out == "buildconfig.build.openshift.io/myphp created\n"
    assert kbuild("create", "-f", path) == 1
    assert 'buildconfigs.build.openshift.io "myphp" already exists' in capsys.readouterr().err


@pytest.mark.parametrize(
    ("verb", "mode", "line", "calls"),
    [
        ("apply", "client", "buildconfig.build.openshift.io/myphp created (dry run)", ["get"]),
        ("apply", "server", "buildconfig.build.openshift.io/myphp created (server dry run)", ["get", "apply-dry"]),  # noqa: E501
        ("create", "client", "buildconfig.build.openshift.io/myphp created (dry run)", []),
        ("create", "server", "buildconfig.build.openshift.io/myphp created (server dry run)", ["create-dry"]),  # noqa: E501
    ],
)  # fmt: skip
def test_dry_runs_store_nothing(
    api: FakeApi,
    capsys: pytest.CaptureFixture[str],
    verb: str,
    mode: str,
    line: str,
    calls: list[str],
) -> None:
    path = str(DATA / "default-legacy-build-config.yaml")
    assert kbuild(verb, "-f", path, f"--dry-run={mode}") == 0
    assert capsys.readouterr().out == line + "\n"
    assert api.objects == {}
    assert [c for c, _ in api.calls] == calls


@pytest.mark.parametrize("output", ["yaml", "json", "name"])
def test_output_formats(api: FakeApi, capsys: pytest.CaptureFixture[str], output: str) -> None:
    path = str(DATA / "test-context-build.json")
    api.served.append(DEPLOYMENT_CONFIGS)
    assert kbuild("apply", "-f", path, "-o", output, "--dry-run=client") == 0
    out = capsys.readouterr().out
    if output == "name":
        assert out.splitlines()[0] == "buildconfig.build.openshift.io/dockercontext"
        return
    data = yaml.safe_load(out) if output == "yaml" else json.loads(out)
    assert data["kind"] == "List"
    assert [i["apiVersion"] for i in data["items"]] == [
        "build.openshift.io/v1", "build.openshift.io/v1", "image.openshift.io/v1",
        "apps.openshift.io/v1", "v1",
    ]  # fmt: skip


def test_one_bad_object_sends_nothing(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = DATA / "default-legacy-build-config.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ImageStreamMapping\nmetadata: {name: m}\n")
    assert kbuild("apply", "-f", str(good), "-f", str(bad)) == 1
    err = capsys.readouterr().err
    assert "ImageStreamMapping (image.openshift.io/v1)" in err
    assert "error: nothing was sent" in err
    assert api.calls == []


def test_stdin_and_a_namespace_that_contradicts_n(
    api: FakeApi, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "apiVersion: v1\nkind: ImageStream\nmetadata: {name: s, namespace: other}\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert kbuild("-n", "dev", "apply", "-f", "-") == 1
    assert 'namespace from the provided object "other" does not match the namespace "dev"' in (
        capsys.readouterr().err
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert kbuild("apply", "-f", "-") == 0
    assert (
        api.stored("imagestreams", "s", namespace="other")["apiVersion"] == "image.openshift.io/v1"
    )


def test_unknown_kinds_get_kubectls_message(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    thing = tmp_path / "thing.yaml"
    thing.write_text("apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\n")
    assert kbuild("apply", "-f", str(thing)) == 1
    assert 'no matches for kind "Thing" in version "example.com/v1"' in capsys.readouterr().err


@pytest.mark.parametrize("api_version", ["v1", "route.openshift.io/v1"])
def test_a_route_without_a_router_points_to_an_ingress(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path, api_version: str
) -> None:
    """Nearly every OpenShift template has a Route; the rest of it is still sent."""
    route = tmp_path / "route.yaml"
    route.write_text(
        f"apiVersion: {api_version}\nkind: Route\nmetadata: {{name: r}}\n"
        "spec: {host: app.example.com, to: {kind: Service, name: s}, port: {targetPort: web}}\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n"
    )
    assert kbuild("apply", "-f", str(route)) == 1
    out, err = capsys.readouterr()
    assert "Route 'r': this cluster does not serve route.openshift.io/v1" in err
    assert "kubectl create ingress r --rule='app.example.com/*=s:web'" in err
    assert out.splitlines() == ["service/s created"]


def test_fields_kbuild_does_not_implement_are_named_before_sending(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """OpenShift's own JenkinsPipeline test BuildConfig: stored, and said to be unimplemented."""
    bc = tmp_path / "bc.yaml"
    bc.write_text(
        "kind: BuildConfig\napiVersion: v1\nmetadata: {name: failed-pipeline}\n"
        "spec:\n  strategy:\n    jenkinsPipelineStrategy: {jenkinsfile: 'node() {}'}\n"
    )
    assert kbuild("apply", "-f", str(bc)) == 0
    out, err = capsys.readouterr()
    assert (
        "Warning: BuildConfig 'failed-pipeline': spec.strategy.jenkinsPipelineStrategy is not "
        "implemented by kbuild: the JenkinsPipeline strategy" in err
    )
    assert out.splitlines() == ["buildconfig.build.openshift.io/failed-pipeline created"]


def test_server_warnings_are_printed(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    api.warn_on = "myphp"
    assert kbuild("apply", "-f", str(DATA / "default-legacy-build-config.yaml")) == 0
    assert "Warning: unknown field in myphp" in capsys.readouterr().err


def _write_istag(tmp_path: Path, tag: dict[str, Any], name: str = "app:prod") -> str:
    path = tmp_path / "istag.yaml"
    doc = {"apiVersion": "v1", "kind": "ImageStreamTag", "metadata": {"name": name}, "tag": tag}
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_an_image_stream_tag_sets_a_spec_tag_of_its_stream(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    one = {"from": {"kind": "DockerImage", "name": "registry.local/app:1"}}
    path = _write_istag(tmp_path, one)
    assert kbuild("apply", "-f", path) == 0
    assert capsys.readouterr().out == "imagestreamtag.image.openshift.io/app:prod created\n"
    stream = api.image_streams.get("dev", "app")
    (tag,) = stream.spec.tags
    assert (tag.name, tag.generation, tag.from_ and tag.from_.name) == (
        "prod",
        0,
        "registry.local/app:1",
    )
    assert kbuild("apply", "-f", path) == 0
    assert capsys.readouterr().out.endswith(" unchanged\n")
    two = {"from": {"kind": "DockerImage", "name": "registry.local/app:2"}}
    assert kbuild("apply", "-f", _write_istag(tmp_path, two)) == 0
    assert capsys.readouterr().out.endswith(" configured\n")
    assert [t.from_.name for t in api.image_streams.get("dev", "app").spec.tags if t.from_] == [
        "registry.local/app:2"
    ]
    assert kbuild("create", "-f", path) == 1
    assert 'imagestreamtags.image.openshift.io "app:prod" already exists' in capsys.readouterr().err


def test_an_image_stream_tag_keeps_the_streams_other_tags(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = {"from": {"kind": "DockerImage", "name": "registry.local/base:1"}}
    assert kbuild("apply", "-f", _write_istag(tmp_path, base, "app:base")) == 0
    prod = {"from": {"kind": "ImageStreamTag", "name": "app:base"}}
    assert kbuild("apply", "-f", _write_istag(tmp_path, prod, "app:prod"), "--dry-run=server") == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith("app:prod created (server dry run)")
    assert [t.name for t in api.image_streams.get("dev", "app").spec.tags] == ["base"]
    assert kbuild("apply", "-f", _write_istag(tmp_path, prod, "app:prod")) == 0
    assert [t.name for t in api.image_streams.get("dev", "app").spec.tags] == ["base", "prod"]


def test_a_template_without_its_crd_is_refused_by_name(
    api: FakeApi, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = tmp_path / "template.json"
    template.write_text(json.dumps({**_legacy("Template", objects=[]), "parameters": []}))
    assert kbuild("create", "-f", str(template)) == 1
    assert "Template 'x': this cluster does not serve template.openshift.io/v1" in (
        capsys.readouterr().err
    )
    api.served.append(ApiResource("template.openshift.io/v1", "Template", "templates", True))
    assert kbuild("create", "-f", str(template)) == 0
    assert api.stored("templates", "x")["apiVersion"] == "template.openshift.io/v1"
