"""The demo suite: pytest-benchmark tests over demo_pkg.work."""

from demo_pkg.work import checksum, sort_words


def test_checksum(benchmark):
    assert benchmark(checksum) >= 0


def test_sort_words(benchmark):
    assert len(benchmark(sort_words)) == 2_000
