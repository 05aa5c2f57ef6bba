"""The detector's accuracy harness: synthetic families, TCPD scoring and the peers' table.

Kept out of the runtime package ``detector`` (the service never imports it):
run it with ``python -m bench_suites.accuracy.evaluate``.
"""
