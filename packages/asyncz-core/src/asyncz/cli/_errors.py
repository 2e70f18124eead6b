"""How the CLI reports failure: one line on stderr and an exit code.

Exit codes: 0 success; 1 the command ran and found something wrong (a doctor problem, a
record that could not be re-encrypted, a task that raised); 2 the command could not do
what was asked (bad arguments, bad URL or cron line, unknown alias, unreachable store);
130 interrupted.
"""

from __future__ import annotations

import sys
import traceback

OK = 0
PROBLEMS = 1
USAGE = 2
INTERRUPTED = 130


class CLIError(Exception):
    """A user-facing failure: the message is printed as one line, no traceback."""

    def __init__(self, message: str, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(message: object) -> str:
    """The message squeezed onto one line (store errors may carry newlines)."""
    return " ".join(str(message).split())


def report_error(error: BaseException, *, debug: bool, prefix: str = "error") -> None:
    """Print ``asyncz: error: ...``; the traceback only with ``--debug``."""
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    text = str(error) if str(error) else type(error).__name__
    print(f"asyncz: {prefix}: {one_line(text)}", file=sys.stderr)
