"""The demo's git repository: bench_suites/demo/ grown into a history with planted changes.

Commit dates and authors are fixed, so the same options always give the same
shas: re-running the demo finds its repository, project and results again
instead of piling up new ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "bench_suites" / "demo"
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
    shutil.copytree(
        TEMPLATE, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
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


def _message(index: int, improvement: int, slowdown: int) -> str:
    if index == 0:
        return "Start the demo project"
    if index == improvement:
        return "Speed up checksum: smaller work size"
    if index == slowdown:
        return "Grow checksum's work size by 15%"
    return f"Routine change {index}"
