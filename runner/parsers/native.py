"""The "benchwarden" format: the JSON of a `ParseOutput` itself.

Lets a client parse locally (an asv directory, a file the server cannot read)
and post the normalized JSON. The embedded ``format`` (the tool that produced
the results) is kept, so the service still knows where the numbers came from.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import FailFast, TypeAdapter, ValidationError

from runner.parsers.errors import ParseError
from runner.parsers.source import Source
from runner.schema import ParsedRun, ParseOutput, ResultRecord

FORMAT = "benchwarden"
_FIELDS = ("format", "runs")
_RESULTS: TypeAdapter[list[ResultRecord]] = TypeAdapter(Annotated[list[ResultRecord], FailFast()])
_SAMPLES: TypeAdapter[list[float]] = TypeAdapter(Annotated[list[float], FailFast()])


def sniff(doc: object) -> bool:
    """An object with exactly ``format`` (a string) and ``runs`` (an array)."""
    return (
        isinstance(doc, dict)
        and set(doc) == {"format", "runs"}
        and isinstance(doc["format"], str)
        and isinstance(doc["runs"], list)
    )


def parse(src: Source) -> ParseOutput:
    """Validate the document against the wire schema, stopping at the first error.

    pydantic collects every error of a document, and turning a million of them
    into Python objects takes seconds (a megabyte of ``{}``), while only the
    first is shown: lists are validated element by element up to the first
    failing one, and the few checks that can fail per element run first.
    """
    doc = src.json(FORMAT)
    try:
        if isinstance(doc, dict):
            extra = next((key for key in doc if key not in _FIELDS), None)
            if extra is not None:
                raise ParseError(f"{extra}: Extra inputs are not permitted", format=FORMAT)
            if isinstance(doc.get("runs"), list):
                doc = doc | {"runs": [_run(run, i) for i, run in enumerate(doc["runs"])]}
        return ParseOutput.model_validate(doc)
    except ValidationError as exc:
        raise _error(exc, ()) from None


def _run(run: object, index: int) -> ParsedRun:
    """One validated run, or a ParseError naming its first problem."""
    where: tuple[object, ...] = ("runs", index)
    if not isinstance(run, dict):
        raise ParseError(
            f"runs.{index}: Input should be a valid dictionary or instance of ParsedRun",
            format=FORMAT,
        )
    try:
        results = run.get("results")
        if isinstance(results, list):
            where = ("runs", index, "results")
            for number, result in enumerate(results):
                samples = result.get("samples") if isinstance(result, dict) else None
                if isinstance(samples, list):
                    where = ("runs", index, "results", number, "samples")
                    _SAMPLES.validate_python(samples)
            where = ("runs", index, "results")
            run = run | {"results": _RESULTS.validate_python(results)}
        where = ("runs", index)
        return ParsedRun.model_validate(run)
    except ValidationError as exc:
        raise _error(exc, where) from None


def _error(exc: ValidationError, prefix: tuple[object, ...]) -> ParseError:
    problem = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    where = ".".join(str(part) for part in (*prefix, *problem["loc"])) or "the document"
    return ParseError(f"{where}: {problem['msg']}", format=FORMAT)
