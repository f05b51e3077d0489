"""The state machine deciding late, skipping rounds, reporting equivocations and restarting:
decisions in later rounds and on an earlier round's precommits, the f+1 round skip weighed by
power, equivocations, and resuming a height with the persisted lock (amnesia).
"""

import pytest
from consensus_helpers import (
    BLOCK_B,
    BLOCK_C,
    COMMIT,
    EQUAL_SET,
    H1,
    NIL,
    PRECOMMIT,
    PREVOTE,
    PROPOSE,
    V0,
    V1,
    V2,
    V3,
    Row,
    certificate,
    make_set,
    precommit,
    prevote,
    proposal,
    resumed,
    run_table,
    votes,
)

from openledger.consensus.errors import ConsensusError
from openledger.consensus.events import (
    Decide,
    ProposalReceived,
    ReportEquivocation,
    ScheduleTimeout,
    SignProposal,
    SignVote,
    TimeoutConfig,
    VoteReceived,
)
from openledger.consensus.machine import resume_height, start_height
from openledger.consensus.messages import VoteKind
from openledger.consensus.state import Step
from openledger.genesis.types import BlockNumber, Hash32, Round


def test_decides_in_a_later_round() -> None:
    state = resumed(V3, round=1)
    run_table(
        state,
        [
            Row(
                "V1 proposes C",
                ProposalReceived(proposal(V1, BLOCK_C, round=1), True),
                (SignVote(1, 1, VoteKind.PREVOTE, BLOCK_C),),
            ),
            *votes("prevote", BLOCK_C, 1, V1, V2),
            Row(
                "polka",
                VoteReceived(prevote(V3, BLOCK_C, round=1)),
                (ScheduleTimeout(PREVOTE, 1, 1, 1500), SignVote(1, 1, VoteKind.PRECOMMIT, BLOCK_C)),
            ),
            *votes("precommit", BLOCK_C, 1, V1, V2),
            Row(
                "decide in round 1",
                VoteReceived(precommit(V3, BLOCK_C, round=1)),
                (
                    Decide(1, 1, BLOCK_C, certificate(1, BLOCK_C, [V1, V2, V3])),
                    ScheduleTimeout(COMMIT, 1, 1, 1000),
                ),
                {"decision": BLOCK_C, "step": Step.COMMIT},
            ),
        ],
    )


def test_decides_on_precommits_of_an_earlier_round() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            Row(
                "V0 proposes B",
                ProposalReceived(proposal(V0, BLOCK_B), True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
            ),
            *votes("prevote", BLOCK_B, 2, V1),
            Row(
                "V2 is in round 2 too: f+1, skip to round 2",
                VoteReceived(prevote(V2, BLOCK_B, round=2)),
                (ScheduleTimeout(PROPOSE, 1, 2, 4000),),
                {"round": 2},
            ),
            *votes("precommit", BLOCK_B, 0, V0, V1),
            Row(
                "the third round-0 precommit for B: line 49 decides in round 0",
                VoteReceived(precommit(V2, BLOCK_B, round=0)),
                (
                    Decide(1, 0, BLOCK_B, certificate(0, BLOCK_B, [V0, V1, V2])),
                    ScheduleTimeout(COMMIT, 1, 0, 1000),
                ),
                {"decision": BLOCK_B},
            ),
        ],
    )


def test_decides_when_the_proposal_arrives_after_the_precommits() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            *votes("precommit", BLOCK_B, 0, V0, V1),
            Row(
                "V2 precommits B: no proposal yet, so only line 47",
                VoteReceived(precommit(V2, BLOCK_B)),
                (ScheduleTimeout(PRECOMMIT, 1, 0, 1000),),
            ),
            Row(
                "the proposal completes line 49",
                ProposalReceived(proposal(V0, BLOCK_B), True),
                (
                    Decide(1, 0, BLOCK_B, certificate(0, BLOCK_B, [V0, V1, V2])),
                    ScheduleTimeout(COMMIT, 1, 0, 1000),
                ),
            ),
        ],
    )


def test_never_decides_an_invalid_block() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    state = run_table(
        state,
        [
            Row(
                "V0 proposes an invalid B",
                ProposalReceived(proposal(V0, BLOCK_B), False),
                (SignVote(1, 0, VoteKind.PREVOTE, NIL),),
            ),
            *votes("precommit", BLOCK_B, 0, V0, V1),
            Row(
                "line 47 only",
                VoteReceived(precommit(V2, BLOCK_B)),
                (ScheduleTimeout(PRECOMMIT, 1, 0, 1000),),
            ),
        ],
    )
    assert state.decision is None


