"""Rewards: how block rewards and the protocol share reach validators and their delegators.

Two levels of lazy ("F1", as Cosmos's `x/distribution`) accounting keep a block's work
independent of the number of validators that did their job:

1. **Committee.** Paying `amount` wei to a committee (the set that signed a commit, or the set
   signing the current block) by power adds `amount * REWARD_SCALE / paid_power` to the chain-wide
   `POWER_ACC`, where `paid_power` is the power of the members that are paid; the division's
   remainder is carried to the next payment. Each member that is not paid (it missed the commit,
   or is jailed) adds the same step to its own `MISSED_ACC`. A validator in a committee has an
   open earning period with its committee power `p`; since the period was last settled it has
   earned `p * (POWER_ACC - MISSED_ACC - EARN_BASE)` scaled wei. A block costs one write per
   unpaid member and none per paid one.

   A block whose whole committee is paid (everyone signed, nobody is jailed, the committee did
   not change) writes nothing at all: `POWER_ACC` covers the blocks up to `ACCOUNTED`, and the
   `n` full blocks after it are added in one step, `n * block_reward` over the committee's power,
   when a block is not full or a payment comes in (`materialize`); settlements and views add
   them without writing (`compute_power_acc`), which gives the same result as accounting them
   one by one would.
2. **Validator.** Settling a validator (before its shares change, when a delegator claims, and
   when its committee power changes at an epoch boundary) splits its earnings: the commission,
   `earned * commission_bps / 10000` rounded down to whole wei, to the validator's `REWARDS`; the
   rest to its delegators, by raising its reward-per-share accumulator (remainder carried). A
   delegation is owed `shares * reward_per_share - debt`; settling it moves the whole wei to the
   delegator's `REWARDS` and gives the sub-wei fraction back to the validator's carry.

Every division's remainder is carried, so in scaled units nothing is created or lost: what was
paid in equals what is owed plus the carries, exactly. `claimRewards` pays `REWARDS` in whole wei.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from openledger.consensus.staking.ledger import (
    ACCOUNTED,
    COMMISSION,
    DELEGATION_AT,
    DELEGATION_COUNT,
    DELEGATION_DEBT,
    DELEGATION_SHARES,
    EARN_BASE,
    EARN_POWER,
    MISSED_ACC,
    POWER_ACC,
    POWER_CARRY,
    REWARD_CARRY,
    REWARD_PER_SHARE,
    REWARDS,
    SHARES,
    Ledger,
)
from openledger.consensus.staking.sets import get_signing_set
from openledger.consensus.validators import Validator
from openledger.genesis.types import Address

BPS = 10_000
"""Basis points in a whole."""
REWARD_SCALE = 10**30
"""Fixed-point scale of the accumulators."""


@dataclass(frozen=True, slots=True)
class Settlement:
    """What settling a validator's earnings writes (computed first, so views can use it)."""

    earned: int
    """Scaled wei earned since the last settlement."""
    commission: int
    """Whole wei of commission for the validator."""
    per_share: int
    """Increase of the reward-per-share accumulator."""
    carry: int
    """The validator's new reward carry."""
    unshared: int
    """Whole wei for the validator when it has no shares to spread the rest over."""
    base: int
    """`POWER_ACC - MISSED_ACC` of the validator now: its new `EARN_BASE`."""


# --- committees ----------------------------------------------------------------------------------


def compute_power_acc(ledger: Ledger, block_reward: int, height: int) -> tuple[int, int]:
    """(`POWER_ACC`, `POWER_CARRY`) with the full blocks up to `height` added (reads only).

    Blocks after `ACCOUNTED` up to `height` were all paid in full to the committee that signed
    their parents: the set signing `height - 1` (a committee change is always accounted).
    """
    accounted = ledger.get(ACCOUNTED)
    acc, carry = ledger.get(POWER_ACC), ledger.get(POWER_CARRY)
    pending = height - accounted
    if pending <= 0 or block_reward == 0:
        return acc, carry
    power = sum(member.power for member in get_signing_set(ledger, height - 1).members)
    if power == 0:
        return acc, carry
    step, carry = divmod(pending * block_reward * REWARD_SCALE + carry, power)
    return acc + step, carry


def materialize(ledger: Ledger, block_reward: int, height: int) -> None:
    """Account the full blocks up to `height` in `POWER_ACC` (see `compute_power_acc`)."""
    accounted = ledger.get(ACCOUNTED)
    if height <= accounted:
        return
    acc, carry = compute_power_acc(ledger, block_reward, height)
    if acc != ledger.get(POWER_ACC):
        ledger.set(POWER_ACC, to=acc)
    if carry != ledger.get(POWER_CARRY):
        ledger.set(POWER_CARRY, to=carry)
    ledger.set(ACCOUNTED, to=height)


