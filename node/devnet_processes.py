"""The process devnet: a generated devnet (`node/devnet.py`) run as local background processes.

`up` starts each node of the manifest as `python -m openledger.node.cli devnet node NAME` (the
command a compose service runs), with its log and pid file in `logs/`, and waits until every node
answers RPC; `down` stops them (SIGTERM, then SIGKILL); `status` asks each node over RPC for its
height, peers and round.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from openledger.node.devnet import Devnet, DevnetError, node_command


def up(devnet: Devnet, *, wait_seconds: float = 60.0) -> list[str]:
    """Start every node as a background process; wait until each answers RPC."""
    (devnet.directory / "logs").mkdir(exist_ok=True)
    started = []
    for node in devnet.nodes:
        pid_file = devnet.directory / "logs" / f"{node.name}.pid"
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            continue
        log = (devnet.directory / "logs" / f"{node.name}.log").open("a")
        # The same command a compose service runs (see `render_compose`).
        command = node_command(node.name, str(devnet.directory))
        process = subprocess.Popen(
            [sys.executable, "-m", "openledger.node.cli", *command],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        pid_file.write_text(str(process.pid))
        started.append(node.name)
    deadline = time.monotonic() + wait_seconds
    for node in devnet.nodes:
        while _rpc(node.rpc_port, "eth_blockNumber") is None:
            if time.monotonic() > deadline:
                raise DevnetError(
                    f"{node.name} did not answer RPC within {wait_seconds:g} s; see logs/{node.name}.log"
                )
            time.sleep(0.2)
    return started


def down(devnet: Devnet, *, timeout: float = 30.0) -> list[str]:
    """Stop every node (SIGTERM, then SIGKILL after `timeout`)."""
    stopped = []
    for node in devnet.nodes:
        pid_file = devnet.directory / "logs" / f"{node.name}.pid"
        if not pid_file.exists():
            continue
        pid = int(pid_file.read_text())
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
            stopped.append(node.name)
        pid_file.unlink()
    return stopped


def status(devnet: Devnet) -> list[dict[str, Any]]:
    """Each node's height, peers, round and time since its last block."""
    rows = []
    for node in devnet.nodes:
        row: dict[str, Any] = {
            "name": node.name,
            "role": node.role,
            "rpc": f"http://127.0.0.1:{node.rpc_port}",
        }
        head = _rpc(node.rpc_port, "eth_getBlockByNumber", ["latest", False])
        if head is None:
            row["state"] = "down"
        else:
            consensus = _rpc(node.rpc_port, "ol_consensusState") or {}
            row.update(
                state="syncing" if consensus.get("syncing") else "up",
                height=int(head["number"], 16),
                peers=int(_rpc(node.rpc_port, "net_peerCount") or "0x0", 16),
                round=consensus.get("round"),
                last_block_age=round(time.time() - int(head["timestamp"], 16), 1),
            )
        rows.append(row)
    return rows


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return True


def _rpc(port: int, method: str, params: list[Any] | None = None) -> Any:
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return json.loads(response.read()).get("result")
    except (OSError, ValueError):
        return None
