"""Downtime: commits a validator failed to sign, over a sliding window, and jailing for it.

Every block `H` (from block 2) records the commit of block `H - 1`, commit number `i = H - 2`:
the members of the set that signed `H - 1` that are not jailed and whose
precommit is missing are its missers, kept in a ring of `downtime_window` lists. A validator's
`SIGN_MISSED` counts its misses among the last `downtime_window` commits recorded for it: it grows
when it misses commit `i` and shrinks when commit `i - window` (which it missed) leaves the
window. So a block costs work per misser only, never per validator that signed, and none at all
when the ring is empty (the pulse word counts its entries).

Once a full window has been recorded for a validator (since it joined the set or was last
jailed or unjailed), a validator whose signed share falls below `min_signed_per_window_bps`, that
is `(window - missed) * 10000 < min_signed_per_window_bps * window`, is jailed until block
`H + downtime_jail_blocks` and loses `downtime_slash_bps` of its bonded stake, which is burned.
Jailing restarts its record, so after `unjail` it gets a full window again.

Jailing here happens in a block hook, outside any transaction, so it emits no log: read
`getValidator` to see it.
"""

from collections.abc import Collection
from dataclasses import replace

from openledger.consensus.staking.bonds import slash_tokens
from openledger.consensus.staking.jail import jail
from openledger.consensus.staking.ledger import (
    MISSERS_AT,
    MISSERS_COUNT,
    SIGN_MISSED,
    SIGN_START,
    Ledger,
)
from openledger.consensus.staking.rewards import BPS
from openledger.consensus.validators import Validator
from openledger.genesis.model import StakingParams
from openledger.genesis.types import Address


def record_commit(
    ledger: Ledger,
    params: StakingParams,
    height: int,
    committee: tuple[Validator, ...],
    signers: Collection[Address],
    benched: Collection[Address],
) -> int:
    """Record the parent's commit, seen in block `height`; jail those below the minimum.

    Returns the wei slashed, for the caller to burn.
    """
    window = params.downtime_window
    index = height - 2
    ring = index % window
    missers = [
        member.address
        for member in committee
        if member.address not in signers and member.address not in benched
    ]
    pulse = ledger.get_pulse()
    if pulse.missers == 0 and not missers:
        return 0  # nobody missed this commit nor any of the last `window`: nothing to do
    leaving = ledger.get(MISSERS_COUNT, ring) if pulse.missers else 0
    for position in range(leaving):  # the misses of commit `index - window`
        _forget_miss(ledger, ledger.get_address(MISSERS_AT, ring, position), index - window)
    if leaving != len(missers):
        ledger.set(MISSERS_COUNT, ring, to=len(missers))
        ledger.set_pulse(replace(pulse, missers=pulse.missers - leaving + len(missers)))
    slashed = 0
    for position, validator in enumerate(missers):
        ledger.set_address(MISSERS_AT, ring, position, to=validator)
        missed = ledger.add(SIGN_MISSED, validator, delta=1)
        recorded = index - ledger.get(SIGN_START, validator) + 1
        if (
            recorded >= window
            and (window - missed) * BPS < params.min_signed_per_window_bps * window
        ):
            slashed += jail_for_downtime(ledger, params, validator, height)
    return slashed


def jail_for_downtime(
    ledger: Ledger, params: StakingParams, validator: Address, height: int
) -> int:
    """Jail `validator` until `height + downtime_jail_blocks` and slash it; returns the wei
    slashed."""
    jail(ledger, validator, height + params.downtime_jail_blocks)
    reset_downtime_record(ledger, validator, height)
    return slash_tokens(ledger, validator, params.downtime_slash_bps, height)


def reset_downtime_record(ledger: Ledger, validator: Address, height: int) -> None:
    """Start the validator's record afresh from the commit of block `height`, the block being
    executed (on joining the set, on jailing and on unjailing)."""
    ledger.set(SIGN_START, validator, to=height - 1)
    if ledger.get(SIGN_MISSED, validator):
        ledger.set(SIGN_MISSED, validator, to=0)


def _forget_miss(ledger: Ledger, validator: Address, index: int) -> None:
    """Commit `index` leaves the window: uncount it for `validator` if its record counted it."""
    if ledger.get(SIGN_START, validator) <= index:
        ledger.add(SIGN_MISSED, validator, delta=-1)
