"""Render a :class:`PrReport` as the Markdown of the sticky PR comment. Pure: no I/O.

Layout is chosen for narrow screens (GitHub mobile): four short columns, the
machine only when there are several, everything not worth attention inside a
collapsed ``<details>``. Benchmark names come from users' code, so every name
is escaped for both Markdown and HTML before it reaches the comment.
"""

from __future__ import annotations

import math

from web.github.report import Category, Outcome, PrReport, ReportRow

GITHUB_COMMENT_LIMIT = 65_536
# Stay well below GitHub's limit: it counts characters, and we add nothing after rendering.
DEFAULT_LIMIT = 60_000

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
# Entities instead of backslashes for pipes and backticks: GFM splits table cells on
# "|" before inline parsing, and a backslash cannot escape inside a code span.
_MARKDOWN = {"|": "&#124;", "`": "&#96;"}
_BACKSLASHED = set("\\*_[]~#!")


def safe_url(url: str) -> str:
    """Percent-encode the characters that would end a Markdown link or split a table cell."""
    return "".join(_URL_UNSAFE.get(char, char) for char in url)


_URL_UNSAFE = {c: f"%{ord(c):02X}" for c in '|`<>()[] "\n'}


def marker(project: str) -> str:
    """The hidden line that identifies our comment (one per project and PR)."""
    return f"<!-- benchwarden:pr-comment project={escape(project)} -->"


def escape(text: str) -> str:
    """Make user text inert in a Markdown table cell and in HTML.

    Pipes, backticks and angle brackets become entities; Markdown emphasis,
    link and heading characters are backslash-escaped; newlines become spaces.
    """
    out = []
    for char in " ".join(text.split()):
        if char in _HTML:
            out.append(_HTML[char])
        elif char in _MARKDOWN:
            out.append(_MARKDOWN[char])
        elif char in _BACKSLASHED:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def render_comment(report: PrReport, limit: int = DEFAULT_LIMIT) -> str:
    """The comment body, at most ``limit`` characters.

    When every row does not fit, the tables are cut (regressions are kept
    first) and the comment links to the full report on the dashboard.
    """
    total = len(report.rows)
    body = _render(report, total)
    if len(body) <= limit:
        return body
    low, high = 0, total  # largest row count that fits, by bisection
    while low < high:
        mid = (low + high + 1) // 2
        if len(_render(report, mid)) <= limit:
            low = mid
        else:
            high = mid - 1
    body = _render(report, low)
    return body if len(body) <= limit else body[: limit - 1]


def _render(report: PrReport, max_rows: int) -> str:
    budget = [max_rows]
    parts = [marker(report.project), _headline(report), "", *_baseline_lines(report)]
    parts += _decided_by(report)
    parts += _override_lines(report)
    for category, title in (
        (Category.REGRESSION, "Regressions"),
        (Category.IMPROVEMENT, "Improvements"),
    ):
        rows = report.of(category)
        if rows:
            parts += ["", f"**{title}** (beyond {_pct(report.threshold)})", ""]
            parts += _table(report, rows, budget)
    parts += _profile_lines(report)
    parts += ["", _counts_line(report)]
    parts += _details(report, budget)
    parts += _footer(report, complete=max_rows >= len(report.rows))
    return "\n".join(parts) + "\n"


_HEADLINES = {
    Outcome.REGRESSION: ":x: **{n} regression{s}** beyond {pct}",
    Outcome.OVERRIDDEN: ":warning: **{n} regression{s}** beyond {pct}, overridden by `{label}`",
    Outcome.IMPROVEMENT: ":rocket: **{m} improvement{ms}**, no regressions beyond {pct}",
    Outcome.NO_CHANGE: ":white_check_mark: **No change** beyond {pct}",
    Outcome.NO_BASELINE: ":hourglass: **No baseline yet**: nothing to compare these results with",
}


def _headline(report: PrReport) -> str:
    n, m = len(report.of(Category.REGRESSION)), len(report.of(Category.IMPROVEMENT))
    text = _HEADLINES[report.outcome].format(
        n=n,
        s="" if n == 1 else "s",
        m=m,
        ms="" if m == 1 else "s",
        pct=_pct(report.threshold),
        label=escape(report.override_label),
    )
    return f"### benchwarden · {text}"


def _baseline_lines(report: PrReport) -> list[str]:
    lines = []
    for b in report.baselines:
        where = f" on `{escape(b.machine)}`"
        if b.baseline_sha is None:
            lines.append(f"- `{b.candidate_sha[:7]}`{where}: {escape(b.note or 'no baseline')}")
            continue
        base = f"`{b.baseline_sha[:7]}`"
        if b.compare_url:
            base = f"[{base}]({safe_url(b.compare_url)})"
        kind = "merge-base" if b.baseline_sha == b.merge_base_sha else "baseline"
        lines.append(f"- `{b.candidate_sha[:7]}` vs {kind} {base}{where}")
        if b.note:
            lines.append(f"  - :information_source: {escape(b.note)}")
    for error in report.errors:
        lines.append(f"- :warning: {escape(error)}")
    return lines


def _override_lines(report: PrReport) -> list[str]:
    label = escape(report.override_label)
    if report.outcome is Outcome.REGRESSION:
        return [
            "",
            f"If this slowdown is intended, add the label `{label}` to this pull request:"
            " the `benchwarden` status then passes and this comment says so.",
        ]
    if report.outcome is Outcome.OVERRIDDEN:
        return ["", f"The `benchwarden` status passes because of the label `{label}`."]
    return []


