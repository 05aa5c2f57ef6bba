"""One runner job, start to finish: check out, build, measure, upload, report.

A job message (a `runner.schema.JobSpec`, the model the service builds it
with; a malformed one is refused and reported failed) names one or more commits. One
commit is a plain run; two or more (A/B, confirmation, bisection steps) are
measured interleaved on this machine and stored as one run per commit. Runs
are uploaded with an idempotency key derived from the job id and the commit
only, never the attempt, so a job redelivered after its worker died stores
each run exactly once.

A job message carries its own write token (``token``), scoped to the job's
project and revoked by the service when the job ends: a runner serves every
project with it, and its worker token (``BENCHWARDEN_TOKEN``) is only the
fallback for messages without one. A job the service says has ended (409:
done, failed or cancelled) is skipped; one whose upload is refused (403, 413,
422) is reported ``failed`` with the service's reason.
"""

from __future__ import annotations

import dataclasses
import platform
import shutil
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.checkout import CheckoutError, Checkouts
from runner.execute import (
    RUN_LOG_CHARS,
    JobLog,
    build_env,
    missing_module_hint,
    run_command,
    shell,
)
from runner.gitinfo import detect_context
from runner.machine import local_machine
from runner.measure import Plan, Side, measure
from runner.preflight import Preflight, PreflightRefused, enforce
from runner.reporting import JobFinished, ReportError, ServiceClient
from runner.schema import (
    ERROR_MAX,
    LOG_TAIL_MAX,
    JobReport,
    JobSpec,
    ParsedRun,
    ParseOutput,
    ResultRecord,
    RunPayload,
)
from runner.suites import ProjectSuites, Suite, SuiteError, choose_suites
from runner.upload import UploadError, post_run


@dataclass(frozen=True)
class RunnerContext:
    """What a worker process knows: where the service is, this machine, its policy."""

    url: str
    token: str
    machine: str
    work_dir: Path
    cpus: tuple[int, ...] = ()
    preflight: str = "warn"
    preflight_max_wait: float = 300.0
    python: str | None = None
    upload_retries: int = 5


@dataclass
class Outcome:
    state: str
    run_ids: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    suites_from: str | None = None


def run_job(raw: dict[str, Any], ctx: RunnerContext) -> Outcome:
    """Execute one job spec and report its state; the task body of `RUN_JOB_TASK`.

    A message that is not a valid `JobSpec` is refused: nothing is checked out,
    the reason is logged, and the job is reported failed when its id is readable.
    """
    try:
        spec = JobSpec.model_validate(raw)
    except ValidationError as exc:
        return _refuse(raw, ctx, exc)
    # The worker's own token says "alive": a job's token may be revoked already.
    heartbeat(ServiceClient(ctx.url, ctx.token, retries=0), ctx.machine)
    ctx = dataclasses.replace(ctx, token=spec.token or ctx.token)
    client = ServiceClient(ctx.url, ctx.token, retries=ctx.upload_retries)
    try:
        client.report(spec.job_id, JobReport(state="running", machine=ctx.machine))
    except JobFinished:
        return Outcome("skipped")
    except ReportError as exc:  # nothing can be reported with a token the service refuses
        log_error(f"job {spec.job_id} not started: {exc}")
        return Outcome("failed", error=str(exc))
    work = ctx.work_dir / "jobs" / f"job-{spec.job_id}"
    shutil.rmtree(work, ignore_errors=True)
    log = JobLog(work / "log.txt")
    try:
        outcome = _execute(spec, ctx, log, work)
    except (CheckoutError, PreflightRefused, UploadError, OSError) as exc:
        log.note(f"job failed: {exc}")
        outcome = Outcome("failed", error=str(exc))
    tail = _tail_naming_suites(log.tail(), outcome.suites_from)
    report = JobReport(
        state="done" if outcome.state == "done" else "failed",
        run_ids=outcome.run_ids,
        error=outcome.error[:ERROR_MAX] if outcome.error else None,
        log_tail=tail[-LOG_TAIL_MAX:],
    )
    try:
        client.report(spec.job_id, report)
    except (JobFinished, ReportError) as exc:  # e.g. cancelled while it ran
        log_error(f"job {spec.job_id} ended {outcome.state} but was not recorded: {exc}")
    Checkouts(ctx.work_dir).remove(work)
    return outcome


