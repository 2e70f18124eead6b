"""``asyncz doctor``: what is installed, and whether the configured stores work.

Reports Python and asyncz versions; every installed store, executor and trigger plugin
with its distribution (a plugin that fails to import is reported with the reason); and
for each store named by ``--store``/``--config``: reachable or not and why, the encryption
in force, and how many records this process can read, cannot read, and are quarantined.
Exit code 1 when anything is wrong, 2 when the store options themselves are invalid.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from asyncz.cli import _output as out
from asyncz.cli import _view as view
from asyncz.cli._config import build_scheduler, load_config
from asyncz.cli._errors import OK, PROBLEMS, CLIError, one_line
from asyncz.cli._parsing import json_option, plain, positive_int, store_options
from asyncz.cli._stores import started, store_targets
from asyncz.exceptions import AsynczException, PluginLoadError, TaskDecodeError, UnknownPluginError
from asyncz.plugins.registry import KINDS, PluginRegistry, default_registry
from asyncz.serialization import ENCRYPTION_KEY_ENV
from asyncz.stores.base import BaseStore
from asyncz.stores.records import RecordStore


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="check the installation and the stores",
        description=plain(__doc__),
        parents=[common, store_options(), json_option()],
    )
    doctor.add_argument(
        "--sample",
        type=positive_int,
        default=1000,
        metavar="N",
        help="decode at most N records per store (default 1000)",
    )
    doctor.set_defaults(handler=run_doctor)


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    plugins: list[dict[str, Any]] = field(default_factory=list)
    stores: list[dict[str, Any]] = field(default_factory=list)


def run_doctor(args: argparse.Namespace) -> int:
    findings = Findings()
    check_plugins(PluginRegistry(), findings)
    if args.config:
        try:
            build_scheduler(load_config(args.config), args.config)
        except CLIError as exc:
            findings.problems.append(f"config: {exc}")
    for target in store_targets(args, default_registry(), every_config_store=True, required=False):
        store = target.build()  # invalid options: a usage error (exit 2), not a finding
        findings.stores.append(check_store(store, target.alias, args.sample, findings))
    if args.json:
        out.print_json(
            {
                "python": {"version": platform.python_version(), "executable": sys.executable},
                "asyncz": _version("asyncz-core"),
                "plugins": findings.plugins,
                "stores": findings.stores,
                "problems": findings.problems,
                "ok": not findings.problems,
            }
        )
    else:
        print_findings(findings)
    return PROBLEMS if findings.problems else OK


def check_plugins(registry: PluginRegistry, findings: Findings) -> None:
    """One entry per plugin class (with all its aliases), or per alias that fails to load."""
    for kind in KINDS:
        by_class: dict[type[Any], dict[str, Any]] = {}
        for alias in registry.installed_aliases(kind):
            dist = registry.distribution_of(kind, alias)
            entry = {
                "kind": kind,
                "aliases": [alias],
                "class": None,
                "distribution": dist[0] if dist else None,
                "version": dist[1] if dist else None,
                "error": None,
            }
            try:
                cls = registry.lookup(kind, alias)
            except (PluginLoadError, UnknownPluginError) as exc:
                entry["error"] = one_line(exc)
                findings.plugins.append(entry)
                findings.problems.append(f"{kind} plugin {alias!r} is broken: {one_line(exc)}")
                continue
            if cls in by_class:
                by_class[cls]["aliases"].append(alias)
                continue
            entry["class"] = f"{cls.__module__}.{cls.__qualname__}"
            by_class[cls] = entry
            findings.plugins.append(entry)


def check_store(store: BaseStore, alias: str, sample: int, findings: Findings) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "alias": alias,
        "store": store.describe(),
        "reachable": False,
        "error": None,
        "encryption": None,
        "records": None,
    }
    try:
        with started(store, alias):
            entry["store"] = store.describe()
            entry["reachable"] = True
            entry["encryption"] = _encryption(store)
            entry["records"] = _records(store, sample)
    except (AsynczException, CLIError) as exc:
        entry["error"] = one_line(exc)
    except Exception as exc:  # a driver error while reading: a finding, not a crash
        entry["error"] = one_line(f"{type(exc).__name__}: {exc}")
    if entry["error"] is not None:
        status = "failed while being read" if entry["reachable"] else "is not reachable"
        findings.problems.append(f"store {alias!r} {status}: {entry['error']}")
        return entry
    records = entry["records"]
    if records["unreadable"]:
        first = records["unreadable_examples"][0]
        findings.problems.append(
            f"store {alias!r}: {out.plural(records['unreadable'], 'record')} cannot be read "
            f"(e.g. {first['id']!r}: {first['reason']})"
        )
    if records["quarantined"]:
        findings.problems.append(
            f"store {alias!r}: {out.plural(records['quarantined'], 'record')} quarantined; "
            "list them with `asyncz tasks quarantine`"
        )
    return entry


def _encryption(store: BaseStore) -> dict[str, Any]:
    env_set = bool(os.environ.get(ENCRYPTION_KEY_ENV, "").strip())
    if not isinstance(store, RecordStore):
        return {"env_key_set": env_set, "codec": None, "key_id": None}
    codec = store.codec
    return {"env_key_set": env_set, "codec": codec.describe(), "key_id": codec.key_id}


def _records(store: BaseStore, sample: int) -> dict[str, Any]:
    total = readable = 0
    unreadable: list[view.Unreadable] = []
    if isinstance(store, RecordStore):
        for record in store.iter_records():
            total += 1
            if total > sample:
                continue
            try:
                view.decode(store, record)
                readable += 1
            except TaskDecodeError as exc:
                unreadable.append(view.Unreadable(record.id, exc.reason))
    else:
        total = readable = len(store.get_all_tasks())
    quarantined = view.quarantined(store)
    return {
        "total": total,
        "checked": min(total, sample),
        "readable": readable,
        "unreadable": len(unreadable),
        "unreadable_examples": [{"id": u.task_id, "reason": u.reason} for u in unreadable[:5]],
        "quarantined": None if quarantined is None else len(quarantined),
        "quarantined_examples": [
            {"id": q.record.id, "reason": q.reason} for q in (quarantined or [])[:5]
        ],
    }


def print_findings(findings: Findings) -> None:
    print(f"Python   {platform.python_version()} ({sys.executable})")
    print(f"asyncz   asyncz-core {_version('asyncz-core') or '(not installed)'}")
    print("\nPlugins")
    rows = []
    for plugin in findings.plugins:
        provider = " ".join(filter(None, [plugin["distribution"], plugin["version"]]))
        what = f"BROKEN: {plugin['error']}" if plugin["error"] else plugin["class"]
        rows.append([plugin["kind"], ", ".join(plugin["aliases"]), provider or "-", what])
    print(_indent(out.table(["KIND", "ALIASES", "DISTRIBUTION", "CLASS"], rows)))
    for store in findings.stores:
        print(f"\nStore {store['alias']!r}: {store['store']}")
        if not store["reachable"]:
            print(f"  reachable   no: {store['error']}")
            continue
        print("  reachable   yes")
        if store["records"] is None:
            print(f"  error       {store['error']}")
            continue
        print(f"  encryption  {_encryption_text(store['encryption'])}")
        print(f"  records     {_records_text(store['records'])}")
        for bad in store["records"]["unreadable_examples"]:
            print(f"    unreadable  {bad['id']}: {bad['reason']}")
        for kept in store["records"]["quarantined_examples"]:
            print(f"    quarantined {kept['id']}: {kept['reason']}")
    print()
    if not findings.problems:
        print("No problems found.")
        return
    print(f"{out.plural(len(findings.problems), 'problem')}:")
    for problem in findings.problems:
        print(f"  - {problem}")


def _encryption_text(encryption: dict[str, Any]) -> str:
    env = f"{ENCRYPTION_KEY_ENV} is {'set' if encryption['env_key_set'] else 'not set'}"
    if encryption["codec"] is None:
        return f"{env}; this store encodes tasks itself"
    return f"{env}; records are {encryption['codec']}"


def _records_text(records: dict[str, Any]) -> str:
    checked = records["checked"]
    scope = (
        f"{checked} of {records['total']} checked"
        if checked < records["total"]
        else f"{records['total']} in all"
    )
    quarantined = records["quarantined"]
    kept = "no quarantine" if quarantined is None else f"{quarantined} quarantined"
    return f"{scope}: {records['readable']} readable, {records['unreadable']} unreadable; {kept}"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
