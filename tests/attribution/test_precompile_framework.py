"""The stateful-precompile framework (`state/precompile/`) on a toy precompile, run by py-evm.

The toy sits at 0x...0f01 with the one-byte sentinel code; it is called by transactions and, for
STATICCALL, DELEGATECALL and CALLCODE, through a Solidity probe contract compiled with solc-js.
"""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from attribution_helpers import ALICE, BOB, Abi, AttributionChain, expected_gas_used, make_genesis
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from helpers import CONTRACTS, compile_solidity

from openledger.genesis.load import with_precompile_code
from openledger.genesis.model import ETHER, PRECOMPILE_CODE, Account
from openledger.genesis.types import Address
from openledger.state.calls import decode_revert_reason
from openledger.state.fork import make_vm_class
from openledger.state.precompile import (
    CALL_BASE_GAS,
    SLOT_READ_GAS,
    SLOT_WRITE_GAS,
    Call,
    Event,
    GasRule,
    Method,
    PrecompileRevert,
    StatefulPrecompile,
    Storage,
    compute_chunk_count,
    compute_log_gas,
)

TOY = Address(bytes.fromhex("0f01".rjust(40, "0")))
STORED = Event("Stored", (("key", "uint256", True), ("value", "uint256", False)))
NAMED = Event("Named", (("who", "address", True), ("name", "string", False)))
VALUE = "toy.value"


def _store(call: Call, key: int, value: int) -> None:
    call.storage.set(Storage.slot(VALUE, key), value)
    call.emit(STORED, key, value)


def _get(call: Call, key: int) -> int:
    return call.storage.get(Storage.slot(VALUE, key))


def _set_name(call: Call, name: str) -> None:
    call.storage.set_string(Storage.slot("toy.name", call.sender), name)
    call.emit(NAMED, call.sender, name)


def _write_then_burn(call: Call, key: int, extra: int) -> None:
    call.storage.set(Storage.slot(VALUE, key), 7)
    call.computation.consume_gas(extra, reason="more work than charged")


def _write_then_fail(call: Call, key: int) -> None:
    call.storage.set(Storage.slot(VALUE, key), 7)
    call.revert("changed my mind")


def _crash(call: Call) -> None:
    raise RuntimeError("a bug in a handler")


def _deposit(call: Call) -> int:
    return call.storage.add(Storage.slot("toy.deposit", call.sender), call.value)


def _remember(call: Call, who: bytes) -> bytes:
    if not isinstance(who, bytes) or len(who) != 20:
        raise PrecompileRevert(f"handler got {who!r}, not 20 raw bytes")
    call.storage.set(Storage.slot("toy.who", who), 1)
    return who


def _count_items(call: Call) -> int:
    return call.storage.get(Storage.slot("toy.items"))


def _set_items(call: Call, items: int) -> None:
    call.storage.set(Storage.slot("toy.items"), items)


def _stored_items(storage: Storage, arguments: Any) -> int:
    return storage.get(Storage.slot("toy.items"))


STORE_GAS = SLOT_WRITE_GAS + STORED.compute_log_gas()
METHODS = [
    Method("store", (("key", "uint256"), ("value", "uint256")), (), _store, GasRule(STORE_GAS)),
    Method("get", (("key", "uint256"),), ("uint256",), _get, GasRule(SLOT_READ_GAS),
           writes=False),
    Method("setName", (("name", "string"),), (), _set_name,
           GasRule(SLOT_WRITE_GAS + NAMED.compute_log_gas(), per_word=SLOT_WRITE_GAS + 256,
                   byte_args=("name",))),
    Method("writeThenBurn", (("key", "uint256"), ("extra", "uint256")), (), _write_then_burn,
           GasRule(SLOT_WRITE_GAS)),
    Method("writeThenFail", (("key", "uint256"),), (), _write_then_fail, GasRule(SLOT_WRITE_GAS)),
    Method("crash", (), (), _crash, GasRule(0)),
    Method("deposit", (), ("uint256",), _deposit, GasRule(SLOT_WRITE_GAS), payable=True),
    Method("remember", (("who", "address"),), ("address",), _remember, GasRule(SLOT_WRITE_GAS),
           address_bytes=True),
    Method("setItems", (("items", "uint256"),), (), _set_items, GasRule(SLOT_WRITE_GAS)),
    Method("countItems", (), ("uint256",), _count_items,
           GasRule(SLOT_READ_GAS, per_stored_item=100, stored_items=_stored_items), writes=False),
]  # fmt: skip
PRECOMPILE = StatefulPrecompile("toy", TOY, METHODS, (STORED, NAMED))


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[AttributionChain]:
    genesis = make_genesis()
    alloc = {**genesis.alloc_dict(), TOY: Account(code=PRECOMPILE_CODE)}
    vm_class = make_vm_class({TOY: PRECOMPILE})
    chain = AttributionChain.open(
        tmp_path / "toy", Abi({"toy": PRECOMPILE.abi()}),
        replace(genesis, alloc=with_precompile_code(alloc)), vm_class,
    )  # fmt: skip
    chain.targets = {"toy": TOY}
    chain.mine()
    try:
        yield chain
    finally:
        chain.close()


