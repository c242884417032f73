"""``kbuild apply -f`` and ``kbuild create -f``: manifests as ``oc`` takes them, legacy ones too.

Every object of the files is read, flattened out of ``List``s and passed
through ``builder.api.legacy.convert`` first; if any of them is refused,
nothing is sent.  Then, object by object, as kubectl does:

- ``apply`` is a server-side apply (field manager ``kbuild``): the API
  server merges the fields given with the object that is there.  The line
  printed is kubectl's ``created``/``configured``/``unchanged``, decided from
  a read before and the resourceVersion after.
- ``create`` POSTs; an existing object is ``AlreadyExists``.
- An ImageStreamTag is the spec tag of its stream (kbuild has no
  ImageStreamTag resource): the stream is read, the tag set or replaced with
  ``generation: 0`` (the controller's cue to import it) and written back
  under optimistic concurrency, the stream created when missing.
- DeploymentConfig and Template go on only when the cluster serves
  ``apps.openshift.io/v1`` / ``template.openshift.io/v1`` (a CRD someone
  installed); otherwise the object is refused by name.

``--dry-run=client`` writes nothing and shows what would be sent (apply
still reads, to say created or configured); ``--dry-run=server`` has the API
server run admission and validation without storing.  An error on one
object is printed and the others still go, and the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder.cli.common import (
    CliError,
    add_cluster_flags,
    connect,
    one_line,
    run_guarded,
    server_message,
)

if TYPE_CHECKING:
    from builder.api import ImageStream
    from builder.api.legacy import Converted, TagRequest
    from builder.kube import ApiResource, Kube

FIELD_MANAGER = "kbuild"
EXTENSIONS = (".json", ".yaml", ".yml")
"""What a directory's files must end with to be read, as kubectl."""
MAX_FILE_BYTES = 3 << 20
"""Largest file read: the API server's own limit on a request body."""
ISTAG_API_VERSION = "image.openshift.io/v1"


# ---------------------------------------------------------------------------
# Reading -f


def _read_limited(read: Callable[[int], bytes], label: str) -> str:
    data = read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise CliError(f"{label}: larger than {MAX_FILE_BYTES >> 20} MiB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{label}: not UTF-8 text") from None


def _files_of(directory: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(
        p for p in directory.glob(pattern) if p.is_file() and p.suffix.lower() in EXTENSIONS
    )


def read_sources(
    names: list[str], recursive: bool, stdin: Callable[[int], bytes] | None = None
) -> list[tuple[str, str]]:
    """(text, where) for every -f: a file, a directory's manifests (-R: and below), ``-`` stdin."""
    texts: list[tuple[str, str]] = []
    for name in names:
        if name == "-":
            reader = stdin or sys.stdin.buffer.read
            texts.append((_read_limited(reader, "stdin"), "stdin"))
            continue
        if name.startswith(("http://", "https://")):
            raise CliError(f"{name}: URLs are not read; download the file and pass its path")
        path = Path(name)
        if path.is_dir():
            files = _files_of(path, recursive)
            if not files:
                raise CliError(f'error reading "{name}": no files with extensions {EXTENSIONS}')
        elif path.exists():
            files = [path]
        else:
            raise CliError(f'the path "{name}" does not exist')
        for file in files:
            try:
                with file.open("rb") as handle:
                    texts.append((_read_limited(handle.read, str(file)), str(file)))
            except OSError as exc:
                raise CliError(f"{file}: {exc.strerror}") from None
    return texts


@dataclass
class Item:
    converted: Converted
    where: str

    @property
    def obj(self) -> dict[str, Any]:
        return self.converted.obj

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))

    @property
    def name(self) -> str:
        metadata = self.obj.get("metadata")
        return str(metadata.get("name") or "") if isinstance(metadata, dict) else ""

    @property
    def namespace(self) -> str:
        metadata = self.obj.get("metadata")
        return str(metadata.get("namespace") or "") if isinstance(metadata, dict) else ""

    @property
    def is_stream_tag(self) -> bool:
        return self.kind == "ImageStreamTag" and self.obj.get("apiVersion") == ISTAG_API_VERSION


def load_items(texts: list[tuple[str, str]]) -> list[Item]:
    """Every object, converted; ManifestError listing every problem of every file."""
    from builder.api.legacy import convert, flatten  # noqa: PLC0415
    from builder.api.manifest import ManifestError, load_documents  # noqa: PLC0415

    items: list[Item] = []
    problems: list[str] = []
    for text, source in texts:
        try:
            docs = flatten(load_documents(text))
        except ManifestError as exc:
            problems.extend(f"{source}: {p}" for p in exc.problems)
            continue
        for doc, where in docs:
            try:
                items.append(Item(convert(doc, where), f"{source}, {where}"))
            except ManifestError as exc:
                problems.extend(f"{source}: {p}" for p in exc.problems)
    if problems:
        raise ManifestError(problems)
    return items


