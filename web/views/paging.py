"""Page numbers for the dashboard's long tables (benchmarks, a series' points).

A page number that is not a positive whole number reads as page 1, so a
mangled link still shows something; a page past the end is a 404 that says
how many pages there are, so a stale link does not look like an empty table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import abort, request

from web.api.params import whole_number


@dataclass(frozen=True)
class Pager:
    page: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def requested_page() -> int:
    return whole_number(request.args.get("page")) or 1


def pager(total: int, size: int, what: str) -> Pager:
    """The reader's page of ``total`` rows; 404 when it lies past the last one."""
    found = Pager(requested_page(), size, total)
    if found.page > found.pages:
        abort(404, description=f"There are {found.pages} page(s) of {what}.")
    return found
