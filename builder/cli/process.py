"""``kbuild process``: a Template's objects with its parameters filled in, as ``oc process``.

The template comes from ``-f FILE`` (a ``template.openshift.io/v1`` or
legacy ``apiVersion: v1`` Template; ``-`` is stdin) or by name from the
cluster: ``NAME`` is looked up in the namespace and then in ``openshift``,
``NAMESPACE//NAME`` in that namespace only (oc's syntax).  Values come from
``--param-file`` (``KEY=VALUE`` lines, ``#`` comments), then ``-p KEY=VALUE``
and ``KEY=VALUE`` arguments, the later winning.  A value for a parameter the
template does not have is an error unless ``--ignore-unknown-parameters``.
``-l`` adds labels to every object.  The output is a ``kind: List``, JSON
by default as oc prints it, ready for ``kbuild apply -f -``;
``--parameters`` lists the parameters instead.

Processing is done here, on the client, by ``builder.api.templateprocessing``
(OpenShift does it in its API server), so ``--local`` changes nothing but
is accepted; with ``-f`` no cluster is contacted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from builder.cli.args import shared_namespace
from builder.cli.common import CliError, add_cluster_flags, connect, run_guarded

if TYPE_CHECKING:
    from builder.api.template import Template
    from builder.api.templateprocessing import Processed
    from builder.kube import Kube


# ---------------------------------------------------------------------------
# Parameter values


def parse_param_file(text: str, where: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; blank lines and ``#`` comments skipped; the last of a key wins."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq or not key:
            raise CliError(
                f"{where}:{number}: invalid parameter assignment {line!r}: expected KEY=VALUE"
            )
        values[key] = value
    return values


def parse_param(text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key:
        raise CliError(f"invalid parameter assignment {text!r}: expected KEY=VALUE")
    return key, value


def read_text(path: str) -> str:
    """A file or stdin (``-``), with ``kbuild apply``'s size limit and errors."""
    from builder.cli.apply import read_sources  # noqa: PLC0415

    texts = read_sources([path], recursive=False)
    if len(texts) != 1:
        raise CliError(f"{path}: expected one file, not a directory")
    return texts[0][0]


def given_values(
    param_files: Sequence[str], params: Sequence[str], positional: Sequence[str]
) -> dict[str, str]:
    values: dict[str, str] = {}
    for path in param_files:
        values.update(parse_param_file(read_text(path), path))
    for text in [*params, *positional]:
        key, value = parse_param(text)
        values[key] = value
    return values


def check_unknown(template: Template, given: dict[str, str], ignore: bool) -> dict[str, str]:
    """``given`` limited to the template's parameters; an unknown one is an error unless ignored."""
    names = {p.name for p in template.parameters}
    unknown = [k for k in given if k not in names]
    if unknown and not ignore:
        raise CliError(
            f'unknown parameter name "{unknown[0]}"'
            + (f" (and {', '.join(repr(u) for u in unknown[1:])})" if unknown[1:] else "")
            + "; use --ignore-unknown-parameters to skip it"
        )
    return {k: v for k, v in given.items() if k in names}


# ---------------------------------------------------------------------------
# Reading the template


def template_from_doc(doc: Any, where: str) -> Template:
    """A Template from a loaded document (legacy ``v1`` accepted); ManifestError otherwise."""
    from builder.api.legacy import TEMPLATE_API_VERSION  # noqa: PLC0415
    from builder.api.manifest import ManifestError, parse_as  # noqa: PLC0415
    from builder.api.template import Template  # noqa: PLC0415

    if not isinstance(doc, dict) or doc.get("kind") != "Template":
        kind = doc.get("kind") if isinstance(doc, dict) else type(doc).__name__
        raise ManifestError([f"{where}: expected a Template, got {kind}"])
    if doc.get("apiVersion") not in ("v1", TEMPLATE_API_VERSION):
        raise ManifestError(
            [
                f"{where}: Template apiVersion must be v1 or {TEMPLATE_API_VERSION}, "
                f"got {doc.get('apiVersion')!r}"
            ]
        )
    return parse_as(Template, {**doc, "apiVersion": TEMPLATE_API_VERSION}, f"{where}: Template")


