"""The state machine through the rounds of one height: the happy path as proposer and not,
timeouts and their growth, nil votes, proposals that arrive early or twice.

Tables of (description, event, expected actions, expected state fields) over four validators of
power 1 (quorum 3), whose proposers at height 1 are V0, V1, V2, V3 for rounds 0, 1, 2, 3.
"""

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
    precommit,
    prevote,
    proposal,
    run_table,
)

from openledger.consensus.events import (
    BuildProposal,
    Decide,
    ProposalBlockReady,
    ProposalReceived,
    ScheduleTimeout,
    SignProposal,
    SignVote,
    StartHeight,
    TimeoutFired,
    VoteReceived,
)
from openledger.consensus.machine import start_height
from openledger.consensus.messages import VoteKind
from openledger.consensus.state import Step
from openledger.genesis.types import Round


def test_happy_path_as_proposer() -> None:
    state, actions = start_height(H1, EQUAL_SET, V0)
    assert actions == (BuildProposal(1, 0), ScheduleTimeout(PROPOSE, 1, 0, 3000))
    run_table(
        state,
        [
            Row(
                "the host built B",
                ProposalBlockReady(1, 0, BLOCK_B),
                (SignProposal(1, 0, BLOCK_B, -1),),
            ),
            Row("a second built block is not proposed", ProposalBlockReady(1, 0, BLOCK_C)),
            Row(
                "our proposal comes back: line 22 prevotes it",
                ProposalReceived(proposal(V0, BLOCK_B), valid=True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
                {"step": Step.PREVOTE},
            ),
            Row("our prevote comes back", VoteReceived(prevote(V0, BLOCK_B))),
            Row("V1 prevotes B", VoteReceived(prevote(V1, BLOCK_B)), (), {"locked_value": None}),
            Row(
                "V2 prevotes B, a polka: line 34 arms the timeout, line 36 locks and precommits",
                VoteReceived(prevote(V2, BLOCK_B)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000), SignVote(1, 0, VoteKind.PRECOMMIT, BLOCK_B)),
                {
                    "step": Step.PRECOMMIT,
                    "locked_value": BLOCK_B,
                    "locked_round": 0,
                    "valid_value": BLOCK_B,
                    "valid_round": 0,
                },
            ),
            Row("our precommit comes back", VoteReceived(precommit(V0, BLOCK_B))),
            Row("V1 precommits B", VoteReceived(precommit(V1, BLOCK_B))),
            Row(
                "V3 precommits B: line 49 decides with the three precommits",
                VoteReceived(precommit(V3, BLOCK_B)),
                (
                    Decide(1, 0, BLOCK_B, certificate(0, BLOCK_B, [V0, V1, V3])),
                    ScheduleTimeout(COMMIT, 1, 0, 1000),
                ),
                {"step": Step.COMMIT, "decision": BLOCK_B},
            ),
            Row("a late precommit changes nothing", VoteReceived(precommit(V2, BLOCK_B))),
            Row("the commit timeout is for the host", TimeoutFired(COMMIT, 1, 0)),
            Row(
                "the host starts height 2, proposed by V1",
                StartHeight(2, EQUAL_SET, V0),
                (ScheduleTimeout(PROPOSE, 2, 0, 3000),),
                {
                    "height": 2,
                    "round": 0,
                    "step": Step.PROPOSE,
                    "locked_value": None,
                    "decision": None,
                },
            ),
        ],
    )


