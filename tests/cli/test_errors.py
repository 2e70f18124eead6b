"""User mistakes: one line on stderr, exit code 2, no traceback (unless --debug)."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers._common import free_port
from support.cli import CLI


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["tasks", "list", "--store", "etcd://127.0.0.1:2379"],
            ["no installed store understands etcd:// URLs", "file"],
        ),
        (["tasks", "list", "--store", "::nonsense"], ["neither a URL"]),
        (
            ["tasks", "list", "--store-type", "etcd"],
            ["No store plugin named 'etcd'", "pip install asyncz-etcd"],
        ),
        (
            ["tasks", "list", "--store-type", "file", "--store-option", "colour=blue"],
            ["unknown option 'colour'", "directory"],
        ),
        (["tasks", "list", "--store-type", "file", "--store-option", "oops"], ["KEY=VALUE"]),
        (["tasks", "list"], ["no store given"]),
        (["tasks", "list", "--config", "missing.toml"], ["missing.toml does not exist"]),
        (["cron", "*/5 25 * * *"], ["hour field"]),
        (["run", "no_such_module_here:app"], ["cannot import no_such_module_here:app"]),
        (["run", "asyncz_cli_jobs:greet"], ["asyncz_cli_jobs:greet() raised TypeError"]),
        (["run", "asyncz_cli_jobs"], ["expected module:attribute"]),
        (["tasks", "frobnicate"], ["invalid choice: 'frobnicate'"]),
    ],
)
def test_mistakes_are_one_line_with_exit_code_2(
    cli: CLI, args: list[str], fragments: list[str]
) -> None:
    line = cli(*args).assert_one_line_error()
    for fragment in fragments:
        assert fragment in line


def test_an_unreachable_redis_server_is_one_line(cli: CLI) -> None:
    port = free_port()
    line = cli(
        "tasks",
        "list",
        "--store-type",
        "redis",
        "--store-option",
        f"url=redis://127.0.0.1:{port}/0",
    ).assert_one_line_error()
    assert f"127.0.0.1:{port}" in line and "redis-server" in line


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ('[stores.default\ntype = "file"\n', "invalid TOML"),
        ('[stores.default]\ntype = "nosuch"\n', "No store plugin named 'nosuch'"),
        (
            '[stores.default]\ntype = "file"\n[[tasks]]\nfn = "asyncz_cli_jobs:greet"\n'
            'trigger = "cron"\ncrontab = "* * *"\n',
            "tasks[0]",
        ),
        (
            '[stores.default]\ntype = "file"\n[[tasks]]\nid = "x"\nfn = "nowhere:f"\n',
            "No module named 'nowhere'",
        ),
        ('timezone = "Atlantis/Capital"\n[stores.default]\ntype = "file"\n', "timezone"),
    ],
)
def test_config_mistakes_are_one_line(cli: CLI, tmp_path: Path, config: str, fragment: str) -> None:
    path = tmp_path / "asyncz.toml"
    path.write_text(config)
    line = cli("run", str(path)).assert_one_line_error()
    assert fragment in line
    assert "asyncz.toml" in line  # names the file


def test_debug_shows_the_traceback(cli: CLI) -> None:
    result = cli("--debug", "tasks", "list", "--store-type", "etcd")
    assert result.code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("asyncz: error: No store plugin")
    after = cli("tasks", "list", "--store-type", "etcd", "--debug")  # accepted after too
    assert "Traceback" in after.stderr
