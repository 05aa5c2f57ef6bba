"""The fingerprint of the machine this process runs on."""

from __future__ import annotations

import os
import platform

from runner.schema import MachineInfo


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def local_machine(name: str) -> MachineInfo:
    """Describe this machine under ``name``; fields the OS hides stay None."""
    return MachineInfo(
        name=name,
        cpu_model=_cpu_model(),
        cores=os.cpu_count(),
        memory_bytes=_memory_bytes(),
        os=f"{platform.system()} {platform.machine()}",
        kernel=platform.release(),
        python=platform.python_version(),
    )
