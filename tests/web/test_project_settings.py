"""Project settings: one validated model, one threshold, refused when wrong, never guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.factories import make_project, make_token, native_results, post_results, sha
from web.cli.main import main
from web.github.client import GitHubConfig, GitHubConfigError
from web.models import Project, Series
from web.models.project_settings import DEFAULT_MIN_REL_CHANGE, ProjectSettingsError
from web.services.compare import compare_commits
from web.services.detection import detect_series, project_thresholds
from web.services.jobs import machines_for
from web.services.projects import find_project


def test_unknown_keys_and_bad_values_are_refused_when_written(db_session: Session) -> None:
    project = make_project(db_session)
    with pytest.raises(ProjectSettingsError, match=r"^detector\.no_such_threshold: unknown"):
        project.settings = {"detector": {"no_such_threshold": 1}}
    with pytest.raises(ProjectSettingsError, match=r"^detector\.alpha must be in \(0, 1\)"):
        project.settings = {"detector": {"alpha": 2}}
    with pytest.raises(ProjectSettingsError, match=r"^confirm_repeats: "):
        project.settings = {"confirm_repeats": "many"}
    with pytest.raises(ProjectSettingsError, match=r"replaced by detector\.min_rel_change"):
        project.settings = {"github": {"repo": "o/r", "token": "t", "threshold": 0.05}}
    with pytest.raises(ProjectSettingsError, match=r"^machines: "):
        project.settings = {"machines": []}
    project.settings = {"machines": ["m1"], "detector": {"min_segment": "3"}}
    assert project.settings == {"machines": ["m1"], "detector": {"min_segment": 3}}


def test_one_threshold_for_alerts_pr_reports_and_comparisons(
    client, token_for_proj: str, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    """A 4 % change is a regression at the default 2 %, and not at a project's 5 %."""
    project = find_project(db_session, "proj")
    assert project is not None
    base, cand = [1.0, 1.001, 0.999, 1.0, 1.002] * 4, [1.04, 1.041, 1.039, 1.04, 1.042] * 4
    for i, samples in enumerate((base, cand)):
        data = native_results({"b": samples[0]}, samples={"b": samples})
        post_results(client, token_for_proj, sha(i), data, parents=[sha(i - 1)] if i else [])
    verdict = compare_commits(db_session, project.id, sha(0), sha(1)).rows[0].comparison.verdict
    assert str(verdict) == "regression"
    project.settings = {
        "detector": {"min_rel_change": 0.05},
        "github": {"repo": "o/r", "token": "t"},
    }
    db_session.flush()
    verdict = compare_commits(db_session, project.id, sha(0), sha(1)).rows[0].comparison.verdict
    assert str(verdict) != "regression"
    thresholds = project_thresholds(project)
    assert thresholds.min_rel_change == thresholds.compare_min_rel_change == 0.05
    config = GitHubConfig.from_settings(project.settings, {})
    assert config is not None and config.threshold == 0.05
    project.settings = {}
    assert project_thresholds(project).compare_min_rel_change == DEFAULT_MIN_REL_CHANGE


def test_invalid_legacy_settings_raise_instead_of_falling_back(db_session: Session) -> None:
    project = make_project(db_session)
    legacy = {"detector": {"min_segment": "three"}, "machines": "m1"}
    db_session.execute(update(Project).where(Project.id == project.id).values(settings=legacy))
    db_session.expire_all()
    project = db_session.get(Project, project.id)
    assert project is not None
    with pytest.raises(ProjectSettingsError, match=r"'proj' has invalid settings: machines: "):
        project_thresholds(project)
    with pytest.raises(ProjectSettingsError, match="benchwarden project set proj"):
        machines_for(project)
    with pytest.raises(GitHubConfigError, match=r"^machines: "):
        GitHubConfig.from_settings(legacy)


def test_detection_reports_a_bad_stored_setting(
    client, token_for_proj: str, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    post_results(client, token_for_proj, sha(0), native_results({"a": 1.0}))
    bad = {"detector": {"alpha": 5}}
    db_session.execute(update(Project).values(settings=bad))
    db_session.commit()
    with pytest.raises(ProjectSettingsError, match=r"detector\.alpha must be in"):
        detect_series(db_session, db_session.scalars(select(Series.id)).one())


@pytest.fixture()
def token_for_proj(db_session: Session) -> str:
    return make_token(db_session, make_project(db_session, "proj"))


def _cli(url: str, *args: str) -> int:
    return main([*args, "--database-url", url])


def test_project_set_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert _cli(url, "project", "create", "p") == 0
    capsys.readouterr()
    argv = ["project", "set", "p", "machines=a,b", "detector.min_rel_change=0.03",
            "confirm_repeats=7"]  # fmt: skip
    assert _cli(url, *argv) == 0
    assert json.loads(capsys.readouterr().out) == {
        "machines": ["a", "b"],
        "detector": {"min_rel_change": 0.03},
        "confirm_repeats": 7,
    }
    assert _cli(url, "project", "set", "p", "detector.min_rel_chnage=0.03") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: detector.min_rel_chnage: unknown setting (known: alpha")
    assert "\n" not in err and "Traceback" not in err
    assert _cli(url, "project", "set", "p", "bisect_repeats=0") == 2
    assert capsys.readouterr().err.startswith("error: bisect_repeats: ")
    assert _cli(url, "project", "set", "p", "machines") == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert _cli(url, "project", "set", "p", "detector.min_rel_change=") == 0
    capsys.readouterr()
    assert _cli(url, "project", "show", "p") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["stored"] == {"machines": ["a", "b"], "confirm_repeats": 7}
    assert shown["effective"]["detector"]["min_rel_change"] == DEFAULT_MIN_REL_CHANGE
    assert shown["effective"]["bisect_repeats"] == 10
