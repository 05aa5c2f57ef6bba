"""Per-series detection state kept between runs: one stored point per commit, and its version.

Detection used to re-read every result of a series and take a median per commit
on every run, so a run cost O(history). These rows hold the per-commit points
(``series_point``) and a version of them (``series_state``), so a run only
rewrites the points of the commits it measured and the detector state can be
cached per process and trusted while the version holds.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base, BigId


class SeriesPoint(Base):
    """The point of one commit in one series: the median of its ok results at that position.

    Keyed by position, as the detector's series is ordered; ``commit_id`` is the
    commit of the earliest result there, ``count`` how many results the median is over.
    """

    __tablename__ = "series_point"

    series_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    commit_id: Mapped[int] = mapped_column(ForeignKey("commit.id", ondelete="CASCADE"))
    value: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)


class SeriesState(Base):
    """How far a series' points are built, and a token for caches of them.

    ``epoch`` is a random token replaced whenever a point other than a new last
    one is written (a re-run of an old commit, a commit placed in the middle):
    a cached detector state built under another epoch is stale. Appends keep the
    epoch; a cache catches up by reading the points after its last position.
    ``points`` < 0 means the points were never built from the results.
    """

    __tablename__ = "series_state"

    series_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("series.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    epoch: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(Integer)
    last_position: Mapped[int | None] = mapped_column(BigInteger)
