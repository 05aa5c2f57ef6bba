"""`benchwarden demo`: the whole mission on one machine, from one command.

It grows bench_suites/demo/ into a git history with a planted slowdown and a
planted improvement, registers the project, benchmarks every 4th commit through
the real workers, lets detection flag both changes, confirms the slowdown,
bisects it to the exact commit, renders the pull-request comment that commit
would get, and leaves the dashboard running on the alerts page.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from web.config import Settings
from web.demo_repo import DemoHistory, build
from web.models import Alert, Job
from web.models.project_settings import ProjectSettings
from web.stack import Stack, StackError, terminate_as_interrupt, wait_for_signal
from web.up import add_stack_arguments, prepare, stack_settings

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


def add_demo_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="run the end-to-end demo on the embedded default")
    add_stack_arguments(demo)
    demo.add_argument("--commits", type=int, default=40, help="length of the demo history")
    demo.add_argument("--every", type=int, default=4, help="benchmark every N-th commit")
    demo.add_argument("--timeout", type=float, default=600, help="seconds to wait for results")
    demo.add_argument("--exit", action="store_true", help="stop when done instead of serving")
    demo.set_defaults(func=cmd_demo)


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
    from runner.callgrind import CallgrindRun, CallgrindUnavailable, requests_library

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


def cmd_demo(args: argparse.Namespace) -> int:
    console = Console()
    missing = missing_demo_packages(os.environ.get("BENCHWARDEN_PYTHON") or sys.executable)
    if missing:
        console.print(f"[red]error:[/red] {missing}")
        return 2
    settings = stack_settings(args)
    history = build(settings.data_dir.resolve() / "demo" / "repo", args.commits)
    problem = counting_problem(settings.data_dir.resolve() / "runner" / "tools")
    if problem:
        console.print(
            f"[yellow]note:[/yellow] {problem}; the demo measures wall time only,"
            " which a busy machine can fool"
        )
    chosen = TIME_ONLY_SETTINGS if problem else DEMO_SETTINGS
    settings_for_project = chosen | {
        "machines": [args.machine],
        "suites_source": "project" if problem else "commit",
    }
    suites_config = time_only_config(history) if problem else None
    token = prepare(settings, PROJECT, repo_url=str(history.path))
    # The demo decides on instruction counts, which load does not move: its runner
    # records a busy machine (and its times are left out) rather than waiting on it.
    preflight = os.environ.get("BENCHWARDEN_PREFLIGHT", "warn")
    stack = Stack(
        settings,
        host=args.host,
        port=args.port,
        machine=args.machine,
        child_env={"BENCHWARDEN_PREFLIGHT": preflight},
    )
    terminate_as_interrupt()
    try:
        stack.start(token)
        outcome = run_demo(stack, history, settings_for_project, suites_config, args, console)
        _report(console, stack, history, outcome)
        if not args.exit:
            console.print("The dashboard stays up; Ctrl-C stops everything.")
            wait_for_signal(stack)
    except (OSError, StackError, DemoError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()
    ok = outcome.slowdown_flagged and outcome.improvement_flagged
    return 0 if ok and outcome.culprit == history.slowdown_sha else 1


class DemoError(RuntimeError):
    """The demo could not finish: a job failed or results did not arrive in time."""


def run_demo(
    stack: Stack,
    history: DemoHistory,
    project_settings: dict[str, object],
    suites_config: str | None,
    args: argparse.Namespace,
    console: Console,
) -> DemoOutcome:
    from web.celery_app import Dispatcher, make_celery
    from web.db import make_engine, make_sessionmaker

    engine = make_engine(stack.settings.database_url)
    factory = make_sessionmaker(engine)
    try:
        with factory() as session:
            older_than = session.scalar(select(func.max(Job.id))) or 0
        job_ids = _schedule(factory, Dispatcher(make_celery(stack.settings, factory)),
                            history, project_settings, suites_config, args.every)  # fmt: skip
        watcher = _Watcher(factory, history, job_ids, older_than)
        _wait_with_progress(watcher, args.timeout, console, stack.settings.data_dir / "logs")
        preview = _write_preview(factory, stack.settings, history, watcher.culprit())
        return DemoOutcome(
            watcher.flagged(regression=True), watcher.flagged(regression=False),
            watcher.culprit(), preview,
        )  # fmt: skip
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
    from web.db import session_scope
    from web.models import Job
    from web.services.jobs import schedule_commits
    from web.services.projects import find_project

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
        from web.models import Benchmark, Commit, Series

        rows = session.execute(
            select(Alert, Commit.sha)
            .join(Series, Series.id == Alert.series_id)
            .join(Benchmark, Benchmark.id == Series.benchmark_id)
            .join(Commit, Commit.id == Alert.first_commit_id)
            .where(Benchmark.name == BENCHMARK, Alert.active)
        ).all()
        return [(alert, sha) for alert, sha in rows]

    def jobs_done(self) -> tuple[int, int]:
        from web.models import Job

        with self.factory() as session:
            states = list(session.scalars(select(Job.state).where(Job.id.in_(self.jobs))))
        return sum(1 for s in states if s == "done"), len(self.jobs)

    def raise_if_failed(self) -> None:
        """Any failed job of the demo project (a run, a confirmation, a bisection
        or one of its steps) ends the demo now: nothing would come of waiting."""
        from web.models import Project

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
        from web.models import Project

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
        from web.models import Project
        from web.models.job_progress import JobProgress

        with self.factory() as session:
            done = session.scalars(
                select(Job)
                .join(Project)
                .where(Project.name == PROJECT, Job.kind == "bisect", Job.parent_job_id.is_(None),
                       Job.state == "done", Job.id > self.older_than)
            ).all()  # fmt: skip
            for job in done:
                progress = JobProgress.of(job)
                if progress.culprit is None and progress.reason:
                    return progress.reason
        return None

    def culprit(self) -> str | None:
        from web.models import Commit

        with self.factory() as session:
            alert = self._slowdown(session)
            if alert is None or alert.culprit_commit_id is None:
                return None
            commit = session.get(Commit, alert.culprit_commit_id)
            return commit.sha if commit else None


def _wait_with_progress(watcher: _Watcher, timeout: float, console: Console, logs: Path) -> None:
    columns = (TextColumn("{task.description:<34}"), BarColumn(), TextColumn("{task.fields[note]}"),
               TimeElapsedColumn())  # fmt: skip
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
    from web.github.client import GitHubConfig, PullInfo
    from web.github.notify import build_report
    from web.github.render import render_comment
    from web.services.compare import compare_commits
    from web.services.pr_compare import Baseline, MachineComparison
    from web.services.projects import find_project

    parent = history.shas[history.shas.index(culprit) - 1]
    with factory() as session:
        project = find_project(session, PROJECT)
        assert project is not None
        machine = ProjectSettings.of(project).machines[0]
        comparison = compare_commits(session, project.id, parent, culprit, machine)
        mc = MachineComparison(Baseline(machine, parent, parent, None), culprit, comparison)
        config = GitHubConfig(repo="example/demo")
        report = build_report(project, 1, culprit, [mc], config,
                              PullInfo(1, culprit, "main", ()), settings.base_url)  # fmt: skip
    path = settings.data_dir / "demo" / "pr-comment.md"
    path.write_text(render_comment(report), encoding="utf-8")
    return path


def _report(console: Console, stack: Stack, history: DemoHistory, outcome: DemoOutcome) -> None:
    expected = history.slowdown_sha
    verdict = (
        "[green]exact commit[/green]" if outcome.culprit == expected else "[red]wrong commit[/red]"
    )
    console.print(f"slowdown planted at commit {history.slowdown_index} ({expected[:12]}): "
                  f"bisected to {(outcome.culprit or 'nothing')[:12]} — {verdict}")  # fmt: skip
    found = "reported as an improvement" if outcome.improvement_flagged else "not found"
    console.print(f"improvement planted at commit {history.improvement_index} "
                  f"({history.improvement_sha[:12]}): {found}")  # fmt: skip
    if outcome.preview is not None:
        console.print(f"PR comment preview: {outcome.preview}")
        console.print(outcome.preview.read_text(encoding="utf-8"), markup=False, highlight=False)
    console.print(f"alerts: {stack.url}/p/{PROJECT}/alerts")