@pytest.fixture(scope="module")
def probe_abi() -> dict[str, Any]:
    return compile_solidity(CONTRACTS / "PrecompileProbe.sol")["PrecompileProbe"]


def toy_storage(chain: AttributionChain) -> str:
    return chain.proof(TOY, [])["storageHash"]


def probe(
    chain: AttributionChain, artifact: dict[str, Any], data: bytes, kind: int, value: int = 0
) -> tuple[bool, bytes]:
    """Mine a probe call and return what the inner call answered."""
    address = chain.contracts.get("probe") or chain.deploy(ALICE, artifact["bytecode"])
    chain.contracts["probe"] = address
    selector = keccak(b"probe(address,bytes,uint8)")[:4]
    calldata = selector + abi_encode(["address", "bytes", "uint8"], [TOY, data, kind])
    sent = chain.send_data(ALICE, address, calldata, value=value)
    assert sent.ok
    ok, output = abi_decode(["bool", "bytes"], sent.simulation.output)
    return ok, output


# --- dispatch ------------------------------------------------------------------------------------


def test_a_method_runs_returns_its_result_and_emits_its_log(toy: AttributionChain) -> None:
    sent = toy.send(ALICE, "toy", "store", 5, 42)

    assert sent.ok
    assert sent.events == [("Stored", {"key": 5, "value": 42})]
    assert sent.receipt.logs[0].address == TOY
    assert toy.view("toy", "get", 5) == 42


def test_gas_is_the_call_base_plus_the_rule(toy: AttributionChain) -> None:
    data = toy.abi.encode("toy", "store", 5, 42)

    sent = toy.send(ALICE, "toy", "store", 5, 42)

    assert sent.gas_used == expected_gas_used(data, CALL_BASE_GAS + STORE_GAS)
    assert STORE_GAS == 20_000 + 375 + 2 * 375 + 8 * 32


def test_string_arguments_are_charged_per_word_rounded_up(toy: AttributionChain) -> None:
    for name in ("", "a", "x" * 32, "x" * 33, "é" * 40):
        data = toy.abi.encode("toy", "setName", name)
        words = (len(name.encode()) + 31) // 32
        execution = CALL_BASE_GAS + SLOT_WRITE_GAS + NAMED.compute_log_gas() + words * 20_256

        sent = toy.send(ALICE, "toy", "setName", name)

        assert sent.gas_used == expected_gas_used(data, execution), name
        assert sent.events == [("Named", {"who": ALICE.address, "name": name})]


def test_stored_item_counts_are_charged_before_the_handler(toy: AttributionChain) -> None:
    data = toy.abi.encode("toy", "countItems")
    assert toy.send(ALICE, "toy", "countItems").gas_used == expected_gas_used(
        data, CALL_BASE_GAS + SLOT_READ_GAS
    )
    toy.send(ALICE, "toy", "setItems", 9)

    sent = toy.send(ALICE, "toy", "countItems")

    assert sent.result == 9
    assert sent.gas_used == expected_gas_used(data, CALL_BASE_GAS + SLOT_READ_GAS + 9 * 100)


def test_addresses_reach_handlers_as_raw_bytes_when_asked(toy: AttributionChain) -> None:
    sent = toy.send(ALICE, "toy", "remember", BOB.address)

    assert sent.ok, sent.reason
    assert sent.result == BOB.address
    assert Storage(toy.state(), TOY).get(Storage.slot("toy.who", BOB.address)) == 1


def test_value_reaches_a_payable_method(toy: AttributionChain) -> None:
    sent = toy.send(ALICE, "toy", "deposit", value=3 * ETHER)

    assert sent.ok and sent.result == 3 * ETHER
    assert toy.balance(TOY) == 3 * ETHER


# --- refusals ------------------------------------------------------------------------------------


