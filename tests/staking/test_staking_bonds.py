"""Registering, delegating, undelegating and withdrawing through the staking precompile."""

import pytest
from staking_helpers import (
    KEYS,
    PARAMS,
    STAKE,
    VALIDATORS,
    StakingChain,
    events,
    fee_paid,
    is_success,
)

from openledger.genesis.model import ETHER, STAKING_ADDRESS

NEWCOMER = KEYS[4]
DELEGATOR = KEYS[5]


# --- registerValidator ---------------------------------------------------------------------------


def test_registering_bonds_the_value_as_self_stake(chain: StakingChain) -> None:
    chain.mine()  # block 1 mints nothing (genesis has no commit); block 2 does
    before = chain.balance(NEWCOMER.address), chain.balance(STAKING_ADDRESS)

    receipt = chain.send(NEWCOMER, "registerValidator", 700, value=200 * ETHER)

    assert is_success(receipt)
    assert events(receipt) == [
        ("ValidatorRegistered",
         {"validator": NEWCOMER.address, "selfStake": 200 * ETHER, "commissionBps": 700}),
    ]  # fmt: skip
    registered, stake, self_stake, commission, jailed, until, tombstoned, _ = chain.view(
        "getValidator", NEWCOMER.address
    )
    assert (registered, stake, self_stake, commission) == (True, 200 * ETHER, 200 * ETHER, 700)
    assert (jailed, until, tombstoned) == (False, 0, False)
    assert chain.view("getDelegation", NEWCOMER.address, NEWCOMER.address) == (
        200 * ETHER,
        200 * ETHER,
    )
    assert chain.balance(NEWCOMER.address) == before[0] - 200 * ETHER - fee_paid(chain, receipt)
    # The staking precompile holds the stake (and the block reward minted in this block).
    assert chain.balance(STAKING_ADDRESS) == before[1] + 200 * ETHER + PARAMS.block_reward


@pytest.mark.parametrize(
    ("value", "commission", "reason"),
    [
        (PARAMS.min_validator_stake - 1, 0, "below the minimum"),
        (PARAMS.min_validator_stake, 10_001, "commission 10001 bps is above 10000"),
    ],
)
def test_registration_below_the_minimum_or_above_full_commission_is_refused(
    chain: StakingChain, value: int, commission: int, reason: str
) -> None:
    assert reason in chain.revert_reason(
        NEWCOMER.address, "registerValidator", commission, value=value
    )

    receipt = chain.send(NEWCOMER, "registerValidator", commission, value=value)

    assert not is_success(receipt)
    assert chain.view("getValidator", NEWCOMER.address)[0] is False


def test_the_minimum_stake_and_full_commission_are_accepted(chain: StakingChain) -> None:
    receipt = chain.send(NEWCOMER, "registerValidator", 10_000, value=PARAMS.min_validator_stake)

    assert is_success(receipt)
    assert chain.view("getValidator", NEWCOMER.address)[:4] == (
        True, PARAMS.min_validator_stake, PARAMS.min_validator_stake, 10_000,
    )  # fmt: skip


def test_a_validator_registers_once(chain: StakingChain) -> None:
    assert is_success(chain.send(NEWCOMER, "registerValidator", 0, value=200 * ETHER))

    reason = chain.revert_reason(NEWCOMER.address, "registerValidator", 0, value=200 * ETHER)
    receipt = chain.send(NEWCOMER, "registerValidator", 0, value=200 * ETHER)

    assert "is already registered" in reason
    assert not is_success(receipt)
    assert chain.view("getValidator", NEWCOMER.address)[1] == 200 * ETHER
    assert "already registered" in chain.revert_reason(
        VALIDATORS[0], "registerValidator", 0, value=200 * ETHER
    )


# --- delegate ------------------------------------------------------------------------------------


def test_delegating_issues_shares_and_raises_the_validators_stake(chain: StakingChain) -> None:
    receipt = chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=5 * ETHER)

    assert events(receipt) == [
        ("Delegated", {"delegator": DELEGATOR.address, "validator": VALIDATORS[1],
                       "amount": 5 * ETHER, "shares": 5 * ETHER}),
    ]  # fmt: skip
    assert chain.view("getDelegation", DELEGATOR.address, VALIDATORS[1]) == (5 * ETHER, 5 * ETHER)
    assert chain.view("getValidator", VALIDATORS[1])[1:3] == (STAKE + 5 * ETHER, STAKE)


@pytest.mark.parametrize(
    ("target", "value", "reason"),
    [
        (VALIDATORS[1], ETHER - 1, "below the minimum"),
        (KEYS[8].address, ETHER, "is not a registered validator"),
    ],
)
def test_delegations_below_the_minimum_or_to_strangers_are_refused(
    chain: StakingChain, target: bytes, value: int, reason: str
) -> None:
    assert reason in chain.revert_reason(DELEGATOR.address, "delegate", target, value=value)
    assert not is_success(chain.send(DELEGATOR, "delegate", target, value=value))
    assert chain.view("getDelegation", DELEGATOR.address, target) == (0, 0)


