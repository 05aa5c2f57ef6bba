"""A small GitHub REST server on loopback that github3.py talks to for real.

It implements the endpoints the bot uses (pull request, issue, issue comments
list/create/edit, repository, commit statuses, check runs, installation
access tokens), keeps their state in memory, records every request, and can
be told to fail the next requests (502, rate limits) to test retries. Comment
lists are paged as GitHub pages them (``per_page``, ``page``, ``Link``
headers), and ``prefix="/api/v3"`` lays the API out as GitHub Enterprise
Server does.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

TIME = "2024-01-01T00:00:00Z"


@dataclass
class Recorded:
    method: str
    path: str
    auth: str
    body: Any
    query: str = ""


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    method: str | None = None


@dataclass
class FakeGitHub:
    """State and recorded requests; ``url`` is the API base to configure."""

    token: str = "test-token"
    app_public_key: str | None = None
    app_id: int = 0
    installation_token: str = "ghs_installation"
    requests: list[Recorded] = field(default_factory=list)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    url: str = ""
    # GitHub Enterprise Server serves the API under /api/v3; "" is github.com's layout.
    prefix: str = ""
    # called with (method, path) as each request arrives, before it is answered
    on_request: Callable[[str, str], None] | None = None
    _next_id: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_pull(self, number: int, head_sha: str, labels: tuple[str, ...] = ()) -> None:
        self.pulls[number] = {"head": head_sha, "labels": list(labels)}

    def fail_next(self, status: int, times: int = 1, method: str | None = None, **headers: str):
        for _ in range(times):
            self.failures.append(Failure(status, headers, method))

    def calls(self, method: str | None = None, pattern: str = "") -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and re.search(pattern, r.path)
        ]

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id


def _user(base: str) -> dict[str, Any]:
    keys = [
        "avatar_url",
        "events_url",
        "followers_url",
        "following_url",
        "gists_url",
        "html_url",
        "organizations_url",
        "received_events_url",
        "repos_url",
        "starred_url",
        "subscriptions_url",
        "url",
    ]
    return {
        "login": "benchwarden-bot",
        "id": 1,
        "type": "Bot",
        "gravatar_id": "",
        "site_admin": False,
        **{k: f"{base}/users/benchwarden-bot" for k in keys},
    }


def _repo(base: str, owner: str, name: str) -> dict[str, Any]:
    url = f"{base}/repos/{owner}/{name}"
    url_keys = [
        "archive",
        "assignees",
        "blobs",
        "branches",
        "collaborators",
        "comments",
        "commits",
        "compare",
        "contents",
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "git_commits",
        "git_refs",
        "git_tags",
        "hooks",
        "issue_comment",
        "issue_events",
        "issues",
        "keys",
        "labels",
        "languages",
        "merges",
        "milestones",
        "notifications",
        "pulls",
        "releases",
        "stargazers",
        "statuses",
        "subscribers",
        "subscription",
        "tags",
        "teams",
        "trees",
    ]
    data: dict[str, Any] = {f"{k}_url": f"{url}/{k}" for k in url_keys}
    data |= {
        "id": 42,
        "name": name,
        "full_name": f"{owner}/{name}",
        "owner": _user(base),
        "private": False,
        "fork": False,
        "description": "",
        "html_url": f"https://github.example/{owner}/{name}",
        "url": url,
        "archived": False,
        "clone_url": "",
        "created_at": TIME,
        "default_branch": "main",
        "forks_count": 0,
        "git_url": "",
        "has_downloads": False,
        "has_issues": True,
        "has_pages": False,
        "has_projects": False,
        "has_wiki": False,
        "homepage": None,
        "language": "Python",
        "mirror_url": None,
        "network_count": 0,
        "open_issues_count": 0,
        "pushed_at": TIME,
        "size": 1,
        "ssh_url": "",
        "stargazers_count": 0,
        "subscribers_count": 0,
        "svn_url": "",
        "updated_at": TIME,
        "watchers_count": 0,
    }
    return data


def _labels(base: str, names: list[str]) -> list[dict[str, Any]]:
    return [
        {"name": n, "color": "ededed", "description": "", "url": f"{base}/l/{n}"} for n in names
    ]


def _issue(base: str, owner: str, name: str, number: int, labels: list[str]) -> dict[str, Any]:
    url = f"{base}/repos/{owner}/{name}/issues/{number}"
    return {
        "id": number,
        "number": number,
        "url": url,
        "html_url": url,
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "labels_url": f"{url}/labels",
        "labels": _labels(base, labels),
        "title": "A pull request",
        "body": "",
        "body_html": "",
        "body_text": "",
        "closed_by": None,
        "state": "open",
        "locked": False,
        "user": _user(base),
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": 0,
        "closed_at": None,
        "created_at": TIME,
        "updated_at": TIME,
        "pull_request": {"url": f"{base}/repos/{owner}/{name}/pulls/{number}"},
    }


_PULL_URL_KEYS = (
    "comments_url",
    "commits_url",
    "diff_url",
    "issue_url",
    "patch_url",
    "review_comments_url",
    "statuses_url",
    "html_url",
)


def _pull(base: str, owner: str, name: str, number: int, state: dict[str, Any]) -> dict[str, Any]:
    url = f"{base}/repos/{owner}/{name}/pulls/{number}"
    repo = _repo(base, owner, name)

    def ref(ref_name: str, sha: str) -> dict[str, Any]:
        return {"ref": ref_name, "label": f"{owner}:{ref_name}", "sha": sha, "user": _user(base),
                "repo": repo}  # fmt: skip

    data: dict[str, Any] = {k: f"{url}/{k}" for k in _PULL_URL_KEYS}
    data |= {
        "url": url,
        "id": number,
        "number": number,
        "review_comment_url": f"{url}/comments{{/number}}",
        "_links": {},
        "active_lock_reason": None,
        "assignee": None,
        "assignees": [],
        "base": ref("main", "b" * 40),
        "head": ref("feature", state["head"]),
        "body": "",
        "body_html": "",
        "body_text": "",
        "closed_at": None,
        "created_at": TIME,
        "updated_at": TIME,
        "merged_at": None,
        "merge_commit_sha": None,
        "locked": False,
        "requested_reviewers": [],
        "requested_teams": [],
        "state": "open",
        "title": "A pull request",
        "user": _user(base),
        "labels": _labels(base, state["labels"]),
        "additions": 1,
        "author_association": "OWNER",
        "comments": 0,
        "commits": 1,
        "deletions": 0,
        "draft": False,
        "mergeable": True,
        "mergeable_state": "clean",
        "merged": False,
        "merged_by": None,
        "review_comments": 0,
    }
    return data


def _comment(base: str, owner: str, name: str, number: int, cid: int, body: str) -> dict:
    url = f"{base}/repos/{owner}/{name}/issues/comments/{cid}"
    return {
        "id": cid,
        "url": url,
        "html_url": url,
        "issue_url": f"{base}/repos/{owner}/{name}/issues/{number}",
        "body": body,
        "body_html": "",
        "body_text": body,
        "user": _user(base),
        "author_association": "NONE",
        "created_at": TIME,
        "updated_at": TIME,
    }


def _handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            parts = urlsplit(self.path)
            path, query = parts.path.removeprefix(fake.prefix), parts.query
            if not parts.path.startswith(fake.prefix):
                path = "/outside-the-api" + parts.path  # routed to a 404
            auth = self.headers.get("Authorization", "")
            if fake.on_request is not None:
                fake.on_request(method, path)
            with fake._lock:
                fake.requests.append(Recorded(method, path, auth, body, query))
                failure = next((f for f in fake.failures if f.method in (None, method)), None)
                if failure is not None:
                    fake.failures.remove(failure)
            if failure is not None:
                self._send(failure.status, {"message": "injected failure"}, failure.headers)
                return
            headers: dict[str, str] = {}
            status, payload = route(fake, method, path, parse_qs(query), auth, body, headers)
            self._send(status, payload, headers)

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _authorized(fake: FakeGitHub, auth: str) -> bool:
    return auth in (f"token {fake.token}", f"token {fake.installation_token}")


def route(
    fake: FakeGitHub,
    method: str,
    path: str,
    query: dict[str, list[str]],
    auth: str,
    body: Any,
    headers: dict[str, str],
) -> tuple[int, Any]:
    """Answer one request; a handler may add response headers (``Link``) to ``headers``."""
    base = fake.url
    if m := re.fullmatch(r"/app/installations/(\d+)/access_tokens", path):
        return _access_token(fake, auth)
    if not _authorized(fake, auth):
        return 401, {"message": "Bad credentials"}
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)", path):
        return 200, _repo(base, m[1], m[2])
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)/pulls/(\d+)", path):
        state = fake.pulls.get(int(m[3]))
        return (404, {"message": "Not Found"}) if state is None else (
            200, _pull(base, m[1], m[2], int(m[3]), state))  # fmt: skip
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/(\d+)", path):
        labels = fake.pulls.get(int(m[3]), {}).get("labels", [])
        return 200, _issue(base, m[1], m[2], int(m[3]), labels)
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/(\d+)/comments", path):
        if method == "POST":
            return _create_comment(fake, m[1], m[2], int(m[3]), body)
        return _list_comments(fake, m[1], m[2], int(m[3]), query, headers)
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues/comments/(\d+)", path):
        comment = fake.comments.get(int(m[3]))
        if comment is None or method != "PATCH":
            return 404, {"message": "Not Found"}
        comment["body"] = body["body"]
        return 200, _comment(base, m[1], m[2], comment["issue"], int(m[3]), comment["body"])
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)/statuses/([0-9a-f]+)", path):
        fake.statuses.append({"sha": m[3], **body})
        return 201, {"id": len(fake.statuses), "url": path, "creator": _user(base),
                     "created_at": TIME, "updated_at": TIME, "target_url": None,
                     "description": None, **body}  # fmt: skip
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)/check-runs", path):
        fake.check_runs.append(body)
        return 201, _check_run(base, len(fake.check_runs), body)
    return 404, {"message": "Not Found"}


def _create_comment(
    fake: FakeGitHub, owner: str, name: str, number: int, body: Any
) -> tuple[int, Any]:
    cid = fake.new_id()
    fake.comments[cid] = {"issue": number, "body": body["body"]}
    return 201, _comment(fake.url, owner, name, number, cid, body["body"])


def _list_comments(
    fake: FakeGitHub,
    owner: str,
    name: str,
    number: int,
    query: dict[str, list[str]],
    headers: dict[str, str],
) -> tuple[int, Any]:
    """One page of the issue's comments, oldest first, as GitHub pages them.

    ``per_page`` defaults to 30 and is capped at 100; pages after the first
    are announced in a ``Link`` header, which is all a client has to follow.
    """
    per_page = min(100, int(query.get("per_page", ["30"])[0]))
    page = int(query.get("page", ["1"])[0])
    rows = [
        _comment(fake.url, owner, name, number, cid, c["body"])
        for cid, c in sorted(fake.comments.items())
        if c["issue"] == number
    ]
    last = max(1, -(-len(rows) // per_page))
    link = f"{fake.url}/repos/{owner}/{name}/issues/{number}/comments?per_page={per_page}&page="
    if page < last:
        headers["Link"] = f'<{link}{page + 1}>; rel="next", <{link}{last}>; rel="last"'
    return 200, rows[(page - 1) * per_page : page * per_page]


def _access_token(fake: FakeGitHub, auth: str) -> tuple[int, Any]:
    if fake.app_public_key is None or not auth.startswith("Bearer "):
        return 401, {"message": "A JSON web token could not be decoded"}
    try:
        claims = jwt.decode(auth.removeprefix("Bearer "), fake.app_public_key, algorithms=["RS256"],
                            options={"verify_iss": False})  # fmt: skip
    except jwt.PyJWTError:
        return 401, {"message": "A JSON web token could not be decoded"}
    if int(claims["iss"]) != fake.app_id:
        return 401, {"message": "Integration not found"}
    return 201, {"token": fake.installation_token, "expires_at": "2099-01-01T00:00:00Z"}


def _check_run(base: str, cid: int, body: dict[str, Any]) -> dict[str, Any]:
    output = body.get("output") or {}
    return {
        "id": cid,
        "url": f"{base}/check-runs/{cid}",
        "html_url": f"{base}/check-runs/{cid}",
        "name": body["name"],
        "head_sha": body["head_sha"],
        "status": body.get("status"),
        "conclusion": body.get("conclusion"),
        "external_id": body.get("external_id"),
        "started_at": TIME,
        "completed_at": body.get("completed_at"),
        "details_url": body.get("details_url"),
        "app": {
            "id": 1,
            "name": "benchwarden",
            "description": "",
            "external_url": base,
            "html_url": base,
            "owner": _user(base),
        },
        "check_suite": {"id": 1},
        "pull_requests": [],
        "output": {
            "title": output.get("title"),
            "summary": output.get("summary"),
            "text": output.get("text"),
            "annotations_count": 0,
            "annotations_url": f"{base}/check-runs/{cid}/annotations",
        },
    }


class FakeGitHubServer:
    """Serve a :class:`FakeGitHub` on 127.0.0.1 from a thread; use as a context manager."""

    def __init__(self, fake: FakeGitHub | None = None) -> None:
        self.fake = fake or FakeGitHub()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        port = self._server.server_address[1]
        self.fake.url = f"http://127.0.0.1:{port}{self.fake.prefix}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self.fake

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
