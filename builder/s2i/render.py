"""Render the S2I Dockerfile: a pure function of builder, source and strategy.

Nothing here touches the network or the disk except to read the template, so
every rule (script lookup, destination, assemble user, label and env merging,
incremental stages) is covered by table-driven tests without a registry or
buildah; tests/unit/s2i/test_s2i_tables.py replays source-to-image's own
Dockerfile-generator tables against it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from functools import cache
from pathlib import Path

from builder.api import BuildError, StatusReason, check_env_names
from builder.record import Record, field
from builder.s2i.scripts import (
    ASSEMBLE,
    DEFAULT_DESTINATION,
    DESTINATION_LABEL,
    RUN,
    SAFE_PATH,
    SAFE_PUNCTUATION,
    SAVE_ARTIFACTS,
    SCRIPTS_URL_LABEL,
    ScriptLocation,
    assemble_user,
    check_scripts_url,
    destination,
    image_scripts_dir,
    locate_script,
    strategy_takes_all_scripts,
)
from builder.s2i.template import Template, TemplateError, parse

# Where things land inside the image: ``<destination>/src``, ``/scripts`` and
# ``/artifacts``, the destination being the builder's io.openshift.s2i.destination
# label or /tmp (every builder's assemble script reads them there).  The
# artifacts tarball always goes through /tmp, as in s2i.
ARTIFACTS_TAR = f"{DEFAULT_DESTINATION}/artifacts.tar"

# OpenShift's name (its builds label with the io.openshift.build. namespace;
# io.openshift.s2i.build.* is plain s2i's default namespace).
BUILDER_IMAGE_LABEL = "io.openshift.build.image"


class BuilderImage(Record):
    """What the renderer needs to know about the builder image."""

    pull_spec: str
    labels: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None


class S2IInputs(Record):
    builder: BuilderImage
    # Names of scripts present in the context's upload/scripts directory.
    uploaded_scripts: Set[str] = frozenset()
    # The strategy's ``scripts`` field, verbatim (image:// or http(s) URL;
    # anything else is refused).  An image:// URL takes every script from the
    # image: ``uploaded_scripts`` are then not used.
    scripts_url: str | None = None
    # Ordered (name, value) pairs; later entries win, as with repeated ENV.
    env: Sequence[tuple[str, str]] = ()
    # Ordered label pairs; later entries win.
    labels: Sequence[tuple[str, str]] = ()
    # Pull spec of the previous build's image for incremental builds.
    incremental_from: str | None = None


class S2IPlan(Record):
    """The decisions taken, exposed for logging and for tests."""

    assemble_user: str
    assemble: ScriptLocation
    run: ScriptLocation
    save_artifacts: ScriptLocation | None
    dockerfile: str


TEMPLATE_NAME = "Dockerfile.j2"


def _templates_dir() -> Path:
    """``s2i_templates/`` ships beside the package in a checkout and inside it when installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "s2i_templates", here.parent.parent / "s2i_templates"):
        if (candidate / TEMPLATE_NAME).is_file():
            return candidate
    raise BuildError(
        StatusReason.MANAGE_DOCKERFILE_FAILED,
        f"S2I templates not found next to {here} (broken installation)",
    )


@cache
def load_template() -> Template:
    """The parsed S2I template, read once per process.

    ``builder.s2i.template`` renders it: the part of Jinja it uses, without
    importing jinja2 (that module's docstring says why).
    """
    path = _templates_dir() / TEMPLATE_NAME
    try:
        return parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, TemplateError) as err:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED, f"S2I template {path}: {err}"
        ) from err


def quote(value: str) -> str:
    """A Dockerfile double-quoted word that buildah keeps byte for byte.

    JSON string syntax is what Dockerfile double quotes accept for the
    characters that matter (backslash, quote), and it turns newlines into
    ``\\n`` so a value can never start a new instruction.  ``$`` is escaped
    as s2i escapes it (``ConvertEnvironmentToDocker``): ENV and LABEL expand
    variables, so a password ``pa$$word`` or a commit message naming
    ``$HOME`` would otherwise change on the way into the image.
    """
    return json.dumps(value, ensure_ascii=False).replace("$", "\\$")


