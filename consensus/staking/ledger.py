"""Where the staking precompile keeps its state: the storage fields and typed access to them.

Everything staking knows lives in the EVM storage of the staking precompile (`0x...0800`), so it
is part of the state root, identical on every node and provable with `eth_getProof`. Each field
below is a named family of slots, `Storage.slot(name, *keys)`; lists are a count plus one slot per
index. This module only says where things are; the rules live in the other modules of this
package.

The ledger reads and writes through anything with `get(slot)` and `set(slot, value)`: the
precompile's `Storage` during execution, a plain dictionary when genesis is built.
"""

from collections.abc import Callable
from dataclasses import dataclass

from openledger.genesis.types import Address
from openledger.state.precompile import Field, FieldWords, Key

# --- validators (keyed by the validator's address) ------------------------------------------------
VALIDATOR_COUNT = Field("staking.validators.count")
"""How many validators ever registered."""
VALIDATOR_AT = Field("staking.validators.at")
"""(index) -> address, in registration order: the order every scan of validators follows."""
VALIDATOR_INDEX = Field("staking.validator.index")
"""(validator) -> its index + 1; zero means not registered."""
COMMISSION = Field("staking.validator.commission")
"""(validator) -> commission in basis points."""
TOKENS = Field("staking.validator.tokens")
"""(validator) -> bonded wei: self-stake and delegations, after slashes."""
SHARES = Field("staking.validator.shares")
"""(validator) -> delegation shares issued; a share is worth `tokens / shares` wei."""
REWARD_PER_SHARE = Field("staking.validator.reward_per_share")
"""(validator) -> delegators' rewards settled per share since registration, times `REWARD_SCALE`."""
REWARD_CARRY = Field("staking.validator.reward_carry")
"""(validator) -> scaled rewards not yet spread over the shares (division remainders)."""
EARN_POWER = Field("staking.validator.earn.power")
"""(validator) -> its power in the committee it earns in; zero outside any committee."""
EARN_BASE = Field("staking.validator.earn.base")
"""(validator) -> `POWER_ACC - MISSED_ACC` when its earnings were last settled."""
MISSED_ACC = Field("staking.validator.earn.missed")
"""(validator) -> the part of `POWER_ACC` accrued while it was in a committee but not paid."""
IS_JAILED = Field("staking.validator.jailed")
"""(validator) -> 1 while jailed (excluded from rewards and from the next active sets)."""
JAILED_UNTIL = Field("staking.validator.jailed_until")
"""(validator) -> first block at which `unjail` is accepted."""
TOMBSTONE = Field("staking.validator.tombstone")
"""(validator) -> double-sign offence height + 1 once slashed for it; such a validator is jailed
for ever."""
TOMBSTONE_FIRST = Field("staking.validator.tombstone.first")
"""(validator) -> first position in its unbonding list that the double-sign slash cuts."""
TOMBSTONE_LIMIT = Field("staking.validator.tombstone.limit")
"""(validator) -> first position it no longer cuts (entries made after the evidence)."""
TOMBSTONE_BASE = Field("staking.validator.tombstone.base")
"""(validator) -> total wei of the unbonding entries the slash cuts."""
TOMBSTONE_CUT = Field("staking.validator.tombstone.cut")
"""(validator) -> wei taken from those entries together (spread over them as they are paid)."""
OFFENCE = Field("staking.offence")
"""(validator, height) -> 1 once double-sign evidence at that height was processed."""
TERM_COUNT = Field("staking.validator.terms")
"""(validator) -> number of terms in the active set."""
TERM_START = Field("staking.validator.term.start")
"""(validator, term) -> first height the validator signed in that term."""
TERM_END = Field("staking.validator.term.end")
"""(validator, term) -> last height of that term; zero while it lasts."""
SIGN_START = Field("staking.validator.sign.start")
"""(validator) -> index of the first commit its downtime record counts (block `H`'s commit has
index `H - 1`)."""
SIGN_MISSED = Field("staking.validator.sign.missed")
"""(validator) -> commits it missed among the last `downtime_window` it was recorded for."""
UNBONDING_COUNT = Field("staking.validator.unbonding.count")
"""(validator) -> unbonding entries ever made from this validator."""
UNBONDING_HEIGHT = Field("staking.validator.unbonding.height")
"""(validator, position) -> block in which that entry was made (non-decreasing)."""
UNBONDING_TOTAL = Field("staking.validator.unbonding.total")
"""(validator, position) -> wei undelegated from this validator up to and including it."""
STAKE_COUNT = Field("staking.validator.stake.count")
"""(validator) -> entries in its stake history: one per block that changed `TOKENS`."""
STAKE_HEIGHT = Field("staking.validator.stake.height")
"""(validator, entry) -> the block that changed `TOKENS` (increasing; genesis is 0)."""
STAKE_VALUE = Field("staking.validator.stake.value")
"""(validator, entry) -> `TOKENS` at the end of that block."""

