"""Label values derived from object names, one rule for whoever writes or selects them.

A label value holds at most 63 characters and must end alphanumeric, so a
long BuildConfig name is cut and trimmed the same way when a Build is
labelled (instantiate) and when its builds are listed (run policy, pruning,
the CLI).  Two spellings of the rule once drifted apart (``name[:63]`` to
select, ``name[:63].rstrip("-_.")`` to label), and builds of a 63+-character
BuildConfig whose 63rd character was ``-`` were never found again.
"""

from __future__ import annotations

from builder.api.constants import BUILD_CONFIG_LABEL

LABEL_VALUE_MAX = 63


def label_value(value: str) -> str:
    """``value`` as a label value: at most 63 characters, ending alphanumeric."""
    return value[:LABEL_VALUE_MAX].rstrip("-_.")


def build_config_selector(name: str) -> str:
    """The label selector of the Builds of BuildConfig ``name`` (a superset when cut)."""
    return f"{BUILD_CONFIG_LABEL}={label_value(name)}"
