"""A devnet of real `openledger` processes, each in its own network namespace of a `NetLab`, and
the invariants every fault scenario ends with.

The configuration is the one `openledger devnet init` writes; only the hosts differ: each node
is reached at its namespace's address (or through a `DelayRelay`), so the peers lists are built
here and every node is started with `openledger run` and the arguments the devnet would use.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from helpers import post, wait_for

from faults.netlab import NetLab
from openledger.node import devnet as devnet_lib
from openledger.node.p2p.identity import PeerId, format_peer_address
from openledger.node.timers import CLOCK_OFFSET_ENV

P2P_PORT = 30303
RPC_PORT = 8545


def call(url: str, method: str, params: list[Any] | None = None, timeout: float = 5) -> Any:
    """The result of one call, or None when the node does not answer or answers an error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    try:
        response = post(url, body, timeout=timeout)[1]
    except OSError:
        return None
    return response.get("result") if isinstance(response, dict) else None


@dataclass
class LabNode:
    """One node process of the devnet, in namespace `index` of the lab."""

    spec: devnet_lib.DevnetNode
    index: int
    url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, sig)

    def kill(self) -> None:
        if self.alive():
            self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(30)

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            self.signal(signal.SIGCONT)  # a stopped process cannot handle SIGTERM
            self.signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)  # type: ignore[union-attr]
            except subprocess.TimeoutExpired:
                self.kill()

    def height(self) -> int:
        """The node's head, or -1 while it does not answer."""
        number = call(self.url, "eth_blockNumber", timeout=3)
        return int(number, 16) if isinstance(number, str) else -1

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class LabDevnet:
    """Four validators and one RPC node (by default) of one devnet, one namespace each."""

    def __init__(
        self, directory: Path, lab: NetLab, *, validators: int = 4, rpc_nodes: int = 1
    ) -> None:
        self.directory = directory
        self.lab = lab
        self.devnet = devnet_lib.init_devnet(
            directory, validators=validators, rpc_nodes=rpc_nodes, light_kdf=True,
            p2p_base_port=P2P_PORT, rpc_base_port=RPC_PORT,
        )  # fmt: skip
        (directory / "logs").mkdir(exist_ok=True)
        self.nodes: list[LabNode] = []
        for index, generated in enumerate(self.devnet.nodes, start=1):
            spec = replace(generated, host=lab.address(index))
            url = f"http://{spec.host}:{spec.rpc_port}"
            self.nodes.append(LabNode(spec, index, url, directory / "logs" / f"{spec.name}.log"))
        self.dial: dict[str, tuple[str, int]] = {
            n.name: (n.spec.host, n.spec.p2p_port) for n in self.nodes
        }
        """Where the other nodes dial each node (a relay may stand in between)."""
        self.seen: dict[int, str] = {}
        """Block hash by height, as first seen: a committed block must never change (I2)."""
        self.recoveries: list[tuple[str, float]] = []
        """(what, seconds) for each measured return to liveness."""

    # --- processes ----------------------------------------------------------------------------

    def node(self, name: str) -> LabNode:
        return next(n for n in self.nodes if n.name == name)

    @property
    def validators(self) -> list[LabNode]:
        return [n for n in self.nodes if n.spec.role == "validator"]

    @property
    def rpc_node(self) -> LabNode:
        return next(n for n in self.nodes if n.spec.role == "rpc")

    def peers_of(self, node: LabNode) -> list[str]:
        return [
            format_peer_address(PeerId(bytes.fromhex(other.spec.peer_id)), *self.dial[other.name])
            for other in self.nodes
            if other is not node
        ]

    def start(self, nodes: Iterable[LabNode] | None = None, timeout: float = 90) -> None:
        """Start the given nodes (default: all that are not running); wait until they answer."""
        chosen = [n for n in (self.nodes if nodes is None else nodes) if not n.alive()]
        for node in chosen:
            arguments = node.spec.arguments(self.directory, self.peers_of(node))
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **node.env}
            with node.log_path.open("ab") as log:
                node.process = subprocess.Popen(
                    [*self.lab.exec_prefix(node.index), sys.executable, "-m", "openledger.node.cli", *arguments],
                    stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
                )  # fmt: skip
        for node in chosen:
            wait_for(lambda node=node: node.height() >= 0 or not node.alive(), timeout=timeout,
                     interval=0.2, what=f"{node.name} to answer RPC")  # fmt: skip
            assert node.alive(), f"{node.name} exited:\n{node.log()[-3000:]}"

    def close(self) -> None:
        for node in self.nodes:
            node.stop()

    # --- observation --------------------------------------------------------------------------

    def heights(self, nodes: Iterable[LabNode] | None = None) -> list[int]:
        return [n.height() for n in (self.nodes if nodes is None else nodes)]

    def wait_height(
        self, height: int, nodes: Iterable[LabNode] | None = None, timeout: float = 60
    ) -> None:
        chosen = list(self.nodes if nodes is None else nodes)
        wait_for(lambda: min(self.heights(chosen)) >= height, timeout=timeout, interval=0.3,
                 what=f"height {height} on {[n.name for n in chosen]}")  # fmt: skip

    def assert_live(
        self, what: str, bound: float, nodes: Iterable[LabNode] | None = None, blocks: int = 2
    ) -> float:
        """Wait until every node in `nodes` is `blocks` past the highest current head, within
        `bound` seconds; record and return the time it took."""
        chosen = list(self.nodes if nodes is None else nodes)
        target = max(self.heights(chosen)) + blocks
        started = time.monotonic()
        self.wait_height(target, chosen, timeout=bound)
        took = time.monotonic() - started
        self.recoveries.append((what, took))
        return took

    def assert_stalled(self, nodes: Iterable[LabNode], seconds: float) -> None:
        """Over `seconds`, the nodes commit at most the one decision that was in flight."""
        chosen = list(nodes)
        before = max(self.heights(chosen))
        time.sleep(seconds)
        after = max(self.heights(chosen))
        assert after <= before + 1, f"{[n.name for n in chosen]} went from {before} to {after}"

    def consensus_state(self) -> dict[str, Any]:
        """`ol_consensusState` of the first validator that answers."""
        for node in self.validators:
            state = call(node.url, "ol_consensusState")
            if state is not None:
                return state
        raise AssertionError("no validator answers ol_consensusState")

    def commit_round(self, node: LabNode, number: int) -> int:
        """The round in which block `number` was committed, from its commit certificate."""
        commit = call(node.url, "ol_getCommit", [hex(number)], timeout=10)
        assert commit is not None, f"{node.name} has no commit for {number}"
        return int(commit["round"], 16)

    def block(self, node: LabNode, number: int) -> dict[str, Any]:
        found = call(node.url, "eth_getBlockByNumber", [hex(number), False], timeout=10)
        assert found is not None, f"{node.name} has no block {number}"
        return found

    def assert_invariants(self, nodes: Iterable[LabNode] | None = None) -> int:
        """Agreement (I1), no revert (I2), same state root (I5), no double signing, clean logs;
        returns the common height checked."""
        chosen = list(self.nodes if nodes is None else nodes)
        common = min(self.heights(chosen))
        assert common > 0, f"a node does not answer: {self.heights(chosen)}"
        signed: dict[tuple[int, int, str], set[tuple[str, str]]] = {}
        for number in range(common + 1):
            seen = set()
            for node in chosen:
                block = self.block(node, number)
                seen.add((block["hash"], block["stateRoot"]))
                commit = (
                    call(node.url, "ol_getCommit", [hex(number)], timeout=10) if number else None
                )
                for vote in (commit or {}).get("precommits", []):
                    key = (number, int(commit["round"], 16), vote["validator"])
                    signed.setdefault(key, set()).add((commit["blockHash"], vote["signature"]))
            assert len(seen) == 1, f"nodes disagree at height {number}: {seen}"
            ((block_hash, _),) = seen
            assert self.seen.setdefault(number, block_hash) == block_hash, f"block {number} changed"
        conflicts = {key: votes for key, votes in signed.items() if len(votes) > 1}
        assert not conflicts, f"a validator signed twice: {conflicts}"
        for node in self.nodes:
            log = node.log()
            assert "signed two" not in log, f"{node.name} saw a double sign"
            assert "Traceback" not in log, f"{node.name} logged a traceback:\n{log[-4000:]}"
        return common


def assert_receipts_kept(nodes: Iterable[LabNode], receipts: dict[str, dict[str, Any]]) -> None:
    """No transaction that got a receipt is lost, on any node, after the scenario."""
    assert receipts, "the load produced no receipts"
    for node in nodes:
        for tx_hash, receipt in receipts.items():
            found = call(node.url, "eth_getTransactionReceipt", [tx_hash], timeout=10)
            assert found is not None and found["blockHash"] == receipt["blockHash"], (
                f"{node.name} lost {tx_hash}"
            )


def clock_offset_env(seconds: float) -> dict[str, str]:
    """Environment that runs a node with its wall clock `seconds` ahead (negative: behind), as
    when an operator's NTP is off; its timers stay true."""
    return {CLOCK_OFFSET_ENV: str(seconds)}
