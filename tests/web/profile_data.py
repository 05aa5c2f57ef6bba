"""Result files whose instruction records carry a per-function profile, for the web tests."""

from __future__ import annotations

import json

from tests.factories import post_results, sha

# function -> (self, inclusive) instructions of a baseline profile
BASE_FUNCTIONS = {
    "run": (1_000, 100_000),
    "parse": (40_000, 60_000),
    "tokenize": (20_000, 20_000),
    "render": (39_000, 39_000),
}


def profile(functions: dict[str, tuple[int, int]]) -> dict[str, object]:
    return {
        "total": sum(own for own, _ in functions.values()),
        "functions": [
            {"function": name, "file": "pkg/core.py", "line": 10 * i + 1,
             "self_instructions": own, "inclusive_instructions": inclusive}
            for i, (name, (own, inclusive)) in enumerate(functions.items())
        ],
    }  # fmt: skip


def document(functions: dict[str, tuple[int, int]] | None, value: float = 1e5) -> bytes:
    """One run: ``bench`` counted in instructions (with the profile when given)."""
    record: dict[str, object] = {
        "suite": "suite", "name": "bench", "measure": "instructions",
        "unit": "instructions", "value": value,
        "samples": [value * (1 + 1e-5 * k) for k in range(-2, 3)],
    }  # fmt: skip
    if functions is not None:
        record["profile"] = profile(functions)
    return json.dumps({"format": "pytest-benchmark", "runs": [{"results": [record]}]}).encode()


def post(client, token: str, n: int, functions, value: float = 1e5, **metadata):  # type: ignore[no-untyped-def]
    parents = [sha(n - 1)] if n > 1 else []
    metadata = {"parents": parents, "machine": {"name": "m1"}} | metadata
    return post_results(client, token, sha(n), document(functions, value), **metadata)
