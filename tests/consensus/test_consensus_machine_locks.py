"""The state machine's locks: locking on a polka, prevoting the locked block in later rounds,
unlocking only on a proof of lock (line 28), and proposing the valid value again.

Four validators of power 1 (quorum 3); the proposers of height 1 are V0, V1, V2, V3 for rounds
0, 1, 2, 3.
"""

import pytest
from consensus_helpers import (
    BLOCK_B,
    BLOCK_C,
    BLOCK_D,
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
    precommit,
    prevote,
    proposal,
    resumed,
    run_table,
    votes,
)

from openledger.consensus.events import (
    ProposalBlockReady,
    ProposalReceived,
    ScheduleTimeout,
    SignProposal,
    SignVote,
    TimeoutFired,
    VoteReceived,
)
from openledger.consensus.machine import start_height
from openledger.consensus.messages import VoteKind
from openledger.consensus.state import Step
from openledger.genesis.types import Address, Hash32

LOCK_ON_B_IN_ROUND_0 = [
    Row(
        "V0 proposes B",
        ProposalReceived(proposal(V0, BLOCK_B), True),
        (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
    ),
    *votes("prevote", BLOCK_B, 0, V0, V1),
    Row(
        "our prevote makes a polka: lock B",
        VoteReceived(prevote(V3, BLOCK_B)),
        (ScheduleTimeout(PREVOTE, 1, 0, 1000), SignVote(1, 0, VoteKind.PRECOMMIT, BLOCK_B)),
        {"locked_value": BLOCK_B, "locked_round": 0},
    ),
    *votes("precommit", BLOCK_B, 0, V3),
    *votes("precommit", NIL, 0, V1),
    Row(
        "V2 precommits nil: no decision, line 47",
        VoteReceived(precommit(V2, NIL)),
        (ScheduleTimeout(PRECOMMIT, 1, 0, 1000),),
    ),
    Row(
        "round 1",
        TimeoutFired(PRECOMMIT, 1, 0),
        (ScheduleTimeout(PROPOSE, 1, 1, 3500),),
        {"round": 1, "locked_value": BLOCK_B, "locked_round": 0},
    ),
]


def test_locked_validator_prevotes_nil_for_another_block_and_its_lock_later() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            *LOCK_ON_B_IN_ROUND_0,
            Row(
                "V1 proposes C without proof of lock: line 22 prevotes nil (locked on B)",
                ProposalReceived(proposal(V1, BLOCK_C, round=1), True),
                (SignVote(1, 1, VoteKind.PREVOTE, NIL),),
            ),
            *votes("prevote", NIL, 1, V1, V2),
            Row(
                "V0 prevotes nil too: nil polka, precommit nil, the lock stays",
                VoteReceived(prevote(V0, NIL, round=1)),
                (ScheduleTimeout(PREVOTE, 1, 1, 1500), SignVote(1, 1, VoteKind.PRECOMMIT, NIL)),
                {"locked_value": BLOCK_B, "locked_round": 0},
            ),
            *votes("precommit", NIL, 1, V0, V1),
            Row(
                "line 47",
                VoteReceived(precommit(V2, NIL, round=1)),
                (ScheduleTimeout(PRECOMMIT, 1, 1, 1500),),
            ),
            Row("round 2", TimeoutFired(PRECOMMIT, 1, 1), (ScheduleTimeout(PROPOSE, 1, 2, 4000),)),
            Row(
                "V2 proposes B, our locked block: line 22 prevotes it",
                ProposalReceived(proposal(V2, BLOCK_B, round=2), True),
                (SignVote(1, 2, VoteKind.PREVOTE, BLOCK_B),),
            ),
        ],
    )


