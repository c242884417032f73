"""``kbuild new-app IMAGE`` and ``kbuild new-app IS:TAG``: deploy an image as it is, no build.

As ``oc new-app``: an image stream tag (``[ns/]stream[:tag]``, looked up in
the namespace and then ``openshift``) is deployed by a Deployment whose
``image.openshift.io/triggers`` annotation follows that tag; a pull spec
with a registry host gets an ImageStream ``NAME`` first, whose spec tag
imports the image.  A Service covers the image's exposed ports (8080/TCP,
with a warning, when its config cannot be read from here).  The objects are
``builder.cli.appobjects.image_app_objects``; the rest (``--name``, ``-e``,
``-l``, ``-o``, ``--dry-run``, nothing created on a name clash) is as for
``BUILDER~REPO``.  ``--docker-image IMAGE`` is always a pull spec, never
looked up as an image stream (``--docker-image mysql`` is Docker Hub's).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from builder.cli.common import CliError, connect, server_message, utcnow

if TYPE_CHECKING:
    from builder.cli.appobjects import AppParams
    from builder.cli.newapp import BuilderArg, FoundBuilder
    from builder.kube import Kube

INDENT = "    "


def looks_like_image(text: str) -> bool:
    """A component without ``~`` that is not a git URL: oc searches images for it."""
    if "://" in text:
        return False
    at, colon, slash = text.find("@"), text.find(":"), text.find("/")
    # user@host:path is git's scp form: the @ before the first : and any /.
    scp = at != -1 and colon != -1 and at < colon and (slash == -1 or at < slash)
    return not scp


def image_name(arg: BuilderArg) -> str:
    """The default name: the stream's, or the pull spec's last path element without tag."""
    from builder.cli.appobjects import suggest_name  # noqa: PLC0415

    if not arg.pull_spec:
        return arg.stream
    last = arg.pull_spec.split("@", 1)[0].rsplit("/", 1)[-1]
    return suggest_name(last.split(":", 1)[0])


def _pull_spec_tag(pull_spec: str) -> str:
    from builder.registry import ImageReference  # noqa: PLC0415

    ref = ImageReference.parse(pull_spec)
    return ref.tag or "latest"


def describe(found: FoundBuilder, params: AppParams, now: datetime) -> str:
    """oc's lines for a deployed image: where it was found, what is made of it."""
    from builder.cli.newapp import describe_builder, parse_repo  # noqa: PLC0415

    text = describe_builder(found, params, parse_repo("https://unused.invalid/x.git"), now)
    header = [line for line in text.splitlines() if not line.strip().startswith("*")]
    while header and not header[-1]:
        header.pop()
    lines = [*header, "", f'{INDENT}* This image will be deployed in deployment "{params.name}"']
    for port in params.ports:
        lines.append(
            f"{INDENT}* Port {port.number}/{port.protocol.lower()} will be load balanced by "
            f'service "{params.name}"'
        )
    if params.ports:
        lines.append(
            f"{INDENT}  * Other containers can access this service through the hostname "
            f'"{params.name}"'
        )
    return "\n".join(lines) + "\n\n"


def plan(ns: argparse.Namespace) -> tuple[Kube, str, FoundBuilder, AppParams, list[dict[str, Any]]]:
    """The connection, namespace, the image as found, and the objects to create."""
    from builder.cli.appobjects import (  # noqa: PLC0415
        DEFAULT_PORT,
        AppParams,
        GitSource,
        Port,
        image_app_objects,
        invalid_name_message,
        name_is_valid,
        ports_from_exposed,
    )
    from builder.cli.newapp import (  # noqa: PLC0415
        _docker_image,
        _stream_lookup,
        find_builder,
        inspected,
        parse_builder,
        parse_labels,
    )

    docker_image = getattr(ns, "docker_image", "") or ""
    arg = _docker_image(docker_image) if docker_image else parse_builder(ns.component)
    name = ns.name or image_name(arg)
    if not name or not name_is_valid(name):
        raise CliError(invalid_name_message(name) if name else "give a name with --name")
    kube, namespace = connect(ns)
    found = inspected(find_builder(arg, namespace, _stream_lookup(kube)), ns.insecure_registry)
    if found.ref is None:  # find_builder always names the image
        raise CliError(f"cannot deploy {ns.component!r}")
    ports = (
        ports_from_exposed(found.config.exposed_ports)
        if found.config is not None
        else (Port(DEFAULT_PORT),)
    )
    params = AppParams(
        name=name,
        builder=found.ref,
        source=GitSource(uri=""),
        env=tuple(ns.env or ()),
        labels=parse_labels(ns.labels),
        ports=ports,
    )
    tag = _pull_spec_tag(arg.pull_spec) if arg.pull_spec else found.tag
    return kube, namespace, found, params, image_app_objects(params, tag)


def _create_all(
    kube: Kube, namespace: str, objects: list[dict[str, Any]], verbose: bool, dry_run: bool
) -> bool:
    from builder.cli.newapp import create, created_line, kind_label  # noqa: PLC0415
    from builder.kube import KubeError  # noqa: PLC0415

    ok = True
    for obj in objects:
        if not dry_run:
            try:
                create(kube, namespace, obj)
            except KubeError as err:
                ok = False
                message = server_message(err.message) or f"the server answered {err.status}"
                print(f"{INDENT if verbose else ''}error: {message}", file=sys.stderr)
                continue
        if verbose:
            sys.stdout.write(created_line(obj, dry_run) + "\n")
        else:
            sys.stdout.write(f"{kind_label(obj)}/{obj['metadata']['name']}\n")
    return ok


def run(ns: argparse.Namespace) -> int:
    from builder.cli.newapp import creating_header, existing, ports_warning, render_list  # noqa: PLC0415

    kube, namespace, found, params, objects = plan(ns)
    warning = ports_warning(found)
    if ns.output in ("yaml", "json"):
        if warning:
            print(warning, file=sys.stderr, flush=True)
        sys.stdout.write(render_list(objects, ns.output))
        return 0
    clashes = existing(kube, namespace, objects)
    if clashes:
        raise CliError(f"{', '.join(clashes)} already exists; nothing was created")
    verbose = ns.output is None
    if verbose:
        sys.stdout.write(describe(found, params, utcnow()))
    if warning:
        print(warning, file=sys.stderr, flush=True)
    if verbose:
        sys.stdout.write(creating_header(params.labels) + "\n")
    ok = _create_all(kube, namespace, objects, verbose, ns.dry_run)
    if verbose:
        suffix = " (dry run)" if ns.dry_run else ""
        sys.stdout.write(f"--> {'Success' if ok else 'Failed'}{suffix}\n")
        if ok and not ns.dry_run:
            sys.stdout.write(
                f"{INDENT}Run 'kubectl get deployment/{params.name}' to view your app.\n"
            )
    return 0 if ok else 1
