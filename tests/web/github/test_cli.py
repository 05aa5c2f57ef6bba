"""``benchwarden project github``: stores variable names, never secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from web.cli.main import main


def test_project_github_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert main(["project", "create", "demo", "--database-url", url]) == 0
    capsys.readouterr()
    argv = ["project", "github", "demo", "--repo", "octo/demo", "--token-env", "GH_TOKEN",
            "--webhook", "https://hooks.example/x", "--webhook-format", "slack",
            "--database-url", url]  # fmt: skip
    assert main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["github"] == {"repo": "octo/demo", "token_env": "GH_TOKEN"}
    assert shown["webhooks"] == [{"url": "https://hooks.example/x", "format": "slack"}]
    assert main(["project", "github", "demo", "--repo", "bad", "--database-url", url]) == 2
    assert "owner/name" in capsys.readouterr().err
    assert main(["project", "github", "demo", "--disconnect", "--database-url", url]) == 0
    assert "github" not in json.loads(capsys.readouterr().out)
