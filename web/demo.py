"""`benchwarden demo`: the whole mission on one machine, from one command.

It grows the demo template (web/demo_template/) into a git history with a planted slowdown and a
planted improvement, registers the project, benchmarks every 4th commit through
the real workers, lets detection flag both changes, confirms the slowdown,
bisects it to the exact commit, renders the pull-request comment that commit
would get, and leaves the dashboard running on the alerts page.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from runner.callgrind import CallgrindRun, CallgrindUnavailable, requests_library
from web.celery_app import Dispatcher, make_celery
from web.config import Settings
from web.db import make_engine, make_sessionmaker, session_scope
from web.demo_repo import DemoHistory
from web.github.client import GitHubConfig, PullInfo
from web.github.notify import build_report
from web.github.render import render_comment
from web.models import Alert, Benchmark, Commit, Job, Project, Series
from web.models.job_progress import JobProgress
from web.models.project_settings import ProjectSettings
from web.services.compare import compare_commits
from web.services.jobs import schedule_commits
from web.services.pr_compare import Baseline, MachineComparison
from web.services.projects import find_project
from web.stack import Stack

PROJECT = "demo"
BENCHMARK = "test_checksum"
# Ten points (every 4th of 40 commits) are too few for the default thresholds:
# a rank test over 3-4 points per segment cannot reach p < 0.01. The demo
# project flags candidates at a loose level with 3-point segments and lets the
# confirmation re-runs (5 processes per side, Mann-Whitney) reject false ones,
# which is what they are for; bisection then pins the exact commit.
DEMO_SETTINGS: dict[str, object] = {
    "detector": {"min_segment": 3, "alpha": 0.2},
    # Instruction counts decide: their rounds are the samples, and time is only
    # shown, so confirmation and bisection time two processes per commit.
    "confirm_repeats": 2,
    "bisect_repeats": 2,
    # the improvement is reported, not bisected: bisecting it too costs a minute more
    "bisect_improvements": None,
}
# Without valgrind the demo decides on wall time, which needs more processes.
TIME_ONLY_SETTINGS: dict[str, object] = DEMO_SETTINGS | {"confirm_repeats": 5, "bisect_repeats": 5}
_COUNTED = 'measures = ["instructions", "time"]\nrepeats = 2\n'
_TIMED = 'measures = ["time"]\nrepeats = 5\n'


@dataclass(frozen=True)
class DemoOutcome:
    slowdown_flagged: bool
    improvement_flagged: bool
    culprit: str | None
    preview: Path | None


def missing_demo_packages(python: str) -> str | None:
    """Why the demo's suite cannot run on ``python``, or None.

    The demo suite uses the runner interpreter's own packages (its
    benchwarden.toml says why); without pytest-benchmark every job would fail.
    """
    probe = subprocess.run(
        [python, "-c", "import pytest, pytest_benchmark"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode == 0:
        return None
    return (
        f"the demo's benchmarks need pytest-benchmark in {python}; install it with"
        ' `python3 -m pip install -e ".[demo]"` (or set BENCHWARDEN_PYTHON)'
    )


def counting_problem(tools: Path) -> str | None:
    """Why this machine cannot count instructions per benchmark, or None."""
    try:
        CallgrindRun(tools).prefix()
        requests_library(tools)
    except CallgrindUnavailable as exc:
        return str(exc)
    return None


def time_only_config(history: DemoHistory) -> str:
    """The demo repository's suites with instruction counts taken out."""
    text = (history.path / "benchwarden.toml").read_text(encoding="utf-8")
    if _COUNTED not in text:
        raise DemoError("the demo's benchwarden.toml no longer declares its measures as expected")
    return text.replace(_COUNTED, _TIMED)


class DemoError(RuntimeError):
    """The demo could not finish: a job failed or results did not arrive in time."""


def run_demo(
    stack: Stack,
    history: DemoHistory,
    project_settings: dict[str, object],
    suites_config: str | None,
    every: int,
    timeout: float,
    console: Console,
) -> DemoOutcome:
    engine = make_engine(stack.settings.database_url)
    factory = make_sessionmaker(engine)
    try:
        with factory() as session:
            older_than = session.scalar(select(func.max(Job.id))) or 0
        dispatcher = Dispatcher(make_celery(stack.settings, factory))
        job_ids = _schedule(factory, dispatcher, history, project_settings, suites_config, every)
        watcher = _Watcher(factory, history, job_ids, older_than)
        _wait_with_progress(watcher, timeout, console, stack.settings.data_dir / "logs")
        preview = _write_preview(factory, stack.settings, history, watcher.culprit())
        return DemoOutcome(
            slowdown_flagged=watcher.flagged(regression=True),
            improvement_flagged=watcher.flagged(regression=False),
            culprit=watcher.culprit(),
            preview=preview,
        )
    finally:
        engine.dispose()


