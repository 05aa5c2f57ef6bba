"""The demo's git repository: web/demo_template/ grown into a history with planted changes.

Commit dates and authors are fixed, so the same options always give the same
shas: re-running the demo finds its repository, project and results again
instead of piling up new ones. The template is package data, read through
importlib.resources, so an installed wheel builds the same repository as a
checkout (bench_suites/demo links to it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

TEMPLATE: Traversable = files("web") / "demo_template"
BASE_WORK_SIZE = 20_000
SLOWDOWN = 1.15
IMPROVEMENT = 0.90
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Demo Author",
    "GIT_AUTHOR_EMAIL": "demo@example.invalid",
    "GIT_COMMITTER_NAME": "Demo Author",
    "GIT_COMMITTER_EMAIL": "demo@example.invalid",
}


@dataclass(frozen=True)
class DemoHistory:
    path: Path
    shas: tuple[str, ...]
    improvement_index: int
    slowdown_index: int

    @property
    def slowdown_sha(self) -> str:
        return self.shas[self.slowdown_index]

    @property
    def improvement_sha(self) -> str:
        return self.shas[self.improvement_index]


def plan(commits: int) -> tuple[int, int]:
    """Where the changes go: the improvement a third in, the slowdown three quarters in.

    With every 4th commit measured both land between measured commits, so the
    slowdown's range holds untested commits for bisection to narrow down.
    """
    return commits // 3, (3 * commits) // 4 - 1


def _git(repo: Path, *args: str, when: int = 0) -> str:
    stamp = f"{1_767_225_600 + when * 3600} +0000"
    env = os.environ | _GIT_ENV | {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _work_size(index: int, improvement: int, slowdown: int) -> int:
    size = BASE_WORK_SIZE
    if index >= improvement:
        size = round(size * IMPROVEMENT)
    if index >= slowdown:
        size = round(size * SLOWDOWN)
    return size


def build(path: Path, commits: int = 40) -> DemoHistory:
    """Create (or find, when it already matches) the demo repository at ``path``."""
    improvement, slowdown = plan(commits)
    if (path / ".git").exists():
        found = tuple(_git(path, "rev-list", "--reverse", "--first-parent", "HEAD").split())
        if len(found) == commits:
            return DemoHistory(path, found, improvement, slowdown)
        shutil.rmtree(path)
    path.mkdir(parents=True)
    copy_template(TEMPLATE, path)
    _git(path, "init", "--quiet", "--initial-branch=main")
    work = path / "demo_pkg" / "work.py"
    template = work.read_text(encoding="utf-8")
    shas: list[str] = []
    for index in range(commits):
        size = _work_size(index, improvement, slowdown)
        work.write_text(template.replace("WORK_SIZE = 20_000", f"WORK_SIZE = {size}"), "utf-8")
        (path / "CHANGES.md").write_text(f"# Changes\n\nrevision {index}\n", encoding="utf-8")
        _git(path, "add", "--all")
        _git(path, "commit", "--quiet", "-m", _message(index, improvement, slowdown), when=index)
        shas.append(_git(path, "rev-parse", "HEAD"))
    return DemoHistory(path, tuple(shas), improvement, slowdown)


def copy_template(source: Traversable, target: Path) -> None:
    """Copy the template tree into ``target``, bytecode caches left out.

    Walks a `Traversable`, not a path, so it reads the files wherever the
    installed package keeps them; raises FileNotFoundError when the template is
    missing (a wheel built without its package data).
    """
    if not source.is_dir():
        raise FileNotFoundError(f"the demo template is missing: {source}")
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name == "__pycache__" or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            copy_template(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _message(index: int, improvement: int, slowdown: int) -> str:
    if index == 0:
        return "Start the demo project"
    if index == improvement:
        return "Speed up checksum: smaller work size"
    if index == slowdown:
        return "Grow checksum's work size by 15%"
    return f"Routine change {index}"
