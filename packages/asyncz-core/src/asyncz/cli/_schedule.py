"""``asyncz preview`` (a stored task's next run times) and ``asyncz cron`` (a crontab line's
next fire times), both computed by the trigger's own ``get_next_trigger_time``."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, tzinfo
from typing import Any

from asyncz.cli import _output as out
from asyncz.cli import _view as view
from asyncz.cli._errors import OK, CLIError
from asyncz.cli._parsing import json_option, positive_int, store_options, tz_option
from asyncz.cli._stores import opened, store_targets
from asyncz.plugins.registry import default_registry
from asyncz.timezones import timezone_name
from asyncz.triggers.cron import CronTrigger


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    count = argparse.ArgumentParser(add_help=False)
    count.add_argument(
        "--count", "-n", type=positive_int, default=5, help="how many times to show (default 5)"
    )
    preview = commands.add_parser(
        "preview",
        help="show a stored task's next run times",
        description="Show a stored task's next run times, in local time and UTC.",
        parents=[common, store_options(), count, json_option(), tz_option()],
    )
    preview.add_argument("task_id", metavar="TASK_ID")
    preview.set_defaults(handler=preview_task)
    cron = commands.add_parser(
        "cron",
        help="show the next fire times of a crontab line",
        description=(
            "Show the next fire times of a POSIX crontab line (5 fields, or 6 with seconds "
            "first, or @daily-style macros), in its time zone and in UTC. Day of week 0 and 7 "
            "are Sunday; when both day fields are restricted either one matches."
        ),
        parents=[common, count, json_option()],
    )
    cron.add_argument("expression", metavar="EXPRESSION", help='e.g. "*/5 9-17 * * 1-5"')
    cron.add_argument(
        "--tz",
        metavar="ZONE",
        help="the zone the line's wall times are in (default: this machine's)",
    )
    cron.set_defaults(handler=show_cron)


def preview_task(args: argparse.Namespace) -> int:
    zone = out.display_zone(args.tz)
    (target,) = store_targets(args, default_registry())
    with opened(target) as store:
        task = view.find_task(store, args.task_id)
    times = view.fire_times(task, zone, args.count)
    paused = task.next_run_time is None
    if args.json:
        out.print_json(
            {
                "id": task.id,
                "trigger": str(task.trigger),
                "paused": paused,
                "times": [_time_json(moment, zone) for moment in times],
            }
        )
        return OK
    if paused:
        print(f"Task {task.id!r} is paused; if it were resumed now it would run at:")
    else:
        print(f"Next {out.plural(len(times), 'run time')} of task {task.id!r} ({task.trigger}):")
    _print_times(times, zone)
    if len(times) < args.count:
        print(f"(its trigger fires no more than {out.plural(len(times), 'time')})")
    return OK


def show_cron(args: argparse.Namespace) -> int:
    zone = out.display_zone(args.tz)
    try:
        trigger = CronTrigger.from_crontab(args.expression, timezone=zone)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    now = datetime.now(UTC)
    times = view.following(
        trigger.get_next_trigger_time(zone, None, now),
        lambda previous: trigger.get_next_trigger_time(zone, previous, now),
        args.count,
    )
    if args.json:
        out.print_json(
            {
                "expression": args.expression,
                "timezone": timezone_name(zone),
                "times": [_time_json(moment, zone) for moment in times],
            }
        )
        return OK
    print(
        f"Next {out.plural(len(times), 'fire time')} of {args.expression!r} in "
        f"{timezone_name(zone)}:"
    )
    _print_times(times, zone)
    if not times:
        print("(it never fires)")
    return OK


def _print_times(times: list[datetime], zone: tzinfo) -> None:
    now = datetime.now(UTC)
    rows = [
        [
            str(index),
            out.local_text(moment, zone),
            out.utc_text(moment),
            "overdue" if moment < now else "",
        ]
        for index, moment in enumerate(times, 1)
    ]
    if rows:
        print(out.table(["#", "LOCAL", "UTC", ""], rows))


def _time_json(moment: datetime, zone: tzinfo) -> dict[str, str | None]:
    return {"local": out.iso_local(moment, zone), "utc": out.iso_utc(moment)}