def test_happy_path_as_non_proposer() -> None:
    state, actions = start_height(H1, EQUAL_SET, V2)
    assert actions == (ScheduleTimeout(PROPOSE, 1, 0, 3000),)
    run_table(
        state,
        [
            Row("V1 is not the proposer of round 0", ProposalReceived(proposal(V1, BLOCK_C), True)),
            Row(
                "V0's proposal: line 22 prevotes it",
                ProposalReceived(proposal(V0, BLOCK_B), valid=True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
                {"step": Step.PREVOTE},
            ),
            Row("V0 prevotes B", VoteReceived(prevote(V0, BLOCK_B))),
            Row("V1 prevotes B", VoteReceived(prevote(V1, BLOCK_B))),
            Row(
                "our prevote completes the polka",
                VoteReceived(prevote(V2, BLOCK_B)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000), SignVote(1, 0, VoteKind.PRECOMMIT, BLOCK_B)),
            ),
            Row("V0 precommits B", VoteReceived(precommit(V0, BLOCK_B))),
            Row("our precommit", VoteReceived(precommit(V2, BLOCK_B))),
            Row(
                "V1 precommits B: decide",
                VoteReceived(precommit(V1, BLOCK_B)),
                (
                    Decide(1, 0, BLOCK_B, certificate(0, BLOCK_B, [V0, V1, V2])),
                    ScheduleTimeout(COMMIT, 1, 0, 1000),
                ),
                {"decision": BLOCK_B},
            ),
        ],
    )


def test_invalid_proposal_is_prevoted_nil() -> None:
    state, _ = start_height(H1, EQUAL_SET, V2)
    run_table(
        state,
        [
            Row(
                "the block of V0's proposal failed to execute",
                ProposalReceived(proposal(V0, BLOCK_B), valid=False),
                (SignVote(1, 0, VoteKind.PREVOTE, NIL),),
                {"step": Step.PREVOTE},
            ),
        ],
    )


def test_timeouts_in_each_step_and_their_growth_per_round() -> None:
    state, _ = start_height(H1, EQUAL_SET, V1)
    run_table(
        state,
        [
            Row(
                "no proposal in time: line 57 prevotes nil",
                TimeoutFired(PROPOSE, 1, 0),
                (SignVote(1, 0, VoteKind.PREVOTE, NIL),),
                {"step": Step.PREVOTE},
            ),
            Row("the same timeout again is stale", TimeoutFired(PROPOSE, 1, 0)),
            Row("a prevote timeout not armed yet is ignored", TimeoutFired(PREVOTE, 1, 0)),
            Row("V0 prevotes B", VoteReceived(prevote(V0, BLOCK_B))),
            Row("our nil prevote", VoteReceived(prevote(V1, NIL))),
            Row(
                "V2 prevotes C: 2f+1 prevotes for different things, line 34 arms",
                VoteReceived(prevote(V2, BLOCK_C)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000),),
            ),
            Row("another prevote does not arm it twice", VoteReceived(prevote(V3, BLOCK_C))),
            Row(
                "line 61: precommit nil",
                TimeoutFired(PREVOTE, 1, 0),
                (SignVote(1, 0, VoteKind.PRECOMMIT, NIL),),
                {"step": Step.PRECOMMIT},
            ),
            Row("V0 precommits B", VoteReceived(precommit(V0, BLOCK_B))),
            Row("our nil precommit", VoteReceived(precommit(V1, NIL))),
            Row(
                "V2 precommits nil: 2f+1 precommits, line 47 arms",
                VoteReceived(precommit(V2, NIL)),
                (ScheduleTimeout(PRECOMMIT, 1, 0, 1000),),
            ),
            Row(
                "line 65: round 1, which we propose; timeouts grow by the delta",
                TimeoutFired(PRECOMMIT, 1, 0),
                (BuildProposal(1, 1), ScheduleTimeout(PROPOSE, 1, 1, 3500)),
                {"round": 1, "step": Step.PROPOSE, "locked_value": None},
            ),
            Row("round 0's timeouts are stale", TimeoutFired(PRECOMMIT, 1, 0)),
            Row(
                "our block is late: prevote nil",
                TimeoutFired(PROPOSE, 1, 1),
                (SignVote(1, 1, VoteKind.PREVOTE, NIL),),
            ),
            Row("too late to propose", ProposalBlockReady(1, 1, BLOCK_B)),
            Row("V0 prevotes nil", VoteReceived(prevote(V0, NIL, round=1))),
            Row("our nil prevote", VoteReceived(prevote(V1, NIL, round=1))),
            Row(
                "V2 prevotes B: line 34 arms the round 1 prevote timeout",
                VoteReceived(prevote(V2, BLOCK_B, round=1)),
                (ScheduleTimeout(PREVOTE, 1, 1, 1500),),
            ),
            Row(
                "line 61 in round 1",
                TimeoutFired(PREVOTE, 1, 1),
                (SignVote(1, 1, VoteKind.PRECOMMIT, NIL),),
            ),
            Row("V0 precommits nil", VoteReceived(precommit(V0, NIL, round=1))),
            Row("V2 precommits nil", VoteReceived(precommit(V2, NIL, round=1))),
            Row(
                "V3 precommits nil: line 47 in round 1",
                VoteReceived(precommit(V3, NIL, round=1)),
                (ScheduleTimeout(PRECOMMIT, 1, 1, 1500),),
            ),
            Row(
                "round 2, proposed by V2",
                TimeoutFired(PRECOMMIT, 1, 1),
                (ScheduleTimeout(PROPOSE, 1, 2, 4000),),
                {"round": 2},
            ),
        ],
    )


