"""What the soak does to the devnet and what it samples from it.

`sample_nodes` reads, for each node process, its resident memory (`VmRSS` of
/proc/PID/status), its open file descriptors (entries of /proc/PID/fd) and the size of its data
directory. `restart_validator` stops one validator (SIGTERM or SIGKILL), starts it again the way
`openledger devnet up` does, and times its return: RPC answering, head caught up, and its
precommit in a commit again.

The times are `time.perf_counter()` seconds, the clock `network_probes.HeadStream` stamps heads
with, so that the gaps between heights can be read for each restart's window.
"""

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from network_probes import HeadStream
from rpc_load import BenchmarkError, call

from openledger.node import devnet as devnet_lib
from openledger.node import devnet_processes

EXIT_SECONDS = 60.0
"""How long a stopped validator may take to exit before it is killed."""
POLL_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Sample:
    """One node, once."""

    seconds: float
    """Since the start of the run."""
    node: str
    pid: int | None
    """The node's process (None while it is not running)."""
    rss_kib: int | None
    fds: int | None
    disk_bytes: int
    """Apparent size of every file in the node's data directory."""


def sample_nodes(devnet: devnet_lib.Devnet, seconds: float) -> list[Sample]:
    """A sample of every node of `devnet`."""
    samples = []
    for node in devnet.nodes:
        pid = read_pid(devnet, node.name)
        rss = fds = None
        if pid is not None:
            try:
                rss = _read_rss_kib(pid)
                fds = len(os.listdir(f"/proc/{pid}/fd"))
            except (OSError, ValueError):
                pid = rss = fds = None
        datadir = devnet.directory / node.datadir
        samples.append(Sample(seconds, node.name, pid, rss, fds, compute_size(datadir)))
    return samples


def read_pid(devnet: devnet_lib.Devnet, name: str) -> int | None:
    """The pid `devnet up` recorded for node `name`, if that process still runs."""
    try:
        pid = int((devnet.directory / "logs" / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def compute_size(directory: Path) -> int:
    """Bytes of all regular files under `directory` (files that vanish meanwhile count 0)."""
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name), follow_symlinks=False).st_size
    return total


def _read_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for {pid}")


def _alive(pid: int) -> bool:
    """True while `pid` runs; reaps it when it is our exited child (devnet up's children are)."""
    try:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass(frozen=True, slots=True)
class Restart:
    """One validator stopped and started again; durations in seconds from the signal."""

    node: str
    signal: str
    """"SIGTERM" or "SIGKILL"."""
    at: float
    """When the signal was sent, in seconds since the start of the run."""
    height: int
    """The RPC node's head when the signal was sent."""
    exited: float
    """Until the process had exited."""
    answering: float
    """Until it answered RPC again (after `down_seconds` stopped)."""
    caught_up: float | None
    """Until its head reached the RPC node's head of the moment it answered (None: not within
    the bound)."""
    signing: float | None
    """Until a commit of a later height carried its precommit (None: not within the bound)."""
    escalated: bool
    """SIGTERM did not stop it within `EXIT_SECONDS`, so it was killed."""


async def restart_validator(
    session: aiohttp.ClientSession,
    devnet: devnet_lib.Devnet,
    node: devnet_lib.DevnetNode,
    signal_number: int,
    rpc: HeadStream,
    started: float,
    down_seconds: float,
    bound: float,
) -> Restart:
    """Stop `node` with `signal_number`, keep it down `down_seconds`, start it, follow its return
    for at most `bound` seconds after the signal."""
    pid = read_pid(devnet, node.name)
    if pid is None or node.address is None:
        raise BenchmarkError(f"{node.name} is not a running validator")
    height = rpc.height
    signalled = time.perf_counter()
    os.kill(pid, signal_number)
    escalated = False
    while _alive(pid):
        if time.perf_counter() - signalled > EXIT_SECONDS and not escalated:
            os.kill(pid, signal.SIGKILL)
            escalated = True
        await asyncio.sleep(0.05)
    exited = time.perf_counter() - signalled
    await asyncio.sleep(down_seconds)
    await asyncio.to_thread(devnet_processes.up, devnet)
    answering = time.perf_counter() - signalled
    back_at = rpc.height
    url = f"http://127.0.0.1:{node.rpc_port}"
    caught_up = await _wait_caught_up(session, url, back_at, signalled + bound)
    # Commits from the height after its return on: earlier ones may hold votes it cast before
    # the signal.
    signing = await _wait_signing(session, rpc.url, node.address, back_at + 1, signalled + bound)
    return Restart(
        node=node.name,
        signal=signal.Signals(signal_number).name,
        at=signalled - started,
        height=height,
        exited=exited,
        answering=answering,
        caught_up=None if caught_up is None else caught_up - signalled,
        signing=None if signing is None else signing - signalled,
        escalated=escalated,
    )


async def _wait_caught_up(
    session: aiohttp.ClientSession, url: str, target: int, deadline: float
) -> float | None:
    while time.perf_counter() < deadline:
        try:
            if int(await call(session, url, "eth_blockNumber"), 16) >= target:
                return time.perf_counter()
        except (BenchmarkError, aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(POLL_SECONDS)
    return None


async def _wait_signing(
    session: aiohttp.ClientSession, url: str, address: str, first: int, deadline: float
) -> float | None:
    """When a commit of a height from `first` on, read from `url`, first names `address`."""
    checked = first
    while time.perf_counter() < deadline:
        head = int(await call(session, url, "eth_blockNumber"), 16)
        while checked <= head:
            commit = await call(session, url, "ol_getCommit", hex(checked))
            if commit is None:
                break
            if address.lower() in {p["validator"].lower() for p in commit["precommits"]}:
                return time.perf_counter()
            checked += 1
        await asyncio.sleep(POLL_SECONDS)
    return None
