"""Block rewards and the protocol share: split by power, commission, then shares, to the wei."""

from dataclasses import replace
from pathlib import Path

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
    make_genesis,
)

from openledger.consensus.staking import StakingRewardSink
from openledger.consensus.staking.bonds import get_delegated_validators
from openledger.consensus.staking.jail import jail
from openledger.consensus.staking.ledger import (
    DELEGATION_DEBT,
    DELEGATION_SHARES,
    REWARD_CARRY,
    REWARD_PER_SHARE,
    REWARDS,
    Ledger,
)
from openledger.consensus.staking.rewards import (
    REWARD_SCALE,
    compute_power_acc,
    compute_settlement,
    get_pending_rewards,
)
from openledger.genesis.model import ATTRIBUTION_ADDRESS, ETHER, STAKING_ADDRESS
from openledger.genesis.types import Address
from openledger.state.precompile import PrecompileRevert, Storage

V0, V1, V2, V3 = VALIDATORS  # commissions 10%, 0%, 20%, 100%
DELEGATOR = KEYS[5]
ACCOUNTS = (*VALIDATORS, DELEGATOR.address)


def pending(chain: StakingChain) -> dict[Address, int]:
    return {account: chain.view("pendingRewards", account) for account in ACCOUNTS}


def scaled_total(chain: StakingChain, accounts: tuple[Address, ...]) -> int:
    """Every reward paid in and not yet claimed, times REWARD_SCALE: the chain-wide carry, what
    validators earned and did not settle, their carries, what delegations are owed and the
    accounts' settled rewards (full blocks not yet accounted included)."""
    ledger = chain.ledger()
    acc, total = compute_power_acc(ledger, chain.params.block_reward, chain.head.block_number)
    for validator in VALIDATORS:
        settlement = compute_settlement(ledger, validator, acc)
        total += settlement.earned + ledger.get(REWARD_CARRY, validator)
    for account in accounts:
        total += ledger.get(REWARDS, account) * REWARD_SCALE
        for validator in get_delegated_validators(ledger, account):
            shares = ledger.get(DELEGATION_SHARES, account, validator)
            total += shares * ledger.get(REWARD_PER_SHARE, validator) - ledger.get(
                DELEGATION_DEBT, account, validator
            )
    return total


def owed(ledger: Ledger, account: Address) -> int:
    """What `claimRewards` would pay `account` in the block whose state `ledger` reads."""
    height = int(ledger.words.state.block_number)  # type: ignore[attr-defined]
    acc, _ = compute_power_acc(ledger, PARAMS.block_reward, height)
    return get_pending_rewards(ledger, account, acc)


def delta(after: dict[Address, int], before: dict[Address, int]) -> dict[Address, int]:
    return {account: after[account] - before[account] for account in after}


def test_block_one_mints_nothing_and_block_two_pays_the_first_commit(chain: StakingChain) -> None:
    supply = chain.balance(STAKING_ADDRESS)

    chain.mine()
    assert chain.balance(STAKING_ADDRESS) == supply
    chain.mine()

    assert chain.balance(STAKING_ADDRESS) == supply + PARAMS.block_reward
    assert sum(pending(chain).values()) == PARAMS.block_reward


def test_a_block_reward_goes_to_validators_less_commission_and_to_delegators_by_shares(
    chain: StakingChain,
) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", V0, value=3 * STAKE)  # V0 now has 1/4 of its shares
    before = pending(chain)

    chain.mine()  # all four signed block 2's commit: 0.5 OPEN each (equal power)

    assert delta(pending(chain), before) == {
        V0: 50_000_000_000_000_000 + 112_500_000_000_000_000,  # 10% commission + 1/4 of 90%
        DELEGATOR.address: 337_500_000_000_000_000,  # 3/4 of 90%
        V1: 500_000_000_000_000_000,  # no commission, sole delegator
        V2: 500_000_000_000_000_000,  # 20% commission + 80% as its own delegator
        V3: 500_000_000_000_000_000,  # 100% commission
    }


def test_an_uneven_reward_is_split_to_the_wei_among_the_signers_only(tmp_path: Path) -> None:
    genesis = make_genesis(
        replace(PARAMS, block_reward=1001), stakes=(STAKE, 2 * STAKE, 3 * STAKE, 4 * STAKE)
    )
    chain = StakingChain.open(tmp_path / "chain", genesis)
    try:
        chain.mine()
        chain.send(DELEGATOR, "delegate", V0, value=3 * STAKE)
        before, scaled_before = pending(chain), scaled_total(chain, ACCOUNTS)

        chain.mine(signers=(V0, V1, V2))  # V3 missed the commit

        # Powers 1:2:3 share 1001 wei: 166.83, 333.67 and 500.50 wei, then commissions and
        # shares; pending rewards count whole wei, the fractions stay owed.
        assert delta(pending(chain), before) == {
            V2: 100 + 400,  # commission: 20% of 500.50 is 100.10, kept whole; 400.40 as delegator
            V1: 333,
            V0: 16 + 37,  # commission: 10% of 166.83, kept whole; 1/4 of the remaining 150.83
            DELEGATOR.address: 113,  # 3/4 of 150.83
            V3: 0,
        }
        # Nothing is lost: the fractions of a wei are all accounted for.
        assert scaled_total(chain, ACCOUNTS) - scaled_before == 1001 * REWARD_SCALE

        # Settling the delegation (a new delegation does) pays its whole wei and puts its
        # fraction back into V0's carry: still nothing lost. V0 is not paid in this block.
        chain.send(DELEGATOR, "delegate", V0, value=STAKE, signers=(V1, V2))
        assert chain.ledger().get(REWARDS, DELEGATOR.address) == 113
        assert scaled_total(chain, ACCOUNTS) - scaled_before == 2 * 1001 * REWARD_SCALE
    finally:
        chain.close()


