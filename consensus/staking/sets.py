"""Stored active sets: the current one, the one before it, and who was in which.

Two set slots are kept: the current set and the one it replaced (the block after a boundary is
paid and checked for downtime against the commit of the boundary block, which the old set
signed). Which slot is current is in the pulse word (`ledger.Pulse`) together with a
128-bit key of the current set's content, so the set that every block needs is read from a
process-wide cache by that key instead of from two words per member. The key is a hash of the
content itself, so the cache cannot answer for another set, whichever chain, fork or state asks.

Each validator also keeps its terms in the active set, so evidence can ask whether it signed at a
past height.
"""

import threading
from dataclasses import dataclass, replace

from eth_hash.auto import keccak

from openledger.consensus.staking.ledger import (
    SET_MEMBER,
    SET_POWER,
    SET_SIZE,
    SET_START,
    TERM_COUNT,
    TERM_END,
    TERM_START,
    Ledger,
    find_last_at_most,
)
from openledger.consensus.validators import Validator
from openledger.genesis.types import Address

_CACHE_SIZE = 64
_CACHE: dict[int, "ActiveSet"] = {}
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class ActiveSet:
    """An active set as stored: members sorted by address, and the first height it signs."""

    members: tuple[Validator, ...]
    """(address, power) of each member, sorted by address; empty only without validators."""
    start: int
    """First height the set signs."""


def compute_set_key(members: tuple[Validator, ...], start: int) -> int:
    """128 bits of the Keccak hash of a set's members, powers and start."""
    encoded = b"".join(member.address + member.power.to_bytes(32, "big") for member in members)
    return int.from_bytes(keccak(encoded + start.to_bytes(32, "big"))[:16], "big")


def get_current_set(ledger: Ledger) -> ActiveSet:
    """The set that signs the next block."""
    pulse = ledger.get_pulse()
    cached = _CACHE.get(pulse.set_key)
    if cached is not None:
        return cached
    active = _read_set(ledger, pulse.set_slot)
    if pulse.set_key:
        with _CACHE_LOCK:
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[pulse.set_key] = active
    return active


def get_previous_set(ledger: Ledger) -> ActiveSet:
    """The set the current one replaced (empty until the first change)."""
    return _read_set(ledger, 1 - ledger.get_pulse().set_slot)


def get_signing_set(ledger: Ledger, height: int) -> ActiveSet:
    """The set that signed `height`, when `height` is at most the next block."""
    current = get_current_set(ledger)
    return current if current.start <= height else get_previous_set(ledger)


def install_active_set(ledger: Ledger, members: tuple[Validator, ...], start: int) -> None:
    """Make `members` the current set from `start`; the current one becomes the previous.

    Members that leave end their term at `start - 1`; members that join open a term at `start`.
    (Their pay and downtime records switch over when the new set starts signing, in the hooks.)
    """
    pulse = ledger.get_pulse()
    old = _read_set(ledger, pulse.set_slot)
    slot = 1 - pulse.set_slot if old.members else pulse.set_slot
    _write_set(ledger, slot, members, start)
    ledger.set_pulse(replace(pulse, set_slot=slot, set_key=compute_set_key(members, start)))
    new_addresses = {member.address for member in members}
    old_addresses = {member.address for member in old.members}
    for member in old.members:
        if member.address not in new_addresses:
            terms = ledger.get(TERM_COUNT, member.address)
            ledger.set(TERM_END, member.address, terms - 1, to=start - 1)
    for member in members:
        if member.address not in old_addresses:
            terms = ledger.get(TERM_COUNT, member.address)
            ledger.set(TERM_START, member.address, terms, to=start)
            ledger.set(TERM_COUNT, member.address, to=terms + 1)


def was_in_active_set(ledger: Ledger, validator: Address, height: int) -> tuple[bool, int]:
    """Whether `validator` was in the set that signed `height`, and the term starts read."""
    terms = ledger.get(TERM_COUNT, validator)
    term, reads = find_last_at_most(
        lambda index: ledger.get(TERM_START, validator, index), terms, height
    )
    if term < 0:
        return False, reads
    end = ledger.get(TERM_END, validator, term)
    return end == 0 or height <= end, reads


def is_active(ledger: Ledger, validator: Address) -> bool:
    """Whether `validator` is in the set that signs the next block (its last term is open)."""
    terms = ledger.get(TERM_COUNT, validator)
    return terms > 0 and ledger.get(TERM_END, validator, terms - 1) == 0


def _read_set(ledger: Ledger, slot: int) -> ActiveSet:
    members = tuple(
        Validator(ledger.get_address(SET_MEMBER, slot, index), ledger.get(SET_POWER, slot, index))
        for index in range(ledger.get(SET_SIZE, slot))
    )
    return ActiveSet(members, ledger.get(SET_START, slot))


def _write_set(ledger: Ledger, slot: int, members: tuple[Validator, ...], start: int) -> None:
    old_size = ledger.get(SET_SIZE, slot)
    for index, member in enumerate(members):
        ledger.set_address(SET_MEMBER, slot, index, to=member.address)
        ledger.set(SET_POWER, slot, index, to=member.power)
    for index in range(len(members), old_size):
        ledger.set(SET_MEMBER, slot, index, to=0)
        ledger.set(SET_POWER, slot, index, to=0)
    ledger.set(SET_SIZE, slot, to=len(members))
    ledger.set(SET_START, slot, to=start)