def load_template_documents(text: str, where: str) -> tuple[list[Any], list[str]]:
    """The documents of ``text``, and warnings.

    ``kbuild apply`` refuses a JSON object with a key given twice.  Real
    templates have them (origin's and sclorg's quickstarts give a container
    ``resources`` twice) and ``oc`` reads them with Go's encoding/json,
    where the last one wins: so does ``process``, with a warning per key.
    """
    from builder.api.manifest import ManifestError, load_documents  # noqa: PLC0415
    from builder.api.nesting import load_json  # noqa: PLC0415

    try:
        return load_documents(text), []
    except ManifestError as exc:
        if not (text.lstrip().startswith("{") and "duplicate key" in str(exc)):
            raise
    duplicates: list[str] = []

    def last_wins(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.append(str(key))
            out[key] = value
        return out

    doc = load_json(text, what=where, object_pairs_hook=last_wins)
    warnings = [
        f"{where}: key {key!r} given twice in one object; the last one is used, as oc does"
        for key in dict.fromkeys(duplicates)
    ]
    return [doc], warnings


def template_from_file(path: str) -> Template:
    from builder.api.legacy import flatten  # noqa: PLC0415
    from builder.api.manifest import ManifestError  # noqa: PLC0415

    text = read_text(path)
    try:
        loaded, warnings = load_template_documents(text, path)
        for warning in warnings:
            print(f"Warning: {warning}", file=sys.stderr, flush=True)
        docs = flatten(loaded)
        templates = [d for d in docs if isinstance(d[0], dict) and d[0].get("kind") == "Template"]
        if len(docs) != 1 and len(templates) != 1:
            raise ManifestError([f"{path}: expected one Template, found {len(templates)}"])
        doc, where = templates[0] if templates else docs[0]
        return template_from_doc(doc, f"{path}, {where}")
    except ManifestError as exc:
        raise CliError("; ".join(exc.problems)) from None
    except ValueError as exc:  # JSON that is not JSON, or nested too deep
        raise CliError(f"{path}: not valid JSON: {exc}") from None


def split_template_name(text: str) -> tuple[str, str]:
    """``NAME`` or ``NAMESPACE//NAME`` (oc's form) -> (namespace or "", name)."""
    namespace, sep, name = text.rpartition("//")
    if not sep:
        return "", text
    if not namespace or not name:
        raise CliError(f"invalid template name {text!r}: expected NAME or NAMESPACE//NAME")
    return namespace, name


def template_from_cluster(kube: Kube, namespace: str, text: str) -> tuple[Template, str]:
    """The template named ``text`` and the namespace it was found in."""
    from builder.api.legacy import TEMPLATE_API_VERSION  # noqa: PLC0415
    from builder.api.manifest import ManifestError  # noqa: PLC0415
    from builder.kube import NotFound  # noqa: PLC0415

    explicit, name = split_template_name(text)
    resource = kube.resource_for(TEMPLATE_API_VERSION, "Template")
    if resource is None:
        raise CliError(
            f"this cluster does not serve {TEMPLATE_API_VERSION} (apply kbuild's "
            "crds/template.openshift.io_templates.yaml first), so templates can only be read "
            "with -f FILE"
        )
    places = [explicit] if explicit else list(dict.fromkeys([namespace, shared_namespace()]))
    for place in places:
        try:
            raw = kube.get_raw(resource, place, name)
        except NotFound:
            continue
        try:
            return template_from_doc(raw, f"template {place}/{name}"), place
        except ManifestError as exc:
            raise CliError("; ".join(exc.problems)) from None
    where = " or ".join(f'"{p}"' for p in places)
    raise CliError(f'template "{name}" not found in namespace {where}')


# ---------------------------------------------------------------------------
# Processing and output


def processed(
    template: Template, given: dict[str, str], labels: dict[str, str], ignore_unknown: bool
) -> Processed:
    from builder.api.templateprocessing import TemplateError, process  # noqa: PLC0415

    known = check_unknown(template, given, ignore_unknown)
    try:
        return process(template, known, labels)
    except TemplateError as exc:
        raise CliError(
            "unable to process template\n" + "\n".join(f"  {p}" for p in exc.problems)
        ) from None


def render(data: Any, output: str) -> str:
    import yaml  # noqa: PLC0415

    if output == "json":
        return json.dumps(data, indent=4, ensure_ascii=False) + "\n"
    return str(yaml.safe_dump(data, default_flow_style=False, sort_keys=False))


def parameters_table(template: Template) -> str:
    """``oc process --parameters``: NAME, DESCRIPTION, GENERATOR, VALUE in columns."""
    from builder.cli.common import table  # noqa: PLC0415

    rows = [
        [p.name, " ".join(p.description.split()), p.generate, p.value or p.from_]
        for p in template.parameters
    ]
    return table(["NAME", "DESCRIPTION", "GENERATOR", "VALUE"], rows)


def _labels(values: Sequence[str] | None) -> dict[str, str]:
    from builder.cli.newapp import parse_labels  # noqa: PLC0415

    return parse_labels(values)


def _template(ns: argparse.Namespace, names: list[str]) -> Template:
    if ns.filename and names:
        raise CliError("give a template NAME or -f FILE, not both")
    if ns.filename:
        return template_from_file(ns.filename)
    if len(names) != 1:
        raise CliError("give one template NAME or -f FILE")
    if ns.local:
        raise CliError("--local needs the template as -f FILE")
    kube, namespace = connect(ns)
    return template_from_cluster(kube, namespace, names[0])[0]


def run(ns: argparse.Namespace) -> int:
    positional = list(ns.args)
    params = [a for a in positional if "=" in a]
    template = _template(ns, [a for a in positional if "=" not in a])
    if ns.parameters:
        sys.stdout.write(parameters_table(template))
        return 0
    given = given_values(ns.param_file or [], ns.param or [], params)
    result = processed(template, given, _labels(ns.labels), ns.ignore_unknown_parameters)
    sys.stdout.write(render(result.as_list(), ns.output))
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "process",
        help="process a template into a list of objects (oc process)",
        description=(
            "Fill a Template's parameters in and print its objects as a List, to pipe into "
            "'kbuild apply -f -'.  The template is -f FILE, or NAME (the namespace, then "
            "openshift) or NAMESPACE//NAME from the cluster."
        ),
    )
    p.add_argument("args", nargs="*", metavar="NAME | KEY=VALUE")
    p.add_argument("-f", "--filename", help="the template file (- for stdin)")
    p.add_argument(
        "-p", "--param", action="append", metavar="KEY=VALUE", help="a parameter value (repeatable)"
    )
    p.add_argument(
        "--param-file", action="append", metavar="FILE", help="KEY=VALUE lines (repeatable)"
    )
    p.add_argument(
        "-l", "--labels", action="append", metavar="KEY=VALUE[,...]", help="labels for every object"
    )
    p.add_argument("--local", action="store_true", help="do not contact the cluster (needs -f)")
    p.add_argument(
        "--ignore-unknown-parameters",
        action="store_true",
        help="skip values for parameters the template does not have instead of failing",
    )
    p.add_argument(
        "--parameters", action="store_true", help="list the template's parameters instead"
    )
    p.add_argument("-o", "--output", choices=["json", "yaml"], default="json")
    add_cluster_flags(p)
    p.set_defaults(run=_runner())


def _runner() -> Callable[[argparse.Namespace], int]:
    return lambda ns: run_guarded(run, ns)
