"""``kbuild get -w`` / ``--watch-only``: a row for each change, until interrupted.

As kubectl: ``-w`` prints the list first (the table with its header), then
one row per ADDED, MODIFIED or DELETED event; ``--watch-only`` skips the list
and prints the header with the first event.  ``-o json|yaml|name`` and the
template printers print each changed object on its own.  One resource type
per watch, as kubectl requires.  The watch resumes from the last
resourceVersion when the server closes it; a 410 (the version is too old)
re-lists quietly and watches on from the new version, so no change is missed
and nothing already printed is printed again merely because of it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from builder.cli.common import (
    IMAGE_STREAM_TAGS,
    IMAGE_STREAMS,
    CliError,
    Resource,
    not_found,
    utcnow,
)
from builder.cli.get import (
    TEMPLATES,
    Item,
    TableOptions,
    ordered,
    render_output,
    stream_tags,
    table_rows,
)
from builder.cli.printers import Output

if TYPE_CHECKING:
    from builder.kube import CustomResources, Kube


def _client(kube: Kube, resource: Resource) -> CustomResources[Any]:
    from builder.cli.common import BUILD_CONFIGS, BUILDS  # noqa: PLC0415
    from builder.cli.dc import DEPLOYMENT_CONFIGS  # noqa: PLC0415

    clients: dict[Resource, Any] = {
        BUILDS: kube.builds,
        BUILD_CONFIGS: kube.build_configs,
        IMAGE_STREAMS: kube.image_streams,
        IMAGE_STREAM_TAGS: kube.image_streams,
        DEPLOYMENT_CONFIGS: kube.deployment_configs,
    }
    client: CustomResources[Any] = clients[resource]
    return client


def _items(resource: Resource, obj: Any, names: set[str]) -> list[Item]:
    """What one changed object shows as: itself, or for istag each of its stream's tags."""
    if resource is IMAGE_STREAM_TAGS:
        tags = stream_tags(obj)
        return [t for t in tags if not names or t.name in names]
    if names and obj.metadata.name not in names:
        return []
    return [obj]


class Printer:
    """Prints batches of objects: the header once, rows aligned with what came before.

    Columns keep the widths of the rows already printed (a wider cell widens
    its column from then on), so a row per event lines up under the list.
    """

    def __init__(self, resource: Resource, output: Output, options: TableOptions) -> None:
        self.resource = resource
        self.output = output
        self.options = options
        self.widths: list[int] = []

    def format(self, rows: list[list[str]]) -> str:
        """kubectl's table spacing (cells padded to the widest + 3, at least 6)."""
        for row in rows:
            for i, cell in enumerate(row[:-1]):
                width = max(len(cell) + 3, 6)
                if i < len(self.widths):
                    self.widths[i] = max(self.widths[i], width)
                else:
                    self.widths.append(width)
        lines = []
        for row in rows:
            cells = [cell.ljust(self.widths[i]) for i, cell in enumerate(row[:-1])]
            lines.append("".join(cells) + (row[-1] if row else ""))
        return "".join(line + "\n" for line in lines)

    def print(self, items: Sequence[Item]) -> None:
        if not items:
            return
        if not self.output.is_table:
            for item in items:
                sys.stdout.write(render_output([item], self.output, single=True))
            sys.stdout.flush()
            return
        headers, rows = table_rows(self.resource, items, utcnow(), self.options)
        if not self.widths:
            rows = [[h.upper() for h in headers], *rows]
        sys.stdout.write(self.format(rows))
        sys.stdout.flush()


def _events(
    client: CustomResources[Any], scope: str | None, rv: str, selector: str
) -> Iterator[tuple[str, Any, str]]:
    """(type, object, resourceVersion) for ever: re-watches on close, re-lists on 410."""
    from builder.kube import Gone  # noqa: PLC0415

    while True:
        try:
            for event in client.watch(scope, rv, label_selector=selector):
                rv = event.resource_version or rv
                if event.type == "BOOKMARK" or event.object is None:
                    continue
                yield event.type, event.object, rv
        except Gone:
            _, rv = client.list(scope, label_selector=selector)


def watch(  # noqa: PLR0917 - the verb's parsed flags, passed on as they are
    kube: Kube,
    targets: list[tuple[Resource, str | None]],
    namespace: str,
    scope: str | None,
    selector: str,
    output: Output,
    options: TableOptions,
    *,
    watch_only: bool,
) -> int:
    resources = {resource for resource, _ in targets}
    if len(resources) > 1:
        raise CliError("you may only specify a single resource type")
    resource = targets[0][0]
    if resource is TEMPLATES:
        raise CliError("watching templates is not supported; list them with kbuild get templates")
    names = {name for _, name in targets if name is not None}
    if names:
        scope = namespace
    client = _client(kube, resource)
    printer = Printer(resource, output, options)
    items, rv = client.list(scope, label_selector=selector)
    missing = sorted(names - {i.metadata.name for i in items})
    if missing and resource is not IMAGE_STREAM_TAGS:
        raise not_found(resource, missing[0])
    if not watch_only:
        listed = [shown for obj in items for shown in _items(resource, obj, names)]
        printer.print(ordered(resource, listed, options.sort_by))
    for _kind, obj, _rv in _events(client, scope, rv, selector):
        printer.print(_items(resource, obj, names))
    return 0
