"""Workloads measured by the demo suite.

The demo history plants performance changes by editing one constant:
``WORK_SIZE`` scales ``checksum`` linearly, so multiplying it by 1.15 is a ~15%
slowdown of ``test_checksum`` and by 0.9 a ~10% improvement, while
``test_sort_words`` is unaffected (a control that must not alert).
"""

WORK_SIZE = 20_000


def checksum(size: int = WORK_SIZE) -> int:
    """A loop whose cost is proportional to ``size``."""
    total = 0
    for i in range(size):
        total = (total * 31 + i) & 0xFFFFFFFF
    return total


def sort_words(count: int = 2_000) -> list[str]:
    """Sort pseudo-random words; independent of WORK_SIZE."""
    words = [format((i * 2654435761) & 0xFFFFFF, "x") for i in range(count)]
    return sorted(words)
