"""A real network on 127.0.0.1: four validator processes and one RPC node, started the way an
operator starts them (`openledger devnet init` then `openledger run` per node), attacked with
SIGKILL and SIGTERM. After each scenario every node has the same block hashes and state roots at
every height, and no transaction that got a receipt is lost."""

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak
from helpers import DEV_KEYS, rpc, wait_for

from openledger.genesis.keystore import LIGHT_SCRYPT_N, write_keystore
from openledger.genesis.model import STAKING_ADDRESS
from openledger.node import devnet as devnet_lib
from openledger.node import devnet_processes

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def network(tmp_path: Path) -> Iterator[devnet_lib.Devnet]:
    base = devnet_lib.find_free_port_base(10)
    devnet = devnet_lib.init_devnet(
        tmp_path / "devnet", validators=4, rpc_nodes=1, light_kdf=True,
        p2p_base_port=base, rpc_base_port=base + 5,
    )  # fmt: skip
    devnet_processes.up(devnet)
    try:
        yield devnet
    finally:
        devnet_processes.down(devnet, timeout=20)


def _url(node: devnet_lib.DevnetNode) -> str:
    return f"http://127.0.0.1:{node.rpc_port}"


def _node(devnet: devnet_lib.Devnet, name: str) -> devnet_lib.DevnetNode:
    return next(n for n in devnet.nodes if n.name == name)


def _height(node: devnet_lib.DevnetNode) -> int:
    """The node's head, or -1 while it does not answer."""
    try:
        response = rpc(_url(node), "eth_blockNumber", timeout=5)
    except OSError:
        return -1
    return int(response["result"], 16) if "result" in response else -1


def _pid(devnet: devnet_lib.Devnet, name: str) -> int:
    return int((devnet.directory / "logs" / f"{name}.pid").read_text())


def _wait_heights(nodes: list[devnet_lib.DevnetNode], height: int, timeout: float = 120) -> None:
    wait_for(
        lambda: all(_height(n) >= height for n in nodes),
        timeout=timeout,
        interval=0.3,
        what=f"height {height}",
    )


def _assert_same_chain(
    devnet: devnet_lib.Devnet, nodes: list[devnet_lib.DevnetNode] | None = None
) -> int:
    """Same hash and state root at every height on every node; returns the common height."""
    nodes = nodes or list(devnet.nodes)
    common = min(_height(n) for n in nodes)
    for number in range(common + 1):
        seen = {
            (block["hash"], block["stateRoot"])
            for n in nodes
            for block in [rpc(_url(n), "eth_getBlockByNumber", [hex(number), False])["result"]]
        }
        assert len(seen) == 1, f"nodes disagree at height {number}: {seen}"
    return common


def _assert_no_double_signing(devnet: devnet_lib.Devnet) -> None:
    for node in devnet.nodes:
        log = (devnet.directory / "logs" / f"{node.name}.log").read_text(errors="replace")
        assert not re.search(r"signed two \w+ votes", log), f"{node.name} saw a double sign"


