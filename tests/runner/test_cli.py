"""The ``parse`` command: JSON on stdout, ``error: ...`` on stderr with status 2."""

from __future__ import annotations

import argparse
import json
import subprocess

import pytest

from runner.cli import add_parse_command, parse_command
from tests.runner.corpus import FIXTURES


def test_parse_command_prints_normalized_json(capsys: pytest.CaptureFixture[str]) -> None:
    status = parse_command(str(FIXTURES / "go-bench/bench.txt"), None)
    out = capsys.readouterr()
    assert status == 0 and out.err == ""
    doc = json.loads(out.out)
    assert doc["format"] == "go-bench"
    names = {r["name"] for r in doc["runs"][0]["results"]}
    assert "BenchmarkJoin/Ünicode_with_spaces" in names


def test_parse_command_on_an_asv_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_command(str(FIXTURES / "asv/results"), "asv") == 0
    assert len(json.loads(capsys.readouterr().out)["runs"]) == 2


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "unsupported/catch2-console.txt",
            "error: not a supported format: this looks like Catch2",
        ),
        ("does/not/exist.json", "error: cannot read"),
    ],
)
def test_parse_command_errors(capsys: pytest.CaptureFixture[str], path: str, message: str) -> None:
    assert parse_command(str(FIXTURES / path), None) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.startswith(message)


def test_registration_dispatches_to_parse(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchwarden")
    add_parse_command(parser.add_subparsers())
    args = parser.parse_args(["parse", str(FIXTURES / "bmf/bmf.json"), "--format", "bmf"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["format"] == "bmf"
    with pytest.raises(SystemExit):
        parser.parse_args(["parse", "x", "--format", "nope"])


def test_parse_into_a_closed_pipe_stops_quietly() -> None:
    """``benchwarden parse FILE | head`` ended in a BrokenPipeError traceback."""
    cmd = ["benchwarden", "parse", str(FIXTURES / "go-bench/bench.txt")]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # the reader is gone before the command writes anything
        err = child.stderr.read().decode()
        status = child.wait(timeout=120)
    assert status == 141  # as `cat big | head` reports for cat
    assert err == ""
