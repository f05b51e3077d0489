"""What the state machine ignores or refuses to do: events of other heights, stale rounds,
non-members and far-future rounds; anything after a decision; signing on a full node. Also the
timeout configuration.
"""

import pytest
from consensus_helpers import (
    BLOCK_B,
    BLOCK_C,
    COMMIT,
    EQUAL_SET,
    H1,
    NIL,
    OUTSIDER,
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

from openledger.consensus.errors import ConsensusError
from openledger.consensus.events import (
    Decide,
    ProposalBlockReady,
    ProposalReceived,
    ScheduleTimeout,
    SignVote,
    StartHeight,
    TimeoutConfig,
    TimeoutFired,
    VoteReceived,
)
from openledger.consensus.machine import start_height, step
from openledger.consensus.messages import VoteKind
from openledger.consensus.state import Step
from openledger.genesis.types import Round


def test_full_node_follows_and_decides_without_signing() -> None:
    for me in (None, OUTSIDER):
        state, actions = start_height(H1, EQUAL_SET, me)
        assert actions == (ScheduleTimeout(PROPOSE, 1, 0, 3000),)
        assert not state.is_signer
        run_table(
            state,
            [
                Row(
                    "a proposal moves the step but asks for no prevote",
                    ProposalReceived(proposal(V0, BLOCK_B), True),
                    (),
                    {"step": Step.PREVOTE},
                ),
                Row("V0 prevotes B", VoteReceived(prevote(V0, BLOCK_B))),
                Row("V1 prevotes B", VoteReceived(prevote(V1, BLOCK_B))),
                Row(
                    "a polka: the timeout is armed, the lock taken, no precommit asked",
                    VoteReceived(prevote(V2, BLOCK_B)),
                    (ScheduleTimeout(PREVOTE, 1, 0, 1000),),
                    {"step": Step.PRECOMMIT, "locked_value": BLOCK_B},
                ),
                Row("V0 precommits B", VoteReceived(precommit(V0, BLOCK_B))),
                Row("V1 precommits B", VoteReceived(precommit(V1, BLOCK_B))),
                Row(
                    "V2 precommits B: the full node decides",
                    VoteReceived(precommit(V2, BLOCK_B)),
                    (
                        Decide(1, 0, BLOCK_B, certificate(0, BLOCK_B, [V0, V1, V2])),
                        ScheduleTimeout(COMMIT, 1, 0, 1000),
                    ),
                ),
            ],
        )


def test_full_node_times_out_without_signing_nil() -> None:
    state, _ = start_height(H1, EQUAL_SET, None)
    run_table(
        state,
        [
            Row("propose timeout", TimeoutFired(PROPOSE, 1, 0), (), {"step": Step.PREVOTE}),
            Row("V0 prevotes nil", VoteReceived(prevote(V0, NIL))),
            Row("V1 prevotes nil", VoteReceived(prevote(V1, NIL))),
            Row(
                "a nil polka: only the timeout",
                VoteReceived(prevote(V2, NIL)),
                (ScheduleTimeout(PREVOTE, 1, 0, 1000),),
                {"step": Step.PRECOMMIT},
            ),
        ],
    )


@pytest.mark.parametrize(
    ("description", "event"),
    [
        ("a vote from a non-member", VoteReceived(prevote(OUTSIDER, BLOCK_B))),
        ("a vote of the next height", VoteReceived(prevote(V0, BLOCK_B, height=2))),
        ("a vote of the previous height", VoteReceived(precommit(V0, BLOCK_B, height=0))),
        ("a vote 17 rounds ahead", VoteReceived(prevote(V0, BLOCK_B, round=17))),
        ("a proposal of another height", ProposalReceived(proposal(V1, BLOCK_B, height=2), True)),
        ("a proposal from a non-proposer", ProposalReceived(proposal(V1, BLOCK_B), True)),
        ("a proposal from a non-member", ProposalReceived(proposal(OUTSIDER, BLOCK_B), True)),
        ("a proposal 17 rounds ahead", ProposalReceived(proposal(V1, BLOCK_B, round=17), True)),
        ("a timeout of another round", TimeoutFired(PROPOSE, 1, 1)),
        ("a timeout of another height", TimeoutFired(PROPOSE, 2, 0)),
        ("a prevote timeout in step propose", TimeoutFired(PREVOTE, 1, 0)),
        ("a block we did not ask for", ProposalBlockReady(1, 0, BLOCK_B)),
        ("a block of another height", ProposalBlockReady(2, 0, BLOCK_B)),
        ("StartHeight of the current height", StartHeight(1, EQUAL_SET, V3)),
        ("StartHeight of a lower height", StartHeight(0, EQUAL_SET, V3)),
    ],
)
def test_ignored_events_change_nothing(description: str, event: object) -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    new_state, actions = step(state, event)  # type: ignore[arg-type]
    assert actions == (), description
    assert new_state is state, description


def test_the_far_future_bound_is_inclusive_at_sixteen_rounds() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    new_state, _ = step(state, VoteReceived(prevote(V0, BLOCK_B, round=16)))
    assert new_state.tally.power_in_round(Round(16)) == 1


def test_a_decided_height_ignores_everything_but_start_height() -> None:
    state, _ = start_height(H1, EQUAL_SET, V3)
    decided = run_table(
        state,
        [
            Row("V0 precommits B", VoteReceived(precommit(V0, BLOCK_B))),
            Row("V1 precommits nil", VoteReceived(precommit(V1, NIL))),
            Row(
                "line 47",
                VoteReceived(precommit(V2, BLOCK_B)),
                (ScheduleTimeout(PRECOMMIT, 1, 0, 1000),),
            ),
            Row(
                "V0 proposes B",
                ProposalReceived(proposal(V0, BLOCK_B), True),
                (SignVote(1, 0, VoteKind.PREVOTE, BLOCK_B),),
            ),
            Row(
                "V3's precommit decides",
                VoteReceived(precommit(V3, BLOCK_B)),
                (
                    Decide(1, 0, BLOCK_B, certificate(0, BLOCK_B, [V0, V2, V3])),
                    ScheduleTimeout(COMMIT, 1, 0, 1000),
                ),
            ),
        ],
    )
    for event in (
        TimeoutFired(PRECOMMIT, 1, 0),
        VoteReceived(precommit(V1, BLOCK_C)),
        VoteReceived(prevote(V1, BLOCK_B, round=5)),
        ProposalReceived(proposal(V1, BLOCK_C, round=1), True),
    ):
        new_state, actions = step(decided, event)
        assert (new_state, actions) == (decided, ()), event


def test_timeout_config_grows_linearly_per_round() -> None:
    config = TimeoutConfig()
    expected = {
        PROPOSE: [3000, 3500, 4000, 4500],
        PREVOTE: [1000, 1500, 2000, 2500],
        PRECOMMIT: [1000, 1500, 2000, 2500],
        COMMIT: [1000, 1000, 1000, 1000],
    }
    for kind, delays in expected.items():
        assert [config.compute_delay_ms(kind, Round(r)) for r in range(4)] == delays
    fast = TimeoutConfig(propose_ms=40, propose_delta_ms=1, commit_ms=10)
    assert fast.compute_delay_ms(PROPOSE, Round(10)) == 50
    _, actions = start_height(H1, EQUAL_SET, V3, fast)
    assert actions == (ScheduleTimeout(PROPOSE, 1, 0, 40),)
    with pytest.raises(ConsensusError, match="prevote_ms"):
        TimeoutConfig(prevote_ms=-1)
