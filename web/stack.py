"""The whole service on one machine: web server, service worker and one runner worker.

Used by `benchwarden up` and `benchwarden demo`. The web app runs in this
process; the two Celery workers run as child processes, each in its own
process group so that stopping them also stops whatever they started. Stopping
is always by the PIDs started here: SIGTERM (Celery's warm shutdown), then
SIGKILL for anything left after a grace period.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from werkzeug.serving import make_server

from runner.lifetime import PARENT_ENV
from web import create_app, stack_pids
from web.config import Settings

READY_MARK = " ready."
GRACE_SECONDS = 15


class StackError(RuntimeError):
    """A part of the stack could not start; the message says which and shows its log."""


def _check_port_free(host: str, port: int) -> None:
    """Fail with a clear message before anything starts (werkzeug would exit the process)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise StackError(
                f"{host}:{port} is not free ({exc.strerror}); pass --port to use another"
            ) from None


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    log_start: int = 0

    def tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    """Start with :meth:`start`, stop with :meth:`stop` (idempotent)."""

    settings: Settings
    host: str = "127.0.0.1"
    port: int = 8080
    machine: str = "local"
    # Extra environment for the child processes (e.g. the runner's preflight policy).
    child_env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    _server: object | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, runner_token: str) -> Stack:
        _check_port_free(self.host, self.port)
        stopped = stack_pids.stop_leftovers(self.settings.data_dir, GRACE_SECONDS)
        if stopped:
            noun = "worker" if len(stopped) == 1 else "workers"
            message = f"stopped {len(stopped)} {noun} left running by an earlier start"
            print(message, file=sys.stderr)
        self.settings = replace(self.settings, base_url=self.url)
        # One line per request would bury what the command prints.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app = create_app(self.settings)
        server = make_server(self.host, self.port, app, threaded=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        env = self._child_env(runner_token)
        self._spawn("service-worker", ["service-worker", "--loglevel", "INFO"], env)
        self._spawn("runner", ["worker", "--machine", self.machine], env)
        stack_pids.record(self.settings.data_dir, [c.process.pid for c in self.children])
        for child in self.children:
            self._wait_ready(child)
        return self

    def _child_env(self, token: str) -> dict[str, str]:
        return {
            "BENCHWARDEN_DATA_DIR": str(self.settings.data_dir.resolve()),
            "BENCHWARDEN_DATABASE_URL": self.settings.database_url,
            "BENCHWARDEN_BROKER_URL": self.settings.broker_url,
            "BENCHWARDEN_BASE_URL": self.url,
            "BENCHWARDEN_URL": self.url,
            "BENCHWARDEN_TOKEN": token,
            "BENCHWARDEN_MACHINE": self.machine,
            PARENT_ENV: str(os.getpid()),
            **self.child_env,
        }

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"{name}.log"
        log = path.open("ab")
        start = log.tell()
        process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", *args],
            env=os.environ | env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append(Child(name, process, path, log, start))

    def _wait_ready(self, child: Child, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with child.log_path.open("rb") as handle:
                handle.seek(child.log_start)
                if READY_MARK.encode() in handle.read():
                    return
            if child.process.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise StackError(f"the {child.name} worker did not start:\n{child.tail()}")

    def dead_children(self) -> list[Child]:
        return [c for c in self.children if c.process.poll() is not None]

    def stop(self) -> None:
        # A second Ctrl-C while stopping must not leave half the children running.
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)
        for child in self.children:
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Whatever is left of the group (a hung pool child, a suite) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=5)
            child.log.close()
        if self.children:
            stack_pids.forget(self.settings.data_dir)
        self.children.clear()
        if self._server is not None:
            self._server.shutdown()  # type: ignore[attr-defined]
            self._server = None


def terminate_as_interrupt() -> None:
    """Make SIGTERM behave like Ctrl-C, so ``finally`` blocks stop the stack either way."""

    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def wait_for_signal(stack: Stack) -> None:
    """Block until Ctrl-C/SIGTERM or until a worker dies; then stop everything."""
    terminate_as_interrupt()
    try:
        while True:
            time.sleep(1.0)
            dead = stack.dead_children()
            if dead:
                print(f"the {dead[0].name} worker stopped:\n{dead[0].tail()}", file=sys.stderr)
                break
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
