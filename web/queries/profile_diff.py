"""Where the instructions went: the functions whose counts changed most between two profiles.

Pure: two ``runner.schema.Profile`` values in, rows out. Functions are matched
by (name, file); one that is missing from a side counts 0 there (new code, or
code that fell out of that side's kept top functions). Rows are ordered by
the size of the change in the function's own (self) instructions, where a
slower function shows itself; its callers' inclusive counts move by as much,
and follow it by their inclusive change.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.schema import Profile, ProfileFunction

DEFAULT_ROWS = 20


@dataclass(frozen=True)
class FunctionChange:
    """One function's instructions in the baseline and the candidate profile."""

    function: str
    file: str
    line: int
    self_before: int
    self_after: int
    inclusive_before: int
    inclusive_after: int

    @property
    def self_change(self) -> int:
        return self.self_after - self.self_before

    @property
    def inclusive_change(self) -> int:
        return self.inclusive_after - self.inclusive_before

    @property
    def self_rel(self) -> float | None:
        """Relative change of the self count; None for a function new in the candidate."""
        return self.self_change / self.self_before if self.self_before else None


@dataclass(frozen=True)
class ProfileDiff:
    """The top changed functions and both totals (the whole counted call)."""

    total_before: int
    total_after: int
    rows: tuple[FunctionChange, ...]

    @property
    def total_change(self) -> int:
        return self.total_after - self.total_before

    def share(self, row: FunctionChange) -> float | None:
        """The row's self change as a fraction of the total change (None when it is 0)."""
        return row.self_change / self.total_change if self.total_change else None


def diff_profiles(before: Profile, after: Profile, limit: int = DEFAULT_ROWS) -> ProfileDiff:
    """The ``limit`` functions whose instructions changed most from ``before`` to ``after``."""
    old = {(f.function, f.file): f for f in before.functions}
    new = {(f.function, f.file): f for f in after.functions}
    changes = [_change(old.get(key), new.get(key)) for key in {**old, **new}]
    moved = [c for c in changes if c.self_change or c.inclusive_change]
    moved.sort(key=lambda c: (-abs(c.self_change), -abs(c.inclusive_change), c.function, c.file))
    return ProfileDiff(before.total, after.total, tuple(moved[:limit]))


def _change(old: ProfileFunction | None, new: ProfileFunction | None) -> FunctionChange:
    either = new or old
    assert either is not None
    return FunctionChange(
        function=either.function,
        file=either.file,
        line=either.line,
        self_before=old.self_instructions if old else 0,
        self_after=new.self_instructions if new else 0,
        inclusive_before=old.inclusive_instructions if old else 0,
        inclusive_after=new.inclusive_instructions if new else 0,
    )
