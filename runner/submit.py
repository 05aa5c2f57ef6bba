"""`benchwarden submit`: post a result file from a CI job to the service.

The file is parsed locally first, so a bad file fails fast with the parser's
message and nothing is sent. A file with one run is posted as written; an asv
results directory (several commits) is posted as one normalised run per commit.

A run is never stored under a commit it was not measured at: when the file
records its own commit (pytest-benchmark ``commit_info.id``, asv
``commit_hash``) and it differs from the checkout's (git HEAD or the CI
variables), submit refuses, naming both, unless ``--commit`` says which to use.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from runner.config import RunnerSettings, RunnerSettingsError
from runner.gitinfo import CommitContext, detect_context
from runner.machine import local_machine
from runner.parsers import ParseError, parse_path
from runner.schema import MachineInfo, ParsedRun, ParseOutput, RunPayload
from runner.upload import UploadError, post_run


def add_submit_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser("submit", help="post a result file to the service")
    cmd.add_argument("path", help="result file or asv results directory")
    cmd.add_argument("--project", required=True)
    cmd.add_argument("--format", default=None, help="skip auto-detection")
    cmd.add_argument("--commit", help="commit sha (default: from CI variables or git)")
    cmd.add_argument("--branch")
    cmd.add_argument("--parents", help="comma-separated parent shas")
    cmd.add_argument("--pr", type=int, dest="pr_number")
    cmd.add_argument("--machine", help="machine name (default: BENCHWARDEN_MACHINE or host name)")
    cmd.add_argument("--ci-url")
    cmd.add_argument("--repo", default=".", help="git work tree to read commit facts from")
    cmd.add_argument("--idempotency-key", help="default: derived from project, commit and content")
    cmd.add_argument("--url", help="service URL (default: BENCHWARDEN_URL)")
    cmd.set_defaults(func=submit_command)


def submit_command(args: argparse.Namespace) -> int:
    try:
        settings = RunnerSettings.from_env()
        parsed = parse_path(Path(args.path), format=args.format)
    except (RunnerSettingsError, ParseError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    context = detect_context(Path(args.repo))
    url = args.url or settings.url
    try:
        for payload, data, filename in _submissions(args, parsed, context, settings):
            result = post_run(
                url,
                settings.token,
                payload,
                data,
                filename,
                retries=settings.upload_retries,
                timeout=settings.upload_timeout,
            )
            _print_summary(result.body, payload)
    except CommitMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (UploadError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


class CommitMismatch(Exception):
    """The result file records another commit than the checkout it is submitted from."""


def _submissions(
    args: argparse.Namespace, parsed: ParseOutput, context: CommitContext, settings: RunnerSettings
) -> list[tuple[RunPayload, bytes, str]]:
    path = Path(args.path)
    single = len(parsed.runs) == 1 and path.is_file()
    out = []
    for run in parsed.runs:
        if single:
            data, filename, fmt = path.read_bytes(), path.name, parsed.format
        else:
            one = ParseOutput(format=parsed.format, runs=[run])
            data, filename, fmt = one.model_dump_json().encode(), f"{path.name}.json", "benchwarden"
        out.append((_payload(args, run, context, settings, data, fmt, filename), data, filename))
    return out


def _payload(
    args: argparse.Namespace,
    run: ParsedRun,
    context: CommitContext,
    settings: RunnerSettings,
    data: bytes,
    fmt: str,
    filename: str,
) -> RunPayload:
    commit = _commit_for(args, run, context, several=fmt == "benchwarden")
    machine = _machine(args, run, settings)
    same_commit = commit == context.commit
    key = args.idempotency_key or _derived_key(args.project, commit, machine.name, data)
    return RunPayload(
        project=args.project,
        commit=commit,
        branch=args.branch or context.branch,
        parents=args.parents.split(",")
        if args.parents
        else (context.parents if same_commit else []),
        commit_time=context.time if same_commit else None,
        commit_author=context.author if same_commit else None,
        commit_message=context.message if same_commit else None,
        machine=machine,
        ci_url=args.ci_url or context.ci_url,
        pr_number=args.pr_number or context.pr_number,
        idempotency_key=key,
        format=fmt,
        source_name=filename,
    )


def _commit_for(
    args: argparse.Namespace, run: ParsedRun, context: CommitContext, *, several: bool
) -> str:
    """--commit wins; each run of a multi-commit directory keeps its own; else git/CI, then file.

    Raises CommitMismatch when git/CI and the file name different commits: storing
    the run under the checkout's commit would mislabel it (issue 15, item 4).
    """
    if args.commit:
        return str(args.commit)
    if several and run.commit:
        return run.commit
    if run.commit and context.commit and not _same_commit(run.commit, context.commit):
        raise CommitMismatch(
            f"{args.path} was measured at commit {run.commit} (recorded in the file) but "
            f"{context.commit_source or 'the checkout'} is {context.commit}; pass "
            f"--commit {run.commit} to store it under the commit it was measured at"
        )
    commit = context.commit or run.commit
    if not commit:
        raise ValueError("no commit sha: pass --commit or run inside a git work tree")
    return str(commit)


def _same_commit(recorded: str, checkout: str) -> bool:
    """Equal SHAs, or one an abbreviation of the other (tools may record a short SHA)."""
    a, b = recorded.strip().lower(), checkout.strip().lower()
    return a.startswith(b) or b.startswith(a)


def _machine(args: argparse.Namespace, run: ParsedRun, settings: RunnerSettings) -> MachineInfo:
    name = args.machine or settings.machine
    if run.machine is not None:
        return run.machine.model_copy(update={"name": name})
    return local_machine(name)


def _derived_key(project: str, commit: str, machine: str, data: bytes) -> str:
    digest = hashlib.sha256()
    for part in (project, commit, machine):
        digest.update(part.encode() + b"\0")
    digest.update(data)
    return "submit-" + digest.hexdigest()[:40]


def _print_summary(body: dict[str, object], payload: RunPayload) -> None:
    run = body.get("run") if isinstance(body.get("run"), dict) else {}
    assert isinstance(run, dict)
    verb = "stored" if body.get("created") else "already stored"
    print(
        f"{verb} run {run.get('id')} for {payload.project}@{payload.commit[:12]}"
        f" ({run.get('result_count')} results): {run.get('url')}"
    )
