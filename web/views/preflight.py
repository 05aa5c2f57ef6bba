"""A run's pre-flight checks as a checklist people can read (issue 16, item 5).

The runner records its checks in ``machine_snapshot.extra.preflight`` (the
fields of ``runner.preflight.Preflight``) with the problems it found as
sentences. Which check failed is read from those sentences, not judged again
here: the thresholds live in the runner alone, and a page showing a different
verdict than the runner acted on would mislead. A problem no check claims is
still listed, as its own failed line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from web.views.format import format_value

# check key -> (label, how a problem sentence about it starts), in the runner's order
CHECKS: tuple[tuple[str, str, str], ...] = (
    ("load_1m", "Load average", "load average"),
    ("governors", "CPU frequency governor", "CPU governor"),
    ("turbo", "Turbo boost", "turbo"),
    ("aslr", "Address-space randomisation (ASLR)", "ASLR"),
    ("free_bytes", "Free memory", "only "),
    ("busy_processes", "Other busy processes", ""),
)


@dataclass(frozen=True)
class Check:
    """One line of the checklist; ``passed`` is None when the OS did not say."""

    label: str
    value: str
    passed: bool | None
    problem: str | None = None


@dataclass(frozen=True)
class Checklist:
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    @property
    def noisy(self) -> bool:
        return bool(self.failed)


def _busy(value: Any) -> str:
    names = [str(v).split(":", 1)[-1] for v in value or []]
    if not names:
        return "none"
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{len(names)} ({shown})"


def _load(value: Any, facts: Mapping[str, Any]) -> str:
    cpus = facts.get("cpus")
    return f"{float(value):.2f}" + (f" on {cpus} CPUs" if cpus else "")


SHOW: dict[str, Callable[[Any, Mapping[str, Any]], str]] = {
    "load_1m": _load,
    "governors": lambda v, _f: ", ".join(str(g) for g in v),
    "turbo": lambda v, _f: "on" if v else "off",
    "aslr": lambda v, _f: "off" if not v else f"on (randomize_va_space={v})",
    "free_bytes": lambda v, _f: format_value(float(v), "B"),
    "busy_processes": lambda v, _f: _busy(v),
}


def _show(key: str, value: Any, facts: Mapping[str, Any]) -> str:
    """The value as its check shows it; a snapshot is client data, so odd types become text."""
    try:
        return SHOW[key](value, facts)
    except (TypeError, ValueError, OverflowError):
        return str(value)


def _claims(key: str, start: str, problem: str) -> bool:
    if key == "busy_processes":
        return "busy process" in problem
    if key == "free_bytes":
        return problem.startswith(start) and "memory free" in problem
    return problem.startswith(start)


def checklist(snapshot: Mapping[str, Any] | None) -> Checklist | None:
    """The run's checks, or None when the run recorded none (e.g. a CI upload)."""
    extra = snapshot.get("extra") if isinstance(snapshot, Mapping) else None
    facts = extra.get("preflight") if isinstance(extra, Mapping) else None
    if not isinstance(facts, Mapping):
        return None
    raw = facts.get("problems")
    problems = [str(p) for p in raw] if isinstance(raw, list) else []
    claimed: set[str] = set()
    checks = []
    for key, label, start in CHECKS:
        mine = [p for p in problems if _claims(key, start, p)]
        claimed.update(mine)
        value = facts.get(key)
        measured = value is not None and (key != "busy_processes" or isinstance(value, list))
        shown = _show(key, value, facts) if measured else "not reported by this OS"
        passed = False if mine else (True if measured else None)
        checks.append(Check(label, shown, passed, "; ".join(mine) or None))
    checks.extend(Check("Other", p, False, p) for p in problems if p not in claimed)
    return Checklist(checks)
