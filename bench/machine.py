"""What a benchmark ran on: the machine and the code.

Numbers from another machine, or another commit, are not comparable; every report starts with
this description so that a reader can tell.
"""

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Machine:
    """The machine and code a benchmark ran on."""

    cpu: str
    """CPU model name from /proc/cpuinfo."""
    cores: int
    """Logical cores this process may use."""
    memory_gib: float
    """Total memory."""
    os: str
    """Distribution and kernel."""
    python: str
    """Interpreter version and implementation."""
    commit: str
    """`git rev-parse --short HEAD`, with `-dirty` when the tree has changes."""

    def describe(self) -> str:
        """One line for a report."""
        return (
            f"{self.cpu}, {self.cores} cores, {self.memory_gib:.0f} GiB, {self.os}, "
            f"{self.python}, commit {self.commit}"
        )


def describe_machine() -> Machine:
    """Read the description of this machine and of the work tree."""
    return Machine(
        cpu=_cpu_model(),
        cores=len(os.sched_getaffinity(0)),
        memory_gib=_memory_kib() / 1024**2,
        os=f"{_os_name()} (Linux {platform.release()})",
        python=f"{platform.python_implementation()} {platform.python_version()}",
        commit=_commit(),
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_kib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _commit() -> str:
    head = _git("rev-parse", "--short", "HEAD")
    if head is None:
        return "none (no commit yet)"
    dirty = _git("status", "--porcelain")
    return f"{head}-dirty" if dirty else head


def _git(*args: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None
