"""``asyncz run APP``: run a scheduler in the foreground until Ctrl-C or SIGTERM.

APP is ``module:attribute`` naming an ``AsyncIOScheduler`` (or a callable returning one),
imported with the working directory on ``sys.path``; or a TOML/JSON config file whose
``[[tasks]]`` are added (or updated) at start.

The first SIGINT/SIGTERM shuts the scheduler down cleanly: no new runs start, running
tasks finish, stores are closed. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from asyncz.cli import _config
from asyncz.cli import _output as out
from asyncz.cli._config import build_scheduler, load_config, looks_like_config
from asyncz.cli._errors import OK, CLIError
from asyncz.cli._parsing import plain
from asyncz.schedulers import AsyncIOScheduler
from asyncz.tasks.references import resolve_reference

#: How many tasks the start-up message lists.
LISTED_TASKS = 10


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    run = commands.add_parser(
        "run",
        help="run a scheduler until Ctrl-C",
        parents=[common],
        description=plain(__doc__),
        epilog=plain(_config.__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "app",
        metavar="APP",
        help="module:attribute (a scheduler or a function returning one) or a "
        ".toml/.json config file",
    )
    run.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="json: one JSON object per line, with each run's task_id, "
        "scheduled, outcome, duration and lateness",
    )
    run.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="default INFO",
    )
    run.set_defaults(handler=run_app)


def load_app(target: str) -> AsyncIOScheduler:
    """The scheduler named by APP (see the module docstring)."""
    if looks_like_config(target):
        return build_scheduler(load_config(target), target)
    if ":" not in target:
        raise CLIError(
            f"APP {target!r}: expected module:attribute (a scheduler, or a function returning "
            "one) or the path of a .toml/.json config file"
        )
    try:
        found = resolve_reference(target)
    except Exception as exc:
        raise CLIError(
            f"cannot import {target}: {type(exc).__name__}: {exc} (the working directory "
            f"{os.getcwd()} is on the import path)"
        ) from exc
    if callable(found) and not isinstance(found, AsyncIOScheduler):
        try:
            found = found()
        except Exception as exc:
            raise CLIError(f"{target}() raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(found, AsyncIOScheduler):
        raise CLIError(
            f"{target} is {type(found).__name__}, not an AsyncIOScheduler "
            "(or a function returning one)"
        )
    return found


def run_app(args: argparse.Namespace) -> int:
    configure_logging(args.log_format, args.log_level)
    say = status_printer(args.log_format)
    scheduler = load_app(args.app)
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()
        # A second signal stops at once (Ctrl-C raises KeyboardInterrupt: exit code 130).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        scheduler.start()
        _announce(scheduler, say)
        while not stop.wait(0.5):
            pass
        say(
            f"received {received[0]}: shutting down, waiting for running tasks to finish "
            "(Ctrl-C again stops at once)"
        )
        scheduler.shutdown(wait=True)
        say("scheduler stopped cleanly")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return OK


def _announce(scheduler: AsyncIOScheduler, say: Callable[[str], None]) -> None:
    stores = "; ".join(f"{alias}: {store.describe()}" for alias, store in scheduler.stores.items())
    tasks = scheduler.get_tasks()
    say(
        f"scheduler {scheduler.identity} running (pid {os.getpid()}) with "
        f"{out.plural(len(tasks), 'task')}; stores: {stores}. Press Ctrl-C to stop."
    )
    zone = scheduler.timezone
    for task in tasks[:LISTED_TASKS]:
        when = out.local_text(task.next_run_time, zone) if task.next_run_time else "paused"
        say(f"  {task.id}  {task.trigger}  next run: {when}")
    if len(tasks) > LISTED_TASKS:
        say(f"  ... and {len(tasks) - LISTED_TASKS} more (asyncz tasks list)")


def status_printer(log_format: str) -> Callable[[str], None]:
    """Status lines for the operator go to stderr (stdout is the tasks' own): as log
    records when logs are JSON, so that every line of stderr is JSON."""
    if log_format == "json":
        return logging.getLogger("asyncz.cli").info

    def say(message: str) -> None:
        print(f"asyncz: {message}", file=sys.stderr, flush=True)

    return say


def configure_logging(log_format: str, level: str) -> None:
    from asyncz.observability import JsonLogFormatter

    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