# --- delegations (keyed by delegator, validator) -------------------------------------------------
DELEGATION_SHARES = Field("staking.delegation.shares")
"""(delegator, validator) -> shares held."""
DELEGATION_DEBT = Field("staking.delegation.debt")
"""(delegator, validator) -> shares x reward-per-share when rewards were last settled."""

# --- accounts (keyed by the account's address) ---------------------------------------------------
DELEGATION_COUNT = Field("staking.account.delegations.count")
"""(account) -> number of validators it delegates to."""
DELEGATION_AT = Field("staking.account.delegations.at")
"""(account, index) -> a validator it delegates to."""
DELEGATION_INDEX = Field("staking.account.delegations.index")
"""(account, validator) -> index + 1 of that validator in the account's list."""
REWARDS = Field("staking.account.rewards")
"""(account) -> settled rewards and commission, in wei, waiting for `claimRewards`."""
QUEUE_HEAD = Field("staking.account.unbonding.head")
"""(account) -> number of its unbonding entries already withdrawn."""
QUEUE_TAIL = Field("staking.account.unbonding.tail")
"""(account) -> number of unbonding entries it ever made."""
ENTRY_VALIDATOR = Field("staking.account.unbonding.validator")
"""(account, entry) -> the validator the stake was undelegated from."""
ENTRY_AMOUNT = Field("staking.account.unbonding.amount")
"""(account, entry) -> wei undelegated."""
ENTRY_COMPLETION = Field("staking.account.unbonding.completion")
"""(account, entry) -> first block at which it can be withdrawn."""
ENTRY_POSITION = Field("staking.account.unbonding.position")
"""(account, entry) -> its position in the validator's unbonding list."""

# --- chain-wide accounting -----------------------------------------------------------------------
PULSE = Field("staking.pulse")
"""The one word every block reads (see `Pulse`)."""
POWER_ACC = Field("staking.power_acc")
"""Wei paid per unit of committee power up to block `ACCOUNTED`, times `REWARD_SCALE`."""
POWER_CARRY = Field("staking.power_carry")
"""Scaled wei of payments not yet spread over the paid power (division remainders)."""
ACCOUNTED = Field("staking.accounted")
"""The last block whose reward `POWER_ACC` includes; later blocks were all paid in full to the
committee in force and are added when needed (`rewards.materialize`)."""
MISSERS_COUNT = Field("staking.missers.count")
"""(commit index % window) -> how many validators missed that commit."""
MISSERS_AT = Field("staking.missers.at")
"""(commit index % window, i) -> the i-th of them."""
BENCHED_AT = Field("staking.benched.at")
"""(index) -> a jailed validator that may still be in a committee (unpaid even if it signs)."""
BENCHED_INDEX = Field("staking.benched.index")
"""(validator) -> its index + 1 in that list."""

