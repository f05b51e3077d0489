"""Bonds: validators' stake, delegation shares and unbonding entries.

Stake is accounted in shares, as Cosmos's `x/staking` does: a validator has `tokens` (bonded wei)
and `shares`; a delegation holds shares worth `shares * tokens / total_shares` wei. A slash lowers
`tokens` alone, so it falls on the self-stake and on every delegation in proportion, in one write.
The validator's self-stake is its own delegation to itself. Before a delegation's shares change,
its rewards are settled (`rewards`), so each share earns only while it is held.

Undelegated stake waits in unbonding entries (a queue per account, completion blocks
non-decreasing) and is also listed per validator with running totals, so a double-sign slash can
find the entries made since the offence with a binary search instead of a scan. Every change of
`tokens` is also kept in the validator's stake history (`set_tokens`), so that a double-sign slash
takes its share of the stake bonded at the offence height, not of the stake bonded when the
evidence arrives (`get_stake_at`, binary search again).
"""

from dataclasses import dataclass

from openledger.consensus.staking.ledger import (
    COMMISSION,
    DELEGATION_AT,
    DELEGATION_COUNT,
    DELEGATION_DEBT,
    DELEGATION_INDEX,
    DELEGATION_SHARES,
    ENTRY_AMOUNT,
    ENTRY_COMPLETION,
    ENTRY_POSITION,
    ENTRY_VALIDATOR,
    QUEUE_HEAD,
    QUEUE_TAIL,
    REWARD_PER_SHARE,
    SHARES,
    STAKE_COUNT,
    STAKE_HEIGHT,
    STAKE_VALUE,
    TOKENS,
    TOMBSTONE_BASE,
    TOMBSTONE_CUT,
    TOMBSTONE_FIRST,
    TOMBSTONE_LIMIT,
    UNBONDING_COUNT,
    UNBONDING_HEIGHT,
    UNBONDING_TOTAL,
    VALIDATOR_AT,
    VALIDATOR_COUNT,
    VALIDATOR_INDEX,
    Ledger,
    find_last_at_most,
)
from openledger.consensus.staking.rewards import BPS, settle_delegation
from openledger.genesis.types import Address


@dataclass(frozen=True, slots=True)
class UnbondingEntry:
    """Stake waiting out the unbonding period."""

    validator: Address
    """The validator it was undelegated from."""
    amount: int
    """Wei it will pay, after any double-sign slash of that validator."""
    completion: int
    """First block at which `withdraw` pays it."""


# --- stake -----------------------------------------------------------------------------------------


def compute_share_value(shares: int, total_shares: int, tokens: int) -> int:
    """Wei that `shares` of a validator with these totals are worth (rounded down)."""
    return shares * tokens // total_shares if total_shares else 0


def get_delegation_value(ledger: Ledger, delegator: Address, validator: Address) -> int:
    """Wei of `delegator`'s bonded stake with `validator`."""
    return compute_share_value(
        ledger.get(DELEGATION_SHARES, delegator, validator),
        ledger.get(SHARES, validator),
        ledger.get(TOKENS, validator),
    )


def get_self_stake(ledger: Ledger, validator: Address) -> int:
    """Wei the validator has bonded with itself."""
    return get_delegation_value(ledger, validator, validator)


def set_tokens(ledger: Ledger, validator: Address, tokens: int, height: int) -> None:
    """Write the validator's bonded wei in block `height`, and keep its stake history (one entry
    per block that changes it, so that a double sign is slashed by the stake of its height)."""
    ledger.set(TOKENS, validator, to=tokens)
    count = ledger.get(STAKE_COUNT, validator)
    if count and ledger.get(STAKE_HEIGHT, validator, count - 1) == height:
        ledger.set(STAKE_VALUE, validator, count - 1, to=tokens)
        return
    ledger.set(STAKE_HEIGHT, validator, count, to=height)
    ledger.set(STAKE_VALUE, validator, count, to=tokens)
    ledger.set(STAKE_COUNT, validator, to=count + 1)


def get_stake_at(ledger: Ledger, validator: Address, height: int) -> tuple[int, int]:
    """The validator's bonded wei while height `height` was decided (at the end of block
    `height - 1`), and the history words read (charged as gas, as other searches)."""
    count = ledger.get(STAKE_COUNT, validator)
    entry, reads = find_last_at_most(
        lambda index: ledger.get(STAKE_HEIGHT, validator, index), count, height - 1
    )
    if entry < 0:
        return 0, reads
    return ledger.get(STAKE_VALUE, validator, entry), reads + 1


