"""github3.py for real against the fake GitHub: auth, the sticky comment, retries, rate limits."""

from __future__ import annotations

import time

import pytest

from tests.web.github.fake_github import FakeGitHub, FakeGitHubServer
from web.github.client import (
    GitHubClient,
    GitHubConfig,
    GitHubConfigError,
    GitHubError,
    RateLimited,
    RetryPolicy,
)

SHA = "a" * 40


def _client(github: FakeGitHub, **policy: object) -> GitHubClient:
    config = GitHubConfig(repo="o/r", api_url=github.url, token="test-token")
    return GitHubClient(config, RetryPolicy(backoff=0.01, **policy))  # type: ignore[arg-type]


def test_one_comment_edited_in_place(github: FakeGitHub) -> None:
    client = _client(github)
    first = client.upsert_comment(7, "<!-- m -->", "<!-- m -->\none")
    second = client.upsert_comment(7, "<!-- m -->", "<!-- m -->\ntwo")
    third = client.upsert_comment(7, "<!-- m -->", "<!-- m -->\ntwo")
    assert first == (first[0], True) and second == (first[0], False) == third
    assert [c["body"] for c in github.comments.values()] == ["<!-- m -->\ntwo"]
    assert len(github.calls("POST", "/comments$")) == 1
    assert len(github.calls("PATCH")) == 1  # an unchanged body is not re-sent


def test_other_comments_are_left_alone(github: FakeGitHub) -> None:
    github.comments[1] = {"issue": 7, "body": "a human's comment"}
    _client(github).upsert_comment(7, "<!-- m -->", "<!-- m -->\nbody")
    assert github.comments[1]["body"] == "a human's comment"
    assert len(github.comments) == 2


def test_our_comment_is_found_past_the_first_page(github: FakeGitHub) -> None:
    # A busy pull request: 230 human comments, then ours. github3.py asks for 100
    # a page, so ours is on page 3, reached only by following the Link headers.
    for cid in range(1, 231):
        github.comments[cid] = {"issue": 7, "body": f"human comment {cid}"}
    github.comments[500] = {"issue": 7, "body": "<!-- m -->\nold"}
    assert _client(github).upsert_comment(7, "<!-- m -->", "<!-- m -->\nnew") == (500, False)
    assert github.comments[500]["body"] == "<!-- m -->\nnew" and len(github.comments) == 231
    pages = [r.query for r in github.calls("GET", "/issues/7/comments$")]
    assert len(pages) == 3 and pages[-1].endswith("page=3")
    assert not github.calls("POST", "/comments$")


def test_github_enterprise_api_under_a_path() -> None:
    with FakeGitHubServer(FakeGitHub(prefix="/api/v3")) as ghe:
        assert ghe.url.endswith("/api/v3")
        ghe.set_pull(7, SHA, ("perf",))
        client = _client(ghe)
        assert client.pull_request(7).labels == ("perf",)
        created = client.upsert_comment(7, "<!-- m -->", "<!-- m -->\nhi")
        assert client.upsert_comment(7, "<!-- m -->", "<!-- m -->\nbye") == (created[0], False)
        client.set_status(SHA, "failure", "slower", "")
        assert [s["state"] for s in ghe.statuses] == ["failure"]
        # Every call went under the prefix: one outside it would have been a 404.
        assert ghe.calls() and all(r.path.startswith("/repos/o/r") for r in ghe.calls())


def test_retries_on_502(github: FakeGitHub) -> None:
    github.fail_next(502, times=2)
    _client(github).set_status(SHA, "failure", "d", "http://x")
    assert [s["state"] for s in github.statuses] == ["failure"]
    assert len(github.calls()) == 4  # two failures, then repository + status


def test_gives_up_after_the_attempts(github: FakeGitHub) -> None:
    github.fail_next(502, times=10)
    with pytest.raises(GitHubError, match="failed 3 times"):
        _client(github, attempts=3).set_status(SHA, "failure", "d", "")
    assert github.statuses == []