def _schedule(
    factory: sessionmaker[Session],
    dispatcher: object,
    history: DemoHistory,
    project_settings: dict[str, object],
    suites_config: str | None,
    every: int,
) -> list[int]:
    """Schedule the run jobs that have not run yet (a re-run schedules none)."""
    with session_scope(factory) as session:
        project = find_project(session, PROJECT)
        assert project is not None
        project.settings = dict(project.settings or {}) | project_settings
        project.suites_config = suites_config
        project.repo_url = str(history.path)
        done = set(
            session.scalars(
                select(Job.commit_sha).where(
                    Job.project_id == project.id, Job.kind == "run", Job.state != "failed"
                )
            )
        )
        todo = [sha for sha in _every(history.shas, every) if sha not in done]
        jobs = schedule_commits(session, dispatcher, project, todo)  # type: ignore[arg-type]
        session.flush()
        ids = [j.id for j in jobs]
        ids += list(
            session.scalars(select(Job.id).where(Job.project_id == project.id, Job.kind == "run"))
        )
    return sorted(set(ids))


def _every(shas: tuple[str, ...], every: int) -> list[str]:
    return [sha for i, sha in enumerate(shas) if (len(shas) - 1 - i) % every == 0]


def _describe(job: Job) -> str:
    started = f"started {job.started_at:%H:%M:%S}" if job.started_at else "not started"
    return (
        f"#{job.id} {job.kind} {job.commit_sha[:8]} {job.state} attempts={job.attempts}"
        f" created {job.created_at:%H:%M:%S} {started}"
    )


class _Watcher:
    """Reads progress from the database with a fresh session per look."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        history: DemoHistory,
        jobs: list[int],
        older_than: int = 0,
    ):
        self.factory = factory
        self.history = history
        self.jobs = jobs
        self.older_than = older_than  # jobs up to this id are from an earlier demo

    def _alerts(self, session: Session) -> list[tuple[Alert, str]]:
        rows = session.execute(
            select(Alert, Commit.sha)
            .join(Series, Series.id == Alert.series_id)
            .join(Benchmark, Benchmark.id == Series.benchmark_id)
            .join(Commit, Commit.id == Alert.first_commit_id)
            .where(Benchmark.name == BENCHMARK, Alert.active)
        ).all()
        return [(alert, sha) for alert, sha in rows]

    def jobs_done(self) -> tuple[int, int]:
        with self.factory() as session:
            states = list(session.scalars(select(Job.state).where(Job.id.in_(self.jobs))))
        return sum(1 for s in states if s == "done"), len(self.jobs)

    def raise_if_failed(self) -> None:
        """Any failed job of the demo project (a run, a confirmation, a bisection
        or one of its steps) ends the demo now: nothing would come of waiting."""
        with self.factory() as session:
            failed = session.scalars(
                select(Job)
                .join(Project)
                .where(Project.name == PROJECT, Job.state == "failed", Job.id > self.older_than)
            ).all()
            if failed:
                detail = "; ".join(f"{_describe(j)}: {j.error or 'no detail'}" for j in failed)
                raise DemoError(f"{len(failed)} job(s) failed: {detail}")

    def job_states(self) -> str:
        """Every job of the demo project, oldest first: where a slow or stuck
        demo is waiting."""
        with self.factory() as session:
            jobs = session.scalars(
                select(Job).join(Project).where(Project.name == PROJECT).order_by(Job.id)
            ).all()
            return "; ".join(_describe(job) for job in jobs)

    def flagged(self, *, regression: bool) -> bool:
        with self.factory() as session:
            return any(a.is_regression == regression for a, _ in self._alerts(session))

    def _slowdown(self, session: Session) -> Alert | None:
        """The largest active regression alert of the demo benchmark."""
        found = [a for a, _ in self._alerts(session) if a.is_regression]
        return max(found, key=lambda a: abs(a.rel_change)) if found else None

    def confirmation(self) -> str | None:
        with self.factory() as session:
            alert = self._slowdown(session)
            return alert.confirmation if alert else None

    def bisection_stopped(self) -> str | None:
        """Why a finished bisection of this demo named no commit, or None."""
        with self.factory() as session:
            done = session.scalars(
                select(Job)
                .join(Project)
                .where(
                    Project.name == PROJECT,
                    Job.kind == "bisect",
                    Job.parent_job_id.is_(None),
                    Job.state == "done",
                    Job.id > self.older_than,
                )
            ).all()
            for job in done:
                progress = JobProgress.of(job)
                if progress.culprit is None and progress.reason:
                    return progress.reason
        return None

    def culprit(self) -> str | None:
        with self.factory() as session:
            alert = self._slowdown(session)
            if alert is None or alert.culprit_commit_id is None:
                return None
            commit = session.get(Commit, alert.culprit_commit_id)
            return commit.sha if commit else None


def _wait_with_progress(watcher: _Watcher, timeout: float, console: Console, logs: Path) -> None:
    columns = (
        TextColumn("{task.description:<34}"),
        BarColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    steps: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("benchmark every 4th commit", lambda: _jobs_step(watcher)),
        ("detect the changes", lambda: _detect_step(watcher)),
        ("confirm the slowdown", lambda: _confirm_step(watcher)),
        ("bisect to one commit", lambda: _bisect_step(watcher)),
    ]
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=console) as progress:
        for description, step in steps:
            task = progress.add_task(description, total=1, note="")
            while True:
                watcher.raise_if_failed()
                finished, note = step()
                progress.update(task, note=note)
                if finished:
                    progress.update(task, completed=1)
                    break
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"timed out while waiting to {description}; jobs: {watcher.job_states()}"
                        f"{_log_errors(logs)}"
                    )
                time.sleep(1.0)


def _log_errors(logs: Path, limit: int = 20) -> str:
    """The workers' last error lines, for a demo that timed out."""
    lines = [
        f"{path.name}: {line.strip()}"
        for path in sorted(logs.glob("*.log"))
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if "ERROR" in line or "CRITICAL" in line or line.startswith("Traceback")
    ]
    return ("; worker errors: " + " | ".join(lines[-limit:])) if lines else ""