def register_validator(
    ledger: Ledger,
    validator: Address,
    stake: int,
    commission_bps: int,
    power_acc: int,
    height: int,
) -> None:
    """Add a validator with its self-stake in block `height` (the caller checked it may
    register); `power_acc` as for `rewards.compute_settlement`."""
    index = ledger.get(VALIDATOR_COUNT)
    ledger.set_address(VALIDATOR_AT, index, to=validator)
    ledger.set(VALIDATOR_COUNT, to=index + 1)
    ledger.set(VALIDATOR_INDEX, validator, to=index + 1)
    ledger.set(COMMISSION, validator, to=commission_bps)
    bond(ledger, validator, validator, stake, power_acc, height)


def bond(
    ledger: Ledger, delegator: Address, validator: Address, amount: int, power_acc: int, height: int
) -> int:
    """Bond `amount` wei from `delegator` to `validator` in block `height`; returns the shares
    issued.

    The caller checked that the validator has stake left whenever it has shares (a share's price
    is then at most one wei, so `amount > 0` buys at least one share).
    """
    tokens, shares = ledger.get(TOKENS, validator), ledger.get(SHARES, validator)
    issued = amount if shares == 0 else amount * shares // tokens
    held = ledger.get(DELEGATION_SHARES, delegator, validator)
    settle_delegation(ledger, delegator, validator, power_acc)
    set_delegation_shares(ledger, delegator, validator, held + issued)
    set_tokens(ledger, validator, tokens + amount, height)
    ledger.set(SHARES, validator, to=shares + issued)
    return issued