def test_a_502_after_create_does_not_duplicate_the_comment(github: FakeGitHub) -> None:
    """The whole find-or-create is retried, so a lost 201 finds its own comment next time."""
    client = _client(github)
    client.upsert_comment(7, "<!-- m -->", "<!-- m -->\nold")
    github.fail_next(502, method="PATCH")
    client.upsert_comment(7, "<!-- m -->", "<!-- m -->\nnew")
    assert [c["body"] for c in github.comments.values()] == ["<!-- m -->\nnew"]


@pytest.mark.parametrize("status", [403, 429])
def test_waits_out_a_rate_limit(github: FakeGitHub, status: int) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, 0.05))

    reset = str(int(time.time()) + 3)
    github.fail_next(status, x_ratelimit_remaining="0", x_ratelimit_reset=reset)
    _client(github, sleep=sleep).set_status(SHA, "success", "d", "")
    assert len(waits) == 1 and 2.0 <= waits[0] <= 4.5
    assert len(github.statuses) == 1


def test_retry_after_header(github: FakeGitHub) -> None:
    waits: list[float] = []
    github.fail_next(429, retry_after="2")
    _client(github, sleep=waits.append).set_status(SHA, "success", "d", "")
    assert waits == [2.0]


def test_rate_limit_wait_is_capped(github: FakeGitHub) -> None:
    waits: list[float] = []
    reset = str(int(time.time()) + 3600)
    github.fail_next(403, x_ratelimit_remaining="0", x_ratelimit_reset=reset)
    client = _client(github, sleep=waits.append, max_rate_limit_wait=60)
    with pytest.raises(RateLimited, match="more than the 60 s"):
        client.set_status(SHA, "success", "d", "")
    assert waits == [] and github.statuses == []


def test_plain_403_is_not_retried(github: FakeGitHub) -> None:
    github.fail_next(403)
    with pytest.raises(GitHubError, match="injected failure"):
        _client(github).set_status(SHA, "success", "d", "")
    assert len(github.calls()) == 1


def test_github_app_installation_auth(github: FakeGitHub, app_keys: tuple[str, str]) -> None:
    config = GitHubConfig(
        repo="o/r", api_url=github.url, app_id=99, installation_id=5, private_key=app_keys[0]
    )
    assert config.use_check_runs
    client = GitHubClient(config)
    client.upsert_comment(7, "<!-- m -->", "<!-- m -->\nhi")
    client.create_check_run(SHA, "neutral", "title", "summary", "http://x")
    token_calls = github.calls("POST", "/app/installations/5/access_tokens")
    assert len(token_calls) == 1 and token_calls[0].auth.startswith("Bearer ")
    assert all(r.auth == "token ghs_installation" for r in github.requests[1:])
    assert github.check_runs[0]["conclusion"] == "neutral"
    assert github.check_runs[0]["name"] == "benchwarden"


def test_config_from_settings_resolves_env_and_hides_secrets() -> None:
    assert GitHubConfig.from_settings({}) is None
    with pytest.raises(GitHubConfigError, match=r"^github\.repo: Field required"):
        GitHubConfig.from_settings({"github": {}})  # validated like every settings read
    config = GitHubConfig.from_settings(
        {"github": {"repo": "o/r", "token_env": "GH_TOKEN"}, "detector": {"min_rel_change": 0.1}},
        {"GH_TOKEN": "s3cret"},
    )
    assert config is not None and config.token == "s3cret" and config.threshold == 0.1
    assert "s3cret" not in repr(config) and "s3cret" not in repr(GitHubClient(config))
    assert not config.use_check_runs
    with pytest.raises(GitHubConfigError, match="no credentials"):
        GitHubConfig.from_settings({"github": {"repo": "o/r", "token_env": "MISSING"}}, {})
    with pytest.raises(GitHubConfigError, match="owner/name"):
        GitHubConfig.from_settings({"github": {"repo": "nope", "token": "x"}}, {})


def test_bad_token_error_holds_no_secret(github: FakeGitHub) -> None:
    config = GitHubConfig(repo="o/r", api_url=github.url, token="wrong-secret-token")
    with pytest.raises(GitHubError) as info:
        GitHubClient(config).pull_request(7)
    assert "wrong-secret-token" not in str(info.value)
