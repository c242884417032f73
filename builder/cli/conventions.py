"""The command-line conventions of ``oc`` and ``kubectl`` that every verb follows.

Scripts written for ``oc`` pass flags the way cobra/pflag parse them, which
argparse does not do on its own:

- a boolean flag takes ``--flag``, ``--flag=true`` or ``--flag=false`` (any
  value Go's ``strconv.ParseBool`` reads: ``1 t T true TRUE True`` and
  ``0 f F false FALSE False``), never a separate ``--flag true`` (pflag
  reads that ``true`` as an argument, so kbuild does too);
- the global flags ``-n/--namespace``, ``--kubeconfig`` and ``--context``
  may come before the verb (``kbuild -n dev get is``) as well as after it;
- flag names are never abbreviated (pflag has no prefix matching, and an
  abbreviation that later becomes ambiguous would break a script).

These are applied once to the whole parser tree, so a verb added later
follows them without doing anything.
"""

from __future__ import annotations

import argparse

GO_TRUE = ("1", "t", "T", "true", "TRUE", "True")
"""What Go's ``strconv.ParseBool`` reads as true."""
GO_FALSE = ("0", "f", "F", "false", "FALSE", "False")
"""What Go's ``strconv.ParseBool`` reads as false."""

GLOBAL_FLAGS = ("namespace", "kubeconfig", "context")
"""The dests of the flags kubectl and oc take before the verb too."""
_GLOBAL_DEST = "global_"


def parse_bool(text: str) -> bool:
    """Go's ``strconv.ParseBool``, as a flag type (an error is a usage error)."""
    if text in GO_TRUE:
        return True
    if text in GO_FALSE:
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if isinstance(sub, argparse.ArgumentParser) and sub not in found:
                    found.append(sub)
    return found


def _is_switch(action: argparse.Action) -> bool:
    """A flag that takes no value and stores a boolean (store_true, store_false, store_const)."""
    return (
        bool(action.option_strings)
        and action.nargs == 0
        and isinstance(action, argparse._StoreConstAction)
        and isinstance(action.const, bool)
    )


def accept_bool_values(parser: argparse.ArgumentParser) -> None:
    """Let every boolean flag of ``parser`` and its sub-parsers take ``=true|false``.

    argparse looks an argument up as a whole option string before it splits
    at ``=``, so ``--confirm=true`` is registered as an option string of its
    own (hidden from help) that stores what ``--confirm`` stores, and
    ``--confirm=false`` one that stores the opposite.  ``-w=true`` works the
    same way, as it does with pflag.
    """
    parser.allow_abbrev = False
    for action in list(parser._actions):
        if not _is_switch(action):
            continue
        value = bool(action.const)
        for values, stored in ((GO_TRUE, value), (GO_FALSE, not value)):
            aliases = [f"{opt}={v}" for opt in action.option_strings for v in values]
            parser.add_argument(
                *aliases,
                dest=action.dest,
                action="store_const",
                const=stored,
                default=action.default,
                help=argparse.SUPPRESS,
            )
    for sub in _subparsers(parser):
        accept_bool_values(sub)


def add_global_flags(root: argparse.ArgumentParser) -> None:
    """The cluster flags, accepted before the verb (``kbuild -n dev get is``).

    They are stored under their own names so that a verb's defaults never
    overwrite them; ``merge_global_flags`` folds them in after parsing.
    """
    root.add_argument(
        "-n", "--namespace", dest=f"{_GLOBAL_DEST}namespace", help="namespace of the verb"
    )
    root.add_argument("--kubeconfig", dest=f"{_GLOBAL_DEST}kubeconfig", help="kubeconfig file")
    root.add_argument("--context", dest=f"{_GLOBAL_DEST}context", help="kubeconfig context")


def merge_global_flags(ns: argparse.Namespace) -> argparse.Namespace:
    """A flag given after the verb wins over the same flag given before it (the last one wins)."""
    for name in GLOBAL_FLAGS:
        before = getattr(ns, f"{_GLOBAL_DEST}{name}", None)
        if hasattr(ns, f"{_GLOBAL_DEST}{name}"):
            delattr(ns, f"{_GLOBAL_DEST}{name}")
        if before is not None and getattr(ns, name, None) is None:
            setattr(ns, name, before)
    return ns


_VALUED_GLOBALS = ("-n", "--namespace", "--kubeconfig", "--context")


def verb_of(argv: list[str]) -> str | None:
    """The verb of ``argv``, skipping global flags before it; None if there is none.

    Used to load only the module of the verb that runs: ``kbuild get`` must
    not pay for importing the build pipeline.
    """
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg in _VALUED_GLOBALS:
            i += 2
            continue
        if arg.startswith("-"):
            i += 1
            continue
        return arg
    return None
