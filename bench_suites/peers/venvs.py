"""Create (once) and locate the peers' virtual environments under bench_suites/.venvs/.

Each peer pins numpy differently (apache-otava 0.8.0 needs numpy==2.2.0,
signal-processing-algorithms needs numpy<2), so each gets its own venv.
Usage: python bench_suites/peers/venvs.py [NAME ...]  (creates them).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENVS = ROOT / "bench_suites" / ".venvs"
RUNNER = Path(__file__).resolve().parent / "run_peer.py"
REQUIREMENTS = {
    "otava": ["apache-otava==0.8.0"],
    "mongodb": ["signal-processing-algorithms==2.1.6"],
}
# method name in run_peer.py -> venv name (None: the current interpreter)
METHOD_VENV = {
    "otava": "otava",
    "mongodb": "mongodb",
    "ruptures-binseg": None,
    "ruptures-pelt": None,
}


def python_for(method: str, create: bool = True) -> tuple[str | None, str]:
    """(interpreter path, reason): the interpreter that can run ``method``, or
    None and the reason it cannot."""
    venv = METHOD_VENV[method]
    if venv is None:
        probe = subprocess.run([sys.executable, "-c", "import ruptures"], capture_output=True)
        if probe.returncode != 0:
            return None, "ruptures is not installed in this environment (pip install ruptures)"
        return sys.executable, ""
    return ensure(venv, create)


def ensure(name: str, create: bool = True) -> tuple[str | None, str]:
    """Create venv ``name`` with its requirements if missing; (python, reason)."""
    python = VENVS / name / "bin" / "python"
    marker = VENVS / name / ".installed"
    if marker.exists():
        return str(python), ""
    if not create:
        return None, f"venv {name} not created (run python bench_suites/peers/venvs.py {name})"
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(VENVS / name)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *REQUIREMENTS[name]],
            check=True,
            capture_output=True,
            timeout=900,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        tail = detail.decode(errors="replace").strip().splitlines()[-1:] if detail else []
        return None, f"could not install {name}: {exc} {' '.join(tail)}"
    marker.write_text("ok\n")
    return str(python), ""


if __name__ == "__main__":
    for venv_name in sys.argv[1:] or list(REQUIREMENTS):
        print(venv_name, ensure(venv_name))
