"""The Solidity interface matches the precompile, and every method costs exactly its schedule."""

import re
from pathlib import Path
from typing import Any

import pytest
from eth_hash.auto import keccak
from helpers import compile_solidity
from staking_helpers import (
    KEYS,
    PRECOMPILE,
    VALIDATORS,
    StakingChain,
    is_success,
    sign_double_vote,
)

from openledger.consensus.staking import abi as staking_abi
from openledger.consensus.staking.abi import (
    GAS,
    PER_DELEGATION_CLAIM_GAS,
    PER_DELEGATION_READ_GAS,
    PER_ENTRY_GAS,
    PER_MEMBER_GAS,
    STAKING_EVENTS,
    VOTE_BYTE_GAS,
)
from openledger.genesis.model import ETHER
from openledger.state.precompile import CALL_BASE_GAS, SLOT_READ_GAS
from openledger.state.transactions import decode_transaction

REPO = Path(__file__).resolve().parents[2]
INTERFACE = REPO / "consensus" / "staking" / "solidity" / "IStaking.sol"
DELEGATOR = KEYS[5]


@pytest.fixture(scope="module")
def interface_abi() -> list[dict[str, Any]]:
    return list(compile_solidity(INTERFACE)["IStaking"]["abi"])


def canonical(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(item['type'] for item in entry['inputs'])})"


def test_the_interface_declares_exactly_the_precompiles_methods(
    interface_abi: list[dict[str, Any]],
) -> None:
    declared = {
        canonical(entry): (
            [item["type"] for item in entry["outputs"]],
            entry["stateMutability"],
            keccak(canonical(entry).encode())[:4],
        )
        for entry in interface_abi
        if entry["type"] == "function"
    }
    served = {
        canonical(entry): (
            [item["type"] for item in entry["outputs"]],
            entry["stateMutability"],
            keccak(canonical(entry).encode())[:4],
        )
        for entry in PRECOMPILE.abi()
        if entry["type"] == "function"
    }

    assert declared == served
    assert {selector for _, _, selector in served.values()} == set(PRECOMPILE.methods)


def test_the_interface_declares_exactly_the_events_emitted(
    interface_abi: list[dict[str, Any]],
) -> None:
    declared = {
        keccak(canonical(entry).encode()): [item["indexed"] for item in entry["inputs"]]
        for entry in interface_abi
        if entry["type"] == "event"
    }
    emitted = {event.topic: [indexed for _, _, indexed in event.inputs] for event in STAKING_EVENTS}
    listed = {
        canonical(entry): [(item["name"], item["indexed"]) for item in entry["inputs"]]
        for entry in PRECOMPILE.abi()
        if entry["type"] == "event"
    }
    compiled = {
        canonical(entry): [(item["name"], item["indexed"]) for item in entry["inputs"]]
        for entry in interface_abi
        if entry["type"] == "event"
    }

    assert declared == emitted
    assert listed == compiled  # names included: the precompile's ABI is the interface's


# --- gas -----------------------------------------------------------------------------------------


def charged(chain: StakingChain, raw: bytes, receipt: Any) -> int:
    """Gas the precompile charged in a one-transaction block."""
    assert is_success(receipt)
    transaction = decode_transaction(raw, chain.chain.vm_class)
    return int(receipt.gas_used) - int(transaction.intrinsic_gas) - CALL_BASE_GAS


def run(chain: StakingChain, key: Any, name: str, *args: Any, value: int = 0, **kw: Any) -> int:
    raw = chain.transaction(key, name, *args, value=value)
    return charged(chain, raw, chain.mine([raw], **kw)[0])


def view_gas(chain: StakingChain, name: str, *args: Any) -> int:
    from staking_helpers import encode_call

    result = chain.simulate(KEYS[9].address, name, *args)
    assert result.success
    intrinsic = 21_000 + sum(16 if byte else 4 for byte in encode_call(name, *args))
    return int(result.gas_used) - intrinsic - CALL_BASE_GAS


