"""The "benchwarden" format: the JSON of a `ParseOutput` itself.

Lets a client parse locally (an asv directory, a file the server cannot read)
and post the normalized JSON. The embedded ``format`` (the tool that produced
the results) is kept, so the service still knows where the numbers came from.
"""

from __future__ import annotations

from pydantic import ValidationError

from runner.parsers.errors import ParseError
from runner.parsers.source import Source
from runner.schema import ParseOutput

FORMAT = "benchwarden"


def sniff(doc: object) -> bool:
    """An object with exactly ``format`` (a string) and ``runs`` (an array)."""
    return (
        isinstance(doc, dict)
        and set(doc) == {"format", "runs"}
        and isinstance(doc["format"], str)
        and isinstance(doc["runs"], list)
    )


def parse(src: Source) -> ParseOutput:
    """Validate the document against the wire schema."""
    doc = src.json(FORMAT)
    try:
        return ParseOutput.model_validate(doc)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the document"
        raise ParseError(f"{where}: {problem['msg']}", format=FORMAT) from None
