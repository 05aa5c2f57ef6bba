"""Read-only pages: projects, benchmarks, a benchmark's trend, and the short run URL."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from web.db import request_session
from web.models import Benchmark, Branch, Machine, Measure, Project, Run, Series
from web.queries import catalog
from web.queries.listing import Filters, benchmark_rows, count_rows, facets
from web.queries.trend import (
    alert_marks,
    annotation_marks,
    benchmark_series,
    merged_benchmark_ids,
    one_sample_per_process,
    sibling_series_ids,
)
from web.views.access import may_read, readable_project, require_site_read
from web.views.format import commit_url
from web.views.paging import pager
from web.views.point_table import latest_table
from web.views.vendor import PLOT_VERSION, plot_library_installed

# Rows per page of the benchmarks list: 2,500 still render in well under a second.
PAGE_ROWS = 2500


def projects() -> str:
    require_site_read()
    visible = [p for p in catalog.list_projects(request_session()) if may_read(p)]
    return render_template("dash/projects.html", projects=visible)


def benchmarks(project: str) -> str:
    found = readable_project(project)
    session = request_session()
    available = facets(session, found.id)
    default_branch = found.default_branch if found.default_branch in available.branches else ""
    filters = Filters.from_args(request.args, default_branch)
    paging = pager(count_rows(session, found.id, filters), PAGE_ROWS, "benchmarks")
    rows = benchmark_rows(session, found.id, filters, limit=PAGE_ROWS, offset=paging.offset)
    return render_template(
        "dash/benchmarks.html",
        project=found,
        rows=rows,
        facets=available,
        filters=filters,
        paging=paging,
    )


def trend(project: str, benchmark_id: int) -> str | Response:
    found = readable_project(project)
    session = request_session()
    bench = session.get(Benchmark, benchmark_id)
    if bench is None or bench.project_id != found.id:
        abort(404, description="No such benchmark in this project.")
    if bench.merged_into_id is not None:
        return redirect(url_for("dash.trend", project=project, benchmark_id=bench.merged_into_id))
    series = benchmark_series(session, bench.id)
    measures = _names(session, Measure, {s.measure_id for s in series})
    branches = _names(session, Branch, {s.branch_id for s in series})
    machines = _names(session, Machine, {s.machine_id for s in series})
    measure = _pick(request.args.get("measure"), measures, None)
    branch = _pick(request.args.get("branch"), branches, found.default_branch)
    shown = [
        s
        for s in series
        if measures.get(s.measure_id) == measure and branches.get(s.branch_id) == branch
    ]
    unit_row = session.get(Measure, shown[0].measure_id) if shown else None
    series_ids = [s.id for s in shown]
    return render_template(
        "dash/trend.html",
        project=found,
        bench=bench,
        plots=[(s, machines[s.machine_id], latest_table(session, _ids(session, s))) for s in shown],
        plot_version=PLOT_VERSION,
        plot_missing=not plot_library_installed(),
        commit_url=commit_url,
        measure=unit_row,
        measures=sorted(set(measures.values())),
        branches=sorted(set(branches.values())),
        branch=branch,
        alerts=alert_marks(session, series_ids),
        annotations=annotation_marks(session, series_ids),
        merged=_merged(session, bench.id),
        merge_candidates=_merge_candidates(session, found, bench),
        one_sample=bool(series_ids) and one_sample_per_process(session, series_ids),
    )


def _ids(session, series: Series) -> list[int]:  # type: ignore[no-untyped-def]
    """The series first, then the series of benchmarks merged into it (one table)."""
    return [series.id, *(i for i in sibling_series_ids(session, series) if i != series.id)]


def _names(session, model, ids: set[int]) -> dict[int, str]:  # type: ignore[no-untyped-def]
    if not ids:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def _pick(asked: str | None, names: dict[int, str], preferred: str | None) -> str | None:
    values = sorted(set(names.values()))
    if asked in values:
        return asked
    if preferred in values:
        return preferred
    return values[0] if values else None


def _merged(session, bench_id: int) -> list[Benchmark]:  # type: ignore[no-untyped-def]
    ids = [i for i in merged_benchmark_ids(session, bench_id) if i != bench_id]
    if not ids:
        return []
    return list(session.scalars(select(Benchmark).where(Benchmark.id.in_(ids))))


def _merge_candidates(session, project: Project, bench: Benchmark) -> list[Benchmark]:  # type: ignore[no-untyped-def]
    """Benchmarks of the same suite whose history could continue in this one."""
    return list(
        session.scalars(
            select(Benchmark)
            .where(
                Benchmark.project_id == project.id,
                Benchmark.suite == bench.suite,
                Benchmark.id != bench.id,
                Benchmark.merged_into_id.is_(None),
            )
            .order_by(Benchmark.name)
            .limit(500)
        )
    )


def run_redirect(run_id: int) -> Response:
    """``/runs/<id>``: the run URL the API hands out, wherever the run's project is."""
    session = request_session()
    run = session.get(Run, run_id)
    project = session.get(Project, run.project_id) if run is not None else None
    # A run of a private project this request may not read is as missing as no run at all;
    # the target page itself sends a login redirect where a public project needs one.
    if project is None or (not project.public and not may_read(project)):
        abort(404, description="No such run.")
    return redirect(url_for("dash.run_detail", project=project.name, run_id=run_id))