def _jobs_step(watcher: _Watcher) -> tuple[bool, str]:
    done, total = watcher.jobs_done()
    return done == total, f"{done}/{total} runs"


def _detect_step(watcher: _Watcher) -> tuple[bool, str]:
    slow, fast = watcher.flagged(regression=True), watcher.flagged(regression=False)
    return (
        slow and fast,
        f"slowdown {'found' if slow else '…'}, improvement {'found' if fast else '…'}",
    )


def _confirm_step(watcher: _Watcher) -> tuple[bool, str]:
    state = watcher.confirmation()
    if state == "not_reproduced":
        raise DemoError("the slowdown did not reproduce on re-runs (a very noisy machine?)")
    return state == "confirmed", state or "waiting"


def _bisect_step(watcher: _Watcher) -> tuple[bool, str]:
    culprit = watcher.culprit()
    if culprit is None and (reason := watcher.bisection_stopped()):
        raise DemoError(f"bisection named no commit, only a range: {reason}")
    return culprit is not None, culprit[:12] if culprit else "bisecting"


def _write_preview(
    factory: sessionmaker[Session], settings: Settings, history: DemoHistory, culprit: str | None
) -> Path | None:
    """The PR comment the culprit commit would get, compared with its parent."""
    if culprit is None:
        return None
    parent = history.shas[history.shas.index(culprit) - 1]
    with factory() as session:
        project = find_project(session, PROJECT)
        assert project is not None
        machine = ProjectSettings.of(project).machines[0]
        comparison = compare_commits(session, project.id, parent, culprit, machine)
        mc = MachineComparison(Baseline(machine, parent, parent, None), culprit, comparison)
        config = GitHubConfig(repo="example/demo")
        pull = PullInfo(1, culprit, "main", ())
        report = build_report(project, 1, culprit, [mc], config, pull, settings.base_url)
    path = settings.data_dir / "demo" / "pr-comment.md"
    path.write_text(render_comment(report), encoding="utf-8")
    return path


def report(console: Console, stack: Stack, history: DemoHistory, outcome: DemoOutcome) -> None:
    expected = history.slowdown_sha
    verdict = (
        "[green]exact commit[/green]" if outcome.culprit == expected else "[red]wrong commit[/red]"
    )
    bisected = (outcome.culprit or "nothing")[:12]
    console.print(
        f"slowdown planted at commit {history.slowdown_index} ({expected[:12]}): "
        f"bisected to {bisected} — {verdict}"
    )
    found = "reported as an improvement" if outcome.improvement_flagged else "not found"
    console.print(
        f"improvement planted at commit {history.improvement_index} "
        f"({history.improvement_sha[:12]}): {found}"
    )
    if outcome.preview is not None:
        console.print(f"PR comment preview: {outcome.preview}")
        console.print(outcome.preview.read_text(encoding="utf-8"), markup=False, highlight=False)
    console.print(f"alerts: {stack.url}/p/{PROJECT}/alerts")
