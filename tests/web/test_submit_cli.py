"""`benchwarden submit` against the real app over loopback HTTP, as a CI job would run it."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import create_engine, select

from runner.schema import RunPayload
from runner.upload import UploadError, post_run
from tests.conftest import FIXTURES, LiveServer
from tests.support.servers import free_port
from web.models import Commit, Run

PYTEST_FILE = FIXTURES / "pytest-benchmark" / "pytest-benchmark.json"
ASV_DIR = FIXTURES / "asv" / "results"


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    for n in range(2):
        (path / "f.txt").write_text(str(n))
        _git(path, "add", "f.txt")
        _git(
            path,
            "-c",
            "user.name=Ada",
            "-c",
            "user.email=ada@example.org",
            "commit",
            "-qm",
            f"change {n}",
        )
    return path


def _token(server: LiveServer) -> str:
    env = os.environ | {"BENCHWARDEN_DATABASE_URL": server.settings.database_url}
    subprocess.run(
        ["benchwarden", "project", "create", "proj"], env=env, check=True, capture_output=True
    )
    done = subprocess.run(
        ["benchwarden", "token", "create", "--project", "proj", "--scope", "write"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def _submit(
    server: LiveServer | str, token: str, repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``benchwarden submit`` against ``server`` (or a URL) with no CI variables but ``env``."""
    ci_env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_"))}
    url = server if isinstance(server, str) else server.url
    overrides = {
        "BENCHWARDEN_URL": url,
        "BENCHWARDEN_TOKEN": token,
        "BENCHWARDEN_MACHINE": "ci-box",
    }
    return subprocess.run(
        ["benchwarden", "submit", *args, "--project", "proj", "--repo", str(repo)],
        env=ci_env | (env or {}) | overrides,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _recorded_at(tmp_path: Path, sha: str) -> Path:
    """The pytest-benchmark fixture as if measured at ``sha`` (its ``commit_info.id``)."""
    doc = json.loads(PYTEST_FILE.read_text())
    doc["commit_info"]["id"] = sha
    path = tmp_path / f"measured-at-{sha[:8]}.json"
    path.write_text(json.dumps(doc))
    return path


def _runs(server: LiveServer) -> list[tuple[str, list[str], str | None]]:
    engine = create_engine(server.settings.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Commit.sha, Commit.parents, Commit.author).join(Run, Run.commit_id == Commit.id)
        ).all()
    engine.dispose()
    return [(r[0], r[1], r[2]) for r in rows]


def test_submit_takes_commit_facts_from_git_and_is_idempotent(
    live_server: LiveServer, repo: Path, tmp_path: Path
) -> None:
    token = _token(live_server)
    measured = _recorded_at(tmp_path, _git(repo, "rev-parse", "HEAD"))
    first = _submit(live_server, token, repo, str(measured))
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("stored run ")
    assert f"{live_server.url}/runs/" in first.stdout
    second = _submit(live_server, token, repo, str(measured))
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("already stored run ")
    runs = _runs(live_server)
    head, parent = _git(repo, "rev-parse", "HEAD"), _git(repo, "rev-parse", "HEAD~1")
    assert runs == [(head, [parent], "Ada <ada@example.org>")]


def test_submit_refuses_a_file_measured_at_another_commit(repo: Path, tmp_path: Path) -> None:
    """ca4a9bd's file submitted from a checkout at 91a4d0b was stored as 91a4d0b."""
    head, older = _git(repo, "rev-parse", "HEAD"), _git(repo, "rev-parse", "HEAD~1")
    unreachable = f"http://127.0.0.1:{free_port()}"  # refused before anything is sent
    for env_sha, source in ((None, "git HEAD"), ("c" * 40, "GITHUB_SHA")):
        extra = {"GITHUB_SHA": env_sha} if env_sha else {}
        done = _submit(unreachable, "t", repo, str(_recorded_at(tmp_path, older)), env=extra)
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and "Traceback" not in done.stderr
        (line,) = done.stderr.splitlines()
        assert older in line and (env_sha or head) in line and source in line
        assert f"--commit {older}" in line


def test_submit_with_explicit_commit_stores_the_file_where_it_says(
    live_server: LiveServer, repo: Path, tmp_path: Path
) -> None:
    token = _token(live_server)
    older = _git(repo, "rev-parse", "HEAD~1")
    done = _submit(live_server, token, repo, str(_recorded_at(tmp_path, older)), "--commit", older)
    assert done.returncode == 0, done.stderr
    assert [sha for sha, _, _ in _runs(live_server)] == [older]


def test_submit_asv_directory_posts_one_run_per_commit(live_server: LiveServer, repo: Path) -> None:
    token = _token(live_server)
    done = _submit(live_server, token, repo, str(ASV_DIR))
    assert done.returncode == 0, done.stderr
    shas = sorted(sha for sha, _, _ in _runs(live_server))
    assert len(shas) == 2 and len(set(shas)) == 2
    assert done.stdout.count("stored run") == 2


def test_submit_bad_file_fails_before_sending(
    live_server: LiveServer, repo: Path, tmp_path: Path
) -> None:
    token = _token(live_server)
    bad = tmp_path / "bad.json"
    bad.write_text('{"benchmarks": [')
    done = _submit(live_server, token, repo, str(bad))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    assert _runs(live_server) == []


def test_submit_with_wrong_token_says_why(
    live_server: LiveServer, repo: Path, tmp_path: Path
) -> None:
    _token(live_server)
    measured = _recorded_at(tmp_path, _git(repo, "rev-parse", "HEAD"))
    done = _submit(live_server, "bw_not-a-token", repo, str(measured))
    assert done.returncode == 1
    assert "401" in done.stderr and "unknown or revoked" in done.stderr
    assert "bw_not-a-token" not in done.stderr


class _Flaky(BaseHTTPRequestHandler):
    """Answers 502 to the first two posts, then 201; records idempotency keys."""

    calls: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = self.rfile.read(length).decode("utf-8", "replace")
        key = body.split('"idempotency_key":"', 1)[1].split('"', 1)[0]
        self.calls.append(key)
        status = 502 if len(self.calls) <= 2 else 201
        payload = json.dumps({"run": {"id": 1, "url": "u", "result_count": 1}, "created": True})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture()
def flaky_server() -> Iterator[str]:
    _Flaky.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_upload_retries_5xx_with_the_same_key(flaky_server: str) -> None:
    payload = RunPayload(project="p", commit="a" * 40, idempotency_key="k-1")
    result = post_run(flaky_server, "t", payload, b"{}", "f.json", retries=3, backoff=0.01)
    assert result.status == 201
    assert _Flaky.calls == ["k-1", "k-1", "k-1"]


def test_upload_gives_up_after_the_retries(flaky_server: str) -> None:
    payload = RunPayload(project="p", commit="a" * 40, idempotency_key="k-2")
    with pytest.raises(UploadError, match="gave up after 2 attempts"):
        post_run(flaky_server, "t", payload, b"{}", "f.json", retries=1, backoff=0.01)


def test_upload_unreachable_service() -> None:
    payload = RunPayload(project="p", commit="a" * 40)
    with pytest.raises(UploadError, match="cannot reach"):
        post_run(
            f"http://127.0.0.1:{free_port()}", "t", payload, b"{}", "f", retries=1, backoff=0.01
        )
