"""A result's per-function profile, kept compressed beside the result it explains.

One row per result that came with a profile (an ``instructions`` record
counted under callgrind). ``data`` is the zlib-compressed JSON of
``runner.schema.Profile``: a few kilobytes, read whole and only for one alert
or one comparison, so it is never queried by column. Old rows are pruned by
``web.services.profiles.prune_profiles`` (the project's ``profile_commits``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from web.models.base import Base


class ResultProfile(Base):
    __tablename__ = "result_profile"

    result_id: Mapped[int] = mapped_column(
        ForeignKey("result.id", ondelete="CASCADE"), primary_key=True
    )
    # instructions of the whole counted call, and how many functions were kept
    total: Mapped[int] = mapped_column(BigInteger)
    function_count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
