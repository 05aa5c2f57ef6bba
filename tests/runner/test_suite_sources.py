"""Where a job's suites come from: the commit's file, the project's stored suites, --config."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.job import _tail_naming_suites
from runner.suites import (
    MAX_CONFIG_CHARS,
    ORIGIN_COMMIT_FILE,
    ORIGIN_COMMIT_PYPROJECT,
    ORIGIN_PROJECT,
    ORIGIN_SCHEDULE,
    SuiteError,
    choose_suites,
    parse_suites,
)


def _toml(name: str) -> str:
    return f'[env]\nkind = "none"\n\n[suites.{name}]\nkind = "command"\ncommand = "true"\n'


def _names(tree: Path, outside: str | None, origin: str, wins: bool) -> tuple[list[str], str]:
    declared, used = choose_suites(tree, outside, origin, outside_wins=wins)
    return [s.name for s in declared.suites], used


def test_the_commits_own_file_wins_unless_the_outside_config_is_told_to(tmp_path: Path) -> None:
    (tmp_path / "benchwarden.toml").write_text(_toml("own"))
    project = _toml("stored")
    assert _names(tmp_path, None, ORIGIN_PROJECT, False) == (["own"], ORIGIN_COMMIT_FILE)
    assert _names(tmp_path, project, ORIGIN_PROJECT, False) == (["own"], ORIGIN_COMMIT_FILE)
    assert _names(tmp_path, project, ORIGIN_PROJECT, True) == (["stored"], ORIGIN_PROJECT)
    assert _names(tmp_path, _toml("cfg"), ORIGIN_SCHEDULE, True) == (["cfg"], ORIGIN_SCHEDULE)


def test_a_commit_without_a_declaration_uses_the_outside_config(tmp_path: Path) -> None:
    assert _names(tmp_path, _toml("stored"), ORIGIN_PROJECT, False) == (["stored"], ORIGIN_PROJECT)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert _names(tmp_path, _toml("stored"), ORIGIN_PROJECT, False) == (["stored"], ORIGIN_PROJECT)
    (tmp_path / "pyproject.toml").write_text(
        _toml("tool")
        .replace("[env]", "[tool.benchwarden.env]")
        .replace("[suites.", "[tool.benchwarden.suites.")
    )
    assert _names(tmp_path, _toml("stored"), ORIGIN_PROJECT, False) == (
        ["tool"],
        ORIGIN_COMMIT_PYPROJECT,
    )


def test_no_declaration_anywhere_says_how_to_add_one(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="benchwarden project suites P --set FILE"):
        choose_suites(tmp_path, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[suites.a\nkind = 1", "not valid TOML: "),
        ('[suites.a]\nkind = "nope"', "suites.a.kind must be one of"),
        ("[env]\nkind = 'none'\n", "no suites declared"),
        ("#" * (MAX_CONFIG_CHARS + 1), "over 65536 characters"),
        (
            '[suites.a]\nkind = "asv"\nmeasures = ["instructions"]',
            "instruction counts are not supported for asv suites",
        ),
    ],
)
def test_bad_outside_config_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(SuiteError, match=message):
        parse_suites(text)


def test_the_reported_log_tail_always_names_the_suites_source() -> None:
    line = "[benchwarden] suites from: project config\n"
    assert _tail_naming_suites("x" * 100, "project config").startswith(line)
    assert len(_tail_naming_suites("x" * 100, "project config")) == 100
    assert _tail_naming_suites(f"a\n{line}b", "project config") == f"a\n{line}b"
    assert _tail_naming_suites("abc", None) == "abc"
