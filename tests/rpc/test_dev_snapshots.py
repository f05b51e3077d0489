"""`evm_snapshot` and `evm_revert` (and their `anvil_` names), as Hardhat fixtures and Foundry
scripts use them: a revert brings back the head, balances, nonces and code of the snapshot, and
every trace of the blocks after it (receipts, transactions, logs, blocks) is gone, also after a
restart."""

import json
from pathlib import Path
from typing import Any

from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode, post, threaded_node
from rpc_tools import (
    TRANSFER_TOPIC,
    call,
    deploy_token,
    envelope,
    error_of,
    nonce_of,
    send,
    sign,
    transact,
    transfer_data,
)

ALICE, BOB = DEV_ADDRESSES[0], DEV_ADDRESSES[1]
ALICE_KEY = DEV_KEYS[0]


def _head(url: str) -> int:
    return int(call(url, "eth_blockNumber"), 16)


def test_revert_brings_back_the_snapshot_and_forgets_what_came_after(
    dev_node: ThreadedNode,
) -> None:
    url = dev_node.url
    start = _head(url)
    balance, nonce = call(url, "eth_getBalance", [BOB, "latest"]), nonce_of(url, ALICE)
    snapshot = call(url, "evm_snapshot")

    token = deploy_token(url)
    transfer = transact(url, ALICE_KEY, to=token, data=transfer_data(BOB, 5), gas=100_000)
    payment = transact(url, ALICE_KEY, to=BOB, value=10**18)
    assert _head(url) == start + 3
    assert call(url, "eth_getLogs", [{"fromBlock": hex(start + 1), "topics": [TRANSFER_TOPIC]}])

    assert call(url, "evm_revert", [snapshot]) is True
    assert _head(url) == start
    assert call(url, "eth_getBalance", [BOB, "latest"]) == balance
    assert nonce_of(url, ALICE, "latest") == nonce_of(url, ALICE) == nonce
    assert call(url, "eth_getCode", [token, "latest"]) == "0x"
    for receipt in (transfer, payment):
        assert call(url, "eth_getTransactionReceipt", [receipt["transactionHash"]]) is None
        assert call(url, "eth_getTransactionByHash", [receipt["transactionHash"]]) is None
        assert call(url, "eth_getBlockByHash", [receipt["blockHash"], False]) is None
    assert call(url, "eth_getBlockByNumber", [hex(start + 1), False]) is None
    assert call(url, "eth_getLogs", [{"fromBlock": hex(start), "topics": [TRANSFER_TOPIC]}]) == []
    # A snapshot is used up by its revert.
    assert call(url, "evm_revert", [snapshot]) is False

    # The chain goes on from the snapshot: a new block at the same height, another block.
    again = transact(url, ALICE_KEY, to=BOB, value=2 * 10**18)
    assert int(again["blockNumber"], 16) == start + 1
    assert again["blockHash"] != payment["blockHash"]
    block = call(url, "eth_getBlockByNumber", [hex(start + 1), False])
    assert block["transactions"] == [again["transactionHash"]]
    assert int(call(url, "eth_getBalance", [BOB, "latest"]), 16) == int(balance, 16) + 2 * 10**18


def test_reverting_to_an_earlier_snapshot_forgets_the_later_ones(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    start = _head(url)
    first = call(url, "anvil_snapshot")
    call(url, "anvil_mine", ["0x2"])
    second = call(url, "evm_snapshot")
    assert int(second, 16) > int(first, 16)
    call(url, "evm_mine")
    assert call(url, "anvil_revert", [first]) is True
    assert _head(url) == start
    assert call(url, "evm_revert", [second]) is False
    assert call(url, "evm_revert", ["0x99"]) is False
    assert error_of(url, "evm_revert", ["soon"])["code"] == -32602


def test_pending_transactions_outlive_a_revert(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    snapshot = call(url, "evm_snapshot")
    call(url, "evm_mine")
    call(url, "evm_setAutomine", [False])
    pending = send(url, sign(ALICE_KEY, to=BOB, value=1, nonce=nonce_of(url, ALICE)))
    assert call(url, "evm_revert", [snapshot]) is True
    assert call(url, "eth_getTransactionByHash", [pending])["blockHash"] is None
    call(url, "evm_mine")
    assert call(url, "eth_getTransactionReceipt", [pending])["status"] == "0x1"


def test_a_revert_is_kept_across_a_restart(tmp_path: Path) -> None:
    datadir = tmp_path / "node"
    with threaded_node(datadir) as node:
        start = _head(node.url)
        snapshot = call(node.url, "evm_snapshot")
        payment = transact(node.url, ALICE_KEY, to=BOB, value=10**18)
        assert call(node.url, "evm_revert", [snapshot]) is True
    with threaded_node(datadir) as node:
        assert _head(node.url) == start
        assert call(node.url, "eth_getTransactionReceipt", [payment["transactionHash"]]) is None
        again = transact(node.url, ALICE_KEY, to=BOB, value=10**18)
        assert int(again["blockNumber"], 16) == start + 1


def _batch(url: str, *calls: tuple[str, list[Any]]) -> list[Any]:
    """Send calls as one JSON-RPC batch (the server runs them concurrently); their results."""
    body = json.dumps(
        [envelope(method, params, index) for index, (method, params) in enumerate(calls)]
    )
    status, responses = post(url, body)
    assert status == 200
    by_id = {response["id"]: response for response in responses}
    return [by_id[index].get("result", by_id[index].get("error")) for index in range(len(calls))]


def test_a_revert_queued_behind_another_is_checked_when_it_runs(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    start = _head(url)
    first = call(url, "evm_snapshot")
    call(url, "anvil_mine", ["0x3"])
    second_id = hex(int(first, 16) + 1)
    # The second snapshot is taken at start + 3, which the first revert then drops.
    assert _batch(
        url, ("evm_revert", [first]), ("evm_snapshot", []), ("evm_revert", [second_id])
    ) == [
        True,
        second_id,
        False,
    ]
    assert _head(url) == start  # and the node goes on serving
    assert call(url, "evm_mine") == "0x0"


def test_a_revert_puts_the_clock_back_before_anything_else_is_mined(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    before = int(call(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    snapshot = call(url, "evm_snapshot")
    call(url, "evm_increaseTime", [100_000])
    call(url, "evm_mine")
    assert _batch(url, ("evm_revert", [snapshot]), ("evm_mine", [])) == [True, "0x0"]
    mined = int(call(url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert before < mined < before + 1000


def test_a_log_filter_reports_the_logs_of_the_blocks_after_a_revert(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    token = deploy_token(url)
    log_filter = call(url, "eth_newFilter", [{"address": token, "topics": [TRANSFER_TOPIC]}])
    snapshot = call(url, "evm_snapshot")
    for amount in (1, 2, 3):
        transact(url, ALICE_KEY, to=token, data=transfer_data(BOB, amount), gas=100_000)
    assert len(call(url, "eth_getFilterChanges", [log_filter])) == 3
    assert call(url, "evm_revert", [snapshot]) is True
    for amount in (4, 5):
        transact(url, ALICE_KEY, to=token, data=transfer_data(BOB, amount), gas=100_000)
    changes = call(url, "eth_getFilterChanges", [log_filter])
    assert [int(log["data"], 16) for log in changes] == [4, 5]
