"""Where the shared benchmark-result corpus lives, and its manifest.

The corpus sits beside the repository (``<repo>/../shared/corpus``) and is read
in place, never copied into the repository.
"""

from __future__ import annotations

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO / ".." / "shared"
CORPUS = SHARED / "corpus"


def manifest_files() -> list[str]:
    """Corpus paths (relative to CORPUS) listed in manifest.tsv that exist on disk."""
    with (CORPUS / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    paths = [f"{row['format_dir']}/{row['file']}" for row in rows]
    return [p for p in paths if (CORPUS / p).is_file()]


def corpus_bytes(relative: str) -> bytes:
    """The bytes of one corpus file."""
    return (CORPUS / relative).read_bytes()
