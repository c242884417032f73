"""The bearer token registry push notifications must carry: never none.

An unauthenticated notification endpoint let anyone who reaches the
controller's port make it re-import every tracked tag (one fake POST cost 29
re-imports in 15 s per tag).  So the endpoint always checks a token:

1. ``--notifications-token`` when given;
2. else the Secret named by ``--notifications-token-secret`` in the
   controller's own namespace, created with a random token by the first
   replica that finds it missing (every replica then reads the same one, and
   the registry's ``notifications.endpoints[].headers`` are configured from it);
3. else a random token for this process alone: notifications are then
   effectively off, which the log says.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets

from builder.kube import AlreadyExists, Kube, KubeError, NotFound

log = logging.getLogger(__name__)

TOKEN_KEY = "token"  # noqa: S105 - the key's name, not a secret


def _read(kube: Kube, namespace: str, name: str) -> str:
    secret = kube.get_secret(namespace, name)
    data = secret.get("data") if isinstance(secret, dict) else None
    encoded = data.get(TOKEN_KEY) if isinstance(data, dict) else None
    if not isinstance(encoded, str) or not encoded:
        raise ValueError(f"Secret {namespace}/{name} has no {TOKEN_KEY!r} key")
    try:
        token = base64.b64decode(encoded, validate=True).decode("ascii").strip()
    except (binascii.Error, UnicodeDecodeError) as err:
        raise ValueError(f"Secret {namespace}/{name}: {TOKEN_KEY!r} is not ASCII text") from err
    if len(token) < 16:
        raise ValueError(f"Secret {namespace}/{name}: the token is shorter than 16 characters")
    return token


def notifications_token(kube: Kube, explicit: str, namespace: str, secret_name: str) -> str:
    """The token to require (see the module docstring for the order)."""
    if explicit:
        return explicit
    if secret_name:
        try:
            try:
                return _read(kube, namespace, secret_name)
            except NotFound:
                token = secrets.token_hex(24)
                body = {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": secret_name, "namespace": namespace},
                    "type": "Opaque",
                    "data": {TOKEN_KEY: base64.b64encode(token.encode()).decode()},
                }
                try:
                    kube.create_secret(namespace, body)
                    log.info("created the notifications token in Secret %s/%s", namespace,
                             secret_name)  # fmt: skip
                    return token
                except AlreadyExists:  # another replica was first: use its token
                    return _read(kube, namespace, secret_name)
        except (KubeError, ValueError) as err:
            log.warning("registry notifications disabled: no usable token (%s)", err)
            return secrets.token_hex(24)
    log.warning(
        "registry notifications disabled: set --notifications-token or "
        "--notifications-token-secret to accept them"
    )
    return secrets.token_hex(24)
