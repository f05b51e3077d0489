"""`eth_simulateV1`: an approve then a transferFrom simulated in one block return both results
and their logs without mining anything; blocks build on each other with their overrides;
`traceTransfers`, `validation` and bad payloads behave as the execution-apis spec says."""

from collections.abc import Iterator

import pytest
from eth_abi import encode as abi_encode
from helpers import DEV_ADDRESSES, ThreadedNode
from rpc_tools import (
    TRANSFER_TOPIC,
    call,
    calldata,
    deploy_token,
    error_of,
    topic_of,
    transfer_data,
)

pytestmark = pytest.mark.timeout(120)

OWNER, SPENDER, RECEIVER = DEV_ADDRESSES[0], DEV_ADDRESSES[1], DEV_ADDRESSES[2]
APPROVAL_TOPIC = (
    "0x" + __import__("eth_utils").keccak(text="Approval(address,address,uint256)").hex()
)
STRANGER = "0x" + "5a" * 20


@pytest.fixture(scope="module")
def token_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    node = ThreadedNode(tmp_path_factory.mktemp("simulate") / "node").start()
    try:
        yield node.url, deploy_token(node.url)
    finally:
        node.stop()


def _amount(value: int) -> str:
    return "0x" + abi_encode(["uint256"], [value]).hex()


def test_approve_then_transfer_from_returns_both_results_and_logs_without_mining(
    token_node: tuple[str, str],
) -> None:
    url, token = token_node
    head = call(url, "eth_blockNumber")
    approve = calldata("approve(address,uint256)", ["address", "uint256"], [SPENDER, 100])
    pull = calldata("transferFrom(address,address,uint256)", ["address", "address", "uint256"],
                    [OWNER, RECEIVER, 60])  # fmt: skip
    (block,) = call(url, "eth_simulateV1", [{"blockStateCalls": [{"calls": [
        {"from": OWNER, "to": token, "input": approve},
        {"from": SPENDER, "to": token, "input": pull},
    ]}]}, "latest"])  # fmt: skip
    assert block["number"] == hex(int(head, 16) + 1)
    approved, pulled = block["calls"]
    assert approved["status"] == pulled["status"] == "0x1"
    assert approved["returnData"] == pulled["returnData"] == _amount(1)
    (approval,) = approved["logs"]
    assert approval["topics"] == [APPROVAL_TOPIC, topic_of(OWNER), topic_of(SPENDER)]
    assert approval["data"] == _amount(100)
    (transfer,) = pulled["logs"]
    assert transfer["topics"] == [TRANSFER_TOPIC, topic_of(OWNER), topic_of(RECEIVER)]
    assert transfer["data"] == _amount(60)
    assert (approval["logIndex"], transfer["logIndex"]) == ("0x0", "0x1")
    assert transfer["transactionHash"] == block["transactions"][1]
    assert transfer["blockHash"] == block["hash"]
    # Nothing was mined or changed.
    assert call(url, "eth_blockNumber") == head
    balance = calldata("balanceOf(address)", ["address"], [RECEIVER])
    assert int(call(url, "eth_call", [{"to": token, "input": balance}]), 16) == 0


def test_blocks_build_on_each_other_with_their_overrides(token_node: tuple[str, str]) -> None:
    url, token = token_node
    balance = calldata("balanceOf(address)", ["address"], [STRANGER])
    head = int(call(url, "eth_blockNumber"), 16)
    first, second = call(url, "eth_simulateV1", [{"blockStateCalls": [
        {"blockOverrides": {"number": hex(head + 10), "time": "0x7fffffff"},
         "calls": [{"from": OWNER, "to": token, "input": transfer_data(STRANGER, 5)}]},
        {"stateOverrides": {STRANGER: {"balance": "0x2540be400"}},
         "calls": [{"from": STRANGER, "to": token, "input": balance},
                   {"from": STRANGER, "to": token, "input": transfer_data(OWNER, 7)}]},
    ], "returnFullTransactions": True}])  # fmt: skip
    assert first["number"] == hex(head + 10) and first["timestamp"] == "0x7fffffff"
    assert second["number"] == hex(head + 11) and second["parentHash"] == first["hash"]
    assert int(second["calls"][0]["returnData"], 16) == 5  # the first block's transfer
    failed = second["calls"][1]
    assert failed["status"] == "0x0" and failed["error"]["code"] == 3
    assert failed["error"]["message"].startswith("execution reverted")
    assert second["transactions"][1]["from"] == STRANGER


def test_trace_transfers_and_validation(token_node: tuple[str, str]) -> None:
    url, _ = token_node
    (block,) = call(url, "eth_simulateV1", [{"traceTransfers": True, "blockStateCalls": [
        {"calls": [{"from": OWNER, "to": STRANGER, "value": "0x3e8"}]},
    ]}])  # fmt: skip
    (log,) = block["calls"][0]["logs"]
    assert log["address"] == "0x" + "ee" * 20
    assert log["topics"] == [TRANSFER_TOPIC, topic_of(OWNER), topic_of(STRANGER)]
    assert log["data"] == _amount(1000)
    too_low = error_of(url, "eth_simulateV1", [{"validation": True, "blockStateCalls": [
        {"calls": [{"from": OWNER, "to": STRANGER, "nonce": "0x0", "maxFeePerGas": "0x174876e800"}]},
    ]}])  # fmt: skip
    assert too_low["code"] == -38010 and "nonce too low" in too_low["message"]
    no_fee = error_of(url, "eth_simulateV1", [{"validation": True, "blockStateCalls": [
        {"calls": [{"from": OWNER, "to": STRANGER}]}]}])  # fmt: skip
    assert no_fee["code"] == -38012
    backwards = error_of(url, "eth_simulateV1", [{"blockStateCalls": [
        {"blockOverrides": {"number": "0x1"}}]}])  # fmt: skip
    assert backwards["code"] == -38020
    broke = error_of(url, "eth_simulateV1", [{"blockStateCalls": [
        {"calls": [{"from": STRANGER, "to": OWNER, "value": "0x1"}]}]}])  # fmt: skip
    assert broke["code"] == -38014
    malformed = error_of(url, "eth_simulateV1", [{"blockStateCalls": "no"}])
    assert malformed["code"] == -32602
