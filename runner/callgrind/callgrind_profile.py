"""Per-function profile of one benchmark from one callgrind dump.

Reads callgrind's out format (https://valgrind.org/docs/manual/cl-format.html)
in one pass, in linear time, into a small :class:`~runner.schema.Profile`:
each function's self instructions (cost lines under its ``fn=``) and
inclusive instructions (self plus the cost of the calls it makes, the line
after each ``calls=``), with its source file and first line from the debug
info. Only the most expensive functions are kept (``keep``), so a profile
stays a few kilobytes however big the program.

Name compression: ``fn=(12) name`` defines id 12, a later ``fn=(12)`` refers
to it; files (``fl fi fe cfi cfl``), functions (``fn cfn``) and objects
(``ob cob``) each have their own table. Callgrind separates recursion levels
into ``name'2``: they are merged back into ``name``, and a call from one level
to another is not added to the inclusive count a second time.

(Named so that nothing shadows the standard library's ``profile``: this
directory is on the measured suite's PYTHONPATH, for the plugin beside it.)

Callgrind sees native code: for a Python benchmark on CPython 3.11 that is the
interpreter's and C extensions' functions (``list_sort``, ``PyUnicode_Join``,
a project's own extension), not the Python functions on the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runner.schema import MAX_PROFILE_FUNCTIONS, Profile, ProfileFunction

UNKNOWN = "???"
# what is kept by default: the top functions by inclusive and by self count
KEEP_INCLUSIVE, KEEP_SELF = 150, 100
_NAMED = re.compile(r"^\((\d+)\)(?: (.*))?$")
_RECURSION = re.compile(r"'\d+$")
_TABLES = {
    "fl": "file",
    "fi": "file",
    "fe": "file",
    "cfi": "file",
    "cfl": "file",
    "fn": "fn",
    "cfn": "fn",
    "ob": "ob",
    "cob": "ob",
}


class ProfileError(ValueError):
    """The text is not a callgrind dump this parser can read."""


@dataclass
class _Function:
    name: str
    file: str
    line: int = 0
    own: int = 0
    calls: int = 0


@dataclass
class _State:
    tables: dict[str, dict[str, str]] = field(
        default_factory=lambda: {"file": {}, "fn": {}, "ob": {}}
    )
    functions: dict[tuple[str, str], _Function] = field(default_factory=dict)
    current: _Function | None = None
    object_name: str = ""
    file: str = UNKNOWN
    cost_file: str = UNKNOWN  # the file of the next cost lines (fi/fe: code inlined from it)
    called: str = ""
    pending_call: bool = False
    event: int = 0
    line: int = 0
    total: int | None = None


def parse_profile(
    data: bytes, keep: tuple[int, int] = (KEEP_INCLUSIVE, KEEP_SELF), root: str = ""
) -> Profile:
    """The profile of one dump: its total and its ``keep`` top functions (inclusive, self).

    Files under ``root`` (the measured work tree) are named relative to it, so
    the same function matches across commits checked out in different trees.
    Raises ProfileError on text that is not a callgrind dump or is cut short.
    """
    state = _State()
    lines = data.decode("utf-8", "replace").splitlines()
    if not lines or not lines[0].startswith(("# callgrind format", "version:")):
        raise ProfileError("not a callgrind dump (no '# callgrind format' header)")
    for number, raw in enumerate(lines, 1):
        try:
            _line(state, raw.strip())
        except (ValueError, IndexError) as exc:
            raise ProfileError(f"line {number}: {exc}") from None
    if state.pending_call:
        raise ProfileError("the dump ends inside a call")
    return _profile(state, keep, root.rstrip("/") + "/" if root else "")


def _line(state: _State, line: str) -> None:
    if not line or line.startswith("#"):
        return
    first = line[0]
    if first.isdigit() or first in "+-*":
        _cost(state, line)
        return
    key, sep, value = line.partition("=")
    if sep and key in _TABLES:
        _name(state, key, _resolve(state.tables[_TABLES[key]], value))
    elif sep and key == "calls":
        state.pending_call = True
    elif line.startswith("events:"):
        events = line.removeprefix("events:").split()
        state.event = events.index("Ir") if "Ir" in events else 0
    elif line.startswith(("totals:", "summary:")):
        counts = line.partition(":")[2].split()
        state.total = int(counts[state.event])  # totals: (the last line) wins


def _resolve(table: dict[str, str], value: str) -> str:
    """``(id) name`` defines, ``(id)`` refers; a plain name is itself."""
    match = _NAMED.match(value)
    if match is None:
        return value
    ident, name = match.groups()
    if name is not None:
        table[ident] = name
        return name
    if ident not in table:
        raise ValueError(f"name id ({ident}) used before it was defined")
    return table[ident]


def _name(state: _State, key: str, name: str) -> None:
    if key == "ob":
        state.object_name = name
    elif key == "fl":
        state.file = state.cost_file = name
    elif key in ("fi", "fe"):
        state.cost_file = name
    elif key == "fn":
        base = _RECURSION.sub("", name)
        file = state.file if state.file != UNKNOWN else state.object_name or UNKNOWN
        found = state.functions.get((base, file))
        if found is None:
            found = state.functions[(base, file)] = _Function(base, file)
        state.current = found
        state.cost_file = state.file
    elif key == "cfn":
        state.called = _RECURSION.sub("", name)
    # cfi/cfl and cob only say where a callee lives; costs in code inlined from
    # another file (fi/fe) still belong to the current function


def _cost(state: _State, line: str) -> None:
    fields = line.split()
    position = fields[0]
    if position == "*":
        line_number = state.line
    elif position[0] in "+-":
        line_number = state.line + int(position)
    else:
        line_number = int(position)
    state.line = line_number
    # a cost line may name fewer events than the header: missing ones are 0
    value = int(fields[1 + state.event]) if len(fields) > 1 + state.event else 0
    current = state.current
    if current is None:
        raise ValueError("a cost line before any fn=")
    if state.pending_call:
        state.pending_call = False
        if state.called != current.name:  # a call into itself is inside its own count
            current.calls += value
        return
    current.own += value
    if state.cost_file != current.file:
        return  # a line of another file (inlined code) is not where the function is
    if line_number and (current.line == 0 or line_number < current.line):
        current.line = line_number


def _profile(state: _State, keep: tuple[int, int], root: str) -> Profile:
    functions = [f for f in state.functions.values() if f.own or f.calls]
    by_inclusive = sorted(functions, key=lambda f: (-(f.own + f.calls), f.name))
    by_self = sorted(functions, key=lambda f: (-f.own, f.name))
    chosen: dict[tuple[str, str], _Function] = {}
    for f in [*by_inclusive[: keep[0]], *by_self[: keep[1]]]:
        chosen.setdefault((f.name, f.file), f)
    kept = sorted(chosen.values(), key=lambda f: (-(f.own + f.calls), f.name))
    total = state.total if state.total is not None else sum(f.own for f in functions)
    return Profile(
        total=total,
        functions=[
            ProfileFunction(
                function=f.name[:2000],
                file=f.file.removeprefix(root)[:1000] if root else f.file[:1000],
                line=min(f.line, 2**31 - 1),
                self_instructions=f.own,
                # mutual recursion (a -> b -> a'2) counts a nested call twice:
                # no function can have spent more than the whole count
                inclusive_instructions=min(f.own + f.calls, max(total, f.own)),
            )
            for f in kept[:MAX_PROFILE_FUNCTIONS]
        ],
    )
