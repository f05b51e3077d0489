"""The staking precompile's genesis account, the genesis rules of staking, and the dev chain."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from staking_helpers import CHAIN_ID, KEYS, PARAMS, STAKE, VALIDATORS, make_genesis

from openledger.consensus.staking import read_validator_set, staking_genesis_account
from openledger.consensus.validators import Validator
from openledger.genesis.dev import derive_dev_validator_key
from openledger.genesis.errors import GenesisError
from openledger.genesis.load import dump_genesis, parse_genesis
from openledger.genesis.model import PRECOMPILE_CODE, STAKING_ADDRESS, Account, GenesisValidator
from openledger.genesis.types import Wei
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.node.service import open_dev_node
from openledger.rpc.server import RpcConfig
from openledger.state.store import ChainStore


def test_the_genesis_account_holds_the_stakes_and_the_first_set(tmp_path: Path) -> None:
    genesis = make_genesis(stakes=(STAKE, 2 * STAKE, 3 * STAKE))
    store = ChainStore.open(tmp_path / "db", build_genesis(genesis), build_vm_class(genesis))
    try:
        state = store.state_at(store.head)
        validator_set = read_validator_set(state, PARAMS)

        assert state.get_balance(STAKING_ADDRESS) == 6 * STAKE
        assert state.get_code(STAKING_ADDRESS) == PRECOMPILE_CODE
        assert validator_set.validators == tuple(
            sorted(
                (Validator(KEYS[i].address, (i + 1) * STAKE) for i in range(3)),
                key=lambda v: v.address,
            )
        )
        assert validator_set.start_height == 1
    finally:
        store.close()


def test_the_genesis_hash_is_a_pure_function_of_the_genesis_file(tmp_path: Path) -> None:
    genesis = make_genesis()
    reread = parse_genesis(json.loads(json.dumps(dump_genesis(genesis))))
    hashes = []
    for index, value in enumerate((genesis, reread)):
        store = ChainStore.open(tmp_path / str(index), build_genesis(value), build_vm_class(value))
        hashes.append(store.genesis_hash)
        store.close()

    assert hashes[0] == hashes[1]
    assert build_genesis(build_genesis(genesis)) == build_genesis(genesis)
    assert build_genesis(genesis) != build_genesis(make_genesis(commissions=(0, 0, 0, 0)))


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda g: replace(g, openledger=replace(g.openledger, validators=(
            GenesisValidator(VALIDATORS[0], Wei(PARAMS.min_validator_stake - 1)),))),
         "openledger.validators.0.stake", "below minValidatorStake"),
        (lambda g: replace(g, openledger=replace(g.openledger, staking=replace(
            PARAMS, max_validators=3))),
         "openledger.validators", "more than maxValidators (3)"),
        (lambda g: replace(g, alloc=(*g.alloc, (STAKING_ADDRESS, Account(balance=Wei(5))))),
         f"alloc.0x{STAKING_ADDRESS.hex()}", "come from openledger.validators"),
    ],
    ids=["stake below minimum", "too many validators", "alloc sets the precompile"],
)  # fmt: skip
def test_a_genesis_its_validators_could_not_register_in_is_refused(
    change: object, field: str, problem: str
) -> None:
    genesis = change(make_genesis())  # type: ignore[operator]

    with pytest.raises(GenesisError) as raised:
        build_genesis(genesis)

    assert raised.value.field == field
    assert problem in raised.value.problem


@pytest.mark.parametrize(
    ("staking", "field", "problem"),
    [
        ({"evidenceMaxAgeBlocks": 10, "unbondingBlocks": 10}, "evidenceMaxAgeBlocks",
         "must be below unbondingBlocks"),
        ({"maxValidators": 10_001}, "maxValidators", "at most 10000"),
        ({"downtimeWindow": 65_537}, "downtimeWindow", "at most 65536"),
        ({"unbondingBlocks": 0}, "unbondingBlocks", "must be positive"),
        ({"maxUnbondingEntries": 0}, "maxUnbondingEntries", "must be positive"),
        ({"maxDelegationsPerAccount": 0}, "maxDelegationsPerAccount", "must be positive"),
    ],
)  # fmt: skip
def test_the_genesis_file_refuses_staking_rules_that_cannot_work(
    staking: dict[str, int], field: str, problem: str
) -> None:
    document = dump_genesis(make_genesis())
    document["openledger"]["staking"].update(staking)

    with pytest.raises(GenesisError) as raised:
        parse_genesis(document)

    assert raised.value.field == f"openledger.staking.{field}"
    assert problem in raised.value.problem


def test_the_staking_parameters_round_trip_through_the_genesis_file() -> None:
    genesis = make_genesis()

    document = dump_genesis(genesis)

    assert document["openledger"]["staking"]["maxUnbondingEntries"] == 3
    assert document["openledger"]["staking"]["evidenceMaxAgeSeconds"] == 5
    assert parse_genesis(json.loads(json.dumps(document))).openledger.staking == PARAMS


def test_the_account_is_derived_from_the_validators_only() -> None:
    genesis = make_genesis()

    account = staking_genesis_account(genesis)

    assert account == staking_genesis_account(replace(genesis, chain_id=CHAIN_ID + 1))
    assert account.balance == 4 * STAKE
    assert account.storage == tuple(sorted(account.storage))


def test_a_dev_chain_has_its_validator_registered(tmp_path: Path) -> None:
    node, spec = open_dev_node(tmp_path / "dev", RpcConfig(port=0))
    try:
        state = node.store.state_at(node.store.head)
        validator_set = read_validator_set(state, spec.genesis.openledger.staking)

        assert [v.address for v in validator_set.validators] == [derive_dev_validator_key().address]
        assert validator_set.get_power(derive_dev_validator_key().address) == (
            spec.genesis.openledger.validators[0].stake
        )
    finally:
        node.store.close()
