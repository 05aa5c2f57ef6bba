"""Golden-file tests of the pure comment renderer.

Set BENCHWARDEN_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import pytest

from web.github.render import GITHUB_COMMENT_LIMIT, escape, marker, render_comment
from web.github.report import (
    Category,
    MachineBaseline,
    Outcome,
    PrReport,
    ReportRow,
    categorize,
    check_conclusion,
    status_state,
)

GOLDEN = Path(__file__).parent / "golden"
URL = "http://bw.test/p/proj/compare?baseline=b&candidate=c&machine=m1"


def _row(name: str, rel: float, category: Category, machine: str = "m1") -> ReportRow:
    half = 0.01 if category is not Category.NOISY else 0.2
    return ReportRow(
        name=name,
        machine=machine,
        measure="time",
        unit="s",
        baseline=1.0,
        candidate=1.0 + rel,
        rel_change=rel,
        ci_low=rel - half,
        ci_high=rel + half,
        pvalue=0.0004 if category in (Category.REGRESSION, Category.IMPROVEMENT) else 0.4,
        qvalue=0.0008 if category in (Category.REGRESSION, Category.IMPROVEMENT) else 0.5,
        category=category,
        compare_url=f"{URL}&q={name}",
    )


def _report(**changes: object) -> PrReport:
    report = PrReport(
        project="proj",
        pr_number=7,
        head_sha="c" * 40,
        default_branch="main",
        threshold=0.05,
        baselines=(MachineBaseline("m1", "c" * 40, "b" * 40, "b" * 40, None, URL),),
        rows=(
            _row("parse_large", 0.231, Category.REGRESSION),
            _row("render|table`x`<b>", 0.081, Category.REGRESSION),
            _row("startup", -0.12, Category.IMPROVEMENT),
            _row("lookup", 0.002, Category.UNCHANGED),
            _row("io_flush", 0.04, Category.NOISY),
            _row("single_shot", 0.03, Category.INCONCLUSIVE),
        ),
        missing=("old_bench",),
        added=("new_bench",),
        report_url=URL,
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("BENCHWARDEN_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; rerun with BENCHWARDEN_UPDATE_GOLDEN=1"


def test_regressions_comment() -> None:
    _golden("regressions.md", render_comment(_report()))


def test_overridden_comment() -> None:
    report = _report(overridden=True)
    assert report.outcome is Outcome.OVERRIDDEN
    _golden("overridden.md", render_comment(report))


def test_fallback_baseline_and_two_machines() -> None:
    baselines = (
        MachineBaseline("m1", "c" * 40, "b" * 40, "b" * 40, None, URL),
        MachineBaseline(
            "m2", "c" * 40, "a" * 40, "b" * 40,
            "merge-base bbbbbbb has no results on this machine;"
            " compared with its ancestor aaaaaaa (2 commits earlier)",
            URL,
        ),
    )  # fmt: skip
    rows = (_row("parse", 0.0, Category.UNCHANGED), _row("parse", 0.001, Category.UNCHANGED, "m2"))
    _golden("fallback.md", render_comment(_report(baselines=baselines, rows=rows, missing=(),
                                                  added=(), report_url="")))  # fmt: skip


def test_no_baseline_comment() -> None:
    baselines = (MachineBaseline("m1", "c" * 40, None, None, "no results of main on machine m1"),)
    report = _report(baselines=baselines, rows=(), missing=(), added=(), report_url="")
    assert report.outcome is Outcome.NO_BASELINE
    _golden("no_baseline.md", render_comment(report))


def test_long_comment_is_cut_below_the_limit_with_a_link() -> None:
    rows = tuple(_row(f"bench_{i:05d}_" + "x" * 60, 0.2, Category.REGRESSION) for i in range(3000))
    body = render_comment(_report(rows=rows))
    assert len(body) < GITHUB_COMMENT_LIMIT
    assert "Shortened to fit GitHub's comment limit" in body
    assert f"[full report]({URL})" in body
    assert "more in the full report" in body
    assert body.startswith(marker("proj"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a|b", "a&#124;b"),
        ("`code`", "&#96;code&#96;"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("*bold* _it_ [link](x)", "\\*bold\\* \\_it\\_ \\[link\\](x)"),
        ("two\nlines", "two lines"),
        ("a & b", "a &amp; b"),
    ],
)
def test_escape(raw: str, expected: str) -> None:
    assert escape(raw) == expected


def test_names_cannot_break_the_table() -> None:
    body = render_comment(_report())
    line = next(x for x in body.splitlines() if "render" in x)
    assert line.count("|") == 5  # four cells, no extra column from the name's pipe
    assert "<b>" not in body


def test_narrow_lines() -> None:
    """Table rows stay short enough for a phone: four columns, no long code spans."""
    body = render_comment(_report())
    table = [x for x in body.splitlines() if x.startswith("| ") and "compare?" not in x]
    assert all(x.count("|") == 5 for x in table)


def test_status_and_conclusion() -> None:
    assert status_state(_report())[0] == "failure"
    assert status_state(_report(overridden=True)) == (
        "success",
        "2 regression(s) overridden by label benchwarden-override",
    )
    assert check_conclusion(_report(overridden=True)) == "neutral"
    improved = _report(rows=(_row("startup", -0.12, Category.IMPROVEMENT),))
    assert status_state(improved)[0] == "success"


@pytest.mark.parametrize(
    ("verdict", "rel", "lo", "hi", "expected"),
    [
        ("regression", 0.10, 0.08, 0.12, Category.REGRESSION),
        ("regression", 0.03, 0.02, 0.04, Category.UNCHANGED),
        ("improvement", -0.2, -0.25, -0.15, Category.IMPROVEMENT),
        ("no_change", 0.0, -0.01, 0.01, Category.UNCHANGED),
        ("inconclusive", 0.02, -0.3, 0.3, Category.NOISY),
        ("inconclusive", 0.02, -0.03, 0.07, Category.INCONCLUSIVE),
        ("inconclusive", 0.5, math.nan, math.nan, Category.INCONCLUSIVE),
    ],
)
def test_categorize(verdict: str, rel: float, lo: float, hi: float, expected: Category) -> None:
    assert categorize(verdict, rel, lo, hi, 0.05) is expected
