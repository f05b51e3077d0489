"""`debug_traceTransaction`, `debug_traceCall` and `debug_traceBlockBy*` with geth's struct logger,
`callTracer` and `prestateTracer`, on a dev node: a revert three frames deep, a token transfer,
a contract calling an OpenLedger precompile; and the errors of bad requests."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from helpers import CONTRACTS, DEV_ADDRESSES, DEV_KEYS, ThreadedNode, compile_solidity, rpc
from rpc_tools import (
    ERROR_SELECTOR,
    TOKEN_SUPPLY,
    UNKNOWN_HASH,
    call,
    calldata,
    deploy_token,
    error_of,
    nonce_of,
    send,
    sign,
    topic_of,
    transact,
    transfer_data,
    wait_receipt,
)

from openledger.state import tracers
from openledger.state.tracers import MAX_STRUCT_LOGS

pytestmark = pytest.mark.timeout(120)

DATANETS = "0x" + "00" * 18 + "0a01"
SPIN_ROUNDS = 8_000
"""Enough loop rounds for more than MAX_STRUCT_LOGS steps."""
RECIPIENT = "0x" + "5a" * 20
ENTERED_TOPIC = "0x" + __import__("eth_utils").keccak(text="Entered(uint256)").hex()


@dataclass
class Chain:
    url: str
    outer: str
    middle: str
    inner: str
    token: str
    probe: str
    reverted: str = ""
    tolerant: str = ""
    transfer: str = ""
    probe_call: str = ""


def _deploy(url: str, path: Path, name: str) -> str:
    bytecode = compile_solidity(path)[name]["bytecode"]
    receipt = transact(url, DEV_KEYS[0], to=None, data="0x" + bytecode.removeprefix("0x"),
                       gas=3_000_000)  # fmt: skip
    assert receipt["status"] == "0x1"
    return receipt["contractAddress"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    node = ThreadedNode(tmp_path_factory.mktemp("trace") / "node").start()
    try:
        url = node.url
        nested = CONTRACTS / "Nested.sol"
        found = Chain(
            url,
            outer=_deploy(url, nested, "Nested"),
            middle=_deploy(url, nested, "Nested"),
            inner=_deploy(url, nested, "Nested"),
            token=deploy_token(url),
            probe=_deploy(url, CONTRACTS / "PrecompileProbe.sol", "PrecompileProbe"),
        )
        hops = ["address", "address"], [found.middle, found.inner]
        found.reverted = transact(url, DEV_KEYS[0], to=found.outer, gas=300_000,
                                  data=calldata("outer(address,address)", *hops))["transactionHash"]  # fmt: skip
        found.tolerant = transact(url, DEV_KEYS[0], to=found.outer, gas=300_000,
                                  data=calldata("tolerant(address,address)", *hops))["transactionHash"]  # fmt: skip
        found.transfer = transact(url, DEV_KEYS[0], to=found.token, gas=100_000,
                                  data=transfer_data(DEV_ADDRESSES[1], 1234))["transactionHash"]  # fmt: skip
        probe_data = calldata("probe(address,bytes,uint8)", ["address", "bytes", "uint8"],
                              [DATANETS, bytes.fromhex("deadbeef"), 0])  # fmt: skip
        found.probe_call = transact(url, DEV_KEYS[0], to=found.probe, gas=300_000,
                                    data=probe_data)["transactionHash"]  # fmt: skip
        yield found
    finally:
        node.stop()


def _reason(text: str) -> str:
    return ERROR_SELECTOR + abi_encode(["string"], [text]).hex()


def test_call_tracer_shows_the_three_frames_of_a_deep_revert(chain: Chain) -> None:
    receipt = call(chain.url, "eth_getTransactionReceipt", [chain.reverted])
    assert receipt["status"] == "0x0"
    top = call(chain.url, "debug_traceTransaction", [chain.reverted, {"tracer": "callTracer"}])
    assert top["type"] == "CALL"
    assert top["from"] == DEV_ADDRESSES[0].lower()
    assert top["to"] == chain.outer
    assert top["gas"] == hex(300_000)
    assert top["gasUsed"] == receipt["gasUsed"]
    assert top["value"] == "0x0"
    assert top["input"].startswith(calldata("outer(address,address)")[:10])
    (middle,) = top["calls"]
    (inner,) = middle["calls"]
    assert (middle["from"], middle["to"]) == (chain.outer, chain.middle)
    assert (inner["from"], inner["to"]) == (chain.middle, chain.inner)
    assert "calls" not in inner
    for frame in (top, middle, inner):
        assert frame["error"] == "execution reverted"
        assert frame["revertReason"] == "too deep"
        assert frame["output"] == _reason("too deep")
    assert int(inner["gasUsed"], 16) < int(middle["gasUsed"], 16) < int(top["gasUsed"], 16)
    assert int(middle["gas"], 16) < int(top["gas"], 16)
    # geth leaves out what a failed call never emitted, and the logs unless asked.
    assert "logs" not in top


def test_call_tracer_logs_and_only_top_call(chain: Chain) -> None:
    config = {"tracer": "callTracer", "tracerConfig": {"withLog": True}}
    top = call(chain.url, "debug_traceTransaction", [chain.tolerant, config])
    assert "error" not in top
    assert top["output"] == "0x" + "00" * 31 + "00"  # ok = false: the inner revert was caught
    (log,) = top["logs"]
    assert log == {
        "address": chain.outer,
        "topics": [ENTERED_TOPIC],
        "data": "0x" + "00" * 31 + "01",
        "position": "0x0",
    }
    (middle,) = top["calls"]
    assert middle["error"] == "execution reverted"
    assert "logs" not in middle  # its event was reverted with it
    only_top = {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": True}}
    alone = call(chain.url, "debug_traceTransaction", [chain.tolerant, only_top])
    assert "calls" not in alone and alone["gasUsed"] == top["gasUsed"]


def test_a_precompile_appears_as_a_call_with_its_input_output_and_revert_reason(
    chain: Chain,
) -> None:
    top = call(chain.url, "debug_traceTransaction", [chain.probe_call, {"tracer": "callTracer"}])
    assert "error" not in top
    (precompile,) = top["calls"]
    assert precompile["type"] == "CALL"
    assert precompile["from"] == chain.probe
    assert precompile["to"] == DATANETS
    assert precompile["input"] == "0xdeadbeef"
    assert precompile["error"] == "execution reverted"
    assert precompile["revertReason"] == "datanets: unknown function selector 0xdeadbeef"
    assert precompile["output"] == _reason("datanets: unknown function selector 0xdeadbeef")


def test_struct_logs_have_geths_fields(chain: Chain) -> None:
    receipt = call(chain.url, "eth_getTransactionReceipt", [chain.transfer])
    trace = call(chain.url, "debug_traceTransaction", [chain.transfer])
    assert set(trace) == {"gas", "failed", "returnValue", "structLogs"}
    assert trace["gas"] == int(receipt["gasUsed"], 16)
    assert trace["failed"] is False
    assert trace["returnValue"] == "0x" + "00" * 31 + "01"  # transfer returned true
    logs = trace["structLogs"]
    first = logs[0]
    assert first == {"pc": 0, "op": "PUSH1", "gas": first["gas"], "gasCost": 3, "depth": 1,
                     "stack": [], "refund": 0}  # fmt: skip
    assert logs[1]["stack"] == ["0x80"] and logs[1]["gas"] == first["gas"] - 3
    sstores = [step for step in logs if step["op"] == "SSTORE"]
    assert len(sstores) == 2  # the two balances
    recipient_value = "0x" + (1234).to_bytes(32, "big").hex()
    assert recipient_value in sstores[-1]["storage"].values()
    assert all("storage" not in step for step in logs if step["op"] not in ("SLOAD", "SSTORE"))
    log_steps = [step for step in logs if step["op"] == "LOG3"]
    assert len(log_steps) == 1
    assert logs[-1]["op"] == "RETURN"
    for step in logs:
        assert step["gasCost"] >= 0 and step["depth"] == 1 and "memory" not in step


def test_struct_logger_options(chain: Chain) -> None:
    options = {"disableStack": True, "disableStorage": True, "enableMemory": True,
               "enableReturnData": True, "limit": 5}  # fmt: skip
    trace = call(chain.url, "debug_traceTransaction", [chain.transfer, options])
    logs = trace["structLogs"]
    assert len(logs) == 5
    assert all("stack" not in step and "storage" not in step for step in logs)
    assert logs[0]["memory"] == [] and logs[0]["returnData"] == "0x"
    # After PUSH1 0x80 PUSH1 0x40 MSTORE, memory holds the free memory pointer.
    assert logs[3]["memory"] == ["0x" + "00" * 32, "0x" + "00" * 32, "0x" + "00" * 31 + "80"]


def test_a_deep_revert_in_struct_logs(chain: Chain) -> None:
    trace = call(chain.url, "debug_traceTransaction", [chain.reverted])
    assert trace["failed"] is True
    assert trace["returnValue"] == _reason("too deep")
    depths = {step["depth"] for step in trace["structLogs"]}
    assert depths == {1, 2, 3}
    calls = [step for step in trace["structLogs"] if step["op"] in ("CALL", "STATICCALL")]
    assert [step["op"] for step in calls] == ["CALL", "STATICCALL"]  # inner() is pure
    # geth's cost of a CALL is the gas it hands over (plus its own), not what the callee used.
    first_call = calls[0]
    index = trace["structLogs"].index(first_call)
    child_start = trace["structLogs"][index + 1]
    assert child_start["depth"] == 2
    assert first_call["gasCost"] >= child_start["gas"]


def test_prestate_diff_of_a_token_transfer_shows_the_two_balances(chain: Chain) -> None:
    config = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}
    diff = call(chain.url, "debug_traceTransaction", [chain.transfer, config])
    token = diff["post"][chain.token]
    sender_slot, recipient_slot = _balance_slots(chain, diff)
    assert diff["pre"][chain.token]["storage"][sender_slot] == hex_word(
        int(diff["pre"][chain.token]["storage"][sender_slot], 16)
    )
    before = int(diff["pre"][chain.token]["storage"][sender_slot], 16)
    assert int(token["storage"][sender_slot], 16) == before - 1234
    assert int(token["storage"][recipient_slot], 16) == 1234
    assert recipient_slot not in diff["pre"][chain.token]["storage"]  # it was zero
    assert "code" not in token and "balance" not in token  # only what changed
    sender = DEV_ADDRESSES[0].lower()
    assert diff["post"][sender]["nonce"] == diff["pre"][sender]["nonce"] + 1
    assert int(diff["post"][sender]["balance"], 16) < int(diff["pre"][sender]["balance"], 16)
    plain = call(
        chain.url, "debug_traceTransaction", [chain.transfer, {"tracer": "prestateTracer"}]
    )
    assert plain[chain.token]["code"].startswith("0x60")
    assert (
        plain[chain.token]["storage"][sender_slot]
        == diff["pre"][chain.token]["storage"][sender_slot]
    )
    assert plain[sender]["balance"] == diff["pre"][sender]["balance"]


def hex_word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _balance_slots(chain: Chain, diff: dict[str, Any]) -> tuple[str, str]:
    # The token's balances mapping: the slot that lost 1234 is the sender's.
    changed = diff["post"][chain.token]["storage"]
    recipient = next(slot for slot, value in changed.items() if int(value, 16) == 1234)
    (sender,) = (slot for slot in changed if slot != recipient)
    return sender, recipient


def test_trace_call_and_trace_block(chain: Chain) -> None:
    url = chain.url
    request = {"from": DEV_ADDRESSES[0], "to": chain.token,
               "data": transfer_data(DEV_ADDRESSES[2], 5)}  # fmt: skip
    top = call(url, "debug_traceCall", [request, "latest", {"tracer": "callTracer"}])
    assert top["to"] == chain.token and top["output"] == "0x" + "00" * 31 + "01"
    balance = calldata("balanceOf(address)", ["address"], [DEV_ADDRESSES[2]])
    assert int(call(url, "eth_call", [{"to": chain.token, "data": balance}]), 16) == 0  # not mined
    overrides = {DEV_ADDRESSES[0]: {"balance": "0x1"}}
    traced = call(url, "debug_traceCall", [{"from": DEV_ADDRESSES[0], "to": DEV_ADDRESSES[3]},
                                          "latest", {"tracer": "prestateTracer",
                                                     "stateOverrides": overrides}])  # fmt: skip
    assert traced[DEV_ADDRESSES[0].lower()]["balance"] == "0x1"
    logs = call(url, "debug_traceCall", [request, "latest"])
    assert logs["failed"] is False and logs["structLogs"][0]["op"] == "PUSH1"
    block = call(url, "eth_getTransactionReceipt", [chain.transfer])["blockNumber"]
    by_number = call(url, "debug_traceBlockByNumber", [block, {"tracer": "callTracer"}])
    assert [entry["txHash"] for entry in by_number] == [chain.transfer]
    assert by_number[0]["result"]["to"] == chain.token
    block_hash = call(url, "eth_getBlockByNumber", [block, False])["hash"]
    by_hash = call(url, "debug_traceBlockByHash", [block_hash])
    assert by_hash[0]["result"] == call(url, "debug_traceTransaction", [chain.transfer])


def test_a_block_of_several_transactions_traces_each_on_the_state_before_it(
    chain: Chain,
) -> None:
    url = chain.url
    call(url, "evm_setAutomine", [False])
    try:
        nonce = nonce_of(url, DEV_ADDRESSES[2])
        hashes = [
            send(url, sign(DEV_KEYS[2], to=RECIPIENT, value=10**18, nonce=nonce + i))
            for i in range(3)
        ]
        call(url, "evm_mine")
    finally:
        call(url, "evm_setAutomine", [True])
    block = wait_receipt(url, hashes[0])["blockNumber"]
    traces = call(url, "debug_traceBlockByNumber", [block, {"tracer": "prestateTracer"}])
    balances = [int(t["result"][RECIPIENT]["balance"], 16) for t in traces]
    assert balances[1] - balances[0] == balances[2] - balances[1] == 10**18
    assert (
        call(url, "debug_traceTransaction", [hashes[2], {"tracer": "prestateTracer"}])
        == (traces[2]["result"])
    )


def test_bad_requests_get_clear_errors_and_the_node_keeps_serving(chain: Chain) -> None:
    url = chain.url
    unknown = error_of(
        url, "debug_traceTransaction", [chain.transfer, {"tracer": "fourByteTracer"}]
    )
    assert unknown["code"] == -32602 and "fourByteTracer" in unknown["message"]
    missing = error_of(url, "debug_traceTransaction", [UNKNOWN_HASH])
    assert missing["code"] == -32000 and "not found" in missing["message"]
    genesis = error_of(url, "debug_traceBlockByNumber", ["0x0"])
    assert "genesis" in genesis["message"]
    bad_timeout = error_of(url, "debug_traceTransaction", [chain.transfer, {"timeout": "soon"}])
    assert bad_timeout["code"] == -32602 and "timeout" in bad_timeout["message"]
    # A transaction long enough to pass any short deadline.
    spin = transact(url, DEV_KEYS[1], to=chain.outer, gas=25_000_000,
                    data=calldata("spin(uint256)", ["uint256"], [SPIN_ROUNDS]))  # fmt: skip
    assert spin["status"] == "0x1"
    started = time.monotonic()
    late = error_of(url, "debug_traceTransaction", [spin["transactionHash"], {"timeout": "200ms"}])
    assert late["code"] == -32000 and "timeout" in late["message"]
    assert time.monotonic() - started < 10
    response = rpc(url, "debug_traceTransaction", [spin["transactionHash"], {"timeout": "60s"}])
    assert "error" in response, "a trace past MAX_STRUCT_LOGS was answered"
    huge = response["error"]
    assert str(MAX_STRUCT_LOGS) in huge["message"] and "limit" in huge["message"]
    # ... while the same trace through callTracer, or with a limit, is fine (both still run the
    # whole transaction: a loaded machine may need more than the default 5 s),
    slow_ok = {"timeout": "60s"}
    top = call(url, "debug_traceTransaction",
               [spin["transactionHash"], {"tracer": "callTracer", **slow_ok}])  # fmt: skip
    assert top["gasUsed"] == spin["gasUsed"]
    limited = call(
        url, "debug_traceTransaction", [spin["transactionHash"], {"limit": 10, **slow_ok}]
    )
    assert len(limited["structLogs"]) == 10
    # and the node still answers.
    assert call(url, "eth_blockNumber") == spin["blockNumber"]
    assert abi_decode(["uint256"], bytes.fromhex(call(url, "eth_call", [
        {"to": chain.token, "data": calldata("balanceOf(address)", ["address"],
                                             [DEV_ADDRESSES[1]])}])[2:]))[0] >= 1234  # fmt: skip
    assert topic_of(DEV_ADDRESSES[0])


def test_create_access_list_lists_the_slots_a_transfer_touches(chain: Chain) -> None:
    url = chain.url
    request = {"from": DEV_ADDRESSES[0], "to": chain.token,
               "data": transfer_data(DEV_ADDRESSES[3], 7)}  # fmt: skip
    found = call(url, "eth_createAccessList", [request, "latest"])
    (entry,) = found["accessList"]
    assert entry["address"] == chain.token
    assert len(entry["storageKeys"]) == 2  # the sender's and the recipient's balance
    # Sent with the list, the transfer costs what eth_createAccessList said.
    receipt = transact(url, DEV_KEYS[0], to=chain.token, gas=100_000, data=request["data"],
                       accessList=found["accessList"])  # fmt: skip
    assert receipt["gasUsed"] == found["gasUsed"]
    # A call reaching another contract lists it; the precompiles are never listed.
    hops = calldata(
        "tolerant(address,address)", ["address", "address"], [chain.middle, chain.inner]
    )
    nested = call(url, "eth_createAccessList", [{"from": DEV_ADDRESSES[0], "to": chain.outer,
                                                 "data": hops}])  # fmt: skip
    listed = [entry["address"] for entry in nested["accessList"]]
    assert chain.middle in listed and chain.inner in listed
    probe = calldata("probe(address,bytes,uint8)", ["address", "bytes", "uint8"],
                     [DATANETS, b"", 0])  # fmt: skip
    through = call(url, "eth_createAccessList", [{"from": DEV_ADDRESSES[0], "to": chain.probe,
                                                  "data": probe}])  # fmt: skip
    assert DATANETS not in [entry["address"] for entry in through["accessList"]]


def test_storage_values_read_several_slots(chain: Chain) -> None:
    url = chain.url
    values = call(url, "eth_getStorageValues",
                  [{chain.token: ["0x2", "0x63"], chain.outer: ["0x0"]}, "latest"])  # fmt: skip
    assert values[chain.token] == ["0x" + TOKEN_SUPPLY.to_bytes(32, "big").hex(), "0x" + "00" * 32]
    assert values[chain.outer] == [call(url, "eth_getStorageAt", [chain.outer, "0x0", "latest"])]
    assert int(values[chain.outer][0], 16) >= 1  # the visits of `tolerant`
    too_many = error_of(chain.url, "eth_getStorageValues", [{chain.outer: ["0x0"] * 1025}])
    assert too_many["code"] == -32602 and "1024" in too_many["message"]


def test_struct_logs_are_bounded_in_size_too(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    # The node runs in this process: a small budget stands for a huge stack or memory.
    monkeypatch.setattr(tracers, "MAX_STRUCT_LOG_WORDS", 200)
    too_big = error_of(chain.url, "debug_traceTransaction", [chain.transfer])
    assert too_big["code"] == -32000 and "disableStack" in too_big["message"]
    lean = {"disableStack": True, "disableStorage": True}
    assert call(chain.url, "debug_traceTransaction", [chain.transfer, lean])["structLogs"]
