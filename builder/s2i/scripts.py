"""Where each S2I script comes from.

The lookup order is the one users of OpenShift rely on, per script:

1. the strategy's ``scripts`` URL, when it is an http(s) URL that served the script;
2. the source's ``.s2i/bin``;
3. the directory named by the builder's ``io.openshift.s2i.scripts-url`` label
   (or an ``image://`` strategy ``scripts`` URL, which overrides the label);
4. ``/usr/libexec/s2i``.

Steps 1 and 2 both end up as files in the build context's ``upload/scripts``
(the pipeline downloads or copies them there, URL winning); this module only
needs to know which names arrived, which keeps it pure.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Set
from dataclasses import dataclass
from enum import StrEnum

from builder.api import BuildError, StatusReason

SCRIPTS_URL_LABEL = "io.openshift.s2i.scripts-url"
LEGACY_SCRIPTS_URL_LABEL = "io.s2i.scripts-url"
DESTINATION_LABEL = "io.openshift.s2i.destination"
ASSEMBLE_USER_LABEL = "io.openshift.s2i.assemble-user"
DEFAULT_IMAGE_SCRIPTS_DIR = "/usr/libexec/s2i"
DEFAULT_ASSEMBLE_USER = "1001"

ASSEMBLE = "assemble"
RUN = "run"
SAVE_ARTIFACTS = "save-artifacts"
KNOWN_SCRIPTS = (ASSEMBLE, RUN, SAVE_ARTIFACTS, "usage")


class ScriptOrigin(StrEnum):
    UPLOADED = "the build (scripts URL or .s2i/bin)"
    IMAGE = "the builder image"


@dataclass(frozen=True)
class ScriptLocation:
    path: str
    origin: ScriptOrigin


def image_scripts_dir(strategy_scripts_url: str | None, labels: Mapping[str, str]) -> str:
    """The directory inside the builder image holding its own scripts."""
    for candidate in (
        strategy_scripts_url,
        labels.get(SCRIPTS_URL_LABEL),
        labels.get(LEGACY_SCRIPTS_URL_LABEL),
    ):
        if candidate and candidate.startswith("image://"):
            path = candidate.removeprefix("image://")
            if not path.startswith("/"):
                raise BuildError(
                    StatusReason.MANAGE_DOCKERFILE_FAILED,
                    f"scripts URL {candidate!r} must name an absolute path inside the image",
                )
            return posixpath.normpath(path)
    return DEFAULT_IMAGE_SCRIPTS_DIR


def locate_script(
    name: str, uploaded: Set[str], image_dir: str, uploaded_dir: str
) -> ScriptLocation:
    if name in uploaded:
        return ScriptLocation(posixpath.join(uploaded_dir, name), ScriptOrigin.UPLOADED)
    return ScriptLocation(posixpath.join(image_dir, name), ScriptOrigin.IMAGE)


def assemble_user(labels: Mapping[str, str], image_user: str | None) -> str:
    """Label first, then the image's USER, then 1001, as DESIGN.md §2 says.

    The user ends up in ``COPY --chown`` and ``USER`` lines, so anything that
    could break out of that token is refused rather than quoted.
    """
    chosen = labels.get(ASSEMBLE_USER_LABEL) or image_user or DEFAULT_ASSEMBLE_USER
    # An image USER may be "uid:gid"; S2I always assembles with group 0 so that
    # OpenShift-style arbitrary UIDs can write, hence only the user part counts.
    user = chosen.split(":", 1)[0].strip()
    if not user or any(ch.isspace() for ch in user) or any(ch in user for ch in "\"'\\$"):
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"builder image assemble user {user!r} is not a valid user name or uid",
        )
    return user