def _assert_refused(toy: AttributionChain, data: bytes, reason: str, value: int = 0) -> None:
    """The raw call reverts with `reason` and, mined, changes nothing but the sender's gas."""
    simulated = toy.simulate(ALICE.address, TOY, data, value=value)
    assert not simulated.success and simulated.reverted
    assert reason in (decode_revert_reason(simulated.output) or ""), simulated.output
    before, balance = toy_storage(toy), toy.balance(ALICE.address)

    sent = toy.send_data(ALICE, TOY, data, value=value)

    assert not sent.ok
    assert sent.events == []
    assert toy_storage(toy) == before
    assert toy.balance(ALICE.address) == balance - sent.fee
    assert toy.balance(TOY) == 0


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x02\x03"])
def test_calldata_shorter_than_a_selector_is_refused(toy: AttributionChain, data: bytes) -> None:
    _assert_refused(toy, data, "toy: calldata is shorter than a function selector")


def test_an_unknown_selector_is_refused(toy: AttributionChain) -> None:
    _assert_refused(toy, b"\xde\xad\xbe\xef" + bytes(64), "unknown function selector 0xdeadbeef")


@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        ("store", bytes(32)),  # one argument of two
        ("store", bytes(63)),  # a truncated word
        ("setName", (32).to_bytes(32, "big") + (2**200).to_bytes(32, "big")),  # huge length
        ("setName", abi_encode(["bytes"], [b"\xff\xfe"])),  # not UTF-8
        ("remember", b"\x01" * 32),  # address with dirty upper bytes
    ],
)
def test_malformed_calldata_is_refused(
    toy: AttributionChain, function: str, arguments: bytes
) -> None:
    data = toy.abi.selector("toy", function) + arguments
    _assert_refused(toy, data, "malformed calldata")


def test_value_sent_to_a_method_that_is_not_payable_is_refused(toy: AttributionChain) -> None:
    _assert_refused(toy, toy.abi.encode("toy", "store", 1, 2), "store is not payable", ETHER)


def test_a_handler_revert_undoes_its_writes(toy: AttributionChain) -> None:
    _assert_refused(toy, toy.abi.encode("toy", "writeThenFail", 3), "toy: changed my mind")


def test_a_handler_bug_reverts_with_internal_error(
    toy: AttributionChain, caplog: pytest.LogCaptureFixture
) -> None:
    _assert_refused(toy, toy.abi.encode("toy", "crash"), "toy: internal error")
    assert "a bug in a handler" in caplog.text


# --- gas -----------------------------------------------------------------------------------------


def test_running_out_of_gas_at_the_charge_writes_nothing(toy: AttributionChain) -> None:
    data = toy.abi.encode("toy", "store", 8, 9)
    needed = expected_gas_used(data, CALL_BASE_GAS + STORE_GAS)
    before = toy_storage(toy)

    short = toy.send_data(ALICE, TOY, data, gas=needed - 1)

    assert not short.ok and short.gas_used == needed - 1
    assert short.events == [] and toy_storage(toy) == before
    assert toy.send_data(ALICE, TOY, data, gas=needed).ok


def test_running_out_of_gas_in_the_middle_of_a_method_undoes_its_writes(
    toy: AttributionChain,
) -> None:
    data = toy.abi.encode("toy", "writeThenBurn", 4, 10**9)
    before = toy_storage(toy)

    sent = toy.send_data(ALICE, TOY, data, gas=200_000)

    assert not sent.ok and sent.gas_used == 200_000
    assert toy_storage(toy) == before


def test_gas_rule_counts_items_bytes_and_words() -> None:
    rule = GasRule(100, per_item=10, per_byte=1, item_arg="ids", byte_args=("a", "b"),
                   per_word=1000)  # fmt: skip

    gas = rule.compute({"ids": (1, 2, 3), "a": "x" * 33, "b": b"\x00"})

    assert gas == 100 + 3 * 10 + 34 * 1 + (2 + 1) * 1000
    assert compute_chunk_count("") == 0 and compute_chunk_count(b"x" * 64) == 2


def test_a_stored_count_rule_needs_the_storage() -> None:
    rule = GasRule(1, per_stored_item=1, stored_items=_stored_items)

    with pytest.raises(TypeError, match="pass the storage"):
        rule.compute({})


def test_event_log_gas_counts_topics_static_and_dynamic_words() -> None:
    assert STORED.compute_log_gas() == compute_log_gas(2, 32)
    # `name` is a string: an offset and a length word, then its content words.
    assert NAMED.compute_log_gas(dynamic_words=3) == compute_log_gas(2, 32 * 5)