# ---------------------------------------------------------------------------
# Sending


@dataclass
class Options:
    verb: str  # apply | create
    dry_run: str  # none | client | server
    output: str | None
    force_conflicts: bool = False

    @property
    def suffix(self) -> str:
        return {"none": "", "client": " (dry run)", "server": " (server dry run)"}[self.dry_run]


@dataclass
class Result:
    ref: str
    action: str  # created | configured | unchanged
    obj: dict[str, Any]


def _namespace_for(item: Item, namespace: str, explicit: bool) -> str:
    """The object's namespace; kubectl refuses one that contradicts an explicit -n."""
    own = item.namespace
    if own and explicit and own != namespace:
        raise CliError(
            f'the namespace from the provided object "{own}" does not match the namespace '
            f"\"{namespace}\". You must pass '--namespace={own}' to perform this operation."
        )
    return own or namespace


def _body(item: Item, resource: ApiResource, namespace: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(json.dumps(item.obj))  # a copy: the item stays as read
    if resource.namespaced:
        body.setdefault("metadata", {})["namespace"] = namespace
    return body


def _not_served(item: Item) -> CliError:
    from builder.api.legacy import NEEDS_CRD, ROUTE_API_VERSION  # noqa: PLC0415

    api_version = item.obj.get("apiVersion")
    if item.kind in NEEDS_CRD:
        return CliError(
            f"{item.kind} {item.name!r}: this cluster does not serve {api_version} "
            f"(install kbuild's CRDs first: kubectl apply -f crds/)"
        )
    if api_version == ROUTE_API_VERSION and item.kind == "Route":
        return CliError(_route_hint(item))
    return CliError(
        f'resource mapping not found for name: "{item.name}" namespace: "{item.namespace}" '
        f'from "{item.where}": no matches for kind "{item.kind}" in version "{api_version}" '
        "(ensure CRDs are installed first)"
    )


def _route_hint(item: Item) -> str:
    """Why a Route is refused on plain Kubernetes, and the Ingress that does its job.

    OpenShift's templates nearly all carry a Route; the message says the rest
    of the template was still sent and shows the equivalent Ingress command.
    """
    spec = item.obj.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    to = spec.get("to")
    service = str(to.get("name") or "SERVICE") if isinstance(to, dict) else "SERVICE"
    port_spec = spec.get("port")
    port = str(port_spec.get("targetPort") or "PORT") if isinstance(port_spec, dict) else "PORT"
    host = str(spec.get("host") or "HOST")
    path = str(spec.get("path") or "/")
    return (
        f"Route {item.name!r}: this cluster does not serve route.openshift.io/v1 (OpenShift's "
        "router; plain Kubernetes has none and kbuild does not provide one); the other objects "
        f"are sent. Expose the Service with an Ingress instead: kubectl create ingress "
        f"{item.name or service} --rule='{host}{path.rstrip('/')}/*={service}:{port}'"
    )


def send_object(kube: Kube, item: Item, namespace: str, explicit: bool, opts: Options) -> Result:
    from builder.kube import NotFound  # noqa: PLC0415

    api_version = str(item.obj.get("apiVersion"))
    resource = kube.resource_for(api_version, item.kind)
    if resource is None:
        raise _not_served(item)
    target_ns = _namespace_for(item, namespace, explicit) if resource.namespaced else None
    body = _body(item, resource, target_ns or "")
    name = item.name
    if opts.verb == "create":
        if opts.dry_run == "client":
            return Result(resource.ref(name), "created", body)
        out = kube.create_raw(
            resource, target_ns, body, field_manager=FIELD_MANAGER, dry_run=opts.dry_run == "server"
        )
        return Result(
            resource.ref(str(out.get("metadata", {}).get("name") or name)), "created", out
        )
    if not name:
        raise CliError(f"{item.where}: {item.kind}: resource name may not be empty")
    try:
        before = kube.get_raw(resource, target_ns, name)
    except NotFound:
        before = None
    if opts.dry_run == "client":
        return Result(resource.ref(name), "created" if before is None else "configured", body)
    out = kube.apply_raw(
        resource,
        target_ns,
        name,
        body,
        field_manager=FIELD_MANAGER,
        force=opts.force_conflicts,
        dry_run=opts.dry_run == "server",
    )
    if before is None:
        action = "created"
    else:
        old = before.get("metadata", {}).get("resourceVersion")
        action = (
            "unchanged" if out.get("metadata", {}).get("resourceVersion") == old else "configured"
        )
    return Result(resource.ref(name), action, out)


# -- ImageStreamTag: a spec tag of its stream ---------------------------------


def _same_tag(a: Any, b: Any) -> bool:
    from builder.api import dump  # noqa: PLC0415

    left, right = dump(a), dump(b)
    left.pop("generation", None)
    right.pop("generation", None)
    return bool(left == right)


def edit_stream(
    stream: ImageStream | None, request: TagRequest, verb: str
) -> tuple[ImageStream | None, str]:
    """The stream to write for ``request`` (None: nothing to write) and kubectl's word for it."""
    from builder.api import ImageStream, ObjectMeta  # noqa: PLC0415
    from builder.api.image import ImageStreamSpec  # noqa: PLC0415

    tag = request.tag.model_copy(update={"generation": 0}, deep=True)
    if stream is None:
        spec = ImageStreamSpec(tags=[tag])
        if request.lookup_policy is not None:
            spec.lookup_policy = request.lookup_policy
        created = ImageStream(
            metadata=ObjectMeta(name=request.stream, namespace=request.namespace), spec=spec
        )
        return created, "created"
    edited = stream.model_copy(deep=True)
    old = next((t for t in edited.spec.tags if t.name == tag.name), None)
    if old is not None and verb == "create":
        raise CliError(f'imagestreamtags.image.openshift.io "{request.name}" already exists')
    lookup_same = (
        request.lookup_policy is None or request.lookup_policy == edited.spec.lookup_policy
    )
    if old is not None and _same_tag(old, tag) and lookup_same:
        return None, "unchanged"
    if old is None:
        edited.spec.tags = [*edited.spec.tags, tag]
    else:
        edited.spec.tags = [tag if t.name == tag.name else t for t in edited.spec.tags]
    if request.lookup_policy is not None:
        edited.spec.lookup_policy = request.lookup_policy
    return edited, "created" if old is None else "configured"


def istag_object(request: TagRequest) -> dict[str, Any]:
    """The ImageStreamTag as ``-o yaml`` shows it: its name and the spec tag."""
    from builder.api import dump  # noqa: PLC0415

    obj: dict[str, Any] = {
        "apiVersion": ISTAG_API_VERSION,
        "kind": "ImageStreamTag",
        "metadata": {"name": request.name, "namespace": request.namespace},
        "tag": dump(request.tag),
    }
    if request.lookup_policy is not None:
        obj["lookupPolicy"] = dump(request.lookup_policy)
    return obj


def send_stream_tag(
    kube: Kube, item: Item, namespace: str, explicit: bool, opts: Options
) -> Result:
    from builder.api.legacy import tag_request  # noqa: PLC0415
    from builder.cli.streams_common import write_stream  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    request = tag_request(item.obj, _namespace_for(item, namespace, explicit), item.where)
    ref = f"imagestreamtag.image.openshift.io/{request.name}"
    actions: list[str] = []

    def edit(stream: ImageStream | None) -> ImageStream | None:
        wanted, action = edit_stream(stream, request, opts.verb)
        actions.append(action)
        return None if opts.dry_run != "none" else wanted

    if opts.dry_run != "none":
        try:
            current: ImageStream | None = kube.image_streams.get(request.namespace, request.stream)
        except NotFound:
            current = None
        edit(current)
    else:
        write_stream(kube, request.namespace, request.stream, edit)
    return Result(ref, actions[-1], istag_object(request))


# ---------------------------------------------------------------------------
# Output


def render(results: list[Result], output: str | None) -> str:
    import yaml  # noqa: PLC0415

    if output == "name":
        return "".join(f"{r.ref}\n" for r in results)
    data: dict[str, Any]
    if len(results) == 1:
        data = results[0].obj
    else:
        data = {
            "apiVersion": "v1",
            "items": [r.obj for r in results],
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        }
    if output == "json":
        return json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(data, default_flow_style=False, sort_keys=True))