def test_round_skip_needs_more_than_a_third_of_the_power() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            *votes("prevote", NIL, 3, V1),
            Row(
                "V1's precommit in round 3 does not count V1 twice",
                VoteReceived(precommit(V1, NIL, round=3)),
                (),
                {"round": 0},
            ),
            *votes("prevote", NIL, 6, V1),
            Row(
                "V2 in round 6: f+1 there, skip to round 6 (round 3 has only V1)",
                VoteReceived(prevote(V2, NIL, round=6)),
                (ScheduleTimeout(PROPOSE, 1, 6, 6000),),
                {"round": 6, "step": Step.PROPOSE},
            ),
            *votes("prevote", NIL, 3, V2),
            *votes("prevote", NIL, 23, V0, V1),
            Row(
                "rounds past 6 + 16 are not kept",
                VoteReceived(prevote(V2, NIL, round=23)),
                (),
                {"round": 6},
            ),
            *votes("prevote", NIL, 22, V0),
            Row(
                "round 22 is within the bound",
                VoteReceived(prevote(V1, NIL, round=22)),
                (ScheduleTimeout(PROPOSE, 1, 22, 14000),),
                {"round": 22},
            ),
        ],
    )


def test_round_skip_weighs_power_not_heads() -> None:
    heavy = make_set([1, 1, 1, 10])  # total 13: f+1 is 5
    state, _ = start_height(H1, heavy, None)
    run_table(
        state,
        [
            *votes("prevote", NIL, 4, V0, V1, V2),
            Row(
                "V3 alone has more than a third",
                VoteReceived(prevote(V3, NIL, round=4)),
                (ScheduleTimeout(PROPOSE, 1, 4, 5000),),
                {"round": 4},
            ),
        ],
    )


def test_equivocation_is_reported_once_and_not_counted() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    state = run_table(
        state,
        [
            *votes("prevote", NIL, 0, V1),
            Row(
                "V1 also prevotes B: equivocation",
                VoteReceived(prevote(V1, BLOCK_B)),
                (ReportEquivocation(prevote(V1, NIL), prevote(V1, BLOCK_B)),),
            ),
            Row(
                "the same conflicting vote again: not reported twice",
                VoteReceived(prevote(V1, BLOCK_B)),
            ),
            Row("a third value from V1: not reported again", VoteReceived(prevote(V1, BLOCK_C))),
            Row("V1's nil prevote again is a plain duplicate", VoteReceived(prevote(V1, NIL))),
            Row(
                "a precommit is a different vote, not an equivocation",
                VoteReceived(precommit(V1, BLOCK_B)),
            ),
            Row(
                "V0 proposes B",
                ProposalReceived(proposal(V0, BLOCK_B), True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
            ),
            *votes("prevote", BLOCK_B, 0, V0),
            Row(
                "our prevote for B: 2 for B (V1's B not counted), 3 in all",
                VoteReceived(prevote(V3, BLOCK_B)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000),),
                {"step": Step.PREVOTE, "locked_value": None},
            ),
        ],
    )
    assert state.tally.get_power_for(Round(0), VoteKind.PREVOTE, BLOCK_B) == 2


def test_restart_keeps_the_lock_against_amnesia() -> None:
    locked = resumed(V3, round=1, locked=(BLOCK_B, 0), valid=(BLOCK_B, 0))
    forgetful = resumed(V3, round=1)
    proposal_c = ProposalReceived(proposal(V1, BLOCK_C, round=1), True)
    run_table(
        locked,
        [Row("locked on B: prevote nil", proposal_c, (SignVote(1, 1, VoteKind.PREVOTE, NIL),))],
    )
    run_table(
        forgetful,
        [
            Row(
                "without the lock: prevote C",
                proposal_c,
                (SignVote(1, 1, VoteKind.PREVOTE, BLOCK_C),),
            )
        ],
    )


def test_restart_as_proposer_proposes_the_valid_value() -> None:
    _, actions = resume_height(
        H1,
        EQUAL_SET,
        V1,
        TimeoutConfig(),
        round=Round(1),
        locked_value=None,
        locked_round=Round(-1),
        valid_value=BLOCK_B,
        valid_round=Round(0),
    )
    assert actions == (SignProposal(1, 1, BLOCK_B, 0), ScheduleTimeout(PROPOSE, 1, 1, 3500))


@pytest.mark.parametrize(
    ("round", "locked", "locked_round", "height", "message"),
    [
        (1, BLOCK_B, -1, 1, "locked_value and locked_round disagree"),
        (1, None, 0, 1, "locked_value and locked_round disagree"),
        (1, BLOCK_B, 2, 1, "locked_value and locked_round disagree"),
        (-1, None, -1, 1, "round must be >= 0"),
        (0, None, -1, 0, "before the validator set's start height"),
    ],
)
def test_resume_rejects_inconsistent_arguments(
    round: int, locked: Hash32 | None, locked_round: int, height: int, message: str
) -> None:
    with pytest.raises(ConsensusError, match=message):
        resume_height(
            BlockNumber(height),
            EQUAL_SET,
            V3,
            TimeoutConfig(),
            round=Round(round),
            locked_value=locked,
            locked_round=Round(locked_round),
            valid_value=None,
            valid_round=Round(-1),
        )
