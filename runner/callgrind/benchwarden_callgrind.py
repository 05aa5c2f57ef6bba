"""pytest plugin: count each pytest-benchmark body's instructions under callgrind.

Loaded into a suite's own interpreter (``-p benchwarden_callgrind``, found through
PYTHONPATH) while the whole process runs under ``valgrind --tool=callgrind
--instr-atstart=no``: nothing is counted until a benchmark's measured call, so
interpreter and pytest start-up cost no instrumentation and do not dilute the
count. Around each call the plugin switches instrumentation on, zeroes the
counters and, after the call, writes a dump for that benchmark
(``CALLGRIND_DUMP_STATS_AT``); the runner reads the dumps back.

Dumps are named ``benchwarden:<n>``, n counting benchmarks in the order they
run; ``BENCHWARDEN_CALLGRIND_INDEX`` receives one JSON line per benchmark with
its n and its pytest-benchmark identity (name, fullname, params), written with
pytest-benchmark's own encoder so that the runner names the counts exactly as
it names the same benchmarks' times.

Each benchmark is called once uncounted (imports, caches and the interpreter's
specialisation settle) and then ``BENCHWARDEN_CALLGRIND_ROUNDS`` times counted,
one dump per round. The module imports only the standard library and pytest
(plus pytest-benchmark, which the suite loads anyway): it runs in the suite's
environment, where benchwarden itself is not installed.
"""

from __future__ import annotations

import ctypes
import gc
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

ROUNDS_VARIABLE = "BENCHWARDEN_CALLGRIND_ROUNDS"
LIBRARY_VARIABLE = "BENCHWARDEN_CALLGRIND_LIB"
INDEX_VARIABLE = "BENCHWARDEN_CALLGRIND_INDEX"
# The dump name's prefix: what tells the runner a dump holds one benchmark round.
DUMP_PREFIX = "benchwarden:"
WARMUP_DUMP = "benchwarden-warmup"


Arguments = tuple[tuple[Any, ...], dict[str, Any]]


class _Requests:
    """The compiled client requests (requests.c), loaded through ctypes."""

    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        lib.bw_dump.argtypes = [ctypes.c_char_p]
        self._lib = lib

    def running_on_valgrind(self) -> bool:
        return bool(self._lib.bw_running_on_valgrind())

    def counted(
        self,
        rounds: int,
        dump: str,
        target: Callable[..., Any],
        arguments: Callable[[], Arguments],
        teardown: Callable[..., Any] | None = None,
    ) -> Any:
        """Call ``target`` once to warm up, then ``rounds`` times with one dump each.

        The warm-up round is dumped too (under a name the runner ignores): it
        settles the target's caches and the interpreter's specialisation, and
        primes the ctypes calls around it, whose first use alone cost 300 k
        instructions (1.4% of the demo's checksum) in the first counted round.

        Only the call itself is counted: its arguments are made (a pedantic
        benchmark's ``setup``) before the counters are zeroed, and the garbage
        collector runs before and is off during the call, so a collection whose
        timing depends on earlier allocations does not land in one round and
        not the next (it moved the demo's counts by up to 2%). Instrumentation
        stays on across the rounds: switching it drops valgrind's translated
        code, which would cost more than the rounds themselves.
        """
        names = [WARMUP_DUMP.encode("ascii")] + [dump.encode("ascii")] * rounds
        self._lib.bw_instrument()
        try:
            result = None
            for name in names:
                args, kwargs = arguments()
                gc.collect()
                gc.disable()
                try:
                    self._lib.bw_zero()
                    result = target(*args, **kwargs)
                    self._lib.bw_dump(name)
                finally:
                    gc.enable()
                if teardown is not None:
                    teardown(*args, **kwargs)
        finally:
            self._lib.bw_uninstrument()
        return result


class _Index:
    """Numbers benchmarks as they run and writes each one's identity once."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._numbers: dict[str, int] = {}

    def dump_name(self, fixture: Any) -> str:
        from pytest_benchmark.utils import safe_dumps  # loaded by pytest only when measuring

        dumps: Callable[[object], str] = safe_dumps
        number = self._numbers.get(fixture.fullname)
        if number is None:
            number = self._numbers[fixture.fullname] = len(self._numbers)
            entry = {
                "number": number,
                "name": fixture.name,
                "fullname": fixture.fullname,
                "param": fixture.param,
                "params": fixture.params,
                "group": fixture.group,
            }
            with open(self._path, "a", encoding="utf-8") as out:
                out.write(dumps(entry) + "\n")
        return f"{DUMP_PREFIX}{number}"


def _mark_used(fixture: Any, mode: str) -> None:
    """Record the use as pytest-benchmark does: an unused fixture warns at teardown,
    which fails a suite that turns warnings into errors."""
    fixture._mode = mode


def pytest_configure(config: pytest.Config) -> None:
    import pytest  # the measured process's own pytest (TYPE_CHECKING above)

    path, index_path = os.environ.get(LIBRARY_VARIABLE), os.environ.get(INDEX_VARIABLE)
    if not path or not index_path:
        raise pytest.UsageError(f"{__name__} needs {LIBRARY_VARIABLE} and {INDEX_VARIABLE}")
    requests = _Requests(path)
    if not requests.running_on_valgrind():
        raise pytest.UsageError(f"{__name__} must run under valgrind --tool=callgrind")
    index = _Index(index_path)
    rounds = int(os.environ.get(ROUNDS_VARIABLE, "5"))
    from pytest_benchmark.fixture import BenchmarkFixture  # only once pytest configures

    def benchmark_call(self: Any, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        _mark_used(self, "benchmark(...)")
        return requests.counted(rounds, index.dump_name(self), function, lambda: (args, kwargs))

    def pedantic(
        self: Any,
        target: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        setup: Callable[[], Any] | None = None,
        teardown: Callable[..., Any] | None = None,
        **timing: Any,
    ) -> Any:
        # ``timing`` (rounds, warmup_rounds, iterations) shapes a timing: a count needs none
        def arguments() -> Arguments:
            made = setup() if setup is not None else None
            return made if made else (args, kwargs or {})

        _mark_used(self, "benchmark.pedantic(...)")
        return requests.counted(rounds, index.dump_name(self), target, arguments, teardown)

    # Replace the fixture's calls for this process only: under callgrind the
    # suite counts instructions and does not time anything.
    setattr(BenchmarkFixture, "__call__", benchmark_call)  # noqa: B010
    setattr(BenchmarkFixture, "pedantic", pedantic)  # noqa: B010
