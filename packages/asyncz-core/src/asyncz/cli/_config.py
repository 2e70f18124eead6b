"""Config files (TOML or JSON) for ``asyncz run`` and for the store options of other commands.

Top-level keys are the scheduler's own options (``stores``, ``executors``,
``task_defaults``, ``timezone``, ``store_poll_interval``, ...) plus ``tasks``: a list of
tables, each with ``fn = "module:function"``, a ``trigger`` alias and its options
(``minute = "*/5"``, ``seconds = 10``, ...) or ``crontab = "*/5 * * * *"``, and optionally
``id``, ``name``, ``args``, ``kwargs``, ``store``, ``executor``, ``mistrigger_grace_time``,
``coalesce``, ``max_instances``, ``replace_existing`` (default true: restarting with an
edited file updates the stored task instead of failing on its id)::

    timezone = "Europe/Lisbon"

    [stores.default]
    type = "file"
    directory = "./asyncz-tasks"    # relative to the working directory

    [[tasks]]
    id = "report"
    fn = "myapp.jobs:send_report"
    crontab = "0 9 * * 1-5"
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from asyncz.cli._errors import CLIError
from asyncz.exceptions import AsynczException
from asyncz.schedulers import AsyncIOScheduler

#: Keys of a ``[[tasks]]`` entry that are not trigger options.
TASK_KEYS = frozenset(
    {
        "fn",
        "trigger",
        "id",
        "name",
        "args",
        "kwargs",
        "store",
        "executor",
        "mistrigger_grace_time",
        "coalesce",
        "max_instances",
        "replace_existing",
    }
)


def looks_like_config(target: str) -> bool:
    """True when ``target`` names a config file rather than ``module:attribute``."""
    return Path(target).suffix.lower() in {".toml", ".json"} or Path(target).is_file()


def load_config(path: str) -> dict[str, Any]:
    """The parsed file; errors name the file and, for syntax errors, the line."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise CLIError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise CLIError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        if file.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise CLIError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CLIError(f"{path}: invalid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise CLIError(f"{path}: expected a table of settings at the top level")
    return data


def store_configs(config: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``alias -> store spec`` from the ``[stores]`` table."""
    stores = config.get("stores")
    if not stores:
        raise CLIError(f"{path} has no [stores] table: nothing to connect to")
    if not isinstance(stores, dict):
        raise CLIError(f"{path}: 'stores' must be a table of store tables ([stores.default])")
    return stores


def build_scheduler(config: Mapping[str, Any], path: str) -> AsyncIOScheduler:
    """A stopped scheduler with the file's options and its tasks added (they are written to
    their stores when the scheduler starts)."""
    options = {key: value for key, value in config.items() if key != "tasks"}
    try:
        scheduler = AsyncIOScheduler(**options)
    except AsynczException as exc:
        raise CLIError(f"{path}: {exc}") from exc
    tasks = config.get("tasks", [])
    if not isinstance(tasks, list) or not all(isinstance(entry, dict) for entry in tasks):
        raise CLIError(f"{path}: 'tasks' must be a list of tables ([[tasks]] in TOML)")
    for index, entry in enumerate(tasks):
        add_config_task(scheduler, entry, f"{path}: tasks[{index}]")
    return scheduler


def add_config_task(scheduler: AsyncIOScheduler, entry: Mapping[str, Any], where: str) -> None:
    options = dict(entry)
    label = options.get("id") or options.get("fn") or "?"
    if "fn" not in options:
        raise CLIError(f"{where}: missing 'fn' (the task function, 'module:function')")
    options.setdefault("replace_existing", True)
    crontab = options.pop("crontab", None)
    try:
        if crontab is not None:
            options["trigger"] = _crontab_trigger(scheduler, crontab, options)
        scheduler.add_task(**options)
    except CLIError:
        raise
    except Exception as exc:  # anything the entry's values cause: report it with its place
        detail = (
            f"{type(exc).__name__}: {exc}"
            if isinstance(exc, ImportError | AttributeError)
            else str(exc)
        )
        raise CLIError(f"{where} ({label!r}): {detail}") from exc


def _crontab_trigger(scheduler: AsyncIOScheduler, crontab: Any, options: dict[str, Any]) -> Any:
    """``crontab = "..."``: a cron trigger from a crontab line; trigger options other than the
    task's own keys (``timezone``, ``start_at``, ``end_at``, ``jitter``) go with it."""
    alias = options.pop("trigger", "cron")
    if alias != "cron":
        raise CLIError(f"'crontab' goes with trigger = \"cron\", not {alias!r}")
    trigger_options = {key: options.pop(key) for key in list(options) if key not in TASK_KEYS}
    trigger_options.setdefault("timezone", scheduler.timezone)
    cron = scheduler.registry.trigger_class("cron")
    return cron.from_crontab(crontab, **trigger_options)
