"""The active set: chosen at epoch boundaries only, top N by stake, ties broken by address."""

from dataclasses import replace
from pathlib import Path

import pytest
from staking_helpers import (
    KEYS,
    PARAMS,
    STAKE,
    VALIDATORS,
    StakingChain,
    is_success,
    make_genesis,
)

from openledger.consensus.validators import Validator, compute_proposer
from openledger.genesis.model import ETHER
from openledger.genesis.types import Address, BlockNumber, Round

NEWCOMER = KEYS[4]


def members(chain: StakingChain) -> list[Address]:
    return [validator.address for validator in chain.validator_set().validators]


def test_a_fifth_node_staking_through_the_precompile_joins_at_the_next_epoch(
    chain: StakingChain,
) -> None:
    chain.mine()
    assert is_success(chain.send(NEWCOMER, "registerValidator", 500, value=200 * ETHER))  # block 2
    assert chain.head.block_number == 2

    chain.mine()  # block 3: the set that signs block 4 is still the genesis set
    assert NEWCOMER.address not in members(chain)
    assert chain.view("getValidator", NEWCOMER.address)[7] is False

    chain.mine()  # block 4, the last of epoch 0: the set that signs block 5 is chosen
    validator_set = chain.validator_set()
    assert members(chain) == sorted([*VALIDATORS, NEWCOMER.address])
    assert validator_set.get_power(NEWCOMER.address) == 200 * ETHER
    assert validator_set.start_height == 5
    assert chain.view("getActiveValidators") == (
        [v.address for v in validator_set.validators],
        [v.power for v in validator_set.validators],
        5,
    )
    assert chain.view("getValidator", NEWCOMER.address)[7] is True
    # The consensus driver can pick proposers of the new set from its first height on.
    proposers = {compute_proposer(validator_set, BlockNumber(h), Round(0)) for h in range(5, 27)}
    assert NEWCOMER.address in proposers


def test_a_stake_change_in_the_boundary_block_counts_from_the_next_block(
    chain: StakingChain,
) -> None:
    chain.mine_until(3)

    chain.send(NEWCOMER, "registerValidator", 0, value=200 * ETHER)  # block 4

    assert NEWCOMER.address in members(chain)
    assert chain.validator_set().start_height == 5


def test_a_stake_change_after_a_boundary_waits_for_the_next_one(chain: StakingChain) -> None:
    chain.mine_until(4)
    chain.send(NEWCOMER, "registerValidator", 0, value=200 * ETHER)  # block 5, epoch 1

    for _ in (6, 7):
        chain.mine()
        assert NEWCOMER.address not in members(chain)
        assert chain.validator_set().start_height == 1  # the genesis set is still in force
    chain.mine()  # block 8

    assert NEWCOMER.address in members(chain)
    assert chain.validator_set().start_height == 9


def test_powers_follow_delegations_only_at_boundaries(chain: StakingChain) -> None:
    chain.mine()
    chain.send(KEYS[5], "delegate", VALIDATORS[1], value=500 * ETHER)  # block 2

    chain.mine()
    assert chain.validator_set().get_power(VALIDATORS[1]) == STAKE
    chain.mine()  # block 4

    assert chain.validator_set().get_power(VALIDATORS[1]) == STAKE + 500 * ETHER
    assert chain.validator_set().get_power(VALIDATORS[0]) == STAKE


def test_an_unchanged_set_keeps_its_start_height(chain: StakingChain) -> None:
    chain.mine_until(12)

    assert chain.validator_set().start_height == 1


def test_the_set_is_the_top_n_by_stake_with_ties_to_the_lower_address(tmp_path: Path) -> None:
    genesis = make_genesis(replace(PARAMS, max_validators=3), stakes=(STAKE,) * 3)
    chain = StakingChain.open(tmp_path / "chain", genesis)
    try:
        # K0..K2 are the genesis set; K3 ties with them at 1000 OPEN. By address the order is
        # K2 (0x3c44) < K1 (0x7099) < K3 (0x90f7) < K0 (0xf39f): K0 loses the tie.
        chain.send(KEYS[3], "registerValidator", 0, value=STAKE)
        chain.mine_until(4)
        assert members(chain) == [KEYS[2].address, KEYS[1].address, KEYS[3].address]

        # One more OPEN puts K0 back on top; K3, the highest address among the ties, drops.
        chain.send(KEYS[0], "delegate", KEYS[0].address, value=ETHER)
        chain.mine_until(8)
        assert members(chain) == [KEYS[2].address, KEYS[1].address, KEYS[0].address]
        assert chain.validator_set().get_power(KEYS[0].address) == STAKE + ETHER

        # A larger stake beats every address: K3 (1005) and K0 (1001) first, then the lower
        # address of the tie at 1000, K2; K1 drops.
        chain.send(KEYS[3], "delegate", KEYS[3].address, value=5 * ETHER)
        chain.mine_until(12)
        assert members(chain) == [KEYS[2].address, KEYS[3].address, KEYS[0].address]
    finally:
        chain.close()


def test_self_stake_below_the_minimum_leaves_the_set_at_the_boundary(chain: StakingChain) -> None:
    chain.send(KEYS[5], "delegate", VALIDATORS[2], value=5000 * ETHER)
    # Big delegations do not make up for too little self-stake.
    chain.send(KEYS[2], "undelegate", VALIDATORS[2], STAKE - PARAMS.min_validator_stake + 1)
    chain.mine()
    assert VALIDATORS[2] in members(chain)

    chain.mine()  # block 4

    assert VALIDATORS[2] not in members(chain)
    assert chain.view("getValidator", VALIDATORS[2])[7] is False


def test_the_last_signers_stay_when_nobody_is_eligible(tmp_path: Path) -> None:
    chain = StakingChain.open(tmp_path / "chain", make_genesis(stakes=(STAKE,)))
    try:
        chain.send(KEYS[0], "undelegate", VALIDATORS[0], STAKE)
        chain.mine_until(8)

        validator_set = chain.validator_set()
        assert validator_set.validators == (Validator(VALIDATORS[0], STAKE),)
        assert validator_set.start_height == 1
    finally:
        chain.close()


@pytest.mark.parametrize(
    ("block", "expected"),
    [(0, (0, 0, 4)), (1, (0, 0, 4)), (4, (0, 0, 4)), (5, (1, 5, 8)), (8, (1, 5, 8)),
     (9, (2, 9, 12)), (2**256 - 1, ((2**256 - 2) // 4, (2**256 - 2) // 4 * 4 + 1, 2**256 - 1))],
)  # fmt: skip
def test_epoch_of_names_the_epoch_and_its_blocks(
    chain: StakingChain, block: int, expected: tuple[int, int, int]
) -> None:
    assert chain.view("epochOf", block) == expected
