"""Locked span payouts: what a span record owes each contributor until its challenge window ends.

Each account has a queue of locked payouts (`layout.LOCK_BOUNDS`, `LOCK_ENTRY`, `LOCK_AMOUNT`),
appended in record order. A payout is *matured* from its record's `SPAN_MATURES` block on and
*void* once a challenge voided its record. `claim` sweeps the queue from its head: void payouts
are dropped, matured ones are added to what it pays (and to the contribution's and contributor's
earnings tallies), and it stops at the first payout still in its window, or after `SWEEP_LIMIT`
payouts (claim again for the rest). Every model pins the same genesis window, so payouts mature
in queue order; were windows ever to differ, a later payout would only wait for an earlier one.
"""

from openledger.attribution.layout import (
    CONTRIBUTION_EARNINGS,
    CONTRIBUTOR_STATS,
    LOCK_AMOUNT,
    LOCK_BOUNDS,
    LOCK_ENTRY,
    SPAN_MATURES,
    SPAN_VOIDED,
    Records,
)
from openledger.genesis.types import Address

SWEEP_LIMIT = 64
"""Most payouts one `claim` sweeps."""
HALF = 128
HALF_MASK = (1 << HALF) - 1


def _bounds(records: Records, account: Address) -> tuple[int, int]:
    word = records.get(LOCK_BOUNDS, account)
    return word & HALF_MASK, word >> HALF


def lock_payout(
    records: Records, account: Address, inference: int, contribution: int, amount: int
) -> None:
    """Append a payout of `amount` to `account`'s queue."""
    head, tail = _bounds(records, account)
    records.set(LOCK_ENTRY, account, tail, to=contribution << HALF | inference)
    records.set(LOCK_AMOUNT, account, tail, to=amount)
    records.set(LOCK_BOUNDS, account, to=(tail + 1) << HALF | head)


def sweep(records: Records, account: Address, block: int) -> int:
    """Sweep `account`'s queue at `block` (module docstring); returns the wei freed."""
    head, tail = _bounds(records, account)
    freed, index = 0, head
    while index < tail and index - head < SWEEP_LIMIT:
        entry = records.get(LOCK_ENTRY, account, index)
        inference, contribution = entry & HALF_MASK, entry >> HALF
        if not records.get(SPAN_VOIDED, inference):
            if block < records.get(SPAN_MATURES, inference):
                break
            amount = records.get(LOCK_AMOUNT, account, index)
            freed += amount
            records.add_tally(CONTRIBUTION_EARNINGS, contribution, amount=amount)
            records.add_tally(CONTRIBUTOR_STATS, account, amount=amount)
        index += 1
    if index != head:
        records.set(LOCK_BOUNDS, account, to=tail << HALF | index)
    return freed


def count_sweep(records: Records, account: Address) -> int:
    """Payouts a sweep may look at now, for gas: an upper bound, as the one it stops at is counted
    as a swept one."""
    head, tail = _bounds(records, account)
    return min(tail - head, SWEEP_LIMIT)


def count_unswept(records: Records, account: Address) -> int:
    """Payouts in `account`'s queue not yet swept."""
    head, tail = _bounds(records, account)
    return tail - head


def total_unswept(records: Records, account: Address, block: int) -> tuple[int, int]:
    """(wei of the unswept payouts that are not void, the part of it still in a window at
    `block`)."""
    head, tail = _bounds(records, account)
    total = locked = 0
    for index in range(head, tail):
        inference = records.get(LOCK_ENTRY, account, index) & HALF_MASK
        if records.get(SPAN_VOIDED, inference):
            continue
        amount = records.get(LOCK_AMOUNT, account, index)
        total += amount
        if block < records.get(SPAN_MATURES, inference):
            locked += amount
    return total, locked
