"""Every guard of the precompile: call kinds, selectors, calldata, value and gas, from contracts
compiled with solc and from plain transactions."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from helpers import compile_solidity
from staking_helpers import (
    KEYS,
    METHODS,
    STAKE,
    VALIDATORS,
    StakingChain,
    encode_call,
    is_success,
    make_genesis,
)

from openledger.genesis.load import with_precompile_code
from openledger.genesis.model import ETHER, STAKING_ADDRESS, Account
from openledger.genesis.types import Address
from openledger.state.calls import decode_revert_reason

REPO = Path(__file__).resolve().parents[2]
CALLER = Address(bytes.fromhex("00000000000000000000000000000000000c0de1"))
USER = KEYS[6]
V1 = VALIDATORS[1]


@pytest.fixture(scope="module")
def caller_contract() -> dict[str, Any]:
    compiled = compile_solidity(
        REPO / "tests" / "staking" / "contracts" / "StakingCaller.sol",
        include=REPO / "consensus" / "staking" / "solidity",
    )
    return dict(compiled["StakingCaller"])


@pytest.fixture
def with_caller(tmp_path: Path, caller_contract: dict[str, Any]) -> Iterator[StakingChain]:
    """A chain with `StakingCaller` deployed at `CALLER`."""
    genesis = make_genesis()
    code = bytes.fromhex(caller_contract["deployedBytecode"][2:])
    alloc = with_precompile_code({**genesis.alloc_dict(), CALLER: Account(code=code)})
    chain = StakingChain.open(tmp_path / "chain", replace(genesis, alloc=alloc))
    try:
        chain.mine()
        yield chain
    finally:
        chain.close()


def contract_call(name: str, types: list[str], *args: Any) -> bytes:
    signature = f"{name}({','.join(types)})"
    return keccak(signature.encode())[:4] + abi_encode(types, list(args))


def low_level(chain: StakingChain, function: str, data: bytes) -> tuple[bool, bytes]:
    result = chain.call_raw(USER.address, CALLER, contract_call(function, ["bytes"], data))
    assert result.success, decode_revert_reason(result.output)
    ok, output = abi_decode(["bool", "bytes"], result.output)
    return ok, output


# --- from a contract ------------------------------------------------------------------------------


def test_a_static_call_runs_views_and_refuses_writes(with_caller: StakingChain) -> None:
    ok, output = low_level(with_caller, "staticCall", encode_call("getValidator", V1))
    refused, reason = low_level(with_caller, "staticCall", encode_call("undelegate", V1, ETHER))

    assert ok
    assert abi_decode(list(METHODS["getValidator"].outputs), output)[1] == STAKE
    assert not refused
    assert decode_revert_reason(reason) == (
        "staking: undelegate changes state and cannot run in a static call"
    )


def test_a_delegatecall_is_refused_even_for_views(with_caller: StakingChain) -> None:
    ok, reason = low_level(with_caller, "delegateCall", encode_call("getValidator", V1))

    assert not ok
    assert decode_revert_reason(reason) == "staking: DELEGATECALL and CALLCODE are refused"


def test_contracts_call_it_through_the_solidity_interface(with_caller: StakingChain) -> None:
    data = contract_call("delegateTo", ["address"], V1)
    raw = with_caller.transaction(USER, "delegate", to=CALLER, data=data, value=2 * ETHER)

    receipt = with_caller.mine([raw])[0]
    view = with_caller.call_raw(USER.address, CALLER, contract_call("stakeOf", ["address"], V1))

    assert is_success(receipt)
    assert with_caller.view("getDelegation", CALLER, V1) == (2 * ETHER, 2 * ETHER)
    assert abi_decode(["uint256"], view.output)[0] == STAKE + 2 * ETHER


def test_a_caller_that_reverts_undoes_its_delegation(with_caller: StakingChain) -> None:
    data = contract_call("delegateThenRevert", ["address"], V1)
    raw = with_caller.transaction(USER, "delegate", to=CALLER, data=data, value=2 * ETHER)

    with_revert, receipts = with_caller.execute([raw])
    without, _ = with_caller.execute([])

    assert not is_success(receipts[0])
    assert with_caller.staking_fingerprint(with_revert) == with_caller.staking_fingerprint(without)


# --- from transactions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value", "reason"),
    [
        (b"\xde\xad\xbe\xef", 0, "unknown function selector 0xdeadbeef"),
        (b"\x01\x02", 0, "calldata is shorter than a function selector"),
        (METHODS["undelegate"].selector + b"\x00" * 40, 0, "malformed calldata for undelegate"),
        (
            METHODS["delegate"].selector + b"\xff" * 12 + V1,
            ETHER,
            "malformed calldata for delegate",
        ),
        (encode_call("undelegate", V1, ETHER), 1, "undelegate is not payable"),
        (encode_call("getValidator", V1), 1, "getValidator is not payable"),
    ],
    ids=["unknown selector", "short", "truncated", "dirty address", "value", "value to a view"],
)
def test_bad_calls_are_refused_with_a_reason(
    chain: StakingChain, data: bytes, value: int, reason: str
) -> None:
    chain.mine()
    chain.send(USER, "delegate", V1, value=2 * ETHER)

    result = chain.call_raw(USER.address, STAKING_ADDRESS, data, value)
    raw = chain.transaction(USER, "delegate", data=data, value=value)
    with_call, receipts = chain.execute([raw])
    without, _ = chain.execute([])

    assert not result.success
    assert reason in (decode_revert_reason(result.output) or "")
    assert not is_success(receipts[0])
    assert chain.staking_fingerprint(with_call) == chain.staking_fingerprint(without)


def test_running_out_of_gas_changes_nothing(chain: StakingChain) -> None:
    chain.mine()
    estimate = chain.send(KEYS[4], "registerValidator", 0, value=200 * ETHER, signers=None)
    assert is_success(estimate)
    needed = int(estimate.gas_used)

    raw = chain.transaction(KEYS[5], "registerValidator", 0, value=200 * ETHER, gas=needed - 1)
    short, receipts = chain.execute([raw])
    without, _ = chain.execute([])

    assert not is_success(receipts[0])
    assert receipts[0].gas_used == needed - 1  # all of it burned
    assert chain.staking_fingerprint(short) == chain.staking_fingerprint(without)