def _table(report: PrReport, rows: list[ReportRow], budget: list[int]) -> list[str]:
    several = len({b.machine for b in report.baselines}) > 1
    lines = ["| Benchmark | Change | p |  |", "|:--|--:|--:|:-:|"]
    for row in rows:
        if budget[0] <= 0:
            break
        budget[0] -= 1
        name = escape(row.name) + (f" <sub>{escape(row.machine)}</sub>" if several else "")
        link = f"[→]({safe_url(row.compare_url)})" if row.compare_url else ""
        lines.append(f"| {name} | {_change(row)} | {_p(row.qvalue)} | {link} |")
    hidden = len(rows) - (len(lines) - 2)
    if hidden > 0:
        lines.append(f"| … {hidden} more in the full report |  |  |  |")
    return lines


def _profile_lines(report: PrReport) -> list[str]:
    """Where the biggest counted change's instructions went: its top functions, escaped
    (function and file names come from the measured code)."""
    table = report.profile
    if table is None or not table.lines:
        return []
    lines = [
        "",
        f"**Where the instructions went** in {escape(table.benchmark)} on `{escape(table.machine)}`"
        f" (`{table.baseline_sha[:7]}` → `{table.candidate_sha[:7]}`,"
        f" {table.total_change:+,} instructions per call)",
        "",
        "| Function | File:line | Self | Inclusive |",
        "|:--|:--|--:|--:|",
    ]
    for row in table.lines:
        where = "/".join(row.file.split("/")[-2:]) + (f":{row.line}" if row.line else "")
        lines.append(
            f"| {escape(row.function)} | {escape(where)} |"
            f" {row.self_change:+,} | {row.inclusive_change:+,} |"
        )
    return lines


def _details(report: PrReport, budget: list[int]) -> list[str]:
    rest = [r for r in report.rows if r.category not in (Category.REGRESSION, Category.IMPROVEMENT)]
    names = list(report.missing) + list(report.added)
    if not rest and not names:
        return []
    lines = ["", "<details><summary>Other benchmarks</summary>", ""]
    if rest:
        lines += _table(report, rest, budget)
    if report.missing:
        lines += ["", "Missing from this PR: " + ", ".join(escape(n) for n in report.missing)]
    if report.added:
        lines += ["", "New in this PR: " + ", ".join(escape(n) for n in report.added)]
    return [*lines, *_why_inconclusive(report), "", "</details>"]


def _why_inconclusive(report: PrReport) -> list[str]:
    """Why rows are inconclusive and what would decide them, one line per reason."""
    found: dict[str, tuple[int, str]] = {}
    for row in report.rows:
        if row.why_reason:
            count, _ = found.get(row.why_reason, (0, ""))
            found[row.why_reason] = (count + 1, row.why_advice)
    if not found:
        return []
    lines = ["", "Why inconclusive:"]
    for reason, (count, advice) in sorted(found.items(), key=lambda item: -item[1][0]):
        lines.append(f"- {count} × {escape(reason.replace('_', ' '))}: {escape(advice)}.")
    return lines


_BESIDE = "timed beside their instruction count"


def _decided_by(report: PrReport) -> list[str]:
    """Which measure decided: instruction counts wherever a suite measures them."""
    if not report.decided_by_counts:
        return []
    n = report.decided_by_counts
    return [
        "",
        f"Decided by instruction counts (valgrind) for {n} benchmark{'' if n == 1 else 's'};"
        " their wall time is listed under other benchmarks.",
    ]


def _counts_line(report: PrReport) -> str:
    counts = [
        (len(report.of(Category.UNCHANGED)), "unchanged"),
        (len(report.of(Category.BESIDE)), _BESIDE),
        (len(report.of(Category.INCONCLUSIVE)), "inconclusive"),
        (len(report.of(Category.NOISY)), "noisy"),
        (len(report.missing), "missing"),
        (len(report.added), "new"),
    ]
    return " · ".join(f"{n} {what}" for n, what in counts if n or what != _BESIDE)


def _footer(report: PrReport, complete: bool) -> list[str]:
    note = (
        f"<sub>Change: relative change ± half the {report.ci_level:.0%} confidence interval;"
        " p: false-discovery-rate adjusted p-value (Benjamini–Hochberg)."
    )
    if report.report_url:
        note += f" [Full report]({safe_url(report.report_url)})."
    lines = ["", note + "</sub>"]
    if not complete:
        url = safe_url(report.report_url)
        where = f": see the [full report]({url})" if report.report_url else ""
        lines[1:1] = [f"**Shortened to fit GitHub's comment limit{where}.**", ""]
    return lines


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def _change(row: ReportRow) -> str:
    if not math.isfinite(row.rel_change):
        return "n/a"
    text = f"{row.rel_change * 100:+.1f}%"
    if math.isfinite(row.ci_low) and math.isfinite(row.ci_high):
        half = (row.ci_high - row.ci_low) * 50
        text += f" ±{half:.1f}"
    return f"**{text}**" if row.category in (Category.REGRESSION, Category.IMPROVEMENT) else text


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "–"
    return "&lt;0.001" if value < 0.001 else f"{value:.3f}"
