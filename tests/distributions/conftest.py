"""Real wheels, sdists and fresh virtual environments for the packaging tests.

Every distribution is built once per session by calling hatchling's PEP 517 hooks in a
subprocess, without build isolation (about a second for all of them). When ASYNCZ_DIST_DIR
is set (the nox ``build`` session sets it to what ``python -m build`` produced), the
artifacts found there are checked instead.

Fresh venvs never see this environment's packages: ``python -m venv`` makes them and
``pip install --no-index`` fills them from the built wheels plus a wheelhouse of third-party
dependencies, downloaded once per session at the versions this environment runs (so pip's
cache serves them).
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: distribution name -> project directory
PROJECTS = {
    "asyncz-core": REPO / "packages/asyncz-core",
    "asyncz-file": REPO / "packages/asyncz-file",
    "asyncz-redis": REPO / "packages/asyncz-redis",
    "asyncz-mongo": REPO / "packages/asyncz-mongo",
    "asyncz-sqlalchemy": REPO / "packages/asyncz-sqlalchemy",
    "acme-asyncz-sqlite": REPO / "examples/thirdparty-store",
}

#: backend distribution -> the one leaf package it owns: asyncz/stores/<leaf>/
BACKENDS = {
    "asyncz-file": "file",
    "asyncz-redis": "redis",
    "asyncz-mongo": "mongo",
    "asyncz-sqlalchemy": "sqlalchemy",
}

#: top-level import names of database drivers, which the core must never import
DRIVERS = (
    "redis",
    "pymongo",
    "bson",
    "gridfs",
    "motor",
    "sqlalchemy",
    "psycopg",
    "psycopg2",
    "pymysql",
    "MySQLdb",
)

_BUILD = """
import json, os, sys
import hatchling.build as backend
out, projects = sys.argv[1], json.loads(sys.argv[2])
built = {}
for name, path in projects.items():
    os.chdir(path)
    built[name] = [backend.build_wheel(out), backend.build_sdist(out)]
print(json.dumps(built))
"""


@dataclass(frozen=True)
class Dist:
    """One built distribution, read without installing it."""

    name: str
    project: Path
    wheel: Path
    sdist: Path

    @property
    def leaf(self) -> str:
        """The package a backend distribution owns under ``asyncz/stores/``."""
        return BACKENDS[self.name]

    def wheel_files(self) -> list[str]:
        with zipfile.ZipFile(self.wheel) as archive:
            return [n for n in archive.namelist() if not n.endswith("/")]

    def package_files(self) -> list[str]:
        """Wheel files outside the .dist-info directory."""
        return [n for n in self.wheel_files() if ".dist-info/" not in n]

    def ships_module(self, module: str) -> bool:
        path = module.replace(".", "/")
        files = self.package_files()
        return f"{path}.py" in files or f"{path}/__init__.py" in files

    def _dist_info(self, name: str) -> str | None:
        with zipfile.ZipFile(self.wheel) as archive:
            for member in archive.namelist():
                if member.endswith(f".dist-info/{name}"):
                    return archive.read(member).decode()
        return None

    def metadata(self) -> dict[str, list[str]]:
        text = self._dist_info("METADATA")
        assert text is not None, f"{self.wheel.name} has no METADATA"
        fields: dict[str, list[str]] = {}
        for key, value in Parser().parsestr(text).items():
            fields.setdefault(key, []).append(value)
        return fields

    @property
    def version(self) -> str:
        return self.metadata()["Version"][0]

    def entry_points(self, group: str) -> dict[str, str]:
        text = self._dist_info("entry_points.txt")
        if text is None:
            return {}
        parser = configparser.ConfigParser(delimiters=("=",))
        parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep alias case
        parser.read_string(text)
        return dict(parser[group]) if parser.has_section(group) else {}

    def sdist_files(self) -> list[str]:
        """Files in the sdist, without the ``<name>-<version>/`` prefix they all have."""
        with tarfile.open(self.sdist) as archive:
            return [m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile()]


class FreshVenv:
    """A virtual environment holding only what a test installs into it."""

    def __init__(self, path: Path, find_links: list[Path]) -> None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
        self.path = path
        self.python = path / "bin" / "python"
        self.find_links = find_links

    def install(self, *requirements: str | Path) -> None:
        """``pip install --no-index`` from the local wheels (this environment's pip, acting
        on the venv; no build isolation, so editable builds use the venv's hatchling)."""
        links = [arg for link in self.find_links for arg in ("--find-links", str(link))]
        args = ["install", "-q", "--no-index", "--no-build-isolation", "--no-compile", *links]
        self._check(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(self.python),
                *args,
                *map(str, requirements),
            ],
            "pip install " + " ".join(map(str, requirements)),
        )

    def run(self, code: str) -> str:
        """Run ``code`` in the venv (isolated mode, outside the repository); its stdout."""
        return self._check([str(self.python), "-I", "-c", code], "python -c")

    def _check(self, command: list[str], what: str) -> str:
        hidden = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
        env = {k: v for k, v in os.environ.items() if k not in hidden}
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        result = subprocess.run(
            command, cwd=self.path, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            pytest.fail(
                f"{what} failed in a fresh venv (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}",
                pytrace=False,
            )
        return result.stdout


def _build_all(out: Path) -> dict[str, Dist]:
    projects = {name: str(path) for name, path in PROJECTS.items()}
    result = subprocess.run(
        [sys.executable, "-c", _BUILD, str(out), json.dumps(projects)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"building the distributions failed:\n{result.stderr}", pytrace=False)
    built = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        name: Dist(name, PROJECTS[name], out / wheel, out / sdist)
        for name, (wheel, sdist) in built.items()
    }


def _find_built(directory: Path) -> dict[str, Dist]:
    found = {}
    for name, project in PROJECTS.items():
        stem = name.replace("-", "_")
        wheels = sorted(directory.glob(f"{stem}-*.whl"))
        sdists = sorted(directory.glob(f"{stem}-*.tar.gz"))
        if not (wheels and sdists):
            pytest.fail(f"ASYNCZ_DIST_DIR={directory} lacks the wheel or sdist of {name}")
        found[name] = Dist(name, project, wheels[-1], sdists[-1])
    return found


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).strip().lower()