def _merge(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: dict[str, str] = {}
    for name, value in pairs:
        merged.pop(name, None)
        merged[name] = value
    return list(merged.items())


def _image_ref(ref: str, what: str) -> str:
    # Written bare after FROM: no space or control character (a new word or
    # line), no leading "-" (a FROM flag).
    if not ref or ref.startswith("-") or any(ch.isspace() or ch < " " for ch in ref):
        raise BuildError(
            StatusReason.INVALID_IMAGE_REFERENCE, f"{what} {ref!r} is not an image reference"
        )
    return ref


def _script_path(location: ScriptLocation) -> ScriptLocation:
    """A script path goes into shell-form ``RUN`` lines unquoted: plain path characters only.

    It comes from the builder image's scripts-url label (whatever its registry
    serves) or the strategy's ``image://`` URL; a space, ``;``, ``$`` or a
    newline there would add commands or instructions to the Dockerfile.
    """
    if not SAFE_PATH.fullmatch(location.path):
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"S2I script path {location.path!r} (from the scripts URL or the builder image's "
            f"{SCRIPTS_URL_LABEL} label) may only hold letters, digits and {SAFE_PUNCTUATION}",
        )
    return location


def render(inputs: S2IInputs) -> S2IPlan:
    """The Dockerfile for ``inputs``; a name or path that could add lines is a BuildError.

    Values (env, labels) are quoted by ``quote``; names and paths, which the
    template writes bare, are validated instead: env names by the rule every
    build env follows (``builder.api.envnames``), script paths by
    ``_script_path``, the user by ``assemble_user``, images by ``_image_ref``,
    the destination by ``scripts.destination``.  Whatever the inputs, the
    result has exactly the template's instructions.
    """
    check_env_names(inputs.env, what="S2I env")
    builder_image = _image_ref(inputs.builder.pull_spec, "builder image")
    labels_in = inputs.builder.labels
    user = assemble_user(labels_in, inputs.builder.user)
    scripts_url = check_scripts_url(inputs.scripts_url, "the strategy's scripts URL")
    image_dir = image_scripts_dir(scripts_url, labels_in)
    # An image:// strategy URL names every script's directory (s2i's
    # hasAllScripts): nothing uploaded is used, .s2i/bin included.
    uploaded = set() if strategy_takes_all_scripts(scripts_url) else set(inputs.uploaded_scripts)
    dest = destination(labels_in)
    scripts_dir = f"{dest.rstrip('/')}/scripts"
    assemble = _script_path(locate_script(ASSEMBLE, uploaded, image_dir, scripts_dir))
    run = _script_path(locate_script(RUN, uploaded, image_dir, scripts_dir))

    labels = [(BUILDER_IMAGE_LABEL, builder_image)]
    if scripts_url:
        labels.append((SCRIPTS_URL_LABEL, scripts_url))
    if labels_in.get(DESTINATION_LABEL):
        labels.append((DESTINATION_LABEL, dest))
    labels.extend(inputs.labels)

    incremental: dict[str, object] | None = None
    save_artifacts: ScriptLocation | None = None
    if inputs.incremental_from:
        save_artifacts = _script_path(
            locate_script(SAVE_ARTIFACTS, uploaded, image_dir, scripts_dir)
        )
        incremental = {
            "image": _image_ref(inputs.incremental_from, "previous image"),
            "script": save_artifacts.path,
            "script_uploaded": SAVE_ARTIFACTS in uploaded,
        }

    try:
        dockerfile = load_template().render(
            builder_image=builder_image,
            user=user,
            labels=[f"{quote(k)}={quote(v)}" for k, v in _merge(labels)],
            env=[f"{k}={quote(v)}" for k, v in _merge(list(inputs.env))],
            incremental=incremental,
            scripts_uploaded=bool(uploaded),
            scripts_dir=scripts_dir,
            source_dir=f"{dest.rstrip('/')}/src",
            artifacts_dir=f"{dest.rstrip('/')}/artifacts",
            artifacts_tar=ARTIFACTS_TAR,
            assemble={"path": assemble.path, "origin": assemble.origin.value},
            run={"path": run.path, "origin": run.origin.value},
        )
    except TemplateError as err:
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED, f"S2I template {TEMPLATE_NAME}: {err}"
        ) from err
    return S2IPlan(user, assemble, run, save_artifacts, dockerfile)
