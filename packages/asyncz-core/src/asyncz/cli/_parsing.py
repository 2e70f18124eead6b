"""argparse pieces shared by the commands."""

from __future__ import annotations

import argparse
from typing import NoReturn

from asyncz.cli._errors import CLIError
from asyncz.cli._stores import STORE_ENV


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose mistakes are one line (``main`` prints it, exit code 2)."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see: {self.prog} --help)")


def plain(doc: str | None) -> str:
    """A module docstring as help text (without reST literal markup)."""
    return (doc or "").replace("``", "").replace("::\n", ":\n").strip()


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def common_options() -> argparse.ArgumentParser:
    """Options every command takes (also accepted after the command name)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logs",
    )
    return common


def json_option() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parent


def tz_option() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--tz", metavar="ZONE", help="time zone for local times (default: this machine's)"
    )
    return parent


def store_options() -> argparse.ArgumentParser:
    """How a command names its store; see ``asyncz.cli._stores``."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("store")
    group.add_argument(
        "--store",
        metavar="URL",
        help="the store as a URL (sqlite:///./asyncz.sqlite3, postgresql://user@host/db, "
        "redis://localhost:6379/0, mongodb://host:27017/db, file:///path/to/dir) or a "
        f"store alias; default: ${STORE_ENV}",
    )
    group.add_argument(
        "--store-type",
        metavar="ALIAS",
        help="the store plugin alias (file, redis, sqlalchemy, ...)",
    )
    group.add_argument(
        "--store-option",
        metavar="KEY=VALUE",
        action="append",
        help="an option of the store's constructor (repeatable), e.g. directory=./tasks",
    )
    group.add_argument(
        "--config",
        metavar="FILE",
        help="a TOML/JSON config file (as for `asyncz run`) naming the store",
    )
    group.add_argument(
        "--store-alias", metavar="NAME", help="which store of --config to use (default: 'default')"
    )
    return parent
