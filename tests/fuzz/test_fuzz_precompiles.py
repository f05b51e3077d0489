"""Precompile fuzzer: random selectors and ABI bytes for every precompile (datanets 0x0a01, models
0x0a02, agents 0x0a03, attribution 0x0a04, staking 0x0800), called directly (`eth_call` and
transactions) and through a Solidity contract that forwards with CALL, STATICCALL, DELEGATECALL
and CALLCODE, on a real dev node.

Calldata is a known selector with well-typed random arguments (from the ABIs solc-js compiles
from the shipped interfaces), a known selector with random bytes, or random bytes. A call that
reverts, directly or inside the forwarding contract, changes nothing: the storage root and
balance of every precompile and of the forwarder are as before. No exception leaves a precompile
except as a revert: the node answers every request with a JSON-RPC result or an allowed error,
logs no ERROR or traceback, and keeps producing blocks.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from helpers import (
    CONTRACTS,
    DEV_ADDRESSES,
    REPO,
    ThreadedNode,
    compile_solidity,
    result,
    rpc,
    wait_for,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz.conftest import EXAMPLES, FUZZ, ErrorLog, counted
from fuzz.test_fuzz_rpc import ALLOWED_CODES
from openledger.attribution import SOLIDITY_DIR as ATTRIBUTION_SOLIDITY
from openledger.genesis.model import (
    AGENTS_ADDRESS,
    ATTRIBUTION_ADDRESS,
    DATANETS_ADDRESS,
    MODELS_ADDRESS,
    STAKING_ADDRESS,
    StakingParams,
)

STAKING_SOLIDITY = REPO / "consensus" / "staking" / "solidity"
TARGETS = {"IDatanets": DATANETS_ADDRESS, "IModels": MODELS_ADDRESS, "IAgents": AGENTS_ADDRESS,
           "IAttribution": ATTRIBUTION_ADDRESS, "IStaking": STAKING_ADDRESS}  # fmt: skip
STAKING = "0x" + STAKING_ADDRESS.hex()
ROUTES = ("eth_call", "transaction", "CALL", "STATICCALL", "DELEGATECALL", "CALLCODE")
PROBE_KIND = {"CALL": 0, "STATICCALL": 1, "DELEGATECALL": 2, "CALLCODE": 3}
SENDER = DEV_ADDRESSES[0]
PRECOMPILE_FUZZ = settings(FUZZ, max_examples=max(10, EXAMPLES // 2))
"""Each input is a block of its own: half the examples of the cheaper fuzzers."""


def _functions() -> list[tuple[str, str, list[Any]]]:
    """(interface, signature, inputs) of every function of the shipped interfaces."""
    paths = [*sorted(ATTRIBUTION_SOLIDITY.glob("*.sol")), *sorted(STAKING_SOLIDITY.glob("*.sol"))]
    compiled = compile_solidity(*paths)
    found = []
    for interface in TARGETS:
        for entry in compiled[interface]["abi"]:
            if entry["type"] == "function":
                kinds = ",".join(_type_of(item) for item in entry["inputs"])
                found.append((interface, f"{entry['name']}({kinds})", entry["inputs"]))
    return found


def _type_of(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_type_of(c) for c in item["components"]) + ")" + kind[len("tuple") :]
    return kind


def _values(item: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Random values of one ABI parameter."""
    kind = item["type"]
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        size = kind[kind.rindex("[") + 1 : -1]
        if size:
            return st.lists(_values(inner), min_size=int(size), max_size=int(size))
        return st.lists(_values(inner), max_size=4)
    if kind == "tuple":
        return st.tuples(*(_values(c) for c in item["components"]))
    if kind.startswith("uint"):
        bits = int(kind[4:] or 256)
        return st.integers(0, 5) | st.integers(0, 2**bits - 1)
    if kind.startswith("int"):
        bits = int(kind[3:] or 256)
        return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if kind == "address":
        return st.sampled_from([SENDER, DEV_ADDRESSES[1], "0x" + "00" * 20,
                                "0x" + DATANETS_ADDRESS.hex()]) | st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())  # fmt: skip
    if kind == "bool":
        return st.booleans()
    if kind == "string":
        return st.text(max_size=40)
    if kind == "bytes":
        return st.binary(max_size=200)
    if kind.startswith("bytes"):
        return st.binary(min_size=int(kind[5:]), max_size=int(kind[5:]))
    raise ValueError(f"no strategy for ABI type {kind}")


FUNCTIONS = _functions()


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, bytes]:
    """(interface, calldata)."""
    interface, signature, inputs = draw(st.sampled_from(FUNCTIONS))
    selector = keccak(signature.encode())[:4]
    how = draw(st.sampled_from(["typed", "typed", "random args", "random selector", "short"]))
    if how == "typed":
        args = [draw(_values(item)) for item in inputs]
        body = abi_encode([_type_of(item) for item in inputs], args)
        if draw(st.booleans()):  # sometimes damaged: cut, or a word replaced
            body = body[: draw(st.integers(0, len(body)))] if body else body
        return interface, selector + body
    if how == "random args":
        return interface, selector + draw(st.binary(max_size=300))
    if how == "random selector":
        return interface, draw(st.binary(min_size=4, max_size=4)) + draw(st.binary(max_size=200))
    return interface, draw(st.binary(max_size=3))