# --- active sets ---------------------------------------------------------------------------------
SET_SIZE = Field("staking.set.size")
"""(slot) -> members of that set; the current set's slot is in the pulse, the other slot holds
the set before it."""
SET_MEMBER = Field("staking.set.member")
"""(slot, index) -> member address, sorted by address."""
SET_POWER = Field("staking.set.power")
"""(slot, index) -> that member's voting power: its bonded wei when the set was chosen."""
SET_START = Field("staking.set.start")
"""(slot) -> first height the set signs."""
EPOCH_TIME = Field("staking.epoch.time")
"""(boundary block number) -> that block's timestamp (for the age of evidence in time)."""

_KEY_BITS = 128
_COUNT_BITS = 32


@dataclass(frozen=True, slots=True)
class Pulse:
    """What a block needs to know to tell whether it has any staking work beyond the mint.

    Packed in one word (`PULSE`): a block in which the whole committee signed, nobody is jailed
    and no recent commit was missed reads this word and nothing else.
    """

    set_key: int = 0
    """128 bits of the current set's content hash: its key in the set cache."""
    set_slot: int = 0
    """Which set slot (0 or 1) holds the current set."""
    benched: int = 0
    """How many validators are on the benched list."""
    missers: int = 0
    """How many misses the downtime ring holds (over all its commits)."""

    def pack(self) -> int:
        """The word."""
        return (
            self.set_key << _KEY_BITS
            | self.missers << (2 * _COUNT_BITS)
            | self.benched << _COUNT_BITS
            | self.set_slot
        )

    @classmethod
    def unpack(cls, word: int) -> "Pulse":
        """The pulse of a word written by `pack`."""
        mask = (1 << _COUNT_BITS) - 1
        return cls(
            set_key=word >> _KEY_BITS,
            set_slot=word & 1,
            benched=(word >> _COUNT_BITS) & mask,
            missers=(word >> (2 * _COUNT_BITS)) & mask,
        )


class Ledger(FieldWords):
    """Typed reads and writes of the staking fields over `words` (the precompile's `Storage`
    during execution, `DictWords` when genesis is built)."""

    __slots__ = ()

    def add(self, field: Field, *keys: Key, delta: int) -> int:
        """Add `delta` (which may be negative) to a word; returns the new value."""
        value = self.get(field, *keys) + delta
        if value < 0:
            raise ValueError(f"{field.name} would go below zero")
        self.set(field, *keys, to=value)
        return value

    def get_pulse(self) -> Pulse:
        """The pulse word, unpacked."""
        return Pulse.unpack(self.get(PULSE))

    def set_pulse(self, pulse: Pulse) -> None:
        """Write the pulse word."""
        self.set(PULSE, to=pulse.pack())

    def is_registered(self, validator: Address) -> bool:
        """Whether `validator` ever registered."""
        return self.get(VALIDATOR_INDEX, validator) != 0

    def is_jailed(self, validator: Address) -> bool:
        """Whether `validator` is jailed (tombstoned validators are jailed for ever)."""
        return self.get(IS_JAILED, validator) != 0

    def is_tombstoned(self, validator: Address) -> bool:
        """Whether `validator` was slashed for double signing."""
        return self.get(TOMBSTONE, validator) != 0

    def get_validators(self) -> list[Address]:
        """Every registered validator, in registration order."""
        return [self.get_address(VALIDATOR_AT, index) for index in range(self.get(VALIDATOR_COUNT))]


def find_last_at_most(read: Callable[[int], int], count: int, target: int) -> tuple[int, int]:
    """Binary search of a stored non-decreasing list of `count` values read by `read(index)`.

    Returns (the last index whose value is at most `target`, or -1; the number of reads).
    """
    low, high, reads = 0, count, 0
    while low < high:
        middle = (low + high) // 2
        reads += 1
        if read(middle) <= target:
            low = middle + 1
        else:
            high = middle
    return low - 1, reads
