"""Suite declarations: ``benchwarden.toml`` (or ``[tool.benchwarden]``) -> what to run.

A project declares its suites in the commit being measured, so a suite change
travels with the code it measures, or keeps them outside the repository (stored
in the service, or given to one ``schedule --config``), so an unmodified history
can be measured at its real SHAs; `choose_suites` applies the precedence::

    [env]                                  # optional; how the job's venv is built
    kind = "venv"                          # "venv" (isolated, default) or "none"
    install = ["python -m pip install --no-deps --no-build-isolation -e ."]
    variables = { PYTHONWARNINGS = "ignore" }  # set for every suite process

    [suites.core]
    kind = "pytest-benchmark"              # or "asv" or "command"
    target = "benchmarks"                  # pytest target (pytest-benchmark)
    # config = "asv.conf.json"             # asv
    # command = "./bench.sh"               # command; writes $BENCHWARDEN_OUTPUT
    # format = "hyperfine"                 # command: result format (default: detected)
    setup = ["python tools/gen_data.py"]   # run once per job, after the env is built
    timeout = 600                          # seconds per suite process
    repeats = 5                            # processes per commit, interleaved
    measures = ["time", "instructions"]    # instructions: valgrind, opt-in
    machines = ["m1"]                      # empty: every machine

Malformed declarations raise `SuiteError` naming the key, so a broken config
becomes a failed job with a readable message rather than a crash.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.parsers import FORMATS

KINDS = ("pytest-benchmark", "asv", "command")
MEASURES = ("time", "instructions")
ENV_KINDS = ("venv", "none")
CONFIG_FILE = "benchwarden.toml"
# Where a job's declaration came from, as its log says ("suites from: ...").
ORIGIN_SCHEDULE = "schedule --config"
ORIGIN_PROJECT = "project config"
ORIGIN_COMMIT_FILE = "commit's benchwarden.toml"
ORIGIN_COMMIT_PYPROJECT = "commit's pyproject.toml [tool.benchwarden]"
# A declaration travels in every job message: bounded once, where it enters.
MAX_CONFIG_CHARS = 65_536


class SuiteError(ValueError):
    """The suite declaration cannot be used as written."""


@dataclass(frozen=True)
class Suite:
    name: str
    kind: str
    target: str = "."
    config: str = "asv.conf.json"
    command: str = ""
    format: str | None = None
    setup: tuple[str, ...] = ()
    timeout: float = 600.0
    repeats: int = 3
    measures: tuple[str, ...] = ("time",)
    machines: tuple[str, ...] = ()
    args: tuple[str, ...] = ()

    def runs_on(self, machine: str) -> bool:
        return not self.machines or machine in self.machines


@dataclass(frozen=True)
class EnvSpec:
    kind: str = "venv"
    install: tuple[str, ...] = ()
    # A venv sees only what ``install`` puts in it unless the suite opts in to
    # the base interpreter's packages, so a job never works by accident.
    system_site_packages: bool = False
    # Extra environment variables for every suite process, e.g.
    # PYTEST_DISABLE_PLUGIN_AUTOLOAD = "1" to skip unrelated plugins' start-up.
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProjectSuites:
    env: EnvSpec
    suites: tuple[Suite, ...] = field(default_factory=tuple)

    def select(self, machine: str, names: list[str] | None = None) -> list[Suite]:
        """Suites for ``machine``; ``names`` (when given) further restricts by name."""
        chosen = [s for s in self.suites if s.runs_on(machine)]
        if names:
            unknown = set(names) - {s.name for s in self.suites}
            if unknown:
                raise SuiteError(f"unknown suite(s): {', '.join(sorted(unknown))}")
            chosen = [s for s in chosen if s.name in names]
        return chosen


def load_suites(tree: Path) -> ProjectSuites:
    """Read the declaration from ``tree``: ``benchwarden.toml`` first, else pyproject."""
    found = commit_declaration(tree)
    if found is None:
        raise SuiteError(f"the commit has no {CONFIG_FILE} and no [tool.benchwarden] in pyproject")
    return _from_document(found[0])


def parse_suites(text: str) -> ProjectSuites:
    """Validate a declaration given as TOML text (a project's stored suites, ``--config``).

    The same rules as a commit's ``benchwarden.toml``; raises `SuiteError` on
    text over `MAX_CONFIG_CHARS`, bad TOML or a bad declaration.
    """
    if len(text) > MAX_CONFIG_CHARS:
        raise SuiteError(f"the suite config is over {MAX_CONFIG_CHARS} characters")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"not valid TOML: {exc}") from None
    return _from_document(doc)


def choose_suites(
    tree: Path, outside: str | None, origin: str = ORIGIN_PROJECT, *, outside_wins: bool = False
) -> tuple[ProjectSuites, str]:
    """The declaration a job uses, and where it came from (for the job's log).

    ``outside`` is TOML from outside the commit (``origin``: `ORIGIN_SCHEDULE` or
    `ORIGIN_PROJECT`). It is used when ``outside_wins`` or when the commit has no
    declaration of its own; otherwise the commit's own file wins.
    """
    if outside is not None and outside_wins:
        return parse_suites(outside), origin
    found = commit_declaration(tree)
    if found is not None:
        return _from_document(found[0]), found[1]
    if outside is not None:
        return parse_suites(outside), origin
    raise SuiteError(
        f"the commit has no {CONFIG_FILE} and no [tool.benchwarden] in pyproject, and the"
        " project has no stored suites (`benchwarden project suites P --set FILE`)"
    )


def commit_declaration(tree: Path) -> tuple[dict[str, Any], str] | None:
    """The commit's own declaration and its source's name, or None when it has none."""
    own = tree / CONFIG_FILE
    if own.is_file():
        return _toml(own), ORIGIN_COMMIT_FILE
    pyproject = tree / "pyproject.toml"
    if pyproject.is_file():
        tool = _toml(pyproject).get("tool", {})
        if isinstance(tool, dict) and isinstance(tool.get("benchwarden"), dict):
            return dict(tool["benchwarden"]), ORIGIN_COMMIT_PYPROJECT
    return None


def _from_document(doc: dict[str, Any]) -> ProjectSuites:
    env = _env(_table(doc.get("env", {}), "env"))
    suites_doc = _table(doc.get("suites", {}), "suites")
    if not suites_doc:
        raise SuiteError(f"no suites declared in {CONFIG_FILE} or [tool.benchwarden]")
    suites = tuple(_suite(name, _table(raw, f"suites.{name}")) for name, raw in suites_doc.items())
    return ProjectSuites(env=env, suites=suites)


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SuiteError(f"cannot read {path.name}: {exc}") from None


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SuiteError(f"[{where}] must be a table")
    return value


def _env(doc: dict[str, Any]) -> EnvSpec:
    kind = doc.get("kind", "venv")
    if kind not in ENV_KINDS:
        raise SuiteError(f"env.kind must be one of {', '.join(ENV_KINDS)}, got {kind!r}")
    variables = _table(doc.get("variables", {}), "env.variables")
    if not all(isinstance(v, str) for v in variables.values()):
        raise SuiteError("env.variables values must be strings")
    system = doc.get("system_site_packages", False)
    if not isinstance(system, bool):
        raise SuiteError("env.system_site_packages must be true or false")
    return EnvSpec(
        kind=kind,
        install=_strings(doc.get("install", []), "env.install"),
        system_site_packages=system,
        variables=tuple(sorted(variables.items())),
    )


def _suite(name: str, doc: dict[str, Any]) -> Suite:
    where = f"suites.{name}"
    kind = doc.get("kind")
    if kind not in KINDS:
        raise SuiteError(f"{where}.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "command" and not isinstance(doc.get("command"), str):
        raise SuiteError(f"{where}.command is required for kind 'command'")
    fmt = doc.get("format")
    if fmt is not None and fmt not in FORMATS:
        raise SuiteError(f"{where}.format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    measures = _strings(doc.get("measures", ["time"]), f"{where}.measures")
    if bad := [m for m in measures if m not in MEASURES]:
        raise SuiteError(f"{where}.measures: unknown measure(s) {', '.join(bad)}")
    if kind == "asv" and "instructions" in measures:
        # asv starts each benchmark in a process of its own making, out of the
        # plugin's reach; a count of the whole `asv run` would mostly be asv.
        raise SuiteError(
            f"{where}.measures: instruction counts are not supported for asv suites"
            " (pytest-benchmark: per benchmark; command: per process)"
        )
    return Suite(
        name=name,
        kind=kind,
        target=str(doc.get("target", ".")),
        config=str(doc.get("config", "asv.conf.json")),
        command=str(doc.get("command", "")),
        format=fmt,
        setup=_strings(doc.get("setup", []), f"{where}.setup"),
        timeout=_positive(doc.get("timeout", 600), f"{where}.timeout"),
        repeats=int(_positive(doc.get("repeats", 3), f"{where}.repeats")),
        measures=measures,
        machines=_strings(doc.get("machines", []), f"{where}.machines"),
        args=_strings(doc.get("args", []), f"{where}.args"),
    )


def _strings(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SuiteError(f"{where} must be a list of strings")
    return tuple(value)


def _positive(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SuiteError(f"{where} must be a positive number, got {value!r}")
    return float(value)
