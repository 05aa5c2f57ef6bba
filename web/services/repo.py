"""Reading a project's git history: commit ranges, first-parent chains, merge bases.

The service never builds or runs a commit, but scheduling a range and bisecting
an alert need the order of commits that were never measured. A local path is
read in place (read-only git commands); a remote URL is mirrored once under
``root`` and fetched when a commit is missing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


class HistoryError(ValueError):
    """git cannot answer: unknown commit or range, unreachable repository."""


def _git(*args: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HistoryError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise HistoryError(f"git {' '.join(args[:2])}: {done.stderr.strip()[-1000:]}")
    return done.stdout


@dataclass(frozen=True)
class History:
    """Git history of project repositories; mirrors of remote ones live under ``root``."""

    root: Path

    def repository(self, repo_url: str) -> Path:
        local = Path(repo_url)
        if local.is_dir():
            return local
        mirror = self.root / f"{hashlib.sha1(repo_url.encode()).hexdigest()[:16]}.git"
        if not (mirror / "HEAD").is_file():
            mirror.parent.mkdir(parents=True, exist_ok=True)
            _git("clone", "--mirror", "--quiet", repo_url, str(mirror))
        else:
            _git("fetch", "--quiet", "--prune", "origin", cwd=mirror)
        return mirror

    def resolve(self, repo_url: str, rev: str) -> str:
        """The full sha of ``rev`` (a sha, branch or tag)."""
        return _git(
            "rev-parse", "--verify", f"{rev}^{{commit}}", cwd=self.repository(repo_url)
        ).strip()

    def commits(self, repo_url: str, spec: str) -> list[str]:
        """Shas of ``spec``, oldest first: ``A..B`` (first parents, A excluded), ``..B``
        (B and every first parent before it, root included: a whole history, which
        ``A..B`` cannot give since it leaves A out) or one rev."""
        repo = self.repository(repo_url)
        if ".." not in spec:
            return [self.resolve(repo_url, spec)]
        if spec.startswith("..") and not spec.startswith("..."):
            tip = self.resolve(repo_url, spec[2:] or "HEAD")
            return _git("rev-list", "--first-parent", "--reverse", tip, cwd=repo).split()
        out = _git("rev-list", "--first-parent", "--reverse", spec, cwd=repo)
        return out.split()

    def first_parent_range(self, repo_url: str, good: str, bad: str) -> list[str]:
        """``good`` then every first-parent commit after it up to ``bad``, oldest first."""
        after = self.commits(repo_url, f"{good}..{bad}")
        if not after or after[-1] != self.resolve(repo_url, bad):
            raise HistoryError(f"{bad} does not descend from {good} along first parents")
        return [self.resolve(repo_url, good), *after]

    def merge_base(self, repo_url: str, a: str, b: str) -> str:
        return _git("merge-base", a, b, cwd=self.repository(repo_url)).strip()
