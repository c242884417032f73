"""Run a tool, streaming its output line by line, keeping the tail for errors.

Builds are long and users watch them: every line goes to the log callback as
soon as the tool prints it (so ``kbuild build`` and ``kbuild logs -f`` feel
live), while the last lines are kept to explain a failure in one line and to
fill the Build's ``logSnippet``.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from builder.record import Record

LogFn = Callable[[str], None]


class Completed(Record):
    argv: tuple[str, ...]
    returncode: int
    tail: tuple[str, ...]


def run_streaming(
    argv: Sequence[str],
    log: LogFn,
    *,
    env: Mapping[str, str] | None = None,
    tail_lines: int = 40,
) -> Completed:
    merged_env = dict(os.environ)
    if env:
        merged_env.update(env)
    tail: deque[str] = deque(maxlen=tail_lines)
    try:
        proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=merged_env,
            text=True,
            errors="replace",
            bufsize=1,
        )
    except FileNotFoundError:
        return Completed(tuple(argv), 127, (f"{argv[0]}: command not found",))
    assert proc.stdout is not None  # noqa: S101 - PIPE was requested
    try:
        for line in proc.stdout:
            text = line.rstrip("\n")
            tail.append(text)
            log(text)
        returncode = proc.wait()
    except BaseException:
        # Cancelled (KeyboardInterrupt/SIGTERM handler): do not leave a build
        # running behind the user's back.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise
    return Completed(tuple(argv), returncode, tuple(tail))
