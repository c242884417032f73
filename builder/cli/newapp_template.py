"""``kbuild new-app --template NAME`` / ``-f FILE``: a Template, processed and created.

As ``oc new-app``: the template is read (``-f``, or by name from the
namespace and then ``openshift``), processed with ``-p``/``--param-file``
values and ``-l`` labels (``builder.cli.process``), described with its
parameters (a generated value marked ``# generated``), and each object is
created in turn.  Legacy ``apiVersion: v1`` objects are converted as
``kbuild apply`` converts them; an object of a kind the cluster does not
serve (a Route, a DeploymentConfig without its CRD) is reported by name and
the others are still created, the exit status then 1, as oc reports a
failed object and goes on.  ``-o yaml|json`` prints the objects instead and
``--dry-run`` creates nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from builder.cli.common import CliError, connect, one_line, server_message

if TYPE_CHECKING:
    from builder.api.template import Template
    from builder.api.templateprocessing import Processed
    from builder.cli.apply import Item
    from builder.kube import Kube

INDENT = "    "


def describe_template(template: Template, result: Processed, label: str, namespace: str) -> str:
    """oc's ``--> Deploying template ...`` block, with the parameters and their values."""
    annotations = template.metadata.annotations
    lines = [f"--> Deploying template {label} to project {namespace}", ""]
    display = annotations.get("openshift.io/display-name") or template.metadata.name
    lines.extend([f"{INDENT} {display}", f"{INDENT} {'-' * len(display)}"])
    description = annotations.get("description", "")
    if description:
        lines.extend([f"{INDENT} {description}", ""])
    if result.message:
        lines.extend([*(f"{INDENT} {m}".rstrip() for m in result.message.splitlines()), ""])
    if result.parameters:
        lines.append(f"{INDENT} * With parameters:")
        for param in result.parameters:
            shown = param.display_name or param.name
            mark = " # generated" if param.name in result.generated else ""
            lines.append(f"{INDENT}    * {shown}={param.value}{mark}")
        lines.append("")
    return "\n".join(lines) + "\n"


def template_label(template: Template, where: str, file: str | None) -> str:
    name = f'"{where}/{template.metadata.name}"'
    return f'{name} for "{file}"' if file else name


def _load(ns: argparse.Namespace) -> tuple[Template, Kube | None, str, str]:
    """The template, the connection (None for ``-f`` with ``-o``), the namespace, where found."""
    from builder.cli.process import template_from_cluster, template_from_file  # noqa: PLC0415

    if ns.file:
        template = template_from_file(ns.file)
        if ns.output in ("yaml", "json"):
            return template, None, ns.namespace or "", ns.namespace or ""
        kube, namespace = connect(ns)
        return template, kube, namespace, namespace
    kube, namespace = connect(ns)
    template, where = template_from_cluster(kube, namespace, ns.template)
    return template, kube, namespace, where


def _items(result: Processed) -> list[Item]:
    from builder.api.legacy import convert  # noqa: PLC0415
    from builder.api.manifest import ManifestError  # noqa: PLC0415
    from builder.cli.apply import Item  # noqa: PLC0415

    items: list[Item] = []
    problems: list[str] = []
    for i, obj in enumerate(result.objects):
        try:
            items.append(Item(convert(obj, f"object {i + 1}"), f"template object {i + 1}"))
        except ManifestError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CliError("; ".join(problems))
    return items


def _create(kube: Kube, items: list[Item], namespace: str, dry_run: bool) -> bool:
    """Create each object, printing oc's line for it; False if any failed."""
    from builder.cli.apply import Options, send_object  # noqa: PLC0415
    from builder.cli.newapp import created_line  # noqa: PLC0415
    from builder.kube import KubeError  # noqa: PLC0415

    opts = Options("create", "client" if dry_run else "none", None)
    ok = True
    for item in items:
        for warning in item.converted.warnings:
            print(f"{INDENT}Warning: {warning}", file=sys.stderr, flush=True)
        try:
            send_object(kube, item, namespace, False, opts)
        except CliError as err:
            ok = False
            print(f"{INDENT}error: {err}", file=sys.stderr, flush=True)
            continue
        except KubeError as err:
            ok = False
            message = server_message(err.message) or f"the server answered {err.status}"
            print(f"{INDENT}error: {one_line(message)}", file=sys.stderr, flush=True)
            continue
        finally:
            kube.server_warnings.clear()
        sys.stdout.write(created_line(item.obj, dry_run) + "\n")
    return ok


def run(ns: argparse.Namespace) -> int:
    from builder.cli.apply import Result, render  # noqa: PLC0415
    from builder.cli.newapp import creating_header, parse_labels, success_lines  # noqa: PLC0415
    from builder.cli.process import given_values, processed  # noqa: PLC0415

    if ns.component:
        raise CliError("give a template (--template or -f) or a component, not both")
    template, kube, namespace, where = _load(ns)
    given = given_values(ns.param_file or [], ns.param or [], [])
    result = processed(template, given, parse_labels(ns.labels), ns.ignore_unknown_parameters)
    items = _items(result)
    if kube is None or ns.output in ("yaml", "json"):
        sys.stdout.write(render([Result(i.name, "created", i.obj) for i in items], ns.output))
        return 0
    label = template_label(template, where, ns.file)
    sys.stdout.write(describe_template(template, result, label, namespace))
    sys.stdout.write(creating_header({}) + "\n")
    ok = _create(kube, items, namespace, ns.dry_run)
    suffix = " (dry run)" if ns.dry_run else ""
    sys.stdout.write(f"--> {'Success' if ok else 'Failed'}{suffix}\n")
    if ok and not ns.dry_run:
        lines = success_lines([item.obj for item in items], deploy=True)
        sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0 if ok else 1
