"""The processes a benchmark measures: a real `openledger dev` node and the bare reference server.

Each is started the way a user starts it, on a free 127.0.0.1 port, with its output in a log
file; every wait has a deadline, and `stop` sends SIGTERM and waits for a clean exit.
"""

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
START_SECONDS = 60.0
STOP_SECONDS = 30.0

NODE_READY = re.compile(r"JSON-RPC listening on (http://[\d.]+:\d+)")
BARE_READY = re.compile(r"listening on (\d+)")


@dataclass
class ServerProcess:
    """A server process and where it answers."""

    process: subprocess.Popen[bytes]
    """The running process."""
    url: str
    """Its JSON-RPC endpoint."""
    log_path: Path
    """Its stdout and stderr."""

    @property
    def pid(self) -> int:
        """The process id (for profilers)."""
        return self.process.pid

    def stop(self) -> int:
        """SIGTERM, then wait; kill it if it does not exit in time. Returns the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                return self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(STOP_SECONDS)


def start_dev_node(
    datadir: Path,
    log_path: Path,
    accounts: int,
    chain_id: int | None = None,
    block_time: float | None = None,
) -> ServerProcess:
    """`openledger dev --http.port 0 --datadir DATADIR`; returns once it listens.

    `chain_id` (default: the dev node's own, 1337) lets it take transactions signed for another
    chain, such as the devnet's; `block_time` (default 0, automine) is `--block-time`.
    """
    script = Path(sys.executable).with_name("openledger")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "openledger.node.cli"]
    command += ["dev", "--http.port", "0", "--datadir", str(datadir), "--accounts", str(accounts)]
    if chain_id is not None:
        command += ["--chain-id", str(chain_id)]
    if block_time is not None:
        command += ["--block-time", f"{block_time:g}"]
    process = _start(command, log_path)
    return ServerProcess(process, _wait_for(process, log_path, NODE_READY), log_path)


def start_server(
    command: list[str],
    log_path: Path,
    ready: re.Pattern[str],
    url: str,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> ServerProcess:
    """Any JSON-RPC server (a reference node); returns once its log matches `ready`."""
    process = _start(command, log_path, cwd=cwd, env=env)
    _wait_for(process, log_path, ready)
    return ServerProcess(process, url, log_path)


def start_bare_server(log_path: Path) -> ServerProcess:
    """`bench/bare_server.py` in this Python; returns once it listens."""
    process = _start([sys.executable, str(BENCH / "bare_server.py")], log_path)
    port = _wait_for(process, log_path, BARE_READY)
    return ServerProcess(process, f"http://127.0.0.1:{port}", log_path)


def _start(
    command: list[str],
    log_path: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:
        return subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=None if env is None else {**os.environ, **env},
        )


def _wait_for(process: subprocess.Popen[bytes], log_path: Path, ready: re.Pattern[str]) -> str:
    name = Path(str(process.args[0])).name if isinstance(process.args, list) else "server"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        match = ready.search(log_path.read_text(errors="replace"))
        if match:
            return match.group(1 if match.re.groups else 0)
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_path.read_text()}")
        time.sleep(0.05)
    process.kill()
    process.wait(STOP_SECONDS)
    raise RuntimeError(f"{name} did not start within {START_SECONDS:g} s")


def compute_cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by process `pid`, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # Fields 14 and 15 of proc(5) (utime, stime), counted after the ")" that ends field 2.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compute_machine_busy_seconds() -> float:
    """CPU time all processes on the machine have used since boot (idle and iowait excluded)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is already inside user).
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return busy / os.sysconf("SC_CLK_TCK")