def test_nil_polka_precommits_nil_without_touching_the_lock() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            Row("V0 prevotes nil", VoteReceived(prevote(V0, NIL))),
            Row("V1 prevotes nil", VoteReceived(prevote(V1, NIL))),
            Row(
                "V2 prevotes nil: a nil polka, but lines 34 and 44 need step prevote",
                VoteReceived(prevote(V2, NIL)),
                (),
                {"step": Step.PROPOSE},
            ),
            Row(
                "propose timeout: prevote nil, then lines 34 and 44 fire at once",
                TimeoutFired(PROPOSE, 1, 0),
                (
                    SignVote(1, 0, VoteKind.PREVOTE, NIL),
                    ScheduleTimeout(PREVOTE, 1, 0, 1000),
                    SignVote(1, 0, VoteKind.PRECOMMIT, NIL),
                ),
                {"step": Step.PRECOMMIT, "locked_value": None, "valid_value": None},
            ),
            Row("the prevote timeout is now stale", TimeoutFired(PREVOTE, 1, 0)),
        ],
    )


def test_an_early_proposal_is_prevoted_as_soon_as_its_round_starts() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            Row(
                "V1's round 1 proposal arrives early",
                ProposalReceived(proposal(V1, BLOCK_C, round=1), True),
            ),
            Row(
                "propose timeout",
                TimeoutFired(PROPOSE, 1, 0),
                (SignVote(1, 0, VoteKind.PREVOTE, NIL),),
            ),
            Row("V0 precommits nil", VoteReceived(precommit(V0, NIL))),
            Row("V1 precommits nil", VoteReceived(precommit(V1, NIL))),
            Row(
                "line 47",
                VoteReceived(precommit(V2, NIL)),
                (ScheduleTimeout(PRECOMMIT, 1, 0, 1000),),
            ),
            Row(
                "round 1 starts and line 22 fires on the stored proposal at once",
                TimeoutFired(PRECOMMIT, 1, 0),
                (ScheduleTimeout(PROPOSE, 1, 1, 3500), SignVote(1, 1, VoteKind.PREVOTE, BLOCK_C)),
                {"round": 1, "step": Step.PREVOTE},
            ),
        ],
    )


def test_only_the_first_proposal_of_a_round_counts() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    state = run_table(
        state,
        [
            Row(
                "V0 proposes B",
                ProposalReceived(proposal(V0, BLOCK_B), True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
            ),
            Row("V0 also proposes C: ignored", ProposalReceived(proposal(V0, BLOCK_C), True)),
            Row("V0 prevotes B", VoteReceived(prevote(V0, BLOCK_B))),
            Row("V1 prevotes B", VoteReceived(prevote(V1, BLOCK_B))),
            Row(
                "a polka for the first proposal locks it",
                VoteReceived(prevote(V3, BLOCK_B)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000), SignVote(1, 0, VoteKind.PRECOMMIT, BLOCK_B)),
                {"locked_value": BLOCK_B},
            ),
        ],
    )
    assert state.proposals[Round(0)].proposal.block_hash == BLOCK_B