def _pins() -> dict[str, str]:
    """Versions for the wheelhouse: this environment's, else the repository's pins."""
    pins: dict[str, str] = {}
    constraints = REPO / "requirements" / "constraints.txt"
    if constraints.exists():
        for line in constraints.read_text().splitlines():
            name, _, version = line.partition("==")
            if version and not line.startswith("#"):
                pins[_normalized(name)] = version.strip()
    for dist in metadata.distributions():
        name = _normalized(dist.metadata["Name"])
        if not name.startswith(("asyncz", "acme")):
            pins[name] = dist.version
    return pins


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dist]:
    """Every distribution of the repository, built (or found in ASYNCZ_DIST_DIR)."""
    given = os.environ.get("ASYNCZ_DIST_DIR")
    if given:
        return _find_built(Path(given))
    return _build_all(tmp_path_factory.mktemp("dist"))


@pytest.fixture(params=list(PROJECTS))
def any_dist(request: pytest.FixtureRequest, dists: dict[str, Dist]) -> Dist:
    return dists[request.param]


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest, dists: dict[str, Dist]) -> Dist:
    return dists[request.param]


@pytest.fixture(scope="session")
def drivers() -> tuple[str, ...]:
    return DRIVERS


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, dists: dict[str, Dist]) -> Path:
    """Wheels of the third-party dependencies the fresh venvs install, plus hatchling and
    editables (editable installs without build isolation need them in the venv)."""
    house = tmp_path_factory.mktemp("wheelhouse")
    pins = house / "constraints.txt"
    pins.write_text("\n".join(f"{name}=={version}" for name, version in _pins().items()))
    wanted = [str(dists[name].wheel) for name in ("asyncz-core", "asyncz-redis")]
    links = ["--find-links", str(dists["asyncz-core"].wheel.parent)]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:", "-d", str(house)]
        + ["-c", str(pins), *links, *wanted, "hatchling", "editables"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"could not fill the wheelhouse:\n{result.stdout}{result.stderr}", pytrace=False
        )
    return house


@pytest.fixture
def fresh_venv(
    tmp_path_factory: pytest.TempPathFactory, dists: dict[str, Dist], wheelhouse: Path
) -> FreshVenv:
    links = [dists["asyncz-core"].wheel.parent, wheelhouse]
    return FreshVenv(tmp_path_factory.mktemp("venv") / "venv", links)
