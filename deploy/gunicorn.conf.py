"""gunicorn settings for the web app: ``gunicorn -c deploy/gunicorn.conf.py "web:create_app()"``.

With ``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory, emptied at every
service start), each worker writes its metrics there and ``/metrics`` sums them;
``child_exit`` tells prometheus-client when a worker is gone, so its live gauges
stop counting (its counters stay, as Prometheus expects).
"""

from __future__ import annotations

import os
from typing import Any

bind = os.environ.get("BENCHWARDEN_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("BENCHWARDEN_WEB_WORKERS", "4"))
worker_class = "gthread"
threads = 4
graceful_timeout = 30


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
