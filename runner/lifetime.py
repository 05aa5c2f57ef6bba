"""Child processes that do not outlive the command that started them.

`benchwarden up` and `benchwarden demo` start their workers as children. If the
parent is killed with SIGKILL it cannot stop them, and a restart would start a
second set beside the orphans. A child started with ``PARENT_ENV`` set asks the
kernel (``prctl(PR_SET_PDEATHSIG)``) for SIGTERM when its parent dies, which
Celery answers with its warm shutdown.
"""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Mapping

PARENT_ENV = "BENCHWARDEN_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def die_with_parent(environ: Mapping[str, str] | None = None) -> bool:
    """Arrange SIGTERM on the parent's death when ``PARENT_ENV`` names the parent.

    Returns whether it was arranged. If the parent is already gone (it died
    before the request was made), the process sends itself SIGTERM at once.
    The variable is removed from ``os.environ``: the worker's own children (a
    job's suite) have another parent and must not inherit the request.
    """
    env = os.environ if environ is None else environ
    expected = env.get(PARENT_ENV, "")
    os.environ.pop(PARENT_ENV, None)
    if not expected.isascii() or not expected.isdigit():
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):  # not Linux: nothing to arrange
        return False
    if os.getppid() != int(expected):
        os.kill(os.getpid(), signal.SIGTERM)
    return True