class Load:
    """Transfers streamed through the RPC node from several dev accounts; keeps every receipt."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.receipts: dict[str, dict] = {}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._stream, args=(key,), daemon=True) for key in DEV_KEYS[:3]
        ]

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _stream(self, key: str) -> None:
        account = Account.from_key(key)
        pending: list[str] = []
        while not self._stop.is_set():
            try:
                nonce = int(
                    rpc(
                        self.url, "eth_getTransactionCount", [account.address, "pending"], timeout=5
                    )["result"],
                    16,
                )
                signed = account.sign_transaction(
                    {"type": 2, "chainId": 4242, "nonce": nonce, "to": "0x" + "11" * 20, "value": 1,
                     "gas": 21000, "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9}
                )  # fmt: skip
                response = rpc(
                    self.url,
                    "eth_sendRawTransaction",
                    ["0x" + bytes(signed.raw_transaction).hex()],
                    timeout=5,
                )
                if "result" in response:
                    pending.append(response["result"])
                for tx_hash in list(pending):
                    receipt = rpc(self.url, "eth_getTransactionReceipt", [tx_hash], timeout=5).get(
                        "result"
                    )
                    if receipt:
                        self.receipts[tx_hash] = receipt
                        pending.remove(tx_hash)
            except OSError:
                pass
            time.sleep(0.2)


def _assert_receipts_kept(devnet: devnet_lib.Devnet, receipts: dict[str, dict]) -> None:
    assert receipts, "the load produced no receipts"
    for node in devnet.nodes:
        for tx_hash, receipt in receipts.items():
            found = rpc(_url(node), "eth_getTransactionReceipt", [tx_hash])["result"]
            assert found is not None and found["blockHash"] == receipt["blockHash"], (
                f"{node.name} lost {tx_hash}"
            )


def test_validators_commit_at_the_block_time(network: devnet_lib.Devnet) -> None:
    rpc_node = _node(network, "rpc1")
    _wait_heights(list(network.nodes), 12)
    blocks = [
        rpc(_url(rpc_node), "eth_getBlockByNumber", [hex(n), False])["result"] for n in range(2, 12)
    ]
    gaps = sorted(
        int(b["timestamp"], 16) - int(a["timestamp"], 16) for a, b in itertools.pairwise(blocks)
    )
    # Integer-second timestamps at a one-second block time: mostly 1, sometimes 2 under load.
    assert gaps[len(gaps) // 2] <= 2 and gaps[0] >= 1, gaps
    commit = rpc(_url(rpc_node), "ol_getCommit", ["0xa"])["result"]
    assert len(commit["precommits"]) >= 3
    # Nobody can mine, warp time or rewind a real network through its RPC port.
    for method, params in (("evm_mine", []), ("evm_snapshot", []), ("evm_increaseTime", [60]),
                           ("anvil_impersonateAccount", ["0x" + "5a" * 20])):  # fmt: skip
        assert rpc(_url(rpc_node), method, params)["error"]["code"] == -32601, method
    _assert_same_chain(network)


def test_sigkill_a_validator_under_load_then_it_catches_up(network: devnet_lib.Devnet) -> None:
    rpc_node = _node(network, "rpc1")
    victim = _node(network, "validator2")
    others = [n for n in network.nodes if n.name != victim.name]
    _wait_heights(list(network.nodes), 3)
    with Load(_url(rpc_node)) as load:
        wait_for(lambda: len(load.receipts) >= 5, timeout=60, what="receipts before the kill")
        os.kill(_pid(network, victim.name), signal.SIGKILL)
        before = max(_height(n) for n in others)
        _wait_heights(others, before + 5)  # the other three go on
        devnet_processes.up(network)  # restarts the killed one from its data directory
        target = max(_height(n) for n in others) + 3
        _wait_heights(list(network.nodes), target)
        wait_for(lambda: len(load.receipts) >= 15, timeout=60, what="receipts after the restart")
    # It signs again: its precommits appear in commits made after its return.
    address = victim.address
    height = _height(victim)

    def signs() -> bool:
        latest = _height(rpc_node)
        for number in range(height, latest + 1):
            commit = rpc(_url(rpc_node), "ol_getCommit", [hex(number)])["result"]
            if commit and address in {p["validator"] for p in commit["precommits"]}:
                return True
        return False

    wait_for(signs, timeout=60, interval=1, what="the restarted validator's precommits")
    _assert_same_chain(network)
    _assert_receipts_kept(network, load.receipts)
    _assert_no_double_signing(network)


def test_two_of_four_stopped_halts_without_forking_then_resumes(network: devnet_lib.Devnet) -> None:
    stopped = [_node(network, "validator3"), _node(network, "validator4")]
    running = [n for n in network.nodes if n not in stopped]
    _wait_heights(list(network.nodes), 3)
    for node in stopped:
        os.kill(_pid(network, node.name), signal.SIGTERM)
    for node in stopped:
        wait_for(lambda node=node: _height(node) < 0, timeout=30, what=f"{node.name} to stop")
    halted_at = max(_height(n) for n in running)
    time.sleep(6)
    # Half of the stake cannot commit: at most the decision that was in flight lands.
    assert max(_height(n) for n in running) <= halted_at + 1
    _assert_same_chain(network, running)
    devnet_processes.up(network)
    _wait_heights(list(network.nodes), halted_at + 5, timeout=180)
    _assert_same_chain(network)
    _assert_no_double_signing(network)


def test_a_fifth_node_stakes_and_joins_at_the_next_epoch(
    network: devnet_lib.Devnet, tmp_path: Path
) -> None:
    rpc_node = _node(network, "rpc1")
    url = _url(rpc_node)
    _wait_heights(list(network.nodes), 2)
    # The newcomer's validator key is a funded dev account's; it runs a node of its own.
    key = bytes.fromhex(DEV_KEYS[3][2:])
    account = Account.from_key(key)
    keystore = tmp_path / "newcomer.json"
    write_keystore(keystore, key, "newcomer password", scrypt_n=LIGHT_SCRYPT_N)
    (tmp_path / "password").write_text("newcomer password\n")
    ports = devnet_lib.find_free_port_base(2)
    log = (tmp_path / "newcomer.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "openledger.node.cli", "run", "--datadir", str(tmp_path / "newcomer"),
         "--genesis", str(network.directory / "genesis.json"), "--validator-key", str(keystore),
         "--password-file", str(tmp_path / "password"), "--p2p.addr", "127.0.0.1", "--p2p.port", str(ports),
         "--http.port", str(ports + 1), "--peers", ",".join(network.peers_of(None))],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        newcomer_url = f"http://127.0.0.1:{ports + 1}"
        wait_for(lambda: _url_height(newcomer_url) >= 2, timeout=60, what="the newcomer to sync")
        data = keccak(b"registerValidator(uint256)")[:4] + abi_encode(["uint256"], [500])
        signed = account.sign_transaction(
            {"type": 2, "chainId": 4242, "nonce": 0, "to": "0x" + STAKING_ADDRESS.hex(), "value": 5_000 * 10**18,
             "gas": 1_000_000, "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9, "data": data}
        )  # fmt: skip
        tx_hash = rpc(url, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])[
            "result"
        ]
        receipt = wait_for(
            lambda: rpc(url, "eth_getTransactionReceipt", [tx_hash])["result"],
            timeout=60,
            what="registration",
        )
        assert receipt["status"] == "0x1", receipt
        registered = int(receipt["blockNumber"], 16)
        epoch = 20  # the devnet's epoch length
        boundary = (registered // epoch + 1) * epoch
        address = account.address.lower()
        _wait_heights(list(network.nodes), boundary + 4, timeout=180)

        def signers(number: int) -> set[str]:
            commit = rpc(url, "ol_getCommit", [hex(number)])["result"]
            return {p["validator"] for p in commit["precommits"]}

        assert all(address not in signers(n) for n in range(registered, boundary + 1))
        wait_for(lambda: any(address in signers(n) for n in range(boundary + 1, _height(rpc_node))),
                 timeout=60, interval=1, what="the newcomer's precommits after the boundary")  # fmt: skip
        validators = rpc(url, "ol_getValidators", ["latest"])["result"]["validators"]
        assert address in {v["address"] for v in validators} and len(validators) == 5
        _assert_same_chain(network)
        assert _url_height(newcomer_url) >= boundary
    finally:
        process.terminate()
        process.wait(30)


def _url_height(url: str) -> int:
    try:
        response = rpc(url, "eth_blockNumber", timeout=5)
    except OSError:
        return -1
    return int(response["result"], 16) if "result" in response else -1