def _warn(text: str) -> None:
    print(f"Warning: {text}", file=sys.stderr, flush=True)


def unimplemented_warnings(item: Item) -> list[str]:
    """One line per field the object sets that kbuild accepts but does not implement.

    The controller reports them too (an event, a Build reason), but only once
    the object is stored; saying it here tells the user before anything runs.
    An object the models reject gets no line: the server or the controller
    names what is wrong with it.
    """
    from builder.api import Build, BuildConfig, ImageStream  # noqa: PLC0415
    from builder.api.apps import DeploymentConfig  # noqa: PLC0415
    from builder.api.base import unimplemented_fields_in_use  # noqa: PLC0415
    from builder.api.constants import BUILD_API_VERSION, IMAGE_API_VERSION  # noqa: PLC0415
    from builder.api.legacy import APPS_API_VERSION  # noqa: PLC0415
    from builder.api.manifest import ManifestError, parse_as  # noqa: PLC0415

    models: dict[tuple[str, str], type[BuildConfig | Build | ImageStream | DeploymentConfig]] = {
        (BUILD_API_VERSION, "BuildConfig"): BuildConfig,
        (BUILD_API_VERSION, "Build"): Build,
        (IMAGE_API_VERSION, "ImageStream"): ImageStream,
        (APPS_API_VERSION, "DeploymentConfig"): DeploymentConfig,
    }
    model = models.get((str(item.obj.get("apiVersion")), item.kind))
    if model is None:
        return []
    try:
        obj = parse_as(model, item.obj)
    except ManifestError:
        return []
    return [
        f"{item.kind} {item.name!r}: {path} is not implemented by kbuild: {why}"
        for path, why in unimplemented_fields_in_use(obj)
    ]


