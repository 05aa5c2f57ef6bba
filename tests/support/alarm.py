"""A wall-clock limit for code that might hang, by SIGALRM (main thread only)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


class Hang(Exception):
    """The limited code was still running when the alarm went off."""


@contextmanager
def time_limit(seconds: int, what: str = "the code") -> Iterator[None]:
    def _alarm(_signum: int, _frame: object) -> None:
        raise Hang(f"{what} ran longer than {seconds} s of wall-clock time")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