def test_the_block_after_a_boundary_pays_the_set_that_signed_the_boundary(
    chain: StakingChain,
) -> None:
    newcomer = KEYS[4]
    chain.mine()
    chain.send(newcomer, "registerValidator", 10_000, value=200 * ETHER)  # joins from block 5
    chain.mine_until(4)
    everyone = (*VALIDATORS, newcomer.address)

    chain.mine(signers=everyone)  # block 5 pays block 4's commit, signed by the genesis set
    assert chain.view("pendingRewards", newcomer.address) == 0
    chain.mine(signers=everyone)  # block 6 pays block 5's commit, signed by the new set

    # Its power is 200 of 4200 OPEN and its commission 100%.
    per_power = PARAMS.block_reward * REWARD_SCALE // (4200 * ETHER)
    assert chain.view("pendingRewards", newcomer.address) == 200 * ETHER * per_power // REWARD_SCALE


def test_claiming_pays_exactly_the_pending_rewards(chain: StakingChain) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", V0, value=STAKE)
    chain.mine_until(6)
    owed = chain.view("pendingRewards", DELEGATOR.address)
    before = chain.balance(DELEGATOR.address), chain.balance(STAKING_ADDRESS)

    # Pending rewards are as of the head; the claim's block pays one more reward first.
    receipt = chain.send(DELEGATOR, "claimRewards")
    claimed = events(receipt)[0][1]["amount"]

    assert is_success(receipt)
    assert claimed > owed > 0
    assert events(receipt) == [
        ("RewardsClaimed", {"account": DELEGATOR.address, "amount": claimed})
    ]
    assert chain.balance(DELEGATOR.address) == before[0] + claimed - fee_paid(chain, receipt)
    assert chain.balance(STAKING_ADDRESS) == before[1] + PARAMS.block_reward - claimed
    assert chain.view("pendingRewards", DELEGATOR.address) == 0
    # Claiming again in the next block pays that block's share: since block 5 V0 has 2000 of the
    # 5000 OPEN of power; the delegator holds half of V0's shares and V0 keeps 10%.
    again = events(chain.send(DELEGATOR, "claimRewards"))[0][1]["amount"]
    assert abs(again - PARAMS.block_reward * 2 // 5 * 9 // 10 // 2) <= 1


# --- the protocol share --------------------------------------------------------------------------


def test_the_protocol_share_is_split_like_a_block_reward(chain: StakingChain) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", V0, value=3 * STAKE)
    state = chain.state()  # a throwaway state: the sink runs on it as inside a transaction
    state.set_balance(ATTRIBUTION_ADDRESS, 5 * ETHER)
    staking_before = state.get_balance(STAKING_ADDRESS)
    ledger = Ledger(Storage(state, STAKING_ADDRESS))
    before = {account: owed(ledger, account) for account in ACCOUNTS}

    StakingRewardSink(PARAMS)(state, 4 * ETHER + 3)

    assert state.get_balance(ATTRIBUTION_ADDRESS) == ETHER - 3
    assert state.get_balance(STAKING_ADDRESS) == staking_before + 4 * ETHER + 3
    # 1 OPEN and 0.75 wei per validator of the set signing this block; the fractions stay owed.
    assert {a: owed(ledger, a) - before[a] for a in ACCOUNTS} == {
        V0: 100_000_000_000_000_000 + 225_000_000_000_000_000,
        DELEGATOR.address: 675_000_000_000_000_000,
        V1: ETHER,
        V2: ETHER,
        V3: ETHER,
    }


def test_the_protocol_share_skips_jailed_validators_and_refuses_what_it_cannot_pay(
    chain: StakingChain,
) -> None:
    chain.mine()
    state = chain.state()
    ledger = Ledger(Storage(state, STAKING_ADDRESS))
    sink = StakingRewardSink(PARAMS)
    state.set_balance(ATTRIBUTION_ADDRESS, 10)

    sink(state, 0)  # nothing to pay: a no-op
    with pytest.raises(PrecompileRevert, match="exceeds the balance 10"):
        sink(state, 11)
    for validator in (V0, V1, V2):
        jail(ledger, validator, 100)
    sink(state, 10)
    assert owed(ledger, V3) == 10
    jail(ledger, V3, 100)
    state.set_balance(ATTRIBUTION_ADDRESS, 10)
    with pytest.raises(PrecompileRevert, match="no active validator"):
        sink(state, 10)


def test_a_power_change_pays_from_the_first_block_the_new_set_signs(chain: StakingChain) -> None:
    chain.mine()
    chain.send(DELEGATOR, "delegate", V1, value=2 * STAKE)  # block 2: V1 will weigh 3000 of 6000
    chain.mine_until(4)
    before = pending(chain)

    chain.mine()  # block 5 pays block 4's commit: the old set, equal powers
    middle = pending(chain)
    chain.mine()  # block 6 pays block 5's commit: the new set

    # V1 and its delegator share V1's part (no commission); V3 keeps all of its part. Pending
    # rewards are whole wei of exact amounts, so a block's delta is within a wei per account.
    first, second = delta(middle, before), delta(pending(chain), middle)
    reward = PARAMS.block_reward
    assert first[V3] == reward // 4
    assert abs(first[V1] + first[DELEGATOR.address] - reward // 4) <= 2
    assert abs(second[V3] - reward // 6) <= 1
    assert abs(second[V1] + second[DELEGATOR.address] - reward // 2) <= 2