def _error(text: str) -> None:
    print(f"error: {text}", file=sys.stderr, flush=True)


def send_all(
    kube: Kube, items: list[Item], namespace: str, explicit: bool, opts: Options
) -> tuple[list[Result], int]:
    """Send every item in order; an error is printed and the rest still go (exit status 1)."""
    from builder.kube import KubeError  # noqa: PLC0415

    results: list[Result] = []
    status = 0
    for item in items:
        send = send_stream_tag if item.is_stream_tag else send_object
        try:
            result = send(kube, item, namespace, explicit, opts)
        except CliError as err:
            _error(str(err))
            status = 1
            continue
        except KubeError as err:
            _error(server_message(err.message) or f"the server answered {err.status}")
            status = 1
            continue
        finally:
            for warning in kube.server_warnings:
                _warn(one_line(warning))
            kube.server_warnings.clear()
        results.append(result)
        if opts.output is None:
            print(f"{result.ref} {result.action}{opts.suffix}", flush=True)
        elif opts.output == "name":
            print(result.ref, flush=True)
    return results, status


def run(ns: argparse.Namespace, verb: str) -> int:
    from builder.api.manifest import ManifestError  # noqa: PLC0415

    opts = Options(verb, ns.dry_run, ns.output, getattr(ns, "force_conflicts", False))
    try:
        items = load_items(read_sources(ns.filename, ns.recursive))
    except ManifestError as exc:
        for problem in exc.problems:
            _error(problem)
        print("error: nothing was sent", file=sys.stderr, flush=True)
        return 1
    if not items:
        raise CliError("no objects passed to " + verb)
    for item in items:
        for warning in [*item.converted.warnings, *unimplemented_warnings(item)]:
            _warn(warning)
    kube, namespace = connect(ns)
    results, status = send_all(kube, items, namespace, ns.namespace is not None, opts)
    if opts.output in ("yaml", "json") and results:
        sys.stdout.write(render(results, opts.output))
    return status


# ---------------------------------------------------------------------------
# The verbs


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for verb, what in (
        ("apply", "apply a configuration to objects by file name or stdin (oc apply)"),
        ("create", "create objects from files or stdin (oc create)"),
    ):
        p = subparsers.add_parser(
            verb,
            help=what,
            description=(
                f"{what[0].upper()}{what[1:]}.  Legacy OpenShift 3 manifests "
                "(apiVersion: v1 BuildConfig, Build, ImageStream, ImageStreamTag, "
                "DeploymentConfig, Template) are sent to their API groups, as oc does; "
                "an ImageStreamTag sets a spec tag of its stream."
            ),
        )
        p.add_argument(
            "-f",
            "--filename",
            action="append",
            required=True,
            metavar="FILE|DIR|-",
            help="a manifest file, a directory of them (.json/.yaml/.yml), or - for stdin",
        )
        p.add_argument(
            "-R", "--recursive", action="store_true", help="read directories below -f too"
        )
        p.add_argument(
            "--dry-run",
            nargs="?",
            const="client",
            default="none",
            choices=["none", "client", "server"],
            help="client: send nothing; server: the API server checks without storing",
        )
        p.add_argument(
            "-o",
            "--output",
            choices=["yaml", "json", "name"],
            help="print the objects as stored (yaml/json) or kind/name",
        )
        if verb == "apply":
            p.add_argument(
                "--server-side",
                action="store_true",
                help="accepted for oc compatibility: kbuild always applies server-side",
            )
            p.add_argument(
                "--force-conflicts",
                action="store_true",
                help="take over fields another manager owns (server-side apply)",
            )
        add_cluster_flags(p)
        p.set_defaults(run=_runner(verb))


def _runner(verb: str) -> Callable[[argparse.Namespace], int]:
    def verb_run(ns: argparse.Namespace) -> int:
        return run(ns, verb)

    return lambda ns: run_guarded(verb_run, ns)
