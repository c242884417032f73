"""Where each S2I script comes from, and where the build's files land.

The lookup order is source-to-image's (``pkg/build/strategies/dockerfile``),
which OpenShift 4 runs and DESIGN.md §2 states:

1. an ``image://`` strategy ``scripts`` URL wins outright: every script is
   taken from that directory of the builder image, and the source's
   ``.s2i/bin`` is not used (s2i "blindly trusts" the image to hold them all);
2. otherwise, per script: an http(s) strategy ``scripts`` URL that served it;
3. the source's ``.s2i/bin``;
4. an http(s) ``io.openshift.s2i.scripts-url`` label of the builder image
   that served it (downloaded, as s2i installs the image's scripts URL);
5. the builder image's own directory: the label's ``image://`` path
   (``io.s2i.scripts-url``, the deprecated name, if the new one is absent),
   else ``/usr/libexec/s2i``.

Steps 2 to 4 all end up as files in the build context's ``upload/scripts``
(the pipeline copies or downloads them there, in that order of precedence);
this module only needs to know which names arrived, which keeps it pure.

A scripts URL of any other scheme (``file://`` reads the build host's disk in
s2i, and anything else is a typo) is refused with a reason naming where it
came from, never skipped.

The builder's ``io.openshift.s2i.destination`` label moves the build's files
(``<destination>/src``, ``/scripts``, ``/artifacts``) from ``/tmp``, as s2i
does; the artifacts tarball of an incremental build stays ``/tmp/artifacts.tar``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Set
from enum import StrEnum

from builder.api import BuildError, StatusReason
from builder.record import Record

SCRIPTS_URL_LABEL = "io.openshift.s2i.scripts-url"
LEGACY_SCRIPTS_URL_LABEL = "io.s2i.scripts-url"
DESTINATION_LABEL = "io.openshift.s2i.destination"
ASSEMBLE_USER_LABEL = "io.openshift.s2i.assemble-user"
DEFAULT_IMAGE_SCRIPTS_DIR = "/usr/libexec/s2i"
DEFAULT_DESTINATION = "/tmp"  # noqa: S108 - a path inside the image, not on this host
DEFAULT_ASSEMBLE_USER = "1001"

ASSEMBLE = "assemble"
RUN = "run"
SAVE_ARTIFACTS = "save-artifacts"
KNOWN_SCRIPTS = (ASSEMBLE, RUN, SAVE_ARTIFACTS, "usage")

IMAGE_SCHEME = "image://"
DOWNLOAD_SCHEMES = ("http://", "https://")

# Paths are written unquoted into COPY and shell-form RUN lines.
SAFE_PUNCTUATION = "'/._-+@%:,=~'"
SAFE_PATH = re.compile(r"/[A-Za-z0-9/._+@%:,=~-]*")


class ScriptOrigin(StrEnum):
    UPLOADED = "the build (scripts URL, .s2i/bin or the builder's scripts-url label)"
    IMAGE = "the builder image"


class ScriptLocation(Record):
    path: str
    origin: ScriptOrigin


def _refuse(url: str, where: str, why: str) -> BuildError:
    return BuildError(StatusReason.MANAGE_DOCKERFILE_FAILED, f"{where} {url!r} {why}")


def check_scripts_url(url: str | None, where: str = "the scripts URL") -> str | None:
    """``url`` if its scheme is one S2I can use here (image://, http://, https://).

    ``where`` names the origin for the message (the strategy's ``scripts``
    field, or the builder image's label).  An empty URL is no URL.
    """
    if not url:
        return None
    if url.startswith(IMAGE_SCHEME):
        path = url.removeprefix(IMAGE_SCHEME)
        if not path.startswith("/"):
            raise _refuse(url, where, "must name an absolute path inside the image (image:///dir)")
        return url
    if url.lower().startswith(DOWNLOAD_SCHEMES):
        return url
    scheme = url.partition("://")[0] + "://" if "://" in url else "no scheme"
    raise _refuse(
        url,
        where,
        f"has {scheme}: only image:// (a directory of the builder image) and http(s):// "
        "(downloaded) scripts URLs can be used; file:// would read the build host's disk",
    )


def builder_scripts_url(labels: Mapping[str, str]) -> str | None:
    """The builder image's scripts URL label, checked (the deprecated name as a fallback)."""
    for name in (SCRIPTS_URL_LABEL, LEGACY_SCRIPTS_URL_LABEL):
        value = labels.get(name)
        if value:
            return check_scripts_url(value, f"the builder image's {name} label")
    return None


def is_image_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(IMAGE_SCHEME)


def is_download_url(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(DOWNLOAD_SCHEMES)


def strategy_takes_all_scripts(strategy_scripts_url: str | None) -> bool:
    """An ``image://`` strategy URL names the directory of every script (step 1)."""
    return is_image_url(check_scripts_url(strategy_scripts_url))


def _image_path(url: str) -> str:
    return posixpath.normpath(url.removeprefix(IMAGE_SCHEME))


def image_scripts_dir(strategy_scripts_url: str | None, labels: Mapping[str, str]) -> str:
    """The directory inside the builder image holding its own scripts."""
    strategy = check_scripts_url(strategy_scripts_url)
    if strategy and is_image_url(strategy):
        return _image_path(strategy)
    label = builder_scripts_url(labels)
    if label and is_image_url(label):
        return _image_path(label)
    return DEFAULT_IMAGE_SCRIPTS_DIR


def destination(labels: Mapping[str, str]) -> str:
    """The builder's ``io.openshift.s2i.destination``, else ``/tmp``.

    It is written bare into COPY and RUN lines, so it must be an absolute
    path of plain characters; anything else is refused, naming the label.
    """
    value = labels.get(DESTINATION_LABEL)
    if not value:
        return DEFAULT_DESTINATION
    if not SAFE_PATH.fullmatch(value):
        raise BuildError(
            StatusReason.MANAGE_DOCKERFILE_FAILED,
            f"the builder image's {DESTINATION_LABEL} label {value!r} must be an absolute path "
            f"of letters, digits and {SAFE_PUNCTUATION}",
        )
    return posixpath.normpath(value)


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
