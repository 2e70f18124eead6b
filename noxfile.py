"""Nox sessions: lint, typing, the test suite whole and in isolation, and the build.

Run them through the project venv: ``./dev nox`` (default sessions), ``./dev nox -l``,
``./dev nox -s "tests_backend(backend='redis')" -- -x``. Session venvs are reused when
present (``-R`` skips reinstalling), and versions come from requirements/constraints.txt.

``tests_core`` and ``tests_backend`` prove the pieces stand alone: the core's tests in a venv
holding only asyncz-core, and each backend's tests with only the core and that backend.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "typing", "tests"]

ROOT = Path(__file__).parent
CORE = "packages/asyncz-core"
BACKENDS = {
    "file": "packages/asyncz-file",
    "redis": "packages/asyncz-redis",
    "mongo": "packages/asyncz-mongo",
    "sqlalchemy": "packages/asyncz-sqlalchemy",
}
#: each backend's own tests and its conformance runs (the SQL store runs one per dialect)
BACKEND_TESTS = {
    "file": ["tests/stores/file", "tests/conformance/test_file.py"],
    "redis": ["tests/stores/redis", "tests/conformance/test_redis.py"],
    "mongo": ["tests/stores/mongo", "tests/conformance/test_mongo.py"],
    "sqlalchemy": [
        "tests/stores/sqlalchemy",
        "tests/conformance/test_sqlite.py",
        "tests/conformance/test_postgres.py",
        "tests/conformance/test_mariadb.py",
    ],
}
THIRD_PARTY = "examples/thirdparty-store"
LINT_PATHS = ["packages", "tests", "benchmarks", "examples", "noxfile.py"]
TYPED_PATHS = [
    *(f"{p}/src" for p in (CORE, *BACKENDS.values(), THIRD_PARTY)),
    "tests",
    "noxfile.py",
]


def pinned() -> list[str]:
    constraints = ROOT / "requirements" / "constraints.txt"
    return ["-c", str(constraints)] if constraints.exists() else []


def install_requirements(session: nox.Session, *names: str) -> None:
    """Install requirements/<name>.txt files, at the pinned versions."""
    files = [arg for name in names for arg in ("-r", f"requirements/{name}.txt")]
    session.install(*pinned(), *files)


def sqlalchemy_requirements() -> list[str]:
    """asyncz-sqlalchemy with its PostgreSQL and MariaDB drivers: the extras once declared,
    the plain driver requirements until then."""
    project = ROOT / BACKENDS["sqlalchemy"]
    with (project / "pyproject.toml").open("rb") as file:
        declared = tomllib.load(file)["project"].get("optional-dependencies", {})
    if {"postgresql", "mysql"} <= set(declared):
        return ["-e", f"{BACKENDS['sqlalchemy']}[postgresql,mysql]"]
    return ["-e", BACKENDS["sqlalchemy"], "-r", "requirements/sql-drivers.txt"]


def install_projects(session: nox.Session, *projects: str) -> None:
    """Editable installs without build isolation (hatchling comes with requirements/test)."""
    args: list[str] = []
    for project in projects:
        args += sqlalchemy_requirements() if project == BACKENDS["sqlalchemy"] else ["-e", project]
    if BACKENDS["mongo"] in projects:
        args += ["-r", "requirements/mongo-server.txt"]  # the server the Mongo tests start
    session.install(*pinned(), "--no-build-isolation", *args)


def install_everything(session: nox.Session) -> None:
    install_requirements(session, "test")
    install_projects(session, CORE, *BACKENDS.values(), THIRD_PARTY)


def pytest(session: nox.Session, *paths: str) -> None:
    session.run("python", "-m", "pytest", *paths, *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    install_requirements(session, "tools")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)
    session.run("shellcheck", "dev", ".ci/run")


@nox.session
def typing(session: nox.Session) -> None:
    install_everything(session)
    install_requirements(session, "tools")
    session.run("mypy", *TYPED_PATHS, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite, as ``./dev test`` runs it."""
    install_everything(session)
    pytest(session)


@nox.session
def tests_core(session: nox.Session) -> None:
    """The core alone: no backend distribution and no driver in the venv."""
    install_requirements(session, "test")
    install_projects(session, CORE)
    pytest(session, "tests/core", "tests/conformance/test_memory.py")


@nox.session
@nox.parametrize("backend", list(BACKENDS))
def tests_backend(session: nox.Session, backend: str) -> None:
    """One backend with nothing but the core: its own tests and its conformance run."""
    install_requirements(session, "test")
    install_projects(session, CORE, BACKENDS[backend])
    paths = [path for path in BACKEND_TESTS[backend] if (ROOT / path).exists()]
    if not paths:
        session.error(f"none of the {backend} backend's tests exist: {BACKEND_TESTS[backend]}")
    pytest(session, *paths)


@nox.session
def build(session: nox.Session) -> None:
    """Build every wheel and sdist with ``python -m build`` (isolated, as a release would)
    into dist/, then check them with the packaging tests."""
    install_requirements(session, "test")
    install_projects(session, CORE)  # the suite's conftest may import asyncz
    session.install(*pinned(), "build")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for project in (CORE, *BACKENDS.values(), THIRD_PARTY):
        session.run("python", "-m", "build", "--outdir", str(dist), project)
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/distributions",
        *session.posargs,
        env={"ASYNCZ_DIST_DIR": str(dist)},
    )


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks beside asyncz 0.17.2 and APScheduler 3.11.3 (a measurement, not a test):
    ``nox -s bench -- --quick``; arguments go to benchmarks/run.py."""
    install_everything(session)
    session.run("python", "benchmarks/run.py", *session.posargs)
