"""The series JSON cache, the no-JavaScript point tables and the plotting library's route."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import make_alert, make_history, make_project, sha
from web.views import vendor


def test_cached_points_follow_new_results_marks_and_names(  # type: ignore[no-untyped-def]
    writer_client, history, db_session: Session
) -> None:
    """Every change a reader could see invalidates the cached answer, none is served stale."""
    fast = history["series"]["fast"]
    url = f"/p/proj/series/{fast.id}/points.json"
    first = writer_client.get(url)
    assert first.json["total"] == 40 and first.headers["Cache-Control"] == "private, no-cache"
    again = writer_client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    csrf = {"csrf_token": writer_client.csrf}
    base = f"/p/proj/benchmarks/{fast.benchmark_id}"
    writer_client.post(f"{base}/rename", data={"display_name": "quick"} | csrf)
    writer_client.post(
        f"/p/proj/series/{fast.id}/annotations",
        data={"sha": sha(5), "kind": "note", "note": "warm-up"} | csrf,
    )
    body = writer_client.get(url).json
    assert body["series"]["benchmark"] == "quick"
    assert [n["i"] for n in body["annotations"]] == [4]
    assert 4 in body["points"]["i"]
    more = make_history(db_session, history["project"], {"fast": [5e-3]}, first_commit=41)["fast"]
    assert more.id == fast.id
    grown = writer_client.get(url).json
    assert grown["total"] == 41 and grown["points"]["value"][-1] == 5e-3


def test_zoomed_and_overview_answers_share_columns(client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    project = make_project(db_session, "big")
    values = [1.0 + (i % 7) * 0.01 for i in range(3000)]
    series = make_history(db_session, project, {"b": values})["b"]
    make_alert(db_session, series, 2001)
    url = f"/p/big/series/{series.id}/points.json"
    overview = client.get(f"{url}?max=200").json
    zoom = client.get(f"{url}?max=200&start=1990&end=2010").json
    assert overview["points"]["i"][0] == 0 and zoom["points"]["i"] == list(range(1990, 2010))
    assert zoom["points"]["sha"][10] == sha(2001) and zoom["alerts"][0]["i"] == 2000
    assert client.get(f"{url}?max=200").json == overview


def test_point_tables_page_newest_first(client, history) -> None:  # type: ignore[no-untyped-def]
    fast = history["series"]["fast"]
    page = client.get(f"/p/proj/benchmarks/{fast.benchmark_id}").get_data(as_text=True)
    assert page.count('<tr class="marked">') + page.count("<tr>\n  <td") >= 20
    assert f"/p/proj/series/{fast.id}/points" in page
    table = client.get(f"/p/proj/series/{fast.id}/points").get_data(as_text=True)
    assert "Points 1–40 of 40, newest first" in table
    assert table.index(">commit 40<") < table.index(">commit 1<")
    assert "regression +20.0% (untriaged)" in table
    assert client.get(f"/p/proj/series/{fast.id}/points?page=2").status_code == 404
    assert client.get("/p/proj/series/999999/points").status_code == 404
    xss = client.get(f"/p/proj/series/{history['series']['fast'].id}/points")
    assert "<img src=x" not in xss.get_data(as_text=True)


def test_plot_library_route(client, history, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fast = history["series"]["fast"]
    monkeypatch.setattr(vendor, "VENDOR_DIR", tmp_path)
    url = f"/vendor/uplot/{vendor.PLOT_VERSION}/uPlot.iife.min.js"
    missing = client.get(url)
    assert missing.status_code == 503 and "scripts/install-assets" in missing.get_data(as_text=True)
    page = client.get(f"/p/proj/benchmarks/{fast.benchmark_id}").get_data(as_text=True)
    assert "run <code>scripts/install-assets</code>" in page and "trend.js" not in page
    for name in vendor.PLOT_FILES:
        (tmp_path / name).write_text("/* uplot */")
    (tmp_path / "VERSION").write_text(f"uplot@{vendor.PLOT_VERSION}\n")
    served = client.get(url)
    assert served.status_code == 200 and served.mimetype == "text/javascript"
    assert "immutable" in served.headers["Cache-Control"]
    served.close()
    assert client.get("/vendor/uplot/0.0.1/uPlot.iife.min.js").status_code == 404
    assert client.get(f"/vendor/uplot/{vendor.PLOT_VERSION}/VERSION").status_code == 404
