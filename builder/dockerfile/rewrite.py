"""OpenShift's Docker-strategy edits to a user's Dockerfile.

- ``strategy.dockerStrategy.from`` replaces the image of the *last* FROM (the
  stage that becomes the output), keeping its ``AS`` alias and flags; earlier
  stages are the user's business.
- ``strategy.dockerStrategy.env`` is inserted as one ENV right after *every*
  FROM, so every stage, builder stages included, sees it.
- Build information (``OPENSHIFT_BUILD_*``) is appended as ENV and the build's
  labels (``io.openshift.build.*`` and ``output.imageLabels``) as one LABEL at
  the end, so they land in the final image and win over the file's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from builder.api import BuildError, StatusReason, check_env_names
from builder.dockerfile.parse import Instruction, parse, parse_from
from builder.record import replace


def _quote(value: str) -> str:
    # Double-quoted Dockerfile word: escape backslash and quote, keep $ for
    # expansion (OpenShift users rely on it), never let a newline through.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "\\r").replace("\n", "\\n") + '"'


def _key_values(keyword: str, pairs: Sequence[tuple[str, str]]) -> Instruction:
    body = " ".join(f"{_quote(k) if keyword == 'LABEL' else k}={_quote(v)}" for k, v in pairs)
    return Instruction(keyword, f"{keyword} {body}\n")


def rewrite(
    text: str,
    *,
    from_image: str | None = None,
    strategy_env: Sequence[tuple[str, str]] = (),
    build_env: Sequence[tuple[str, str]] = (),
    labels: Sequence[tuple[str, str]] = (),
) -> str:
    dockerfile = parse(text)
    froms = [
        (i, ins) for i, (_, ins) in enumerate(dockerfile.items) if ins and ins.keyword == "FROM"
    ]
    if not froms:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED, "the Dockerfile has no FROM instruction"
        )
    # The one validator every source of build env goes through (builder.api.envnames).
    check_env_names(strategy_env, what="dockerStrategy env")
    check_env_names(build_env, what="build env")
    items = list(dockerfile.items)

    if from_image:
        if any(ch.isspace() for ch in from_image):
            raise BuildError(
                StatusReason.INVALID_IMAGE_REFERENCE, f"bad image reference {from_image!r}"
            )
        last, last_from = froms[-1]
        prefix = items[last][0]
        parsed = parse_from(last_from, dockerfile.escape)
        words = ["FROM", *parsed.flags, from_image]
        if parsed.alias:
            words += ["AS", parsed.alias]
        items[last] = (prefix, Instruction("FROM", " ".join(words) + "\n"))

    if strategy_env:
        env = _key_values("ENV", strategy_env)
        for index, _ in reversed(froms):
            items.insert(index + 1, ("", env))

    tail: list[tuple[str, Instruction | None]] = []
    if build_env:
        tail.append(("", _key_values("ENV", build_env)))
    if labels:
        tail.append(("", _key_values("LABEL", labels)))
    items.extend(tail)
    return replace(dockerfile, items=tuple(items)).write()


def stage_images(text: str) -> list[str]:
    """Images the FROM lines name, excluding references to earlier stages."""
    dockerfile = parse(text)
    aliases: set[str] = set()
    images: list[str] = []
    for ins in dockerfile.instructions():
        if ins.keyword != "FROM":
            continue
        line = parse_from(ins, dockerfile.escape)
        if line.image.lower() not in aliases and line.image != "scratch":
            images.append(line.image)
        if line.alias:
            aliases.add(line.alias.lower())
    return images