def _refuse(raw: object, ctx: RunnerContext, exc: ValidationError) -> Outcome:
    """A malformed job message: log why, and report the job failed if it can be named."""
    fields = raw if isinstance(raw, dict) else {}
    job_id = fields.get("job_id")
    problems = "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors()
    )
    error = f"malformed job message refused: {problems}"[:ERROR_MAX]
    named = f"job {job_id}" if isinstance(job_id, int) else "a job without a valid job_id"
    log_error(f"{named}: {error}")
    token = fields.get("token")
    if isinstance(job_id, int) and job_id > 0:
        client = ServiceClient(ctx.url, token if isinstance(token, str) else ctx.token)
        try:
            client.report(job_id, JobReport(state="failed", error=error))
        except (JobFinished, ReportError) as refused:
            log_error(f"job {job_id}: the refusal was not recorded: {refused}")
    return Outcome("failed", error=error)


def _tail_naming_suites(tail: str, origin: str | None) -> str:
    """The reported log tail, always naming where the job's suites came from."""
    line = f"[benchwarden] suites from: {origin}\n"
    if origin is None or line in tail:
        return tail
    return line + tail[len(line) :]


def heartbeat(client: ServiceClient, machine: str) -> None:
    """Best effort: a missed heartbeat must never stop a job or a worker."""
    if not client.token:
        return
    try:
        client.heartbeat(machine, socket.gethostname())
    except (ReportError, JobFinished) as exc:
        log_error(f"heartbeat for {machine} not recorded: {exc}")


def log_error(message: str) -> None:
    print(f"benchwarden runner: {message}", file=sys.stderr, flush=True)


def _execute(spec: JobSpec, ctx: RunnerContext, log: JobLog, work: Path) -> Outcome:
    checks = enforce(ctx.preflight, max_wait=ctx.preflight_max_wait, note=log.note)
    checkouts = Checkouts(ctx.work_dir)
    sides = [
        Side(f"c{i}", sha, checkouts.work_tree(spec.repo_url, sha, f"job-{spec.job_id}-{i}"), {})
        for i, sha in enumerate(spec.commits)
    ]
    origin: str | None = None
    try:
        try:
            declared, origin = choose_suites(
                sides[-1].tree,
                spec.suites_config,
                spec.suites_origin,
                outside_wins=spec.suites_config_wins,
            )
            log.note(f"suites from: {origin}")
            suites = declared.select(ctx.machine, list(spec.suites) or None)
            if not suites:
                raise SuiteError(f"no suite is declared for machine {ctx.machine!r}")
            for side in sides:
                _prepare(side, declared, suites, ctx, log)
            plan = Plan(
                suites,
                ctx.machine,
                spec.repeats,
                ctx.cpus or None,
                spec.benchmarks,
                tools_dir=ctx.work_dir / "tools",
            )
            measure([s for s in sides if not s.errors], plan, log, work)
        except SuiteError as exc:
            log.note(f"suite declaration: {exc}")
            for side in sides:
                side.errors.append(str(exc))
            suites = []
        outcome = _upload_all(spec, ctx, sides, suites, checks, log)
        return dataclasses.replace(outcome, suites_from=origin)
    finally:
        for side in sides:
            checkouts.remove(side.tree)


