"""Read side of the backtest: a project's series and their stored points, chunk by chunk.

A replay reads ``series_point`` only (one point per commit, kept equal to the
results by `web.services.point_state`), never the raw results, so its cost is
the points, not the samples behind them.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import numpy as np
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from web.models import Series
from web.queries.points import PointColumns, stored_columns

# Series per read: bounds the memory of a replay (1,000 series x 1,000 points ~ 24 MB).
CHUNK = 1000


def project_series_ids(session: Session, project_id: int) -> list[int]:
    """Every series of the project, in id order."""
    query = select(Series.id).where(Series.project_id == project_id).order_by(Series.id)
    return [int(series_id) for series_id in session.scalars(query)]


def point_chunks(
    session: Session, series_ids: list[int], *, chunk: int = CHUNK
) -> Iterator[tuple[list[int], dict[int, PointColumns]]]:
    """(series ids, their stored points as arrays) per ``chunk`` series, in order; a series
    without stored points is absent from the mapping.

    On PostgreSQL with a session bound to an engine (the service, the CLI), the
    next chunk is read on a second connection while the caller works on the
    current one: the database packs points while Python replays the detector,
    which halves a 10,000-series replay. The points are then read in their own
    (repeatable-read) transaction, a snapshot of one moment for the whole replay.
    """
    chunks = [series_ids[start : start + chunk] for start in range(0, len(series_ids), chunk)]
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        for ids in chunks:
            yield ids, stored_columns(session, ids)
    elif isinstance(bind, Engine) and len(chunks) > 1:
        yield from _prefetched(bind, chunks)
    else:
        for ids in chunks:
            yield ids, _packed_columns(session, ids)


def _prefetched(
    engine: Engine, chunks: list[list[int]]
) -> Iterator[tuple[list[int], dict[int, PointColumns]]]:
    """`_packed_columns` of each chunk, read one chunk ahead by a thread on its own connection."""
    ready: queue.Queue[tuple[list[int], dict[int, PointColumns]] | BaseException] = queue.Queue(1)
    stop = threading.Event()

    def hand(item: tuple[list[int], dict[int, PointColumns]] | BaseException) -> bool:
        """Queue ``item`` unless the consumer has gone; False once it has."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            reader = engine.execution_options(isolation_level="REPEATABLE READ")
            with Session(reader) as session:
                for ids in chunks:
                    if not hand((ids, _packed_columns(session, ids))):
                        return
        except BaseException as exc:  # handed to the consumer, raised there
            hand(exc)

    thread = threading.Thread(target=read, name="backtest-points", daemon=True)
    thread.start()
    try:
        for _ in chunks:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _packed_columns(session: Session, series_ids: list[int]) -> dict[int, PointColumns]:
    """`stored_columns` with each series' columns packed by PostgreSQL into three byte strings.

    At 10,000,000 points the row-by-row fetch of `stored_columns` costs ~2 s per
    million points (a tuple and three Python numbers per point), and so does a
    COPY (one message per row). ``int8send``/``float8send`` give each value's
    8 big-endian bytes, ``string_agg`` joins a series', and numpy reads them as
    arrays and puts them in position order: one row per series crosses the wire.
    """
    if not series_ids:
        return {}
    query = text(
        "SELECT series_id,"
        " string_agg(int8send(position), ''::bytea),"
        " string_agg(int8send(commit_id), ''::bytea),"
        " string_agg(float8send(value), ''::bytea)"
        " FROM series_point WHERE series_id = ANY(:ids) GROUP BY series_id"
    )
    out: dict[int, PointColumns] = {}
    for series_id, positions, commits, values in session.execute(query, {"ids": series_ids}):
        # One aggregation pass feeds all three in the same row order; sorting by
        # position here spares the server a sort per series.
        at = np.frombuffer(positions, dtype=">i8").astype(np.int64)
        order = np.argsort(at, kind="stable")
        out[int(series_id)] = PointColumns(
            at[order],
            np.frombuffer(commits, dtype=">i8").astype(np.int64)[order],
            np.frombuffer(values, dtype=">f8").astype(np.float64)[order],
        )
    return out
