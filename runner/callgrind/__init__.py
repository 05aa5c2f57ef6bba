"""Per-benchmark instruction counts from one interpreter start, under callgrind.

The suite runs once under ``valgrind --tool=callgrind --instr-atstart=no`` with
the plugin beside this file loaded into pytest: instrumentation is switched on
only around each benchmark's measured call, so a 100-benchmark suite pays the
interpreter's and pytest's start-up once, uncounted, instead of once per
benchmark (about 10 G instructions and 30 s each under cachegrind). The client
requests that switch it are native code (``requests.c``), compiled once per
machine into the runner's cache; a machine without a C compiler or valgrind's
headers gets an error naming what to install.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from runner.callgrind.benchwarden_callgrind import (
    DUMP_PREFIX,
    INDEX_VARIABLE,
    LIBRARY_VARIABLE,
    ROUNDS_VARIABLE,
)

PLUGIN = "benchwarden_callgrind"
PLUGIN_DIR = Path(__file__).resolve().parent
_SOURCE = PLUGIN_DIR / "requests.c"
_TRIGGER = re.compile(rb"^desc: Trigger: Client Request: (\S+)$", re.MULTILINE)
_TOTALS = re.compile(rb"^totals: (\d+)", re.MULTILINE)


class CallgrindUnavailable(RuntimeError):
    """This machine cannot count instructions per benchmark; the message says what to install."""


def requests_library(cache: Path) -> Path:
    """The compiled client requests, built into ``cache`` on first use."""
    source = _SOURCE.read_bytes()
    target = cache / f"benchwarden-callgrind-{hashlib.sha256(source).hexdigest()[:16]}.so"
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise CallgrindUnavailable(
            "instruction counts need a C compiler to build valgrind's client requests"
            " (apt-get install gcc valgrind)"
        )
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    done = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(_SOURCE)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[:1]
        raise CallgrindUnavailable(
            "could not build valgrind's client requests (are valgrind's headers installed?"
            f" apt-get install valgrind): {' '.join(detail)}"
        )
    partial.replace(target)
    return target


@dataclass(frozen=True)
class CallgrindRun:
    """Where one counting process writes: its dumps, valgrind's log and the plugin's index."""

    directory: Path

    @property
    def index(self) -> Path:
        return self.directory / "index.jsonl"

    def prepare(self) -> None:
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)

    def prefix(self, path: str | None = None) -> list[str]:
        """valgrind's command line, found on ``path`` (the suite's PATH); children are
        followed, since a suite's ``python`` may be a shim that starts the real one."""
        valgrind = shutil.which("valgrind", path=path)
        if valgrind is None:
            raise CallgrindUnavailable("valgrind is not installed (apt-get install valgrind)")
        return [
            valgrind,
            "--tool=callgrind",
            "--instr-atstart=no",
            "--trace-children=yes",
            f"--callgrind-out-file={self.directory / 'callgrind.%p'}",
            f"--log-file={self.directory / 'valgrind.%p.log'}",
        ]

    def environment(self, library: Path, rounds: int) -> dict[str, str]:
        return {
            LIBRARY_VARIABLE: str(library),
            INDEX_VARIABLE: str(self.index),
            ROUNDS_VARIABLE: str(rounds),
        }

    def _rounds(self) -> list[tuple[int, int, int, int, Path]]:
        """(pid, part, benchmark number, instructions, dump) of every counted round, in order."""
        rounds: list[tuple[int, int, int, int, Path]] = []
        for path in self.directory.glob("callgrind.*"):
            pid, _, part = path.name.removeprefix("callgrind.").partition(".")
            if not part.isdigit() or not pid.isdigit():
                continue  # a process's final dump: nothing counted outside a benchmark
            text = path.read_bytes()
            trigger, totals = _TRIGGER.search(text), _TOTALS.search(text)
            if trigger is None or totals is None:
                continue
            name = trigger.group(1).decode("ascii", "replace")
            if not name.startswith(DUMP_PREFIX):
                continue
            number = int(name.removeprefix(DUMP_PREFIX))
            rounds.append((int(pid), int(part), number, int(totals.group(1)), path))
        return sorted(rounds)

    def counts(self) -> dict[int, list[int]]:
        """Instructions per counted round, by benchmark number, in the order counted."""
        out: dict[int, list[int]] = {}
        for _, _, number, total, _ in self._rounds():
            out.setdefault(number, []).append(total)
        return out

    def profile_dumps(self) -> dict[int, Path]:
        """The dump of each benchmark's first counted round, by benchmark number: the one
        its profile is read from (rounds count alike, so any one of them would do)."""
        out: dict[int, Path] = {}
        for _, _, number, _, path in self._rounds():
            out.setdefault(number, path)
        return out

    def benchmarks(self) -> list[dict[str, object]]:
        """The plugin's index: one pytest-benchmark identity per benchmark number."""
        if not self.index.exists():
            return []
        lines = self.index.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