def test_proof_of_lock_unlocks_a_validator_locked_in_an_earlier_round() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            *LOCK_ON_B_IN_ROUND_0,
            Row(
                "no proposal in round 1",
                TimeoutFired(PROPOSE, 1, 1),
                (SignVote(1, 1, VoteKind.PREVOTE, NIL),),
            ),
            *votes("prevote", BLOCK_C, 1, V0, V1),
            Row(
                "V2 prevotes C: a polka for C in round 1 that we cannot act on without its proposal",
                VoteReceived(prevote(V2, BLOCK_C, round=1)),
                (ScheduleTimeout(PREVOTE, 1, 1, 1500),),
            ),
            Row(
                "prevote timeout",
                TimeoutFired(PREVOTE, 1, 1),
                (SignVote(1, 1, VoteKind.PRECOMMIT, NIL),),
            ),
            *votes("precommit", BLOCK_C, 1, V0),
            *votes("precommit", NIL, 1, V1),
            Row(
                "line 47",
                VoteReceived(precommit(V2, NIL, round=1)),
                (ScheduleTimeout(PRECOMMIT, 1, 1, 1500),),
            ),
            Row("round 2", TimeoutFired(PRECOMMIT, 1, 1), (ScheduleTimeout(PROPOSE, 1, 2, 4000),)),
            Row(
                "V2 proposes C with the round 1 polka: line 28 unlocks, prevote C",
                ProposalReceived(proposal(V2, BLOCK_C, round=2, pol_round=1), True),
                (SignVote(1, 2, VoteKind.PREVOTE, BLOCK_C),),
                {"locked_value": BLOCK_B},
            ),
            *votes("prevote", BLOCK_C, 2, V0, V1),
            Row(
                "a polka for C in round 2: line 36 locks C",
                VoteReceived(prevote(V3, BLOCK_C, round=2)),
                (ScheduleTimeout(PREVOTE, 1, 2, 2000), SignVote(1, 2, VoteKind.PRECOMMIT, BLOCK_C)),
                {"locked_value": BLOCK_C, "locked_round": 2, "valid_value": BLOCK_C},
            ),
        ],
    )


@pytest.mark.parametrize(
    ("description", "lock_round", "pol_round", "polka_block", "polka_voters", "valid", "waits"),
    [
        ("the polka has only 2 of 4: wait", 0, 1, BLOCK_C, (V0, V1), True, True),
        ("the polka is for another block: wait", 0, 1, BLOCK_D, (V0, V1, V2), True, True),
        ("the polka is older than our lock: nil", 1, 0, BLOCK_C, (V0, V1, V2), True, False),
        ("the proposed block is invalid: nil", 0, 1, BLOCK_C, (V0, V1, V2), False, False),
    ],
)
def test_no_unlock_without_a_valid_proof_of_lock(
    description: str,
    lock_round: int,
    pol_round: int,
    polka_block: Hash32,
    polka_voters: tuple[Address, ...],
    valid: bool,
    waits: bool,
) -> None:
    state = resumed(V3, round=2, locked=(BLOCK_B, lock_round), valid=(BLOCK_B, lock_round))
    prevote_nil = (SignVote(1, 2, VoteKind.PREVOTE, NIL),)
    rows = [
        *votes("prevote", polka_block, pol_round, *polka_voters),
        Row(
            f"V2 proposes C with pol_round {pol_round}: {description}",
            ProposalReceived(proposal(V2, BLOCK_C, round=2, pol_round=pol_round), valid),
            () if waits else prevote_nil,
        ),
    ]
    if waits:
        rows.append(
            Row("propose timeout: still locked, nil", TimeoutFired(PROPOSE, 1, 2), prevote_nil)
        )
    state = run_table(state, rows)
    assert (state.step, state.locked_value) == (Step.PREVOTE, BLOCK_B)


