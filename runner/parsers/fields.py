"""Typed access to parsed JSON: every wrong type becomes a ParseError naming the place.

Parsers read untrusted documents; indexing them directly would turn a wrong
type into a KeyError or TypeError deep inside a parser. `Reader` checks each
value as it is read and says which field of which benchmark was wrong.
"""

from __future__ import annotations

import math
from typing import Any

from runner.parsers.errors import ParseError


def param_text(value: object) -> str:
    """A parameter value as the text a user would recognise.

    Integral floats lose their ``.0`` so that ``16``, ``16.0`` and ``1.6e1``
    (which tools and JSON encoders write interchangeably) name one parameter value.
    """
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return str(value)


class Reader:
    """Checked getters for one format; errors carry the format's name."""

    def __init__(self, format: str) -> None:
        self.format = format

    def error(self, reason: str) -> ParseError:
        """A ParseError for this format (to raise)."""
        return ParseError(reason, format=self.format)

    def obj(self, value: object, where: str) -> dict[str, Any]:
        """`value` as a JSON object."""
        if not isinstance(value, dict):
            raise self.error(f"{where} must be an object, not {_kind(value)}")
        return value

    def array(self, value: object, where: str) -> list[Any]:
        """`value` as a JSON array."""
        if not isinstance(value, list):
            raise self.error(f"{where} must be an array, not {_kind(value)}")
        return value

    def string(self, value: object, where: str) -> str:
        """`value` as a non-empty string."""
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{where} must be a non-empty string, not {_kind(value)}")
        return value

    def opt_string(self, value: object, where: str) -> str | None:
        """`value` as a string, or None when absent/null."""
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(f"{where} must be a string, not {_kind(value)}")
        return value

    def num(self, value: object, where: str) -> float:
        """`value` as a number (NaN and infinities allowed; callers decide)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"{where} must be a number, not {_kind(value)}")
        try:
            return float(value)
        except OverflowError:
            raise self.error(f"{where} is too large") from None

    def finite(self, value: object, where: str) -> float:
        """`value` as a finite number."""
        number = self.num(value, where)
        if not math.isfinite(number):
            raise self.error(f"{where} must be a finite number, not {number}")
        return number

    def opt_num(self, value: object, where: str) -> float | None:
        """`value` as a finite number, or None when absent, null, NaN or infinite."""
        if value is None:
            return None
        number = self.num(value, where)
        return number if math.isfinite(number) else None

    def opt_finite(self, value: object, where: str) -> float | None:
        """`value` as a finite number, None when absent/null; NaN or infinite is an error."""
        return None if value is None else self.finite(value, where)

    def opt_int(self, value: object, where: str) -> int | None:
        """`value` as a non-negative integer, or None when absent/null (NaN is an error)."""
        number = self.opt_finite(value, where)
        if number is None:
            return None
        if number < 0 or not number.is_integer():
            raise self.error(f"{where} must be a non-negative integer, not {number}")
        return int(number)

    def nums(self, value: object, where: str) -> list[float]:
        """`value` as an array of finite numbers."""
        items = self.array(value, where)
        return [self.finite(item, f"{where}[{i}]") for i, item in enumerate(items)]


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", list: "an array", dict: "an object"}
    for type_, name in names.items():
        if isinstance(value, type_):
            return name
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__
