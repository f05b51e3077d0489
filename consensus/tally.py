"""Vote tallying for one height: who voted what, the power behind each value, equivocations.

A `VoteTally` is an immutable value; `apply_vote` returns a new one (sharing everything but the
one (round, kind) it changes). It answers the threshold questions of the state machine: is there
more than 2/3 of the power for a block (or for nil, or for anything) in a round, and how much
power has voted at all in a round (for the round-skip rule).

Memory is bounded whatever peers send: only votes of the tally's height from members of its
validator set are kept, at most one per (validator, round, kind), for rounds no more than
`MAX_FUTURE_ROUNDS` above the caller's current round. So a tally holds at most
`2 * members * (current_round + MAX_FUTURE_ROUNDS + 1)` votes. A second vote of a validator for
the same (round, kind) but another block is an equivocation: it is returned to the caller (once
per validator, round and kind) and never counted.

The tally trusts its caller to have checked signatures; it does not check them itself.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from openledger.consensus.messages import Vote, VoteKind
from openledger.consensus.validators import ValidatorSet
from openledger.genesis.types import Address, BlockNumber, Round

MAX_FUTURE_ROUNDS: Final = 16
"""How far above the current round votes are kept. A correct validator is never more than a few
rounds ahead of another once the network is synchronous; the round-skip rule only needs votes of
rounds just above ours, and peers re-gossip what we dropped once we get there."""


@dataclass(frozen=True, slots=True)
class Equivocation:
    """Two votes of one validator for the same (height, round, kind) and different blocks."""

    vote_a: Vote
    """The vote that was counted (received first)."""

    vote_b: Vote
    """The conflicting vote, received later and not counted."""


@dataclass(frozen=True, slots=True)
class RoundVotes:
    """The votes of one kind in one round."""

    votes: Mapping[Address, Vote]
    """The counted vote of each validator that voted."""

    power_by_hash: Mapping[bytes, int]
    """The power behind each block hash voted for (`NIL`, empty, for nil)."""

    total: int
    """The power of all validators that voted, whatever for."""


_EMPTY_ROUND: Final = RoundVotes(votes={}, power_by_hash={}, total=0)


@dataclass(frozen=True, slots=True)
class VoteTally:
    """The votes received for one height. Never mutated: `apply_vote` builds a new tally."""

    height: BlockNumber
    """The height whose votes are counted; votes of other heights are ignored."""

    validators: ValidatorSet
    """The set whose members may vote, and their power."""

    rounds: Mapping[tuple[Round, VoteKind], RoundVotes]
    """The votes by (round, kind)."""

    round_power: Mapping[Round, int]
    """The power of the validators that sent any vote (either kind) in each round."""

    equivocations: frozenset[tuple[Address, Round, VoteKind]]
    """The (validator, round, kind) already reported as equivocating, so each is reported once."""

    @classmethod
    def empty(cls, height: BlockNumber, validators: ValidatorSet) -> "VoteTally":
        """A tally with no votes."""
        return cls(height, validators, rounds={}, round_power={}, equivocations=frozenset())

    def get_round_votes(self, round: Round, kind: VoteKind) -> RoundVotes:
        """The votes of `kind` in `round` (empty if none)."""
        return self.rounds.get((round, kind), _EMPTY_ROUND)

    def get_power_for(self, round: Round, kind: VoteKind, block_hash: bytes) -> int:
        """The power of the `kind` votes for `block_hash` (`NIL` for nil) in `round`."""
        return self.get_round_votes(round, kind).power_by_hash.get(block_hash, 0)

    def has_quorum_for(self, round: Round, kind: VoteKind, block_hash: bytes) -> bool:
        """Whether more than 2/3 of the power voted `kind` for `block_hash` in `round`."""
        return self.validators.is_quorum(self.get_power_for(round, kind, block_hash))

    def has_quorum_any(self, round: Round, kind: VoteKind) -> bool:
        """Whether more than 2/3 of the power voted `kind` in `round`, for anything or nil."""
        return self.validators.is_quorum(self.get_round_votes(round, kind).total)

    def get_quorum_value(self, round: Round, kind: VoteKind) -> bytes | None:
        """The block hash (or `NIL`) with more than 2/3 of the `kind` votes in `round`, if any.

        At most one value can have it: each validator's power counts once per (round, kind).
        """
        for block_hash, power in self.get_round_votes(round, kind).power_by_hash.items():
            if self.validators.is_quorum(power):
                return block_hash
        return None

    def power_in_round(self, round: Round) -> int:
        """The power of the validators that sent any vote in `round`, each counted once."""
        return self.round_power.get(round, 0)

    def get_votes_for(self, round: Round, kind: VoteKind, block_hash: bytes) -> tuple[Vote, ...]:
        """The counted `kind` votes for `block_hash` in `round`, sorted by validator address."""
        votes = self.get_round_votes(round, kind).votes.values()
        return tuple(
            sorted((v for v in votes if v.block_hash == block_hash), key=lambda v: v.validator)
        )


def apply_vote(
    tally: VoteTally, vote: Vote, current_round: Round
) -> tuple[VoteTally, Equivocation | None]:
    """Count `vote`; return the new tally and the equivocation it reveals, if any.

    Not counted: a vote of another height, of a non-member, of a round more than
    `MAX_FUTURE_ROUNDS` above `current_round`, a duplicate, or an equivocation. For all but a
    first-seen equivocation the returned tally is `tally` itself (the same object), so the caller
    can tell that nothing changed; a first-seen equivocation is returned with a tally that only
    remembers it, so the same (validator, round, kind) is reported once.
    """
    power = tally.validators.get_power(vote.validator)
    if vote.height != tally.height or power == 0 or vote.round > current_round + MAX_FUTURE_ROUNDS:
        return tally, None
    key = (vote.round, vote.kind)
    round_votes = tally.get_round_votes(vote.round, vote.kind)
    previous = round_votes.votes.get(vote.validator)
    if previous is not None:
        if previous.block_hash == vote.block_hash:
            return tally, None
        return _apply_equivocation(tally, previous, vote)
    new_round_votes = RoundVotes(
        votes={**round_votes.votes, vote.validator: vote},
        power_by_hash={
            **round_votes.power_by_hash,
            vote.block_hash: round_votes.power_by_hash.get(vote.block_hash, 0) + power,
        },
        total=round_votes.total + power,
    )
    other_kind = VoteKind.PRECOMMIT if vote.kind is VoteKind.PREVOTE else VoteKind.PREVOTE
    round_power = tally.round_power
    if vote.validator not in tally.get_round_votes(vote.round, other_kind).votes:
        round_power = {**round_power, vote.round: round_power.get(vote.round, 0) + power}
    new_tally = replace(
        tally, rounds={**tally.rounds, key: new_round_votes}, round_power=round_power
    )
    return new_tally, None


def _apply_equivocation(
    tally: VoteTally, counted: Vote, conflicting: Vote
) -> tuple[VoteTally, Equivocation | None]:
    key = (conflicting.validator, conflicting.round, conflicting.kind)
    if key in tally.equivocations:
        return tally, None
    new_tally = replace(tally, equivocations=tally.equivocations | {key})
    return new_tally, Equivocation(vote_a=counted, vote_b=conflicting)