def test_transactions_cost_exactly_their_schedule(chain: StakingChain) -> None:
    chain.mine()
    newcomer = KEYS[4]
    assert (
        run(chain, newcomer, "registerValidator", 500, value=200 * ETHER)
        == GAS["registerValidator"]
    )
    assert run(chain, DELEGATOR, "delegate", VALIDATORS[0], value=3 * ETHER) == GAS["delegate"]
    chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=3 * ETHER)
    assert run(chain, DELEGATOR, "undelegate", VALIDATORS[0], ETHER) == GAS["undelegate"]
    chain.send(DELEGATOR, "undelegate", VALIDATORS[1], ETHER)
    # Two delegations held; two unbonding entries matured.
    assert run(chain, DELEGATOR, "claimRewards") == (
        GAS["claimRewards"] + 2 * PER_DELEGATION_CLAIM_GAS
    )
    chain.mine_until(chain.head.block_number + 10)
    assert run(chain, DELEGATOR, "withdraw") == GAS["withdraw"] + 2 * PER_ENTRY_GAS


def test_evidence_costs_its_schedule_plus_its_bytes_and_lookups(chain: StakingChain) -> None:
    chain.mine_until(3)
    votes = sign_double_vote(KEYS[3], 2)

    gas = run(chain, KEYS[7], "submitDoubleSignEvidence", *votes)

    # One term start read (the validator has had one term), one stake history entry searched
    # and its value read (its genesis stake), no unbonding entries to search.
    lookups = 3 * SLOT_READ_GAS
    assert gas == GAS["submitDoubleSignEvidence"] + VOTE_BYTE_GAS * sum(map(len, votes)) + lookups


def test_unjail_costs_its_schedule(chain: StakingChain) -> None:
    others = VALIDATORS[:3]
    chain.mine()
    chain.mine_until(14, signers=others)  # jailed at block 9 until block 15

    assert run(chain, KEYS[3], "unjail", signers=others) == GAS["unjail"]


def test_views_cost_exactly_their_schedule(chain: StakingChain) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", VALIDATORS[0], value=3 * ETHER)
    chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=3 * ETHER)
    chain.send(DELEGATOR, "undelegate", VALIDATORS[1], ETHER)

    assert view_gas(chain, "getValidator", VALIDATORS[0]) == GAS["getValidator"]
    assert view_gas(chain, "getActiveValidators") == GAS["getActiveValidators"] + 4 * (
        PER_MEMBER_GAS
    )
    assert (
        view_gas(chain, "getDelegation", DELEGATOR.address, VALIDATORS[0]) == GAS["getDelegation"]
    )
    assert view_gas(chain, "pendingWithdrawals", DELEGATOR.address) == (
        GAS["pendingWithdrawals"] + PER_ENTRY_GAS
    )
    assert view_gas(chain, "pendingRewards", DELEGATOR.address) == (
        GAS["pendingRewards"] + 2 * PER_DELEGATION_READ_GAS
    )
    assert view_gas(chain, "epochOf", 7) == GAS["epochOf"]
    assert view_gas(chain, "isOffenceProcessed", VALIDATORS[0], 1) == GAS["isOffenceProcessed"]


def documented_gas(text: str) -> dict[str, tuple[int, str]]:
    """The gas table rows of a document: {method name: (fixed gas, the "plus" column)}."""
    rows = re.findall(r"^\| `(\w+)\([^`]*\)` \| ([\d,]+) \| ([^|]*)\|$", text, re.MULTILINE)
    return {name: (int(gas.replace(",", "")), plus.strip()) for name, gas, plus in rows}


@pytest.mark.parametrize(
    "document",
    [staking_abi.__doc__ or "", (REPO / "README.md").read_text()],
    ids=["module docstring", "README"],
)
def test_the_documented_gas_table_is_the_schedule(document: str) -> None:
    table = documented_gas(document)

    assert {name: gas for name, (gas, _) in table.items()} == GAS
    assert f"{PER_ENTRY_GAS:,} per entry paid" in table["withdraw"][1]
    assert f"{PER_DELEGATION_CLAIM_GAS:,} per delegation" in table["claimRewards"][1]
    assert f"{PER_DELEGATION_READ_GAS:,} per delegation" in table["pendingRewards"][1]
    assert f"{PER_MEMBER_GAS:,} per member" in table["getActiveValidators"][1]
    assert f"{PER_ENTRY_GAS:,} per entry" in table["pendingWithdrawals"][1]
    assert f"{VOTE_BYTE_GAS} per byte" in table["submitDoubleSignEvidence"][1]
