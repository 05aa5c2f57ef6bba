"""Benchmark identity from the trend page: rename, merge histories, mark known changes."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from web.db import request_session
from web.models import Annotation, Benchmark, Project, Series
from web.services.edits import (
    WriteError,
    annotate,
    delete_annotation,
    merge_benchmark,
    rename_benchmark,
)
from web.views.access import readable_project, writer


def _benchmark(project: Project, benchmark_id: int) -> Benchmark:
    bench = request_session().get(Benchmark, benchmark_id)
    if bench is None or bench.project_id != project.id:
        abort(404, description="No such benchmark in this project.")
    return bench


def _to_trend(project: Project, benchmark_id: int) -> Response:
    args = {k: request.form[k] for k in ("measure", "branch") if request.form.get(k)}
    target = url_for("dash.trend", project=project.name, benchmark_id=benchmark_id, **args)  # type: ignore[arg-type]
    return redirect(target, code=303)


def _commit_or_flash(message: str) -> None:
    request_session().commit()
    flash(message, "ok")


def rename(project: str, benchmark_id: int) -> Response:
    found = readable_project(project)
    actor = writer(found)
    bench = _benchmark(found, benchmark_id)
    try:
        rename_benchmark(request_session(), actor, bench, request.form.get("display_name", ""))
    except WriteError as exc:
        flash(str(exc), "error")
        return _to_trend(found, bench.id)
    _commit_or_flash("Renamed; the stored key and the history are unchanged.")
    return _to_trend(found, bench.id)


def merge(project: str, benchmark_id: int) -> Response:
    """Merge the chosen benchmark's history into this one (``benchmark_id`` survives)."""
    found = readable_project(project)
    actor = writer(found)
    target = _benchmark(found, benchmark_id)
    raw = request.form.get("source_id", "")
    if not raw.isdigit():
        flash("Choose the benchmark whose history continues here.", "error")
        return _to_trend(found, target.id)
    source = _benchmark(found, int(raw))
    try:
        merge_benchmark(request_session(), actor, source, target)
    except WriteError as exc:
        flash(str(exc), "error")
        return _to_trend(found, target.id)
    _commit_or_flash("Merged: the older history now shows on this benchmark.")
    return _to_trend(found, target.id)


def add_annotation(project: str, series_id: int) -> Response:
    found = readable_project(project)
    actor = writer(found)
    session = request_session()
    series = session.get(Series, series_id)
    if series is None or series.project_id != found.id:
        abort(404, description="No such series in this project.")
    form = request.form
    try:
        annotate(
            session,
            actor,
            series,
            form.get("sha", ""),
            form.get("kind", "known_change"),
            form.get("note", ""),
        )
    except WriteError as exc:
        flash(str(exc), "error")
        return _to_trend(found, series.benchmark_id)
    _commit_or_flash("Annotation saved.")
    return _to_trend(found, series.benchmark_id)


def remove_annotation(project: str, annotation_id: int) -> Response:
    found = readable_project(project)
    actor = writer(found)
    session = request_session()
    annotation = session.get(Annotation, annotation_id)
    series = session.get(Series, annotation.series_id) if annotation else None
    if annotation is None or series is None or series.project_id != found.id:
        abort(404, description="No such annotation in this project.")
    delete_annotation(session, actor, annotation)
    _commit_or_flash("Annotation removed.")
    return _to_trend(found, series.benchmark_id)
