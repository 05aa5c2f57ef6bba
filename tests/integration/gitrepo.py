"""Generated git repositories for runner and job tests: real commits, known content."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "bench_suites" / "demo"

_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
}


def git(repo: Path, *args: str, when: int | None = None) -> str:
    env = {**os.environ, **_ENV}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{1_700_000_000 + when * 60} +0000"
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.strip()


class Repo:
    """A local repository on branch ``main``; `commit` writes files and returns the sha."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "--quiet", "--initial-branch=main")
        self.shas: list[str] = []

    def commit(self, files: Mapping[str, str], message: str = "change") -> str:
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        git(self.path, "add", "--all")
        git(self.path, "commit", "--quiet", "--allow-empty", "-m", message, when=len(self.shas))
        self.shas.append(git(self.path, "rev-parse", "HEAD"))
        return self.shas[-1]


def demo_repo(path: Path, work_size: int = 20_000, repeats: int = 1) -> Repo:
    """The bench_suites/demo template as one commit, with ``repeats`` processes per commit."""
    repo = Repo(path)
    shutil.copytree(DEMO, path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    toml = (path / "benchwarden.toml").read_text(encoding="utf-8")
    toml = toml.replace("repeats = 5", f"repeats = {repeats}")
    toml = toml.replace('"--benchmark-min-rounds=20"', '"--benchmark-min-rounds=5"')
    toml = toml.replace(
        '"--benchmark-max-time=0.1", "--benchmark-warmup=on"',
        '"--benchmark-max-time=0.02", "--benchmark-warmup=off"',
    )
    work = (path / "demo_pkg/work.py").read_text(encoding="utf-8")
    repo.commit(
        {
            "benchwarden.toml": toml,
            "demo_pkg/work.py": work.replace("WORK_SIZE = 20_000", f"WORK_SIZE = {work_size}"),
        },
        "demo project",
    )
    return repo


def command_suite(command: str, *, timeout: float = 60, repeats: int = 1) -> str:
    """A benchwarden.toml with one ``command`` suite (no venv: fast to start)."""
    return (
        '[env]\nkind = "none"\n\n[suites.cmd]\nkind = "command"\n'
        f"command = '''{command}'''\ntimeout = {timeout}\nrepeats = {repeats}\n"
    )


# Writes one BMF result (latency in ns) to $BENCHWARDEN_OUTPUT.
WRITE_RESULT = (
    "python -c \"import json,os; json.dump({'loop': {'latency': {'value': 1500.0}}},"
    " open(os.environ['BENCHWARDEN_OUTPUT'], 'w'))\""
)
