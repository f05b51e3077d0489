"""Vote tallying for one height: power per value, thresholds, equivocation, memory bound."""

from consensus_helpers import (
    BLOCK_B,
    BLOCK_C,
    NIL,
    OUTSIDER,
    V0,
    V1,
    V2,
    V3,
    make_set,
    precommit,
    prevote,
)

from openledger.consensus.messages import Vote, VoteKind
from openledger.consensus.tally import MAX_FUTURE_ROUNDS, Equivocation, VoteTally, apply_vote
from openledger.genesis.types import BlockNumber, Round

VALIDATORS = make_set([4, 3, 2, 1])  # total 10: quorum 7, more than a third 4
R0, R1 = Round(0), Round(1)
PREVOTE, PRECOMMIT = VoteKind.PREVOTE, VoteKind.PRECOMMIT


def tally_of(*votes: Vote, current_round: int = 0) -> VoteTally:
    tally = VoteTally.empty(BlockNumber(1), VALIDATORS)
    for vote in votes:
        tally, _ = apply_vote(tally, vote, Round(current_round))
    return tally


def test_power_is_summed_per_block_and_nil() -> None:
    tally = tally_of(
        prevote(V0, BLOCK_B), prevote(V1, NIL), prevote(V2, BLOCK_B), prevote(V3, BLOCK_C)
    )
    assert tally.get_power_for(R0, PREVOTE, BLOCK_B) == 6
    assert tally.get_power_for(R0, PREVOTE, NIL) == 3
    assert tally.get_power_for(R0, PREVOTE, BLOCK_C) == 1
    assert tally.get_power_for(R0, PRECOMMIT, BLOCK_B) == 0
    assert tally.get_power_for(R1, PREVOTE, BLOCK_B) == 0


def test_quorum_for_a_value_and_for_anything() -> None:
    split = tally_of(prevote(V0, BLOCK_B), prevote(V1, NIL))
    assert split.has_quorum_any(R0, PREVOTE)
    assert not split.has_quorum_for(R0, PREVOTE, BLOCK_B)
    assert split.get_quorum_value(R0, PREVOTE) is None
    polka = tally_of(prevote(V0, BLOCK_B), prevote(V1, BLOCK_B))
    assert polka.has_quorum_for(R0, PREVOTE, BLOCK_B)
    assert polka.get_quorum_value(R0, PREVOTE) == BLOCK_B
    assert not polka.has_quorum_any(R0, PRECOMMIT)
    nil_polka = tally_of(prevote(V0, NIL), prevote(V2, NIL), prevote(V3, NIL))
    assert nil_polka.get_quorum_value(R0, PREVOTE) == NIL
    assert not tally_of(
        prevote(V1, BLOCK_B), prevote(V2, BLOCK_B), prevote(V3, BLOCK_B)
    ).has_quorum_any(R0, PREVOTE)


def test_power_in_round_counts_each_validator_once_across_kinds() -> None:
    tally = tally_of(
        prevote(V1, NIL, round=3), precommit(V1, NIL, round=3), precommit(V3, BLOCK_B, round=3)
    )
    assert tally.power_in_round(Round(3)) == 4
    assert tally.power_in_round(R0) == 0


def test_equivocation_is_returned_once_and_not_counted() -> None:
    tally = tally_of(prevote(V0, BLOCK_B))
    tally, equivocation = apply_vote(tally, prevote(V0, BLOCK_C), R0)
    assert equivocation == Equivocation(prevote(V0, BLOCK_B), prevote(V0, BLOCK_C))
    assert tally.get_power_for(R0, PREVOTE, BLOCK_C) == 0
    assert tally.get_power_for(R0, PREVOTE, BLOCK_B) == 4
    again, equivocation = apply_vote(tally, prevote(V0, NIL), R0)
    assert equivocation is None and again is tally
    _, equivocation = apply_vote(
        tally_of(prevote(V0, BLOCK_B, round=1)), prevote(V0, BLOCK_C, round=1), R0
    )
    assert equivocation is not None and equivocation.vote_b.round == 1


def test_votes_that_change_nothing_return_the_same_tally() -> None:
    tally = tally_of(prevote(V0, BLOCK_B))
    for vote in (
        prevote(V0, BLOCK_B),
        prevote(OUTSIDER, BLOCK_B),
        prevote(V1, BLOCK_B, height=2),
        prevote(V1, BLOCK_B, round=MAX_FUTURE_ROUNDS + 1),
    ):
        new_tally, equivocation = apply_vote(tally, vote, R0)
        assert new_tally is tally and equivocation is None, vote


def test_future_rounds_are_kept_up_to_the_bound_relative_to_the_current_round() -> None:
    assert MAX_FUTURE_ROUNDS == 16
    assert tally_of(prevote(V0, NIL, round=16)).power_in_round(Round(16)) == 4
    assert tally_of(prevote(V0, NIL, round=17)).power_in_round(Round(17)) == 0
    assert tally_of(prevote(V0, NIL, round=17), current_round=1).power_in_round(Round(17)) == 4


def test_old_tallies_are_not_changed() -> None:
    before = tally_of(prevote(V0, BLOCK_B))
    after, _ = apply_vote(before, prevote(V1, BLOCK_B), R0)
    assert before.get_power_for(R0, PREVOTE, BLOCK_B) == 4
    assert after.get_power_for(R0, PREVOTE, BLOCK_B) == 7


def test_votes_for_a_value_are_sorted_by_validator() -> None:
    tally = tally_of(
        precommit(V3, BLOCK_B), precommit(V0, BLOCK_B), precommit(V2, NIL), precommit(V1, BLOCK_B)
    )
    assert [v.validator for v in tally.get_votes_for(R0, PRECOMMIT, BLOCK_B)] == [V0, V1, V3]
