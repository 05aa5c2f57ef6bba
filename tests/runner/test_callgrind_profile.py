"""Per-function profiles from callgrind dumps: the parser on a real dump, and a real run.

``tests/fixtures/callgrind/work.callgrind`` is a dump written by valgrind for the
tiny C extension suite beside it (``python3 -m tests.fixtures.callgrind.measured``
makes it again). The end-to-end test measures two commits of that suite, the
second with ``encode`` made slower, and asks the diff which function it was.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from runner.callgrind.callgrind_profile import ProfileError, parse_profile
from runner.schema import ParseOutput, Profile, ProfileFunction, ResultRecord
from tests.fixtures.callgrind.measured import FIXTURE, HERE, measure_sides, tree
from web.queries.profile_diff import diff_profiles

DUMP = FIXTURE.read_bytes()
needs_valgrind = pytest.mark.skipif(
    not Path("/usr/include/valgrind/callgrind.h").exists(), reason="needs valgrind (scripts/test)"
)


def _by_name(profile: Profile) -> dict[str, ProfileFunction]:
    return {f.function: f for f in profile.functions}


def _source_line(name: str) -> int:
    """The line of work.c where function ``name`` is defined."""
    lines = (HERE / "work.c").read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if re.search(rf"\b{name}\(long", text))


def test_self_counts_add_up_to_the_dump_total() -> None:
    profile = parse_profile(DUMP, keep=(10_000, 10_000))
    totals = re.search(rb"^totals: (\d+)", DUMP, re.MULTILINE)
    assert totals is not None
    assert profile.total == int(totals.group(1))
    assert sum(f.self_instructions for f in profile.functions) == profile.total


def test_functions_are_named_with_their_file_and_line() -> None:
    functions = _by_name(parse_profile(DUMP))
    for name in ("encode", "checksum", "mix", "fib"):
        found = functions[name]
        assert found.file.endswith("/work.c")
        # the first line with a cost: the definition's line or the next one
        assert 0 <= found.line - _source_line(name) <= 1


def test_self_and_inclusive_follow_the_calls() -> None:
    functions = _by_name(parse_profile(DUMP))
    encode, checksum, mix = functions["encode"], functions["checksum"], functions["mix"]
    # encode calls nothing: its inclusive count is its own
    assert encode.inclusive_instructions == encode.self_instructions
    # checksum calls mix 3000 times: inclusive is its own loop plus every mix
    assert checksum.inclusive_instructions == (
        checksum.self_instructions + mix.inclusive_instructions
    )
    assert mix.self_instructions == 3000 * 5


def test_recursion_levels_merge_into_one_function() -> None:
    assert b"fib'2" in DUMP, "callgrind separates fib's recursion levels"
    functions = _by_name(parse_profile(DUMP))
    assert "fib'2" not in functions
    fib = functions["fib"]
    # a call from fib to fib'2 is inside fib's own count, not added twice
    assert fib.inclusive_instructions == fib.self_instructions


def test_only_the_top_functions_are_kept() -> None:
    everything = parse_profile(DUMP, keep=(10_000, 10_000))
    small = parse_profile(DUMP, keep=(3, 2))
    assert len(everything.functions) > 50
    assert 3 <= len(small.functions) <= 5
    top = sorted(everything.functions, key=lambda f: -f.inclusive_instructions)[:3]
    assert {f.function for f in top} <= {f.function for f in small.functions}
    assert "encode" in {f.function for f in small.functions}, "the top self count is kept"
    assert small.total == everything.total


def test_a_profile_is_small_on_the_wire() -> None:
    profile = parse_profile(DUMP)
    assert len(profile.model_dump_json()) < 40_000


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"not a dump\n",
        b"# callgrind format\nevents: Ir\nfn=(7)\n1 5\n",  # an id never defined
        b"# callgrind format\nevents: Ir\n1 5\n",  # a cost outside any function
        b"# callgrind format\nevents: Ir\nfn=(1) f\ncfn=(2) g\ncalls=1 0\n",  # cut short
        b"# callgrind format\nevents: Ir\nfn=(1) f\n1 lots\n",
    ],
)
def test_what_is_not_a_dump_is_refused(text: bytes) -> None:
    with pytest.raises(ProfileError):
        parse_profile(text)


def test_parse_time_is_linear() -> None:
    """A dump of 100,000 functions parses in well under a second per 10 MB."""
    body = b"".join(
        b"fn=(%d) f%d\n1 3\ncfn=(%d) f%d\ncalls=1 1\n1 7\n" % (i, i, i + 1, i + 1)
        for i in range(100_000)
    )
    text = b"# callgrind format\nevents: Ir\n" + body + b"fn=(100000)\n1 1\n"
    started = time.perf_counter()
    profile = parse_profile(text)
    assert time.perf_counter() - started < 5.0
    assert profile.total == 300_001


def test_records_without_a_profile_read_and_serialize_as_before() -> None:
    plain = ResultRecord(name="b", measure="instructions", unit="instructions", value=1.0)
    assert "profile" not in plain.model_dump()
    assert "profile" not in plain.model_dump_json()
    with_profile = plain.model_copy(update={"profile": parse_profile(DUMP)})
    document = ParseOutput(format="x", runs=[{"results": [with_profile]}]).model_dump_json()
    again = ParseOutput.model_validate_json(document).runs[0].results[0]
    assert again.profile == with_profile.profile


@needs_valgrind
def test_a_real_run_names_the_function_that_was_made_slower(tmp_path: Path) -> None:
    fast, slow = tree(tmp_path / "fast", encode_rounds=1), tree(tmp_path / "slow", encode_rounds=2)
    started = time.perf_counter()
    sides = measure_sides([fast, slow], tmp_path / "work")
    assert time.perf_counter() - started < 120
    profiles = []
    for side in sides:
        assert side.errors == []
        records = {r.name: r for r in side.records()}
        assert sorted(records) == ["test_checksum_only", "test_pipeline"]
        for record in records.values():
            assert record.measure == "instructions"
            assert record.profile is not None, "each count comes with its own profile"
            assert record.profile.total == pytest.approx(record.value, rel=0.01)
        # each benchmark gets the profile of its own dumps
        alone = _by_name(records["test_checksum_only"].profile)  # type: ignore[arg-type]
        assert "checksum" in alone and "encode" not in alone
        profiles.append(records["test_pipeline"].profile)
    before, after = profiles
    assert before is not None and after is not None
    diff = diff_profiles(before, after, limit=100)
    first = diff.rows[0]
    assert first.function == "encode"
    assert first.file == "work.c" and first.line == _source_line("encode") + 1
    assert first.self_after == pytest.approx(2 * first.self_before, rel=0.01)
    # the whole slowdown is encode's own: its callers' inclusive counts move with it
    assert first.self_change == pytest.approx(diff.total_change, rel=0.02)
    caller = next(r for r in diff.rows if r.function == "py_encode")
    assert caller.self_change == 0
    assert caller.inclusive_change == pytest.approx(first.self_change, rel=0.01)