def unbond(
    ledger: Ledger, delegator: Address, validator: Address, amount: int, power_acc: int, height: int
) -> None:
    """Take `amount` wei (at most the delegation's value) off the delegation in block `height`.

    The shares removed are rounded up, so the delegators who stay never lose to rounding; taking
    the whole value removes every share.
    """
    tokens, shares = ledger.get(TOKENS, validator), ledger.get(SHARES, validator)
    held = ledger.get(DELEGATION_SHARES, delegator, validator)
    value = compute_share_value(held, shares, tokens)
    removed = held if amount == value else min(held, -(-amount * shares // tokens))
    settle_delegation(ledger, delegator, validator, power_acc)
    set_delegation_shares(ledger, delegator, validator, held - removed)
    set_tokens(ledger, validator, tokens - amount, height)
    ledger.set(SHARES, validator, to=shares - removed)


def slash_tokens(ledger: Ledger, validator: Address, bps: int, height: int) -> int:
    """Take `bps` of the validator's bonded stake in block `height` (every delegation loses the
    same share); returns the wei taken, which the caller pays out or burns."""
    tokens = ledger.get(TOKENS, validator)
    cut = tokens * bps // BPS
    if cut:
        set_tokens(ledger, validator, tokens - cut, height)
    return cut


def set_delegation_shares(
    ledger: Ledger, delegator: Address, validator: Address, shares: int
) -> None:
    """Set a delegation's shares (after `settle_rewards`) and keep the account's list of
    validators in step."""
    ledger.set(DELEGATION_SHARES, delegator, validator, to=shares)
    ledger.set(
        DELEGATION_DEBT, delegator, validator, to=shares * ledger.get(REWARD_PER_SHARE, validator)
    )
    listed = ledger.get(DELEGATION_INDEX, delegator, validator)
    if shares and not listed:
        count = ledger.get(DELEGATION_COUNT, delegator)
        ledger.set_address(DELEGATION_AT, delegator, count, to=validator)
        ledger.set(DELEGATION_INDEX, delegator, validator, to=count + 1)
        ledger.set(DELEGATION_COUNT, delegator, to=count + 1)
    elif not shares and listed:
        # Swap the last validator of the list into the freed place.
        last = ledger.get(DELEGATION_COUNT, delegator) - 1
        moved = ledger.get_address(DELEGATION_AT, delegator, last)
        ledger.set_address(DELEGATION_AT, delegator, listed - 1, to=moved)
        ledger.set(DELEGATION_INDEX, delegator, moved, to=listed)
        ledger.set(DELEGATION_AT, delegator, last, to=0)
        ledger.set(DELEGATION_INDEX, delegator, validator, to=0)
        ledger.set(DELEGATION_COUNT, delegator, to=last)


def get_delegated_validators(ledger: Ledger, delegator: Address) -> list[Address]:
    """The validators `delegator` holds shares of, in list order."""
    return [
        ledger.get_address(DELEGATION_AT, delegator, index)
        for index in range(ledger.get(DELEGATION_COUNT, delegator))
    ]


# --- unbonding -------------------------------------------------------------------------------------


def add_unbonding_entry(
    ledger: Ledger,
    delegator: Address,
    validator: Address,
    amount: int,
    height: int,
    completion: int,
) -> None:
    """Queue `amount` wei for `delegator` until `completion`, and list it under the validator."""
    position = ledger.get(UNBONDING_COUNT, validator)
    before = ledger.get(UNBONDING_TOTAL, validator, position - 1) if position else 0
    ledger.set(UNBONDING_HEIGHT, validator, position, to=height)
    ledger.set(UNBONDING_TOTAL, validator, position, to=before + amount)
    ledger.set(UNBONDING_COUNT, validator, to=position + 1)
    entry = ledger.get(QUEUE_TAIL, delegator)
    ledger.set_address(ENTRY_VALIDATOR, delegator, entry, to=validator)
    ledger.set(ENTRY_AMOUNT, delegator, entry, to=amount)
    ledger.set(ENTRY_COMPLETION, delegator, entry, to=completion)
    ledger.set(ENTRY_POSITION, delegator, entry, to=position)
    ledger.set(QUEUE_TAIL, delegator, to=entry + 1)


def count_unbonding_entries(ledger: Ledger, account: Address) -> int:
    """Entries of `account` not yet withdrawn."""
    return ledger.get(QUEUE_TAIL, account) - ledger.get(QUEUE_HEAD, account)


def get_unbonding_entries(ledger: Ledger, account: Address) -> list[UnbondingEntry]:
    """The entries of `account` not yet withdrawn, oldest first, with slashes applied."""
    head, tail = ledger.get(QUEUE_HEAD, account), ledger.get(QUEUE_TAIL, account)
    return [_read_entry(ledger, account, entry) for entry in range(head, tail)]


def count_matured(ledger: Ledger, account: Address, height: int) -> int:
    """How many of the oldest entries of `account` complete at or before `height`."""
    head, tail = ledger.get(QUEUE_HEAD, account), ledger.get(QUEUE_TAIL, account)
    entry = head
    while entry < tail and ledger.get(ENTRY_COMPLETION, account, entry) <= height:
        entry += 1
    return entry - head


def take_matured(ledger: Ledger, account: Address, count: int) -> int:
    """Remove the `count` oldest entries of `account`; returns the wei they pay."""
    head = ledger.get(QUEUE_HEAD, account)
    total = sum(_read_entry(ledger, account, entry).amount for entry in range(head, head + count))
    ledger.set(QUEUE_HEAD, account, to=head + count)
    return total


def compute_entry_payout(ledger: Ledger, validator: Address, position: int, amount: int) -> int:
    """What an unbonding entry pays: its amount less its part of a double-sign slash.

    The slash took `cut` wei from the `base` wei of entries made since the offence; each entry
    gives `ceil(amount * cut / base)`, so together they give at least `cut` and the precompile
    never pays out more than it holds.
    """
    first, limit = ledger.get(TOMBSTONE_FIRST, validator), ledger.get(TOMBSTONE_LIMIT, validator)
    if not first <= position < limit:
        return amount
    base, cut = ledger.get(TOMBSTONE_BASE, validator), ledger.get(TOMBSTONE_CUT, validator)
    return amount - (-(-amount * cut // base))


def _read_entry(ledger: Ledger, account: Address, entry: int) -> UnbondingEntry:
    validator = ledger.get_address(ENTRY_VALIDATOR, account, entry)
    amount = ledger.get(ENTRY_AMOUNT, account, entry)
    position = ledger.get(ENTRY_POSITION, account, entry)
    return UnbondingEntry(
        validator,
        compute_entry_payout(ledger, validator, position, amount),
        ledger.get(ENTRY_COMPLETION, account, entry),
    )
