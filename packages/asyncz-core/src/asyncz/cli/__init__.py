"""The ``asyncz`` command line (standard library only).

Commands::

    asyncz run APP                      run a scheduler until Ctrl-C/SIGTERM
    asyncz tasks list|show|pause|resume|run|remove|quarantine   work on a store's tasks
    asyncz preview TASK_ID              a stored task's next run times
    asyncz cron "EXPR" --tz ZONE        a crontab line's next fire times
    asyncz doctor                       installed plugins; store reachability and readability
    asyncz keys rotate                  re-encrypt a store's records with the current key

A store is named by ``--store URL`` (the URL scheme picks the store plugin), by
``--store-type ALIAS --store-option KEY=VALUE ...``, by ``--config FILE`` or by the
``ASYNCZ_STORE`` environment variable. ``tasks run`` runs the function once *in the CLI
process*. Mistakes are reported as one line on stderr; ``--debug`` adds the traceback.
Exit codes: 0 success, 1 something is wrong (see ``_errors``), 2 unusable input, 130
interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from asyncz.cli import _doctor, _keys, _run, _schedule, _tasks
from asyncz.cli._errors import INTERRUPTED, OK, PROBLEMS, USAGE, CLIError, report_error
from asyncz.cli._parsing import Parser, common_options
from asyncz.exceptions import AsynczException


def build_parser() -> Parser:
    parser = Parser(
        prog="asyncz",
        description="Run asyncz schedulers and inspect, change and check their task stores.",
        epilog="Run `asyncz COMMAND --help` for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"asyncz {_version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    common = common_options()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (_run, _tasks, _schedule, _doctor, _keys):
        module.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in arguments
    _put_working_directory_on_path()
    try:
        args = build_parser().parse_args(arguments)
        if args.command != "run":
            _configure_logging(debug)
        code: int = args.handler(args)
        return code
    except CLIError as exc:
        report_error(exc, debug=debug)
        return exc.exit_code
    except AsynczException as exc:
        report_error(exc, debug=debug)
        return USAGE
    except KeyboardInterrupt:
        print("asyncz: interrupted", file=sys.stderr)
        return INTERRUPTED
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (OK if exc.code is None else USAGE)
    except BrokenPipeError:  # `asyncz tasks list | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except Exception as exc:
        report_error(exc, debug=debug, prefix=f"unexpected {type(exc).__name__}")
        if not debug:
            print(
                "asyncz: run the command again with --debug to see the traceback", file=sys.stderr
            )
        return PROBLEMS


def _put_working_directory_on_path() -> None:
    """As ``python -m`` does: the application's modules import from where asyncz runs."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("asyncz: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def _version() -> str:
    try:
        return metadata.version("asyncz-core")
    except metadata.PackageNotFoundError:
        return "(unknown version)"


__all__ = ["build_parser", "main"]
