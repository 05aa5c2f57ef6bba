"""Result-format parsers: bytes or paths in, `runner.schema.ParseOutput` out.

Public API (the CLI and the ingest API code against exactly this)::

    ParseError                       bad input; message names the format tried
    FORMATS                          format names accepted by --format
    detect_format(data, filename)    content-based detection
    parse_bytes(data, format=, filename=)
    parse_path(path, format=)        files, .json.gz, asv results and criterion directories

All functions are pure: no network, no database, no global state. Contract of
the output: time in seconds (unit ``s``), memory in bytes (unit ``B``), every
record has a direction, and within one run no two records share
(suite, name, params, measure). Any input that cannot be read raises
`ParseError`, never another exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from runner.parsers import (
    asv,
    bmf,
    criterion,
    gab_custom,
    go_bench,
    google_benchmark,
    hyperfine,
    jmh,
    native,
    pyperf,
    pytest_benchmark,
)
from runner.parsers.detect import detect
from runner.parsers.errors import ParseError
from runner.parsers.records import check_unique
from runner.parsers.source import Source
from runner.schema import ParsedRun, ParseOutput

__all__ = ["FORMATS", "ParseError", "detect_format", "parse_bytes", "parse_path"]

_PARSERS: dict[str, Callable[[Source], list[ParsedRun]]] = {
    pytest_benchmark.FORMAT: pytest_benchmark.parse,
    asv.FORMAT: asv.parse,
    google_benchmark.FORMAT: google_benchmark.parse,
    hyperfine.FORMAT: hyperfine.parse,
    pyperf.FORMAT: pyperf.parse,
    criterion.FORMAT: criterion.parse,
    go_bench.FORMAT: go_bench.parse,
    bmf.FORMAT: bmf.parse,
    gab_custom.SMALLER: gab_custom.parse_smaller,
    gab_custom.BIGGER: gab_custom.parse_bigger,
    jmh.FORMAT: jmh.parse,
}

FORMATS: tuple[str, ...] = (*_PARSERS, native.FORMAT)


def detect_format(data: bytes, filename: str | None = None) -> str:
    """The name of the format `data` is written in, judged by its content.

    `filename` only breaks ties the content cannot (the direction of
    github-action-benchmark custom files). Raises ParseError
    ``"not a supported format: ..."`` when no supported format matches, naming
    the format when it is a known but unsupported one (e.g. Catch2 console text).
    """
    return detect(Source.from_bytes(data, filename))


def parse_bytes(
    data: bytes, *, format: str | None = None, filename: str | None = None
) -> ParseOutput:
    """Parse the bytes of one result file (gzip is decompressed transparently).

    `format` skips detection; it must be one of FORMATS. `filename` may help
    naming (a Criterion ``estimates.json`` path) and tie-breaking, never more.
    """
    with _schema_errors():
        src = Source.from_bytes(data, filename)
        return _parse_source(src, format)


def parse_path(path: Path, *, format: str | None = None) -> ParseOutput:
    """Parse a result file or directory.

    Directories: an asv results directory (or the project or machine directory
    around it) gives one run per result file; a ``target/criterion`` directory
    gives one run. An asv result file is read with the ``benchmarks.json`` and
    ``machine.json`` beside it when present. Unreadable paths raise ParseError.
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise _unknown_format(format)
    with _schema_errors():
        if path.is_dir():
            return _parse_directory(path, format)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ParseError(f"cannot read {path}: {exc.strerror or exc}") from None
        src = Source.from_bytes(data, str(path))
        chosen = format or detect(src)
        if chosen == asv.FORMAT and _is_asv_result(src):
            return _output(asv.FORMAT, asv.parse_result_path(path))
        return _parse_source(src, chosen)


@contextmanager
def _schema_errors() -> Iterator[None]:
    """Every record a parser builds is checked by the wire schema; a violation a
    parser did not word itself (a NUL in a commit field, say) is a ParseError too."""
    try:
        yield
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise ParseError(f"{exc.title}: {where}: {problem['msg']}") from None


def _output(format: str, runs: list[ParsedRun]) -> ParseOutput:
    check_unique(runs, format)
    return ParseOutput(format=format, runs=runs)


def _parse_source(src: Source, format: str | None) -> ParseOutput:
    chosen = format or detect(src)
    if chosen == native.FORMAT:
        output = native.parse(src)
        check_unique(output.runs, native.FORMAT)
        return output
    parser = _PARSERS.get(chosen)
    if parser is None:
        raise _unknown_format(chosen)
    return _output(chosen, parser(src))


def _parse_directory(path: Path, format: str | None) -> ParseOutput:
    if format in (None, asv.FORMAT) and _looks_like_asv_dir(path):
        return _output(asv.FORMAT, asv.parse_directory(path))
    if format in (None, criterion.FORMAT) and any(path.rglob("new/estimates.json")):
        return _output(criterion.FORMAT, criterion.parse_directory(path))
    tried = format or "asv and criterion"
    raise ParseError(f"{path} is a directory but not a results directory ({tried} tried)")


def _looks_like_asv_dir(path: Path) -> bool:
    return any(
        (candidate / name).is_file()
        for candidate in (path, path / "results")
        for name in ("benchmarks.json", "machine.json")
    )


def _is_asv_result(src: Source) -> bool:
    doc = src.json_or_none
    return isinstance(doc, dict) and isinstance(doc.get("results"), dict)


def _unknown_format(format: str) -> ParseError:
    return ParseError(f"unknown format {format!r}; choose one of: {', '.join(FORMATS)}")