@pytest.mark.parametrize(("lock_round", "pol_round"), [(0, 1), (1, 1), (0, 0)])
def test_proof_of_lock_from_the_lock_round_or_later_unlocks(
    lock_round: int, pol_round: int
) -> None:
    state = resumed(V3, round=2, locked=(BLOCK_B, lock_round), valid=(BLOCK_B, lock_round))
    run_table(
        state,
        [
            *votes("prevote", BLOCK_C, pol_round, V0, V1, V2),
            Row(
                f"locked in round {lock_round}, polka for C in round {pol_round}: line 28 prevotes C",
                ProposalReceived(proposal(V2, BLOCK_C, round=2, pol_round=pol_round), True),
                (SignVote(1, 2, VoteKind.PREVOTE, BLOCK_C),),
            ),
        ],
    )


def test_proof_of_lock_completed_by_a_late_prevote() -> None:
    state = resumed(V3, round=2, locked=(BLOCK_B, 0), valid=(BLOCK_B, 0))
    run_table(
        state,
        [
            *votes("prevote", BLOCK_C, 1, V0, V1),
            Row(
                "proposal C, pol_round 1: waits for the polka",
                ProposalReceived(proposal(V2, BLOCK_C, round=2, pol_round=1), True),
            ),
            Row(
                "the third prevote of round 1 arrives: line 28 prevotes C",
                VoteReceived(prevote(V2, BLOCK_C, round=1)),
                (SignVote(1, 2, VoteKind.PREVOTE, BLOCK_C),),
            ),
        ],
    )


def test_valid_value_is_proposed_again_by_a_later_proposer() -> None:
    state, _ = start_height(H1, EQUAL_SET, V1)
    run_table(
        state,
        [
            Row(
                "V0 proposes B",
                ProposalReceived(proposal(V0, BLOCK_B), True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
            ),
            *votes("prevote", BLOCK_B, 0, V0, V2),
            Row(
                "our prevote: polka, lock B, valid value B",
                VoteReceived(prevote(V1, BLOCK_B)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000), SignVote(1, 0, VoteKind.PRECOMMIT, BLOCK_B)),
                {"valid_value": BLOCK_B, "valid_round": 0},
            ),
            *votes("precommit", NIL, 0, V0, V2),
            Row(
                "line 47",
                VoteReceived(precommit(V3, NIL)),
                (ScheduleTimeout(PRECOMMIT, 1, 0, 1000),),
            ),
            Row(
                "round 1 is ours: lines 15-16 propose the valid value with its polka round",
                TimeoutFired(PRECOMMIT, 1, 0),
                (SignProposal(1, 1, BLOCK_B, 0), ScheduleTimeout(PROPOSE, 1, 1, 3500)),
            ),
            Row("no second proposal for a built block", ProposalBlockReady(1, 1, BLOCK_C)),
            Row(
                "our proposal comes back: line 28 prevotes B",
                ProposalReceived(proposal(V1, BLOCK_B, round=1, pol_round=0), True),
                (SignVote(1, 1, VoteKind.PREVOTE, BLOCK_B),),
            ),
        ],
    )


def test_a_polka_seen_after_precommitting_nil_updates_only_the_valid_value() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    run_table(
        state,
        [
            Row(
                "V0 proposes B",
                ProposalReceived(proposal(V0, BLOCK_B), True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
            ),
            *votes("prevote", NIL, 0, V1),
            Row("V2 prevotes B", VoteReceived(prevote(V2, BLOCK_B)), ()),
            Row(
                "our prevote B: 2f+1 prevotes, no polka",
                VoteReceived(prevote(V3, BLOCK_B)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000),),
            ),
            Row(
                "prevote timeout: precommit nil",
                TimeoutFired(PREVOTE, 1, 0),
                (SignVote(1, 0, VoteKind.PRECOMMIT, NIL),),
            ),
            Row(
                "V0's prevote for B makes a polka: line 36 with step precommit",
                VoteReceived(prevote(V0, BLOCK_B)),
                (),
                {
                    "locked_value": None,
                    "locked_round": -1,
                    "valid_value": BLOCK_B,
                    "valid_round": 0,
                },
            ),
        ],
    )
