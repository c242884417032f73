"""Signed webhook deliveries: the git hosts' HMACs and tokens, checked in constant time.

OpenShift authenticates a webhook by the secret in its URL only.  Git hosts
can also sign each delivery with a secret configured on their side; when
that secret is the BuildConfig trigger's own secret (the value in the URL),
kbuild checks every signature the delivery carries:

========================  ==============================================
header                    value
========================  ==============================================
``X-Hub-Signature-256``   ``sha256=`` + hex HMAC-SHA256 of the raw body
                          (GitHub, Gitea, Bitbucket)
``X-Hub-Signature``       ``sha1=`` or ``sha256=`` + hex HMAC of the body
                          (GitHub's legacy header; Bitbucket's)
``X-Gitea-Signature``,    hex HMAC-SHA256 of the body
``X-Gogs-Signature``
``X-Gitlab-Token``        the secret itself (GitLab does not sign)
========================  ==============================================

A header that is present and wrong (or malformed) fails the delivery, even
beside a valid one: a host that signs computes every header right.  SHA-1 is
accepted in ``X-Hub-Signature`` because as an HMAC it is still unforgeable
and older GitHub Enterprise and Gogs send only that; a BuildConfig that
requires signatures (``build.kbuild.io/webhook-signature: required``) needs a
SHA-256 header or the GitLab token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

_HASHES: dict[str, Callable[..., Any]] = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
_PREFIXED = ("x-hub-signature-256", "x-hub-signature")
_BARE = ("x-gitea-signature", "x-gogs-signature")
_TOKEN = "x-gitlab-token"  # noqa: S105 - a header name


class Signed(Enum):
    """What the signatures of a delivery say."""

    NONE = "none"  # no signature header at all
    WEAK = "weak"  # every signature verifies, but the only one is SHA-1
    VALID = "valid"  # every signature verifies, one is SHA-256 or the GitLab token
    INVALID = "invalid"  # one is wrong or malformed


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _hmac_matches(algorithm: str, given: str, key: bytes, body: bytes) -> bool:
    digest = _HASHES.get(algorithm)
    if digest is None:
        return False
    expected = hmac.new(key, body, digest).hexdigest()
    return hmac.compare_digest(_bytes(expected), _bytes(given.strip().lower()))


def verify(headers: Mapping[str, str], body: bytes, key: bytes) -> Signed:
    """Check every signature header of a delivery against ``key``."""
    lower = {k.lower(): v for k, v in headers.items()}
    strong = weak = False
    for name in _PREFIXED:
        if name not in lower:
            continue
        algorithm, sep, given = lower[name].strip().partition("=")
        algorithm = algorithm.lower()
        if not sep or not _hmac_matches(algorithm, given, key, body):
            return Signed.INVALID
        strong = strong or algorithm == "sha256"
        weak = weak or algorithm == "sha1"
    for name in _BARE:
        if name in lower:
            if not _hmac_matches("sha256", lower[name], key, body):
                return Signed.INVALID
            strong = True
    if _TOKEN in lower:
        if not hmac.compare_digest(_bytes(lower[_TOKEN]), key):
            return Signed.INVALID
        strong = True
    if strong:
        return Signed.VALID
    return Signed.WEAK if weak else Signed.NONE
