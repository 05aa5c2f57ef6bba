"""End to end: a signed ``pull_request`` webhook schedules an A/B job from the merge base.

A real git repository whose base branch moved after the PR branched: GitHub sends
the base branch's tip as ``base.sha``, but the comparison must measure the PR's own
change, so the job's baseline is the merge base of that tip and the PR head.
Tasks run eagerly, so the webhook's scheduling task runs in-process.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_project
from tests.integration.gitrepo import Repo, git
from web.config import Settings
from web.models import Job

SECRET = "whsec-baseline"


@pytest.fixture()
def settings(settings: Settings) -> Settings:
    return replace(settings, github_webhook_secret=SECRET)


@pytest.fixture()
def repo(tmp_path: Path) -> Repo:
    """main: m0 - m1 - m2; feature branched at m0: m0 - p1 - p2."""
    repo = Repo(tmp_path / "repo")
    repo.commit({"f.txt": "m0"}, "m0")
    git(repo.path, "checkout", "--quiet", "-b", "feature")
    repo.commit({"g.txt": "p1"}, "p1")
    repo.commit({"g.txt": "p2"}, "p2")
    git(repo.path, "checkout", "--quiet", "main")
    repo.commit({"f.txt": "m1"}, "m1")
    repo.commit({"f.txt": "m2"}, "m2")
    return repo


def _signed_post(client, event: str, payload: dict, delivery: str):  # type: ignore[no-untyped-def]
    body = json.dumps(payload).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={digest}",
    }
    return client.post(
        "/webhooks/github", data=body, content_type="application/json", headers=headers
    )


@pytest.mark.parametrize("action", ["opened", "synchronize"])
def test_pr_ab_job_measures_the_merge_base_not_the_base_tip(  # type: ignore[no-untyped-def]
    client, db_session: Session, repo: Repo, action: str
) -> None:
    m0, _p1, p2, _m1, m2 = repo.shas
    project = make_project(db_session)
    project.repo_url = str(repo.path)
    project.settings = {"github": {"repo": "Owner/Repo", "token": "t"}}
    db_session.commit()
    payload = {
        "action": action,
        "number": 7,
        "pull_request": {"number": 7, "base": {"sha": m2}, "head": {"sha": p2}},
        "repository": {"full_name": "owner/repo"},
    }

    response = _signed_post(client, "pull_request", payload, delivery=f"pr-{action}")

    assert response.status_code == 202, response.json
    jobs = db_session.scalars(select(Job).where(Job.project_id == project.id)).all()
    assert [(j.kind, j.pr_number, j.commit_sha) for j in jobs] == [("ab", 7, p2)]
    assert jobs[0].baseline_sha != m2, "the A/B baseline is the base branch's tip"
    assert jobs[0].baseline_sha == m0
    assert jobs[0].spec["commits"] == [m0, p2]
