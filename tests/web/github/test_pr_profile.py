"""The PR comment's profile table, end to end: results with profiles posted through the API,
the notify task, and the comment the fake GitHub receives."""

from __future__ import annotations

import pytest

from tests.factories import make_project, make_token, sha
from tests.web.github.fake_github import FakeGitHub
from tests.web.profile_data import BASE_FUNCTIONS, post

HOSTILE = "tokenize|<img src=x onerror=alert(1)>`[x](http://evil)`"


@pytest.fixture()
def token(app, db_session, github: FakeGitHub) -> str:  # type: ignore[no-untyped-def]
    app.extensions["benchwarden.celery"].conf.benchwarden_settings = app.extensions[
        "benchwarden.settings"
    ]
    project = make_project(db_session)
    secret = make_token(db_session, project)
    project.settings = {"github": {"repo": "o/r", "token": "test-token", "api_url": github.url}}
    db_session.commit()
    return secret


def _slower() -> dict[str, tuple[int, int]]:
    functions = {k: v for k, v in BASE_FUNCTIONS.items() if k != "tokenize"}
    functions[HOSTILE] = (45_000, 45_000)
    functions["parse"] = (40_000, 85_000)
    functions.update({f"helper_{i}": (100 + i, 100 + i) for i in range(8)})
    return functions


def _comment(client, token, github: FakeGitHub, functions, value: float) -> str:  # type: ignore[no-untyped-def]
    post(client, token, 1, BASE_FUNCTIONS)
    github.set_pull(7, sha(11))
    post(client, token, 11, functions, value=value, branch="feature", parents=[sha(1)],
         pr_number=7)  # fmt: skip
    return str(next(iter(github.comments.values()))["body"])


def test_a_counted_regression_says_where_the_instructions_went(client, token, github) -> None:  # type: ignore[no-untyped-def]
    body = _comment(client, token, github, _slower(), 1.25e5)
    assert "regression" in body
    title = body.index("**Where the instructions went** in bench")
    table = body[title:].split("\n\n")[1].splitlines()
    assert table[0] == "| Function | File:line | Self | Inclusive |"
    rows = table[2:]
    assert len(rows) == 5, "the top 5 functions only"
    # the slower function first, escaped: no HTML, no link, no code span, no extra cell
    assert rows[0] == (
        "| tokenize&#124;&lt;img src=x onerror=alert(1)&gt;&#96;\\[x\\](http://evil)&#96;"
        " | pkg/core.py:31 | +45,000 | +45,000 |"
    )
    assert "<img" not in body and "[x](http" not in body
    # then the function it replaced, gone from the candidate
    assert rows[1] == "| tokenize | pkg/core.py:21 | -20,000 | -20,000 |"
    assert f"`{sha(1)[:7]}` → `{sha(11)[:7]}`" in body[title:]


def test_no_table_without_a_counted_change(client, token, github) -> None:  # type: ignore[no-untyped-def]
    body = _comment(client, token, github, BASE_FUNCTIONS, 1e5)
    assert "Where the instructions went" not in body


def test_no_table_when_a_side_has_no_profile(client, token, github) -> None:  # type: ignore[no-untyped-def]
    body = _comment(client, token, github, None, 1.25e5)
    assert "regression" in body
    assert "Where the instructions went" not in body
