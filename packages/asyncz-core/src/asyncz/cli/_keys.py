"""``asyncz keys rotate``: re-encrypt every record of a store with the current key.

The current key is ``ASYNCZ_STORE_ENCRYPTION_KEY`` (or the store's ``encryption_key``
option); older keys that must still decrypt go in ``ASYNCZ_STORE_ENCRYPTION_OLD_KEYS``.
Records that cannot be read are left untouched and listed; the exit code is then 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from asyncz.cli import _output as out
from asyncz.cli._errors import OK, PROBLEMS, CLIError
from asyncz.cli._parsing import json_option, plain, store_options
from asyncz.cli._stores import opened, store_targets
from asyncz.plugins.registry import default_registry
from asyncz.serialization.rotation import RotationReport, reencrypt_store
from asyncz.stores.records import RecordStore


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    keys = commands.add_parser(
        "keys", help="manage the encryption of stored records", parents=[common]
    )
    actions = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    rotate = actions.add_parser(
        "rotate",
        help="re-encrypt every record with the current key",
        description=plain(__doc__),
        parents=[common, store_options(), json_option()],
    )
    rotate.add_argument(
        "--progress",
        choices=["auto", "always", "never"],
        default="auto",
        help="progress bar on stderr (auto: when stderr is a terminal)",
    )
    rotate.set_defaults(handler=rotate_keys)


class ProgressBar:
    """``\\r[#####     ] 512/1000``, redrawn at most every 0.1 s and at the end."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self._drawn_at = 0.0
        self._shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._drawn_at < 0.1 and self._shown:
            return
        filled = self.width if total == 0 else self.width * done // total
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{total}")
        self.stream.flush()
        self._drawn_at, self._shown = now, True

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


def rotate_keys(args: argparse.Namespace) -> int:
    (target,) = store_targets(args, default_registry())
    show_bar = args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())
    bar = ProgressBar(sys.stderr) if show_bar and not args.json else None
    with opened(target) as store:
        if not isinstance(store, RecordStore):
            raise CLIError(
                f"{store.describe()} encodes tasks itself (it is not a RecordStore): asyncz "
                "cannot re-encrypt its records"
            )
        where = store.describe()
        if not args.json and store.codec.key_id is not None:
            print(f"Re-encrypting the records of {where} ({store.codec.describe()})", flush=True)
        try:
            report = reencrypt_store(store, progress=bar)
        finally:
            if bar is not None:
                bar.finish()
    if args.json:
        out.print_json(_report_json(report, where))
    else:
        print(f"Done: {report.summary()}")
        for failure in report.failed:
            where_kept = "quarantined" if failure.quarantined else "live"
            print(f"  not re-encrypted ({where_kept}): {failure.task_id}: {failure.reason}")
        if report.failed:
            print(
                "These records were left exactly as they were. Set the key that wrote them in "
                "ASYNCZ_STORE_ENCRYPTION_OLD_KEYS and run `asyncz keys rotate` again."
            )
    return OK if report.ok else PROBLEMS


def _report_json(report: RotationReport, where: str) -> dict[str, Any]:
    return {
        "store": where,
        "key_id": report.key_id,
        "reencrypted": report.reencrypted,
        "already_current": report.already_current,
        "restored": report.restored,
        "failed": [
            {"id": f.task_id, "reason": f.reason, "quarantined": f.quarantined}
            for f in report.failed
        ],
        "ok": report.ok,
    }