@pytest.fixture(scope="module")
def precompile_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedNode, str]]:
    node = ThreadedNode(Path(tmp_path_factory.mktemp("fuzz-precompiles")) / "node").start()
    try:
        probe = compile_solidity(CONTRACTS / "PrecompileProbe.sol")["PrecompileProbe"]
        tx_hash = result(
            node.url,
            "eth_sendTransaction",
            [{"from": SENDER, "data": probe["bytecode"], "gas": "0x2dc6c0"}],
        )
        receipt = _receipt(node.url, tx_hash)
        assert receipt["status"] == "0x1"
        yield node, receipt["contractAddress"]
    finally:
        node.stop()


def _fingerprint(url: str, addresses: list[str]) -> dict[str, tuple[str, str]]:
    """(storage root, balance) of each address at the head. The staking precompile's balance is
    left out: every block pays its fees and reward into it."""
    found = {}
    for address in addresses:
        proof = result(url, "eth_getProof", [address, [], "latest"])
        balance = "-" if address == STAKING else proof["balance"]
        found[address] = (proof["storageHash"], balance)
    return found


def _receipt(url: str, tx_hash: str) -> dict[str, Any]:
    """The receipt once the dev node (automine) has mined the transaction."""
    return wait_for(lambda: result(url, "eth_getTransactionReceipt", [tx_hash]), timeout=30,
                    what=f"the receipt of {tx_hash}")  # fmt: skip


def _answer(url: str, method: str, params: list[Any]) -> Any:
    response = rpc(url, method, params)
    if "error" in response:
        assert response["error"]["code"] in ALLOWED_CODES and response["error"]["code"] != -32603, (
            response
        )
        return None
    return response["result"]


@PRECOMPILE_FUZZ
@given(call=calls(), route=st.sampled_from(ROUTES), value=st.sampled_from([0, 0, 1, 10**18]))
def test_precompile_calldata(precompile_node: tuple[ThreadedNode, str], error_log: ErrorLog,
                             call: tuple[str, bytes], route: str, value: int) -> None:  # fmt: skip
    node, probe = precompile_node
    interface, data = call
    target = "0x" + TARGETS[interface].hex()
    watched = ["0x" + address.hex() for address in TARGETS.values()] + [probe]
    with counted(f"precompiles ({route})") as counts:
        if route == "eth_call":
            _answer(
                node.url,
                "eth_call",
                [
                    {"from": SENDER, "to": target, "data": "0x" + data.hex(), "value": hex(value)},
                    "latest",
                ],
            )
            return
        if route == "transaction":
            to, payload = target, data
        else:
            selector = keccak(b"probe(address,bytes,uint8)")[:4]
            to, payload = (
                probe,
                selector
                + abi_encode(["address", "bytes", "uint8"], [target, data, PROBE_KIND[route]]),
            )
        before = _fingerprint(node.url, watched)
        tx_hash = _answer(node.url, "eth_sendTransaction", [{"from": SENDER, "to": to, "data": "0x" + payload.hex(),
                                                             "value": hex(value), "gas": hex(3_000_000)}])  # fmt: skip
        if tx_hash is None:
            return  # refused at admission (e.g. gas estimate): nothing ran
        receipt = _receipt(node.url, tx_hash)
        failed = receipt["status"] == "0x0"
        forwarded_ok = False
        if not failed and route != "transaction":
            # What the forwarder saw: the same call on the state just before its block.
            output = _answer(node.url, "eth_call", [{"from": SENDER, "to": to, "data": "0x" + payload.hex(), "value": hex(value)},
                                                   hex(int(receipt["blockNumber"], 16) - 1)])  # fmt: skip
            assert output is not None, "the forwarder itself reverted in a simulation"
            forwarded_ok = abi_decode(["bool", "bytes"], bytes.fromhex(output[2:]))[0]
            if route in ("DELEGATECALL", "CALLCODE"):
                assert not forwarded_ok, f"a precompile answered {route}"
            failed = not forwarded_ok
        if failed:
            after = _fingerprint(node.url, watched)
            if receipt["status"] == "0x1":
                # The forwarder keeps the value it was sent when its inner call fails.
                storage, balance = after[probe]
                after[probe] = (storage, hex(int(balance, 16) - value))
            if int(receipt["blockNumber"], 16) % StakingParams().epoch_length == 0:
                # The hooks of an epoch boundary block (the dev chain's default epochs) record
                # its timestamp in the staking precompile, whatever the block holds: evidence
                # ages in time from it.
                after[STAKING] = before[STAKING]
            assert after == before, f"a reverted call changed state: {before} -> {after}"
        else:
            counts.accepted += 1
        assert not error_log.records, error_log.text()