# --- call kinds through a contract ---------------------------------------------------------------


def test_a_contract_call_runs_the_method(toy: AttributionChain, probe_abi: dict) -> None:
    ok, _ = probe(toy, probe_abi, toy.abi.encode("toy", "store", 1, 11), kind=0)

    assert ok
    assert toy.view("toy", "get", 1) == 11


def test_staticcall_runs_a_view_but_refuses_a_writing_method(
    toy: AttributionChain, probe_abi: dict
) -> None:
    toy.send(ALICE, "toy", "store", 1, 11)
    ok, output = probe(toy, probe_abi, toy.abi.encode("toy", "get", 1), kind=1)
    assert ok and abi_decode(["uint256"], output) == (11,)
    before = toy_storage(toy)

    ok, output = probe(toy, probe_abi, toy.abi.encode("toy", "store", 1, 12), kind=1)

    assert not ok
    assert (
        decode_revert_reason(output) == "toy: store changes state and cannot run in a static call"
    )
    assert toy_storage(toy) == before


@pytest.mark.parametrize("kind", [2, 3], ids=["DELEGATECALL", "CALLCODE"])
def test_delegatecall_and_callcode_are_refused(
    toy: AttributionChain, probe_abi: dict, kind: int
) -> None:
    for data in (toy.abi.encode("toy", "store", 1, 12), toy.abi.encode("toy", "get", 1)):
        ok, output = probe(toy, probe_abi, data, kind=kind)

        assert not ok
        assert decode_revert_reason(output) == "toy: DELEGATECALL and CALLCODE are refused"
    assert toy.view("toy", "get", 1) == 0
    assert Storage(toy.state(), toy.contracts["probe"]).get(Storage.slot(VALUE, 1)) == 0


# --- storage -------------------------------------------------------------------------------------


def test_storage_slots_are_the_documented_hash(toy: AttributionChain) -> None:
    key = ALICE.address
    expected = keccak(b"toy.who" + b"\x00" + keccak(key))

    assert Storage.slot("toy.who", key) == int.from_bytes(expected, "big")
    assert Storage.slot("a", 1) == int.from_bytes(keccak(b"a\x00" + (1).to_bytes(32, "big")), "big")


def test_byte_strings_are_laid_out_like_solidity_and_shrinking_clears_chunks(
    toy: AttributionChain,
) -> None:
    storage = Storage(toy.state(), TOY)
    slot = Storage.slot("toy.text")
    base = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")

    storage.set_bytes(slot, b"a" * 70)
    assert storage.get(slot) == 70
    assert storage.get(base + 2) == int.from_bytes(b"a" * 6 + bytes(26), "big")
    storage.set_bytes(slot, b"bc")

    assert storage.get_bytes(slot) == b"bc"
    assert storage.get(base + 1) == storage.get(base + 2) == 0


def test_storage_add_refuses_to_go_below_zero(toy: AttributionChain) -> None:
    storage = Storage(toy.state(), TOY)

    with pytest.raises(PrecompileRevert, match="out of range"):
        storage.add(Storage.slot("toy.counter"), -1)


def test_two_methods_with_one_selector_are_refused() -> None:
    with pytest.raises(ValueError, match="share a selector"):
        StatefulPrecompile("twice", TOY, [METHODS[0], METHODS[0]])


def test_the_abi_lists_methods_with_mutability_and_events() -> None:
    abi = {entry["name"]: entry for entry in PRECOMPILE.abi()}

    assert abi["store"]["stateMutability"] == "nonpayable"
    assert abi["get"]["stateMutability"] == "view"
    assert abi["deposit"]["stateMutability"] == "payable"
    assert abi["Named"] == {
        "type": "event", "name": "Named", "anonymous": False,
        "inputs": [{"name": "who", "type": "address", "indexed": True},
                   {"name": "name", "type": "string", "indexed": False}],
    }  # fmt: skip


def test_indexed_dynamic_event_values_are_hashed_as_solidity_does() -> None:
    from eth_hash.auto import keccak

    from openledger.state.precompile import Event

    event = Event(
        "Named", (("name", "string", True), ("blob", "bytes", True), ("id", "uint256", True))
    )
    topics, data = event.encode(("alice", b"\x01\x02", 7))
    assert topics[1:] == [
        int.from_bytes(keccak(b"alice"), "big"),
        int.from_bytes(keccak(b"\x01\x02"), "big"),
        7,
    ]
    assert data == b""