def test_one_account_delegates_to_at_most_the_configured_number_of_validators(
    chain: StakingChain,
) -> None:
    for validator in VALIDATORS[: PARAMS.max_delegations_per_account]:
        assert is_success(chain.send(DELEGATOR, "delegate", validator, value=ETHER))

    reason = chain.revert_reason(DELEGATOR.address, "delegate", VALIDATORS[3], value=ETHER)
    # Adding to a delegation it already holds is still allowed.
    again = chain.send(DELEGATOR, "delegate", VALIDATORS[0], value=ETHER)

    assert "already delegates to 3 validators" in reason
    assert is_success(again)
    assert chain.view("getDelegation", DELEGATOR.address, VALIDATORS[0])[0] == 2 * ETHER


# --- undelegate and withdraw ---------------------------------------------------------------------


def test_undelegating_more_than_delegated_or_nothing_is_refused(chain: StakingChain) -> None:
    chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=3 * ETHER)

    too_much = chain.revert_reason(DELEGATOR.address, "undelegate", VALIDATORS[1], 3 * ETHER + 1)
    zero = chain.revert_reason(DELEGATOR.address, "undelegate", VALIDATORS[1], 0)
    elsewhere = chain.revert_reason(DELEGATOR.address, "undelegate", VALIDATORS[2], ETHER)

    assert "more than the 3000000000000000000 wei delegated" in too_much
    assert "must be positive" in zero
    assert "nothing is delegated" in elsewhere


def test_withdrawal_is_refused_before_the_unbonding_period_and_pays_exactly_after(
    chain: StakingChain,
) -> None:
    chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=3 * ETHER)
    receipt = chain.send(DELEGATOR, "undelegate", VALIDATORS[1], 2 * ETHER)
    undelegated_at = chain.head.block_number
    completion = undelegated_at + PARAMS.unbonding_blocks

    assert events(receipt) == [
        ("Undelegated", {"delegator": DELEGATOR.address, "validator": VALIDATORS[1],
                         "amount": 2 * ETHER, "completionBlock": completion}),
    ]  # fmt: skip
    assert chain.view("getDelegation", DELEGATOR.address, VALIDATORS[1])[0] == ETHER
    assert chain.view("pendingWithdrawals", DELEGATOR.address) == (
        [VALIDATORS[1]], [2 * ETHER], [completion],
    )  # fmt: skip

    chain.mine_until(completion - 2)  # the next block is completion - 1: one block too early
    early = chain.revert_reason(DELEGATOR.address, "withdraw")
    refused = chain.send(DELEGATOR, "withdraw")
    assert f"the next entry completes at block {completion}" in early
    assert not is_success(refused)

    before = chain.balance(DELEGATOR.address)
    paid = chain.send(DELEGATOR, "withdraw")

    assert chain.head.block_number == completion
    assert is_success(paid)
    assert events(paid) == [("Withdrawn", {"account": DELEGATOR.address, "amount": 2 * ETHER})]
    assert chain.balance(DELEGATOR.address) == before + 2 * ETHER - fee_paid(chain, paid)
    assert chain.view("pendingWithdrawals", DELEGATOR.address) == ([], [], [])
    assert "nothing is unbonding" in chain.revert_reason(DELEGATOR.address, "withdraw")


def test_withdraw_pays_every_matured_entry_and_keeps_the_rest(chain: StakingChain) -> None:
    chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=10 * ETHER)
    chain.send(DELEGATOR, "undelegate", VALIDATORS[1], ETHER)
    first = chain.head.block_number + PARAMS.unbonding_blocks
    chain.send(DELEGATOR, "undelegate", VALIDATORS[1], 2 * ETHER)
    chain.mine()
    chain.send(DELEGATOR, "undelegate", VALIDATORS[1], 4 * ETHER)
    last = chain.head.block_number + PARAMS.unbonding_blocks

    chain.mine_until(first + 1)
    receipt = chain.send(DELEGATOR, "withdraw")  # in block first + 2: two entries matured

    assert events(receipt)[0][1]["amount"] == 3 * ETHER
    assert chain.view("pendingWithdrawals", DELEGATOR.address) == (
        [VALIDATORS[1]], [4 * ETHER], [last],
    )  # fmt: skip


def test_one_account_has_at_most_the_configured_unbonding_entries(chain: StakingChain) -> None:
    chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=10 * ETHER)
    for _ in range(PARAMS.max_unbonding_entries):
        assert is_success(chain.send(DELEGATOR, "undelegate", VALIDATORS[1], ETHER))

    reason = chain.revert_reason(DELEGATOR.address, "undelegate", VALIDATORS[1], ETHER)

    assert "3 unbonding entries are waiting" in reason


def test_undelegating_everything_removes_the_delegation(chain: StakingChain) -> None:
    chain.send(DELEGATOR, "delegate", VALIDATORS[1], value=3 * ETHER)

    chain.send(DELEGATOR, "undelegate", VALIDATORS[1], 3 * ETHER)

    assert chain.view("getDelegation", DELEGATOR.address, VALIDATORS[1]) == (0, 0)
    assert chain.view("getValidator", VALIDATORS[1])[1] == STAKE
    # The freed place counts again towards the limit of delegations.
    for validator in (VALIDATORS[0], VALIDATORS[2], VALIDATORS[3]):
        assert is_success(chain.send(DELEGATOR, "delegate", validator, value=ETHER))
