"""`openledger dev` as a user runs it: a real process, stopped and started again, and killed."""

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from eth_account import Account
from helpers import DEV_ADDRESSES, DEV_KEYS, result, rpc, start_node_process, wait_for

pytestmark = pytest.mark.slow

ETHER = 10**18


def _send_transfer(url: str, key: str, to: str, value: int, nonce: int) -> str:
    base_fee = int(result(url, "eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
    signed = Account.sign_transaction(
        {"type": 2, "chainId": 1337, "nonce": nonce, "to": to, "value": value, "gas": 21000,
         "maxFeePerGas": 2 * base_fee + 10**9, "maxPriorityFeePerGas": 10**9},
        key,
    )  # fmt: skip
    return result(url, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "openledger.node.cli", *args, "--http.port", "0"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _receipt(url: str, tx_hash: str) -> dict:
    return wait_for(
        lambda: result(url, "eth_getTransactionReceipt", [tx_hash]), what=f"receipt of {tx_hash}"
    )


@pytest.mark.timeout(120)
def test_datadir_survives_restart(tmp_path: Path) -> None:
    datadir = tmp_path / "chain"
    node = start_node_process(["dev", "--datadir", str(datadir)], tmp_path / "first.log")
    try:
        hashes = [
            _send_transfer(node.url, DEV_KEYS[0], DEV_ADDRESSES[1], ETHER, nonce)
            for nonce in range(3)
        ]
        receipts = [_receipt(node.url, h) for h in hashes]
        head = result(node.url, "eth_blockNumber")
        block = result(node.url, "eth_getBlockByNumber", [head, False])
        balance = result(node.url, "eth_getBalance", [DEV_ADDRESSES[1], "latest"])
    finally:
        assert node.stop(signal.SIGTERM) == 0, node.log()
    assert "database closed" in node.log()

    again = start_node_process(["dev", "--datadir", str(datadir)], tmp_path / "second.log")
    try:
        assert result(again.url, "eth_blockNumber") == head
        assert result(again.url, "eth_getBlockByNumber", [head, False])["hash"] == block["hash"]
        assert result(again.url, "eth_getBalance", [DEV_ADDRESSES[1], "latest"]) == balance
        assert int(balance, 16) == 10_003 * ETHER
        assert result(again.url, "eth_getTransactionCount", [DEV_ADDRESSES[0], "latest"]) == "0x3"
        for tx_hash, receipt in zip(hashes, receipts, strict=True):
            assert result(again.url, "eth_getTransactionReceipt", [tx_hash]) == receipt
        # The chain goes on from where it stopped.
        _receipt(again.url, _send_transfer(again.url, DEV_KEYS[0], DEV_ADDRESSES[1], ETHER, 3))
        assert int(result(again.url, "eth_blockNumber"), 16) == int(head, 16) + 1
    finally:
        again.stop()

    refused = _run_cli("dev", "--datadir", str(datadir), "--chain-id", "31337")
    assert refused.returncode == 1
    assert "holds a dev chain with chain id 1337" in refused.stderr


def test_refuses_a_different_genesis_with_a_clear_message(tmp_path: Path) -> None:
    datadir = tmp_path / "chain"
    node = start_node_process(["dev", "--datadir", str(datadir)], tmp_path / "first.log")
    node.stop()
    genesis = datadir / "genesis.json"
    genesis.write_text(genesis.read_text().replace('"timestamp": "0x', '"timestamp": "0x1'))
    completed = _run_cli("dev", "--datadir", str(datadir))
    assert completed.returncode == 1
    assert "holds a chain with genesis" in completed.stderr


@pytest.mark.timeout(180)
def test_sigkill_under_load_leaves_a_consistent_chain(tmp_path: Path) -> None:
    """Kill -9 while transactions stream in: after a restart every block up to the head is whole
    and every receipt served before the kill is still there."""
    datadir = tmp_path / "chain"
    node = start_node_process(["dev", "--datadir", str(datadir)], tmp_path / "first.log")
    served: dict[str, dict] = {}
    stop = threading.Event()

    def stream(key: str) -> None:
        sender = Account.from_key(key).address
        nonce = int(result(node.url, "eth_getTransactionCount", [sender, "pending"]), 16)
        while not stop.is_set():
            try:
                tx_hash = _send_transfer(node.url, key, DEV_ADDRESSES[3], 1, nonce)
                nonce += 1
                receipt = rpc(node.url, "eth_getTransactionReceipt", [tx_hash], timeout=5).get(
                    "result"
                )
                if receipt:
                    served[tx_hash] = receipt
            except Exception:  # the node dies under us on purpose
                return

    threads = [threading.Thread(target=stream, args=(key,)) for key in DEV_KEYS[:3]]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(served) >= 30, timeout=60, what="30 receipts")
    node.kill()  # SIGKILL, mid-stream
    stop.set()
    for thread in threads:
        thread.join(30)

    again = start_node_process(["dev", "--datadir", str(datadir)], tmp_path / "second.log")
    try:
        head = int(result(again.url, "eth_blockNumber"), 16)
        assert head >= 1
        for number in range(head + 1):
            block = result(again.url, "eth_getBlockByNumber", [hex(number), True])
            assert block is not None, f"block {number} is missing below the head {head}"
            for tx in block["transactions"]:
                receipt = result(again.url, "eth_getTransactionReceipt", [tx["hash"]])
                assert receipt is not None and receipt["blockHash"] == block["hash"]
        for tx_hash, receipt in served.items():
            assert result(again.url, "eth_getTransactionReceipt", [tx_hash]) == receipt, tx_hash
        # Nonces and balances agree with the blocks: the chain accepts the next transaction.
        nonce = int(result(again.url, "eth_getTransactionCount", [DEV_ADDRESSES[0], "latest"]), 16)
        _receipt(again.url, _send_transfer(again.url, DEV_KEYS[0], DEV_ADDRESSES[2], 1, nonce))
    finally:
        again.stop()


@pytest.mark.timeout(120)
def test_automine_answers_once_the_block_is_committed(tmp_path: Path) -> None:
    """As with Hardhat and Anvil: the receipt is there as soon as the submission is answered,
    for a raw transaction and for one the node signs, and the chain has grown by that block.
    A transaction that cannot be mined yet (a nonce gap) is answered at once, without a block."""
    node = start_node_process(["dev"], tmp_path / "node.log")
    try:
        for nonce in range(5):
            head = int(result(node.url, "eth_blockNumber"), 16)
            tx_hash = _send_transfer(node.url, DEV_KEYS[0], DEV_ADDRESSES[1], 1, nonce)
            receipt = result(node.url, "eth_getTransactionReceipt", [tx_hash])
            assert receipt is not None and receipt["status"] == "0x1"
            assert int(receipt["blockNumber"], 16) == head + 1
        signed_hash = result(
            node.url, "eth_sendTransaction",
            [{"from": DEV_ADDRESSES[2], "to": DEV_ADDRESSES[3], "value": "0x1"}],
        )  # fmt: skip
        assert result(node.url, "eth_getTransactionReceipt", [signed_hash])["status"] == "0x1"
        head = result(node.url, "eth_blockNumber")
        gap_hash = _send_transfer(node.url, DEV_KEYS[0], DEV_ADDRESSES[1], 1, 6)
        assert result(node.url, "eth_getTransactionReceipt", [gap_hash]) is None
        assert result(node.url, "eth_blockNumber") == head
        filled = _send_transfer(node.url, DEV_KEYS[0], DEV_ADDRESSES[1], 1, 5)
        assert result(node.url, "eth_getTransactionReceipt", [filled])["status"] == "0x1"
        _receipt(node.url, gap_hash)
    finally:
        assert node.stop(signal.SIGTERM) == 0, node.log()