def pay_committee(
    ledger: Ledger, amount: int, committee: Iterable[Validator], unpaid: frozenset[Address]
) -> bool:
    """Pay `amount` wei to the members of `committee` not in `unpaid`, by power (after
    `materialize`).

    Returns False (and changes nothing) when no member is paid: the amount must then not be
    minted or moved.
    """
    members = tuple(committee)
    paid_power = sum(member.power for member in members if member.address not in unpaid)
    if paid_power == 0 or amount == 0:
        return False
    carried = ledger.get(POWER_CARRY)
    step, carry = divmod(amount * REWARD_SCALE + carried, paid_power)
    ledger.add(POWER_ACC, delta=step)
    if carry != carried:
        ledger.set(POWER_CARRY, to=carry)
    for member in members:
        if member.address in unpaid:
            ledger.add(MISSED_ACC, member.address, delta=step)
    return True


def set_earning_power(ledger: Ledger, validator: Address, power: int, power_acc: int) -> None:
    """Settle `validator` and let it earn with `power` from now on (zero: it earns nothing)."""
    settle_validator(ledger, validator, power_acc)
    if ledger.get(EARN_POWER, validator) != power:
        ledger.set(EARN_POWER, validator, to=power)


# --- validators ----------------------------------------------------------------------------------


def compute_settlement(ledger: Ledger, validator: Address, power_acc: int) -> Settlement:
    """The split of what `validator` earned since it was last settled (reads only).

    `power_acc` is the accumulator up to the current block: `compute_power_acc`'s, or the
    stored one right after `materialize`. Settling against it before it is stored is safe: the
    full blocks add up the same whenever they are accounted.
    """
    power = ledger.get(EARN_POWER, validator)
    base = power_acc - ledger.get(MISSED_ACC, validator)
    earned = power * (base - ledger.get(EARN_BASE, validator)) if power else 0
    if earned == 0:
        return Settlement(0, 0, 0, 0, 0, base)
    commission = earned * ledger.get(COMMISSION, validator) // (BPS * REWARD_SCALE)
    rest = earned - commission * REWARD_SCALE + ledger.get(REWARD_CARRY, validator)
    shares = ledger.get(SHARES, validator)
    if shares == 0:
        unshared, carry = divmod(rest, REWARD_SCALE)
        return Settlement(earned, commission, 0, carry, unshared, base)
    per_share, carry = divmod(rest, shares)
    return Settlement(earned, commission, per_share, carry, 0, base)


def settle_validator(ledger: Ledger, validator: Address, power_acc: int) -> None:
    """Split what `validator` earned since it was last settled (see `compute_settlement`)."""
    settlement = compute_settlement(ledger, validator, power_acc)
    if settlement.earned:
        if settlement.commission + settlement.unshared:
            ledger.add(REWARDS, validator, delta=settlement.commission + settlement.unshared)
        if settlement.per_share:
            ledger.add(REWARD_PER_SHARE, validator, delta=settlement.per_share)
        ledger.set(REWARD_CARRY, validator, to=settlement.carry)
    if ledger.get(EARN_BASE, validator) != settlement.base:
        ledger.set(EARN_BASE, validator, to=settlement.base)


# --- delegations ---------------------------------------------------------------------------------


def settle_delegation(
    ledger: Ledger, delegator: Address, validator: Address, power_acc: int
) -> None:
    """Settle the validator, then move what the delegation is owed to the delegator's
    `REWARDS`: whole wei there, the fraction back to the validator's carry."""
    settle_validator(ledger, validator, power_acc)
    shares = ledger.get(DELEGATION_SHARES, delegator, validator)
    accrued = shares * ledger.get(REWARD_PER_SHARE, validator)
    owed = accrued - ledger.get(DELEGATION_DEBT, delegator, validator)
    if owed == 0:
        return
    whole, fraction = divmod(owed, REWARD_SCALE)
    if whole:
        ledger.add(REWARDS, delegator, delta=whole)
    if fraction:
        ledger.add(REWARD_CARRY, validator, delta=fraction)
    ledger.set(DELEGATION_DEBT, delegator, validator, to=accrued)


def get_pending_rewards(ledger: Ledger, account: Address, power_acc: int) -> int:
    """Wei `claimRewards` would pay `account` now (`power_acc` as for `compute_settlement`)."""
    total = ledger.get(REWARDS, account)
    own = compute_settlement(ledger, account, power_acc)
    total += own.commission + own.unshared
    for validator in _delegated_validators(ledger, account):
        settlement = (
            own if validator == account else compute_settlement(ledger, validator, power_acc)
        )
        shares = ledger.get(DELEGATION_SHARES, account, validator)
        per_share = ledger.get(REWARD_PER_SHARE, validator) + settlement.per_share
        total += (shares * per_share - ledger.get(DELEGATION_DEBT, account, validator)) // (
            REWARD_SCALE
        )
    return total


def take_rewards(ledger: Ledger, account: Address, power_acc: int) -> int:
    """Settle everything `account` is owed, zero its rewards and return them (to be paid)."""
    settle_validator(ledger, account, power_acc)
    for validator in _delegated_validators(ledger, account):
        settle_delegation(ledger, account, validator, power_acc)
    amount = ledger.get(REWARDS, account)
    if amount:
        ledger.set(REWARDS, account, to=0)
    return amount


def _delegated_validators(ledger: Ledger, delegator: Address) -> list[Address]:
    return [
        ledger.get_address(DELEGATION_AT, delegator, index)
        for index in range(ledger.get(DELEGATION_COUNT, delegator))
    ]
