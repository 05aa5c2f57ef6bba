"""Clean work trees at a commit, from one shared object cache per repository.

Each repository is mirrored once (a bare ``git clone --mirror`` under the work
directory) and fetched again only when a commit is missing. Every job gets its
own ``git clone --shared`` of that mirror: objects are borrowed, not copied, and
the tree is new, so no job ever sees another's build products, and nobody's own
checkout is ever touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 600.0


class CheckoutError(RuntimeError):
    """git could not provide the commit (unknown commit, unreachable repository)."""


def git(*args: str, cwd: Path | None = None, timeout: float = GIT_TIMEOUT) -> str:
    """Run git and return its stdout; raise CheckoutError with git's message on failure."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_git_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CheckoutError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise CheckoutError(f"git {' '.join(args[:2])} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


@dataclass(frozen=True)
class Checkouts:
    """Mirrors under ``root/mirrors``, job trees under ``root/trees``."""

    root: Path

    def mirror(self, repo_url: str, *commits: str) -> Path:
        """The bare mirror of ``repo_url`` holding ``commits``, cloned or fetched as needed."""
        key = hashlib.sha1(repo_url.encode()).hexdigest()[:16]
        path = self.root / "mirrors" / f"{key}.git"
        if not (path / "HEAD").is_file():
            shutil.rmtree(path, ignore_errors=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            git("clone", "--mirror", "--quiet", repo_url, str(tmp))
            tmp.rename(path)
        if any(not _has_commit(path, c) for c in commits):
            git("fetch", "--quiet", "--prune", "origin", cwd=path)
        for commit in commits:
            if not _has_commit(path, commit):
                raise CheckoutError(f"commit {commit} is not in {repo_url}")
        return path

    def work_tree(self, repo_url: str, commit: str, name: str) -> Path:
        """A fresh tree named ``name`` at ``commit`` (detached), sharing the mirror's objects."""
        mirror = self.mirror(repo_url, commit)
        tree = self.root / "trees" / name
        shutil.rmtree(tree, ignore_errors=True)
        tree.parent.mkdir(parents=True, exist_ok=True)
        git("clone", "--shared", "--no-checkout", "--quiet", str(mirror), str(tree))
        git("-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit, cwd=tree)
        return tree

    def remove(self, tree: Path) -> None:
        shutil.rmtree(tree, ignore_errors=True)

    def first_parent_range(self, repo_url: str, good: str, bad: str) -> list[str]:
        """Commits after ``good`` up to and including ``bad``, oldest first, first parents only."""
        mirror = self.mirror(repo_url, good, bad)
        out = git("rev-list", "--first-parent", "--reverse", f"{good}..{bad}", cwd=mirror)
        return out.split()


def _has_commit(mirror: Path, commit: str) -> bool:
    try:
        git("cat-file", "-e", f"{commit}^{{commit}}", cwd=mirror, timeout=60)
    except CheckoutError:
        return False
    return True
