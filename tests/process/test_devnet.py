"""`openledger devnet` as an operator uses it: init, up, a transfer, down, up again."""

import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account
from helpers import DEV_ADDRESSES, DEV_KEYS, result, wait_for

from openledger.node import devnet as devnet_lib

pytestmark = [pytest.mark.slow, pytest.mark.timeout(500)]

LIVENESS_SECONDS = 120
"""Five node processes start on two cores that the rest of the suite may be using too: a quiet
machine makes blocks within 10 s; the bound is for a starved one."""


def _cli(*arguments: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "openledger.node.cli", *arguments],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_devnet_up_down_up_resumes_where_it_stopped(tmp_path: Path) -> None:
    directory = tmp_path / "devnet"
    base = devnet_lib.find_free_port_base(10)
    _cli("devnet", "init", "--out", str(directory), "--lightkdf",
         "--p2p-base-port", str(base), "--rpc-base-port", str(base + 5))  # fmt: skip
    network = devnet_lib.Devnet.load(directory)
    url = f"http://127.0.0.1:{network.node('rpc1').rpc_port}"
    try:
        _cli("devnet", "up", str(directory))
        wait_for(
            lambda: int(result(url, "eth_blockNumber"), 16) >= 2,
            timeout=LIVENESS_SECONDS,
            what="blocks",
        )
        signed = Account.from_key(DEV_KEYS[0]).sign_transaction(
            {"type": 2, "chainId": 4242, "nonce": 0, "to": DEV_ADDRESSES[2], "value": 777,
             "gas": 21000, "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9}
        )  # fmt: skip
        tx_hash = result(
            url, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()]
        )
        receipt = wait_for(
            lambda: result(url, "eth_getTransactionReceipt", [tx_hash]),
            timeout=LIVENESS_SECONDS,
            what="receipt",
        )
        status = _cli("devnet", "status", str(directory))
        assert status.count(" up ") == 5 and "validator1" in status and "rpc1" in status
        _cli("devnet", "down", str(directory))
        assert "down" in _cli("devnet", "status", str(directory))
        stopped_at = max(
            int(line.split()[3]) for line in status.splitlines()[1:] if line.split()[2] == "up"
        )

        _cli("devnet", "up", str(directory))
        head = int(result(url, "eth_blockNumber"), 16)
        assert head >= stopped_at, "the chain restarted from scratch"
        assert result(url, "eth_getTransactionReceipt", [tx_hash]) == receipt
        assert (
            int(result(url, "eth_getBalance", [DEV_ADDRESSES[2], "latest"]), 16)
            == 10_000 * 10**18 + 777
        )
        wait_for(
            lambda: int(result(url, "eth_blockNumber"), 16) >= head + 3,
            timeout=LIVENESS_SECONDS,
            what="new blocks after restart",
        )
    finally:
        _cli("devnet", "down", str(directory))
