"""One alert's page: zoomed plot, culprit, confirmation, bisection, triage trail (issue 16)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import make_history, make_project, sha
from web.models import Commit, Job, PrComment, Run


def _culprit(db_session: Session, alert, n: int = 21) -> Commit:  # type: ignore[no-untyped-def]
    commit = db_session.scalar(select(Commit).where(Commit.sha == sha(n)))
    assert commit is not None
    commit.message = "Use a slower allocator\n\nIt <b>was</b> faster."
    commit.author = "Grace <grace@example.org>"
    alert.culprit_commit_id = commit.id
    alert.confirmation = "confirmed"
    return commit


def _jobs(db_session: Session, project, alert) -> None:  # type: ignore[no-untyped-def]
    confirm = Job(
        project_id=project.id,
        kind="confirm",
        commit_sha=sha(21),
        baseline_sha=sha(20),
        machine="box1",
        alert_id=alert.id,
        state="done",
        spec={"repeats": 10},
        progress={
            "alert_ids": [alert.id],
            "confirmation": {
                str(alert.id): {"verdict": "regression", "rel_change": 0.198, "pvalue": 0.0004}
            },
        },
    )
    bisect = Job(
        project_id=project.id,
        kind="bisect",
        commit_sha=sha(21),
        baseline_sha=sha(17),
        machine="box1",
        alert_id=alert.id,
        state="done",
        progress={
            "alert_ids": [alert.id],
            "commits": [sha(n) for n in range(17, 22)],
            "culprit": sha(21),
            "samples": {
                sha(17): [1e-3, 1.01e-3],
                sha(19): [1e-3, 1e-3],
                sha(20): [1e-3, 0.99e-3],
                sha(21): [1.2e-3, 1.21e-3],
            },
        },
    )
    db_session.add_all([confirm, bisect])
    db_session.flush()
    db_session.add(
        Job(
            project_id=project.id,
            kind="bisect",
            commit_sha=sha(19),
            machine="box1",
            parent_job_id=bisect.id,
            state="done",
            spec={"commits": [sha(17), sha(19), sha(21)], "repeats": 5},
        )
    )


def test_detail_shows_zoom_culprit_steps_and_links(writer_client, history, db_session) -> None:  # type: ignore[no-untyped-def]
    alert, project = history["alert"], history["project"]
    _culprit(db_session, alert)
    _jobs(db_session, project, alert)
    run = db_session.scalar(select(Run).join(Commit).where(Commit.sha == sha(21)))
    run.pr_number = 7
    db_session.add(PrComment(project_id=project.id, pr_number=7, github_comment_id=991))
    db_session.commit()
    triaged = writer_client.post(
        f"/p/proj/alerts/{alert.summary_id}/triage",
        data={"status": "investigating", "csrf_token": writer_client.csrf},
    )
    assert triaged.status_code == 303
    response = writer_client.get(f"/p/proj/alert/{alert.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    zoom = re.search(r'<svg class="zoom"[^>]*data-dots="(\d+)" data-changed="(\d+)"', page)
    assert zoom is not None and (zoom.group(1), zoom.group(2)) == ("40", "20")
    assert 'class="band"' in page and page.count('class="level') == 2
    assert "Use a slower allocator" in page and "It &lt;b&gt;was&lt;/b&gt; faster." in page
    assert "Grace &lt;grace@example.org&gt;" in page
    assert f"https://forge.example/org/proj/commit/{sha(21)}" in page
    confirmed = r"data-confirmation=[^<]*<code>.*?Regression</span> \+19\.8%, p = 0\.0004"
    assert re.search(confirmed, page, re.S)
    assert page.count("data-step=") == 1 and "culprit <code>" in page
    culprit_row = re.search(r'<tr class="marked">.*?</tr>', page)
    assert culprit_row is not None and "+19.9%" in culprit_row.group(0)  # against the good end
    history_list = re.search(r'data-history="(\d+)"', page)
    assert history_list is not None and history_list.group(1) == "1"
    assert "status Not triaged → Investigating" in page
    compare = f"/p/proj/compare?baseline={sha(20)}&amp;candidate={sha(21)}&amp;machine=box1"
    assert compare in page
    assert 'href="https://forge.example/org/proj/pull/7#issuecomment-991"' in page


def test_detail_of_a_closed_alert_says_why(client, history, db_session) -> None:  # type: ignore[no-untyped-def]
    alert = history["alert"]
    alert.active = False
    db_session.commit()
    page = client.get(f"/p/proj/alert/{alert.id}").get_data(as_text=True)
    assert 'data-closed="no_longer_detected"' in page and "No longer detected" in page
    assert "No confirmation re-runs yet." in page


def test_alert_of_another_project_or_unknown_is_404(client, history, db_session) -> None:  # type: ignore[no-untyped-def]
    other = make_project(db_session, "other")
    make_history(db_session, other, {"x": [1.0] * 3}, first_commit=900)
    assert client.get("/p/other/alert/" + str(history["alert"].id)).status_code == 404
    missing = client.get("/p/proj/alert/987654321")
    assert missing.status_code == 404 and b"No such alert" in missing.data
    assert client.get("/p/proj/alert/abc").status_code == 404
    assert client.get("/p/proj/alert/99999999999999999999999").status_code == 404


def test_one_alert_triaged_from_its_page_returns_there(writer_client, history, db_session) -> None:  # type: ignore[no-untyped-def]
    alert = history["alert"]
    response = writer_client.post(
        f"/p/proj/alert/{alert.id}/status",
        data={"status": "invalid", "back": "detail", "csrf_token": writer_client.csrf},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/p/proj/alert/{alert.id}")
    page = writer_client.get(f"/p/proj/alert/{alert.id}").get_data(as_text=True)
    assert "this alert Not triaged → Invalid (false alarm)" in " ".join(page.split())
    assert 'data-history="1"' in page
