"""Properties of the state machine under arbitrary event sequences (hypothesis).

Whatever arrives, in whatever order, the machine never raises, never asks to sign two different
votes for one (height, round, kind) or two proposals for one round, decides at most once, only
a block whose proposal was valid, with a certificate of more than 2/3 of the power.
"""

from consensus_helpers import (
    ADDRESSES,
    BLOCK_B,
    BLOCK_C,
    NIL,
    OUTSIDER,
    make_set,
    precommit,
    prevote,
    proposal,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from openledger.consensus.events import (
    Decide,
    Event,
    ProposalBlockReady,
    ProposalReceived,
    SignProposal,
    SignVote,
    TimeoutFired,
    TimeoutKind,
    VoteReceived,
)
from openledger.consensus.machine import start_height, step
from openledger.consensus.validators import compute_proposer
from openledger.genesis.types import Address, BlockNumber, Round

VALIDATORS = make_set([3, 1, 1, 2])
ROUNDS = st.integers(min_value=0, max_value=2)
VALUES = st.sampled_from([BLOCK_B, BLOCK_C, NIL])


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    """One event, or a burst of same-minded votes so that quorums and decisions happen."""
    kind = draw(st.sampled_from(["vote", "burst", "burst", "proposal", "timeout", "ready"]))
    round = draw(ROUNDS)
    if kind == "vote":
        make = draw(st.sampled_from([prevote, precommit]))
        voter = draw(st.sampled_from([*ADDRESSES, OUTSIDER]))
        height = draw(st.sampled_from([1, 1, 1, 2]))
        return [VoteReceived(make(voter, draw(VALUES), round=round, height=height))]
    if kind == "burst":
        make = draw(st.sampled_from([prevote, precommit]))
        value = draw(st.sampled_from([BLOCK_B, BLOCK_B, BLOCK_C, NIL]))
        voters = draw(st.lists(st.sampled_from(ADDRESSES), min_size=3, max_size=4, unique=True))
        return [VoteReceived(make(voter, value, round=round)) for voter in voters]
    if kind == "proposal":
        proposer = compute_proposer(VALIDATORS, BlockNumber(1), Round(round))
        pol_round = draw(st.integers(min_value=-1, max_value=round - 1))
        block = draw(st.sampled_from([BLOCK_B, BLOCK_C]))
        valid = draw(st.sampled_from([True, True, False]))
        return [ProposalReceived(proposal(proposer, block, round, pol_round), valid)]
    if kind == "timeout":
        timeout = draw(st.sampled_from(list(TimeoutKind)))
        return [TimeoutFired(timeout, BlockNumber(1), Round(round))]
    block = draw(st.sampled_from([BLOCK_B, BLOCK_C]))
    return [ProposalBlockReady(BlockNumber(1), Round(round), block)]


@settings(max_examples=100, deadline=None)
@given(me=st.sampled_from([*ADDRESSES, None]), bursts=st.lists(events(), max_size=30))
def test_no_double_signing_and_at_most_one_valid_decision(
    me: Address | None, bursts: list[list[Event]]
) -> None:
    sequence = [event for burst in bursts for event in burst]
    state, actions = start_height(BlockNumber(1), VALIDATORS, me)
    signed_votes: dict[tuple[int, int, int], bytes] = {}
    signed_proposals: set[int] = set()
    decisions: list[Decide] = []
    valid_proposals: set[tuple[int, bytes]] = set()
    for event in sequence:
        if isinstance(event, ProposalReceived) and event.valid:
            valid_proposals.add((event.proposal.round, event.proposal.block_hash))
        state, actions = step(state, event)
        assert state.locked_round <= state.round and state.valid_round <= state.round
        for action in actions:
            if isinstance(action, SignVote):
                assert me is not None
                key = (action.height, action.round, action.kind)
                assert signed_votes.setdefault(key, action.block_hash) == action.block_hash
            elif isinstance(action, SignProposal):
                assert action.round not in signed_proposals
                signed_proposals.add(action.round)
            elif isinstance(action, Decide):
                decisions.append(action)
    assert len(decisions) <= 1
    for decision in decisions:
        assert (decision.round, decision.block_hash) in valid_proposals
        voters = {vote.validator for vote in decision.certificate.precommits}
        assert len(voters) == len(decision.certificate.precommits)
        assert VALIDATORS.is_quorum(sum(VALIDATORS.get_power(v) for v in voters))
        assert all(
            vote.block_hash == decision.block_hash for vote in decision.certificate.precommits
        )
