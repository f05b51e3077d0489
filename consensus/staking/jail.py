"""Jail: validators excluded from pay at once and from the active set at the next boundary.

A jailed validator may still be a member of the committee that signs the current epoch (the set
changes only at boundaries), so it stays on the "benched" list until it is released or the set
it sits in is replaced: payments skip benched members, and a block knows from the pulse word
alone (`ledger.Pulse.benched`) that nobody is benched. Callers account the full blocks
(`rewards.materialize`) before they change the list: those blocks paid everyone.
"""

from dataclasses import replace

from openledger.consensus.staking.ledger import (
    BENCHED_AT,
    BENCHED_INDEX,
    IS_JAILED,
    JAILED_UNTIL,
    Ledger,
)
from openledger.genesis.types import Address


def jail(ledger: Ledger, validator: Address, until: int) -> None:
    """Jail `validator`; `unjail` is accepted from block `until` on."""
    ledger.set(IS_JAILED, validator, to=1)
    ledger.set(JAILED_UNTIL, validator, to=until)
    if not ledger.get(BENCHED_INDEX, validator):
        pulse = ledger.get_pulse()
        ledger.set_address(BENCHED_AT, pulse.benched, to=validator)
        ledger.set(BENCHED_INDEX, validator, to=pulse.benched + 1)
        ledger.set_pulse(replace(pulse, benched=pulse.benched + 1))


def release(ledger: Ledger, validator: Address) -> None:
    """Let `validator` out of jail (it is paid again at once if in a committee)."""
    ledger.set(IS_JAILED, validator, to=0)
    _unbench(ledger, validator)


def get_benched(ledger: Ledger) -> frozenset[Address]:
    """Jailed validators that may be in the current or the previous committee."""
    return frozenset(
        ledger.get_address(BENCHED_AT, index) for index in range(ledger.get_pulse().benched)
    )


def prune_benched(ledger: Ledger, members: frozenset[Address]) -> None:
    """Forget benched validators outside `members`, the committee now in force (the previous
    one no longer signs anything that is paid)."""
    for validator in sorted(get_benched(ledger) - members):
        _unbench(ledger, validator)


def _unbench(ledger: Ledger, validator: Address) -> None:
    listed = ledger.get(BENCHED_INDEX, validator)
    if not listed:
        return
    pulse = ledger.get_pulse()
    last = pulse.benched - 1
    moved = ledger.get_address(BENCHED_AT, last)
    ledger.set_address(BENCHED_AT, listed - 1, to=moved)
    ledger.set(BENCHED_INDEX, moved, to=listed)
    ledger.set(BENCHED_AT, last, to=0)
    ledger.set(BENCHED_INDEX, validator, to=0)
    ledger.set_pulse(replace(pulse, benched=last))
