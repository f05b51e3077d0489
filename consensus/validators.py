"""Validator sets, their voting thresholds, and proposer selection.

A `ValidatorSet` is the set of validators that decides every height from `start_height` until
the next set takes over, with each member's voting power (its stake in wei, an arbitrary
integer). It knows the stake-weighted thresholds of the protocol and who proposes each
(height, round). It does not know where the set comes from (genesis, the staking precompile at an
epoch boundary); the caller builds it.

Proposer selection is smooth weighted round robin (nginx's algorithm, the base of CometBFT's):
every validator starts with priority 0; for each pick every priority grows by its validator's
power, the highest priority is picked (ties go to the lowest address) and the pick's priority
drops by the total power. Over any `total_power` consecutive picks each validator is picked
exactly `power` times, and the picks of a validator are spread evenly. The proposer of
(height, round) is pick number `height - start_height + round`, so every node computes it from
the set alone.
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from openledger.consensus.errors import ConsensusError, InvalidValidatorSet
from openledger.genesis.types import Address, BlockNumber, Round

_CHECKPOINT_INTERVAL: Final = 1024
_MAX_CHECKPOINTS: Final = 64
_PICK_WINDOW: Final = 4096

FIRST_HEIGHT: Final = BlockNumber(1)
"""The first height after genesis, decided by the genesis validator set."""


@dataclass(frozen=True, slots=True)
class Validator:
    """One member of a validator set."""

    address: Address
    """The 20-byte address whose secp256k1 key signs this validator's votes."""

    power: int
    """The voting power: the validator's bonded stake in wei, greater than zero."""


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """The validators that decide heights from `start_height` on, sorted by address.

    Building one raises `InvalidValidatorSet` if the set is empty, not sorted by address, holds
    an address twice or a power that is not a positive integer; `create` sorts for you.
    """

    validators: tuple[Validator, ...]
    """The members, sorted by address, each address once."""

    start_height: BlockNumber = FIRST_HEIGHT
    """The first height this set decides; proposer picks are counted from it."""

    total_power: int = field(init=False, compare=False)
    """The sum of the members' power."""

    quorum: int = field(init=False, compare=False)
    """The least power that is more than 2/3 of the total: `total * 2 // 3 + 1`."""

    one_third_plus: int = field(init=False, compare=False)
    """The least power that is more than 1/3 of the total: `total // 3 + 1`."""

    _power_by_address: dict[Address, int] = field(init=False, compare=False, repr=False)
    _schedule: "_ProposerSchedule" = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_validators(self.validators)
        if not isinstance(self.start_height, int) or self.start_height < 0:
            raise InvalidValidatorSet(
                f"start_height must be a height >= 0, got {self.start_height}"
            )
        total = sum(validator.power for validator in self.validators)
        object.__setattr__(self, "total_power", total)
        object.__setattr__(self, "quorum", total * 2 // 3 + 1)
        object.__setattr__(self, "one_third_plus", total // 3 + 1)
        object.__setattr__(self, "_power_by_address", {v.address: v.power for v in self.validators})
        object.__setattr__(
            self, "_schedule", _ProposerSchedule(tuple(v.power for v in self.validators))
        )

    @classmethod
    def create(
        cls, validators: Iterable[Validator], start_height: BlockNumber = FIRST_HEIGHT
    ) -> "ValidatorSet":
        """A set of these validators in any order (still no duplicates or zero power)."""
        return cls(tuple(sorted(validators, key=lambda v: v.address)), start_height)

    def get_power(self, address: Address) -> int:
        """The power of `address`, 0 if it is not a member."""
        return self._power_by_address.get(address, 0)

    def is_member(self, address: Address) -> bool:
        """Whether `address` is one of the validators."""
        return address in self._power_by_address

    def is_quorum(self, power: int) -> bool:
        """Whether `power` is more than 2/3 of the total (a "2f+1" of the paper)."""
        return power >= self.quorum

    def is_one_third_plus(self, power: int) -> bool:
        """Whether `power` is more than 1/3 of the total (an "f+1" of the paper)."""
        return power >= self.one_third_plus


def compute_proposer(validators: ValidatorSet, height: BlockNumber, round: Round) -> Address:
    """The proposer of (height, round): pick `height - start_height + round` of the schedule.

    Memoised per set: consecutive heights and rounds cost one pick each, and looking back a few
    thousand picks costs at most `_CHECKPOINT_INTERVAL` picks.
    """
    pick = height - validators.start_height + round
    if round < 0 or pick < 0:
        raise ConsensusError(
            f"no proposer for height {height} round {round}: the validator set starts at "
            f"height {validators.start_height}"
        )
    return validators.validators[validators._schedule.get_pick(pick)].address


class _ProposerSchedule:
    """The memo of the weighted round robin of one set; safe to share between threads.

    Keeps the priorities after the latest pick, the last `_PICK_WINDOW` picks, and the
    priorities every `_CHECKPOINT_INTERVAL` picks (the first and the latest `_MAX_CHECKPOINTS`),
    so memory stays bounded however long a set lives.
    """

    __slots__ = ("_checkpoints", "_lock", "_next", "_picks", "_powers", "_priorities", "_total")

    def __init__(self, powers: tuple[int, ...]) -> None:
        self._powers = powers
        self._total = sum(powers)
        self._priorities = [0] * len(powers)
        self._next = 0
        self._picks: dict[int, int] = {}
        self._checkpoints: dict[int, tuple[int, ...]] = {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type["_ProposerSchedule"], tuple[tuple[int, ...]]]:
        # A copy or a pickle starts a fresh memo (a lock cannot be copied).
        return (_ProposerSchedule, (self._powers,))

    def get_pick(self, pick: int) -> int:
        """The index (in the sorted set) of the validator picked at `pick`."""
        with self._lock:
            if pick in self._picks:
                return self._picks[pick]
            if pick >= self._next:
                while self._next <= pick:
                    self._advance()
                return self._picks[pick]
            # Far behind the frontier: replay from a checkpoint without moving the frontier.
            start = max(point for point in self._checkpoints if point <= pick)
            priorities = list(self._checkpoints[start])
            for _ in range(start, pick):
                _pick_once(self._powers, self._total, priorities)
            return _pick_once(self._powers, self._total, priorities)

    def _advance(self) -> None:
        if self._next % _CHECKPOINT_INTERVAL == 0:
            self._checkpoints[self._next] = tuple(self._priorities)
            if len(self._checkpoints) > _MAX_CHECKPOINTS + 1:
                del self._checkpoints[min(point for point in self._checkpoints if point > 0)]
        self._picks[self._next] = _pick_once(self._powers, self._total, self._priorities)
        self._picks.pop(self._next - _PICK_WINDOW, None)
        self._next += 1


def _pick_once(powers: tuple[int, ...], total: int, priorities: list[int]) -> int:
    """One step of smooth weighted round robin over `priorities` (updated in place)."""
    best = 0
    for index, power in enumerate(powers):
        priorities[index] += power
        # Strictly greater: on a tie the earlier index, the lower address, wins.
        if priorities[index] > priorities[best]:
            best = index
    priorities[best] -= total
    return best


def _check_validators(validators: object) -> None:
    if not isinstance(validators, tuple) or not validators:
        raise InvalidValidatorSet("a validator set needs a non-empty tuple of Validator")
    previous: bytes | None = None
    for validator in validators:
        if not isinstance(validator, Validator):
            raise InvalidValidatorSet(f"expected Validator, got {type(validator).__name__}")
        address = validator.address
        if not isinstance(address, bytes) or len(address) != 20:
            raise InvalidValidatorSet(f"validator address must be 20 bytes, got {address!r}")
        label = f"0x{address.hex()}"
        if not isinstance(validator.power, int) or isinstance(validator.power, bool):
            raise InvalidValidatorSet(f"validator {label} power must be an integer")
        if validator.power <= 0:
            raise InvalidValidatorSet(
                f"validator {label} has power {validator.power}; remove it or give it stake"
            )
        if previous is not None and address == previous:
            raise InvalidValidatorSet(f"validator {label} appears twice")
        if previous is not None and address < previous:
            raise InvalidValidatorSet(
                f"validators must be sorted by address; {label} comes after 0x{previous.hex()} "
                "(use ValidatorSet.create to sort)"
            )
        previous = address
