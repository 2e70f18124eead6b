"""``asyncz tasks``: list, show, pause, resume, run, remove and quarantine, on a store.

Commands talk to the store directly, no scheduler needed: a running scheduler sees the
change at its next store poll. ``tasks run`` calls the task's function once, here in the
CLI process, not in a scheduler (its schedule does not change).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sys
import time
import traceback
from collections.abc import Awaitable
from datetime import tzinfo
from typing import Any

from asyncz.cli import _output as out
from asyncz.cli import _view as view
from asyncz.cli._errors import OK, PROBLEMS
from asyncz.cli._parsing import json_option, plain, store_options, tz_option
from asyncz.cli._stores import opened, store_targets
from asyncz.plugins.registry import default_registry
from asyncz.stores.base import BaseStore
from asyncz.tasks.task import Task

RUN_HELP = (
    "run the task's function once, now, in this CLI process (not in a scheduler, which "
    "need not be running); its schedule is unchanged"
)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    tasks = commands.add_parser(
        "tasks",
        help="inspect and change the tasks of a store",
        description=plain(__doc__),
        parents=[common],
    )
    actions = tasks.add_subparsers(dest="action", metavar="ACTION", required=True)
    store, as_json, tz = store_options(), json_option(), tz_option()

    def action(
        name: str, helptext: str, handler: Any, *, task_id: bool = True, listing: bool = False
    ) -> None:
        parents = [common, store, *([as_json, tz] if listing else [])]
        parser = actions.add_parser(name, help=helptext, description=helptext, parents=parents)
        if task_id:
            parser.add_argument("task_id", metavar="ID", help="the task's id")
        parser.set_defaults(handler=handler)

    action(
        "list", "list the tasks with their next run times", list_tasks, task_id=False, listing=True
    )
    action("show", "show one task in detail", show_task, listing=True)
    action("pause", "pause a task (it keeps its place in the store)", pause)
    action("resume", "resume a paused task from now", resume)
    action("run", RUN_HELP, run_now)
    action("remove", "delete a task from the store", remove)
    action(
        "quarantine",
        "list records set aside because they could not be read",
        list_quarantine,
        task_id=False,
        listing=True,
    )


# ---------------------------------------------------------------------- read
def list_tasks(args: argparse.Namespace) -> int:
    zone = out.display_zone(args.tz)
    (target,) = store_targets(args, default_registry())
    with opened(target) as store:
        contents = view.read_contents(store)
        where = store.describe()
    quarantined = len(contents.quarantined or [])
    if args.json:
        out.print_json(
            {
                "store": where,
                "tasks": [task_json(task, zone) for task in contents.tasks],
                "unreadable": [vars(entry) for entry in contents.unreadable],
                "quarantined": quarantined,
            }
        )
        return OK
    rows = [
        [
            task.id,
            task.name or "",
            str(task.trigger),
            out.local_text(task.next_run_time, zone),
            out.utc_text(task.next_run_time),
            state_of(task),
        ]
        for task in contents.tasks
    ]
    paused = sum(task.next_run_time is None for task in contents.tasks)
    if rows:
        print(
            out.table(
                ["ID", "NAME", "TRIGGER", "NEXT RUN (LOCAL)", "NEXT RUN (UTC)", "STATE"], rows
            )
        )
        print()
    print(
        f"{out.plural(len(rows), 'task')} ({len(rows) - paused} scheduled, {paused} paused) "
        f"in {where}"
    )
    for entry in contents.unreadable:
        print(f"cannot read task {entry.task_id!r} here: {entry.reason}")
    if quarantined:
        print(
            f"{out.plural(quarantined, 'quarantined record')} (unreadable, kept aside): see "
            "them with `asyncz tasks quarantine` and the same store options"
        )
    return OK


def show_task(args: argparse.Namespace) -> int:
    zone = out.display_zone(args.tz)
    (target,) = store_targets(args, default_registry())
    with opened(target) as store:
        task = view.find_task(store, args.task_id)
        where = store.describe()
    if args.json:
        out.print_json({**task_json(task, zone), "store": where})
        return OK
    grace = task.mistrigger_grace_time
    fields = [
        ("name", task.name or ""),
        ("function", task.fn_reference or repr(task.fn)),
        ("args", repr(list(task.args))),
        ("kwargs", repr(dict(task.kwargs))),
        ("trigger", str(task.trigger)),
        ("state", state_of(task)),
        (
            "next run",
            f"{out.local_text(task.next_run_time, zone)}  |  {out.utc_text(task.next_run_time)}",
        ),
        ("executor", task.executor),
        ("grace time", "no limit" if grace is None else f"{grace:g} s"),
        ("coalesce", "yes" if task.coalesce else "no"),
        ("max instances", str(task.max_instances)),
        ("store", where),
    ]
    print(f"Task {task.id}")
    for label, value in fields:
        print(f"  {label:<14} {value}")
    return OK


def list_quarantine(args: argparse.Namespace) -> int:
    (target,) = store_targets(args, default_registry())
    with opened(target) as store:
        entries = view.quarantined(store)
        where = store.describe()
    if args.json:
        out.print_json(
            {
                "store": where,
                "supported": entries is not None,
                "quarantined": [{"id": e.record.id, "reason": e.reason} for e in entries or []],
            }
        )
        return OK
    if entries is None:
        print(f"{where} keeps no quarantine (it is not a record store)")
        return OK
    if entries:
        print(out.table(["ID", "REASON"], [[e.record.id, e.reason] for e in entries]))
        print()
    print(f"{out.plural(len(entries), 'quarantined record')} in {where}")
    if entries:
        print(
            "Records are kept, never deleted. A store restores them itself once they can be "
            "read (e.g. the right ASYNCZ_STORE_ENCRYPTION_KEY is set); `asyncz keys rotate` "
            "re-encrypts the readable ones."
        )
    return OK


# ---------------------------------------------------------------------- change
def pause(args: argparse.Namespace) -> int:
    return _change(args, view.pause_task, "paused")


def resume(args: argparse.Namespace) -> int:
    zone = out.display_zone(None)
    return _change(args, lambda store, task: view.resume_task(store, task, zone), "resumed")


def remove(args: argparse.Namespace) -> int:
    def delete(store: BaseStore, task: Task) -> Task:
        store.delete_task(task.id)
        return task

    return _change(args, delete, "removed")


def _change(args: argparse.Namespace, change: Any, verb: str) -> int:
    zone = out.display_zone(None)
    (target,) = store_targets(args, default_registry())
    with opened(target) as store:
        task = change(store, view.find_task(store, args.task_id))
        where = store.describe()
    detail = ""
    if verb != "removed":
        detail = (
            f"; next run: {out.local_text(task.next_run_time, zone)}" if task.next_run_time else ""
        )
    print(f"Task {task.id!r} {verb} in {where}{detail}")
    return OK


def run_now(args: argparse.Namespace) -> int:
    (target,) = store_targets(args, default_registry())
    with opened(target) as store:
        task = view.find_task(store, args.task_id)
    fn = view.import_function(task)
    print(
        f"Running task {task.id!r} ({task.fn_reference}) once, in this CLI process "
        f"(pid {os.getpid()}), not in a scheduler: its schedule is unchanged.",
        flush=True,
    )
    started = time.perf_counter()
    try:
        result = fn(*task.args, **task.kwargs)
        if inspect.isawaitable(result):
            result = asyncio.run(_wait(result))
    except Exception as exc:
        traceback.print_exc()
        print(f"asyncz: task {task.id!r} raised {type(exc).__name__}: {exc}", file=sys.stderr)
        return PROBLEMS
    elapsed = time.perf_counter() - started
    returned = "" if result is None else f"; it returned {result!r}"
    print(f"Task {task.id!r} finished in {elapsed:.3f} s{returned}")
    return OK


async def _wait(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


# ---------------------------------------------------------------------- helpers
def state_of(task: Task) -> str:
    return "paused" if task.next_run_time is None else "scheduled"


def task_json(task: Task, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "function": task.fn_reference,
        "args": list(task.args),
        "kwargs": dict(task.kwargs),
        "trigger": str(task.trigger),
        "trigger_type": getattr(type(task.trigger), "alias", None) or None,
        "state": state_of(task),
        "next_run_time": out.iso_utc(task.next_run_time),
        "next_run_time_local": out.iso_local(task.next_run_time, zone),
        "executor": task.executor,
        "mistrigger_grace_time": task.mistrigger_grace_time,
        "coalesce": task.coalesce,
        "max_instances": task.max_instances,
    }
