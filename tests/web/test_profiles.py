"""Per-function profiles on the service: stored compressed per result, pruned by the
project's retention, diffed, and shown on the alert page."""

from __future__ import annotations

import json
import zlib

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from runner.schema import Profile
from tests.conftest import table_counts
from tests.factories import make_alert, make_project, make_token, post_results, sha
from tests.web.profile_data import BASE_FUNCTIONS, document, post, profile
from web.models import Commit, Result, ResultProfile, Series
from web.models.project_settings import ProjectSettings, ProjectSettingsError
from web.queries.profile_diff import diff_profiles
from web.queries.profiles import decode_profile

HOSTILE = "render<script>alert(1)</script>|`x`"


@pytest.fixture()
def token(db_session: Session) -> str:
    project = make_project(db_session)
    return make_token(db_session, project)


def _profiled_commits(db_session: Session) -> list[str]:
    rows = db_session.execute(
        select(Commit.sha)
        .join(Result, Result.commit_id == Commit.id)
        .join(ResultProfile, ResultProfile.result_id == Result.id)
        .order_by(Result.position)
    )
    return [r[0] for r in rows]


def test_a_profile_is_stored_compressed_beside_its_result(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    post(client, token, 1, BASE_FUNCTIONS)
    (stored,) = db_session.scalars(select(ResultProfile)).all()
    result = db_session.get(Result, stored.result_id)
    assert result is not None and result.value == 1e5
    sent = Profile.model_validate(profile(BASE_FUNCTIONS))
    assert decode_profile(stored.data) == sent
    assert stored.total == sent.total and stored.function_count == 4
    assert json.loads(zlib.decompress(stored.data)) == sent.model_dump(mode="json")
    assert len(stored.data) < len(sent.model_dump_json())


def test_results_without_a_profile_stay_valid(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    post(client, token, 1, None)
    assert db_session.scalar(select(Result.value)) == 1e5
    assert db_session.scalars(select(ResultProfile)).all() == []


def test_a_bad_profile_is_refused_and_nothing_is_stored(client, token, db_connection) -> None:  # type: ignore[no-untyped-def]
    import io

    before = table_counts(db_connection)
    bad = json.loads(document(BASE_FUNCTIONS))
    bad["runs"][0]["results"][0]["profile"]["functions"][0]["self_instructions"] = -5
    response = client.post(
        "/api/v1/runs",
        data={
            "file": (io.BytesIO(json.dumps(bad).encode()), "results.json"),
            "metadata": json.dumps({"project": "proj", "commit": sha(1), "format": "benchwarden"}),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert 400 <= response.status_code < 500
    assert "self_instructions" in response.json["error"]["message"]
    assert table_counts(db_connection) == before


def test_retention_keeps_each_series_latest_commits(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    from web.models import Project

    project = db_session.scalar(select(Project))
    project.settings = {"profile_commits": 2}
    db_session.commit()
    for n in range(1, 5):
        post(client, token, n, BASE_FUNCTIONS)
    assert _profiled_commits(db_session) == [sha(3), sha(4)]
    assert len(db_session.scalars(select(Result)).all()) == 4, "results themselves stay"
    # a re-run of the newest commit adds its profile; the commit keeps one rank
    post(client, token, 4, BASE_FUNCTIONS, idempotency_key="again")
    assert _profiled_commits(db_session) == [sha(3), sha(4), sha(4)]


def test_retention_is_a_validated_project_setting() -> None:
    assert ProjectSettings.parse({}).profile_commits == 100
    assert ProjectSettings.parse({"profile_commits": 0}).profile_commits == 0
    with pytest.raises(ProjectSettingsError, match="profile_commits"):
        ProjectSettings.parse({"profile_commits": -1})


def _p(functions: dict[str, tuple[int, int]]) -> Profile:
    return Profile.model_validate(profile(functions))


def test_diff_orders_by_self_change_and_keeps_file_and_line() -> None:
    after = dict(BASE_FUNCTIONS, tokenize=(50_000, 50_000), parse=(41_000, 91_000))
    diff = diff_profiles(_p(BASE_FUNCTIONS), _p(after))
    first, second = diff.rows[0], diff.rows[1]
    assert (first.function, first.self_change, first.inclusive_change) == (
        "tokenize",
        30_000,
        30_000,
    )
    assert (first.file, first.line) == ("pkg/core.py", 21)
    assert (second.function, second.self_change, second.inclusive_change) == (
        "parse",
        1_000,
        31_000,
    )
    assert diff.total_change == 31_000
    assert diff.share(first) == pytest.approx(30 / 31)
    assert "render" not in {r.function for r in diff.rows}, "unchanged functions are left out"


def test_diff_counts_a_function_missing_on_one_side_as_zero() -> None:
    after = dict(BASE_FUNCTIONS, compress=(5_000, 5_000))
    del after["render"]
    rows = {r.function: r for r in diff_profiles(_p(BASE_FUNCTIONS), _p(after)).rows}
    assert rows["render"].self_after == 0 and rows["render"].self_change == -39_000
    assert rows["compress"].self_before == 0 and rows["compress"].self_rel is None


def test_alert_page_shows_where_the_instructions_went(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    slower = {k: v for k, v in BASE_FUNCTIONS.items() if k != "render"}
    slower[HOSTILE] = (139_000, 139_000)
    for n in range(1, 4):
        post(client, token, n, BASE_FUNCTIONS if n < 3 else slower)
    series = db_session.scalar(select(Series))
    alert = make_alert(db_session, series, 3, before=1e5, after=2e5)
    page = client.get(f"/p/proj/alert/{alert.id}").get_data(as_text=True)
    assert "Where the instructions went" in page
    assert f'data-baseline="{sha(2)}" data-candidate="{sha(3)}"' in page
    rows = page[page.index('class="profile-diff"') :]
    # the changed function first, its name escaped (it comes from the measured code)
    assert rows.index("render&lt;script&gt;") < rows.index("render</code>")
    assert "<script>alert(1)" not in page
    assert "+139 k instr" in rows and "pkg/core.py:" in rows


def test_alert_page_without_profiles_says_so(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    for n in range(1, 4):
        post(client, token, n, None)
    series = db_session.scalar(select(Series))
    alert = make_alert(db_session, series, 3, before=1e5, after=2e5)
    page = client.get(f"/p/proj/alert/{alert.id}").get_data(as_text=True)
    assert "No per-function profile for these commits" in page
    assert "latest 100 commits" in page


def test_post_results_helper_is_the_real_api(client, token) -> None:  # type: ignore[no-untyped-def]
    # the helper posts through the ingest API as `benchwarden submit` does
    response = post_results(client, token, sha(9), document(BASE_FUNCTIONS))
    assert response.status_code == 201


def test_alert_with_a_culprit_compares_it_with_the_commit_before(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    slower = dict(BASE_FUNCTIONS, tokenize=(90_000, 90_000))
    for n in range(1, 5):
        post(client, token, n, BASE_FUNCTIONS if n < 4 else slower)
    series = db_session.scalar(select(Series))
    alert = make_alert(db_session, series, 3, before=1e5, after=2e5)
    alert.culprit_commit_id = db_session.scalar(select(Commit.id).where(Commit.sha == sha(4)))
    db_session.commit()
    page = client.get(f"/p/proj/alert/{alert.id}").get_data(as_text=True)
    assert f'data-baseline="{sha(3)}" data-candidate="{sha(4)}"' in page
    assert 'data-profile-total="70000"' in page
    rows = page[page.index('class="profile-diff"') :]
    assert rows.index('data-function="tokenize"') < rows.index("</table>")


def test_settings_that_no_longer_validate_do_not_stop_a_profile(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from web.models import Project

    # as an older version may have stored them (the model refuses them on assignment)
    db_session.execute(update(Project).values(settings={"no_such_key": 1}))
    db_session.commit()
    post(client, token, 1, BASE_FUNCTIONS)
    assert _profiled_commits(db_session) == [sha(1)]


def test_alert_page_stands_on_settings_that_no_longer_validate(client, token, db_session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from web.models import Project

    for n in range(1, 4):
        post(client, token, n, BASE_FUNCTIONS)
    alert = make_alert(db_session, db_session.scalar(select(Series)), 3, before=1e5, after=2e5)
    db_session.execute(update(Project).values(settings={"no_such_key": 1}))
    db_session.commit()
    response = client.get(f"/p/proj/alert/{alert.id}")
    assert response.status_code == 200
    assert 'data-profile-total="0"' in response.get_data(as_text=True)