def _prepare(
    side: Side, declared: ProjectSuites, suites: Sequence[Suite], ctx: RunnerContext, log: JobLog
) -> None:
    """Build the side's environment and run install and setup commands once."""
    env = declared.env
    system = " with the interpreter's site-packages" if env.system_site_packages else ""
    python = ctx.python or sys.executable
    log.note(f"building {env.kind} environment for {side.commit[:12]} from {python}{system}")
    side.env = build_env(
        side.tree,
        env.kind,
        ctx.python,
        system_site_packages=env.system_site_packages,
        with_pip=bool(env.install),
    ) | dict(env.variables)
    commands = [*env.install, *(c for s in suites for c in s.setup)]
    timeout = max((s.timeout for s in suites), default=600.0)
    for command in commands:
        start = log.size()
        done = run_command(shell(command), cwd=side.tree, log=log, timeout=timeout, env=side.env)
        if not done.ok:
            hint = missing_module_hint(log.since(start))
            failed = f"setup command failed on {side.commit[:12]}: {command}"
            side.errors.append(f"{failed}; {hint}" if hint else failed)
            return


def _upload_all(
    spec: JobSpec,
    ctx: RunnerContext,
    sides: Sequence[Side],
    suites: Sequence[Suite],
    checks: Preflight,
    log: JobLog,
) -> Outcome:
    outcome = Outcome("done")
    errors: list[str] = []
    for side in sides:
        records = side.records()
        if side.errors:
            errors.extend(side.errors)
            records += _failure_records(side, suites, records)
        if not records:
            # No usable suite declaration: nothing was measured, so no run is stored
            # (a made-up benchmark would stand in the project's list); the job's
            # error carries the reason.
            continue
        run_id = _upload(spec, ctx, side, records, suites, checks, log)
        outcome.run_ids[side.commit] = run_id
    if errors:
        outcome.state, outcome.error = "failed", "; ".join(errors)[:4000]
    return outcome


def _failure_records(
    side: Side, suites: Sequence[Suite], have: list[ResultRecord]
) -> list[ResultRecord]:
    """One failed record per suite that produced nothing, so the failure is stored as a run."""
    produced = {r.suite for r in have}
    names = [s.name for s in suites]
    message = "; ".join(side.errors)[:2000]
    return [
        ResultRecord(
            suite=name, name=name, measure="time", unit="s", status="failed", error=message
        )
        for name in names
        if name not in produced
    ]


def _upload(
    spec: JobSpec,
    ctx: RunnerContext,
    side: Side,
    records: list[ResultRecord],
    suites: Sequence[Suite],
    checks: Preflight,
    log: JobLog,
) -> int:
    facts = detect_context(side.tree, environ={})
    machine = local_machine(ctx.machine)
    extra = {**machine.extra, "preflight": checks.as_dict(), "cpus": list(ctx.cpus)}
    machine = machine.model_copy(update={"extra": extra})
    environment = _environment(side, ctx)
    fmt = ",".join(sorted({s.kind for s in suites})) or "runner"
    parsed = ParsedRun(
        commit=side.commit, machine=machine, environment=environment, results=records
    )
    data = ParseOutput(format=fmt, runs=[parsed]).model_dump_json().encode()
    payload = RunPayload(
        project=spec.project,
        commit=side.commit,
        branch=spec.branch,
        parents=facts.parents,
        commit_time=facts.time,
        commit_author=facts.author,
        commit_message=facts.message,
        machine=machine,
        pr_number=spec.pr_number,
        idempotency_key=spec.key(side.commit),
        format="benchwarden",
        source_name=f"job-{spec.job_id}.json",
        log=log.tail(RUN_LOG_CHARS),
        job_id=spec.job_id,
        environment=environment,
    )
    answer = post_run(ctx.url, ctx.token, payload, data, "results.json", retries=ctx.upload_retries)
    run = answer.body.get("run", {})
    return int(run["id"]) if isinstance(run, dict) and "id" in run else 0


def _environment(side: Side, ctx: RunnerContext) -> str:
    venv = "venv" if "VIRTUAL_ENV" in side.env else "runner interpreter"
    python = ctx.python or sys.executable
    cpus = ",".join(map(str, ctx.cpus)) or "all"
    return (
        f"{venv} on {python} (Python {platform.python_version()}); cpus {cpus}; "
        f"PYTHONHASHSEED={side.env.get('PYTHONHASHSEED', '')}"
    )[:500]
