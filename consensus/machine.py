"""The Tendermint state machine of one node, as one pure function.

`step(state, event) -> (state, actions)` implements Algorithm 1 of "The latest gossip on BFT
consensus" (Buchman, Kwon, Milosevic, 2018), lines 11-67, with stake-weighted thresholds: the
paper's 2f+1 messages are messages from more than 2/3 of the power, its f+1 more than 1/3. It
does no I/O, reads no clock, signs nothing and draws no random numbers; the host performs the
returned actions (see `events.py`), so a table of (event, expected actions) is a complete test.

`step` matches on (step, event). Proposals and votes only bring information: they are recorded,
then `_apply_upon_rules` fires every "upon" rule of the paper whose condition holds, again and
again until none does, so the outcome does not depend on the order in which conditions became
true. Timeouts and the built block trigger their own handlers.

Why one file of about 400 lines: it is one algorithm, read against the paper line by line; the
vote bookkeeping it relies on is already apart (`tally.py`, `state.py`, `events.py`).

Deliberate differences from the paper:

- The proposer arms the propose timeout too (as CometBFT does), so a host that fails to build a
  block cannot stall its own round.
- Line 55 counts the power of votes of the higher round, not proposals.
- Only the first proposal of a round from its proposer is kept; the paper's valid(v) is the
  host's verdict `ProposalReceived.valid`.
- A full node (`me` None, or an address outside the set) runs the same rules but asks for no
  block, proposal or vote: it follows and decides, it never signs.
- A prevote or precommit timeout counts only if this machine armed it in the current round, so
  a host's stray timer cannot make it skip a step.
"""

from collections.abc import Callable
from dataclasses import replace

from openledger.consensus.errors import ConsensusError
from openledger.consensus.events import (
    Action,
    BuildProposal,
    Decide,
    Event,
    ProposalBlockReady,
    ProposalReceived,
    ReportEquivocation,
    ScheduleTimeout,
    SignProposal,
    SignVote,
    StartHeight,
    TimeoutConfig,
    TimeoutFired,
    TimeoutKind,
    VoteReceived,
)
from openledger.consensus.messages import NIL, CommitCertificate, Proposal, Vote, VoteKind
from openledger.consensus.state import ConsensusState, ReceivedProposal, Step, Trigger
from openledger.consensus.tally import MAX_FUTURE_ROUNDS, VoteTally, apply_vote
from openledger.consensus.validators import ValidatorSet, compute_proposer
from openledger.genesis.types import Address, BlockNumber, Hash32, Round

Actions = tuple[Action, ...]

DEFAULT_TIMEOUTS = TimeoutConfig()
"""CometBFT's default timeouts."""


def start_height(
    height: BlockNumber,
    validators: ValidatorSet,
    me: Address | None,
    config: TimeoutConfig = DEFAULT_TIMEOUTS,
) -> tuple[ConsensusState, Actions]:
    """The state at the start of `height` (lines 10 and 54: reset, then StartRound(0))."""
    return resume_height(
        height,
        validators,
        me,
        config,
        round=Round(0),
        locked_value=None,
        locked_round=Round(-1),
        valid_value=None,
        valid_round=Round(-1),
    )


def resume_height(
    height: BlockNumber,
    validators: ValidatorSet,
    me: Address | None,
    config: TimeoutConfig,
    *,
    round: Round,
    locked_value: Hash32 | None,
    locked_round: Round,
    valid_value: Hash32 | None,
    valid_round: Round,
) -> tuple[ConsensusState, Actions]:
    """Restart `height` at `round` after a crash, with the lock and valid value persisted.

    Restoring the lock is what keeps a restarted validator from prevoting against a block it
    precommitted (the "amnesia" fault). The machine may ask again for a vote it signed before the
    crash; the host must refuse to sign anything at or below its last signed (height, round,
    kind) other than that same vote. Raises `ConsensusError` if the arguments are inconsistent.
    """
    if height < validators.start_height:
        raise ConsensusError(
            f"height {height} is before the validator set's start height {validators.start_height}"
        )
    if round < 0:
        raise ConsensusError(f"round must be >= 0, got {round}")
    _check_round_value("locked", locked_value, locked_round, round)
    _check_round_value("valid", valid_value, valid_round, round)
    state = ConsensusState(
        height=height,
        round=round,
        step=Step.PROPOSE,
        validators=validators,
        me=me,
        config=config,
        locked_value=locked_value,
        locked_round=locked_round,
        valid_value=valid_value,
        valid_round=valid_round,
        tally=VoteTally.empty(height, validators),
        proposals={},
        fired=frozenset(),
        decision=None,
    )
    return _start_round(state, round)


def step(state: ConsensusState, event: Event) -> tuple[ConsensusState, Actions]:
    """Apply one event; return the new state and the actions the host must perform, in order.

    Events about other heights, stale rounds, non-members or far-future rounds are ignored (the
    same state, no actions). The only error is a `ConsensusError` for a `StartHeight` whose
    validator set starts after that height, which is a bug of the host.
    """
    match (state.step, event):
        case (_, StartHeight(height=height, validators=validators, me=me)):
            # Line 54: h_p <- h_p + 1, reset, StartRound(0), once the host has committed (or
            # synced) the previous height and knows the next validator set.
            if height <= state.height:
                return state, ()
            return start_height(height, validators, me, state.config)
        case (Step.COMMIT, _):
            # Line 49 has decided this height; only StartHeight matters now.
            return state, ()
        case (_, _) if _get_event_height(event) != state.height:
            return state, ()
        case (_, ProposalReceived(proposal=proposal, valid=valid)):
            return _on_proposal(state, proposal, valid)
        case (_, VoteReceived(vote=vote)):
            return _on_vote(state, vote)
        case (Step.PROPOSE, ProposalBlockReady(round=round, block_hash=block_hash)) if (
            round == state.round
        ):
            # Lines 18-19: getValue() returned; broadcast <PROPOSAL, h_p, round_p, v, -1>.
            return _on_block_ready(state, block_hash)
        case (Step.PROPOSE, TimeoutFired(kind=TimeoutKind.PROPOSE, round=round)) if (
            round == state.round
        ):
            # Lines 57-60: OnTimeoutPropose: prevote nil, step_p <- prevote.
            new_state = replace(state, step=Step.PREVOTE)
            return _apply_upon_rules(new_state, _cast_vote(new_state, VoteKind.PREVOTE, NIL))
        case (Step.PREVOTE, TimeoutFired(kind=TimeoutKind.PREVOTE, round=round)) if (
            round == state.round and Trigger.PREVOTE_TIMEOUT in state.fired
        ):
            # Lines 61-64: OnTimeoutPrevote: precommit nil, step_p <- precommit.
            new_state = replace(state, step=Step.PRECOMMIT)
            return _apply_upon_rules(new_state, _cast_vote(new_state, VoteKind.PRECOMMIT, NIL))
        case (_, TimeoutFired(kind=TimeoutKind.PRECOMMIT, round=round)) if (
            round == state.round and Trigger.PRECOMMIT_TIMEOUT in state.fired
        ):
            # Lines 65-67: OnTimeoutPrecommit: StartRound(round_p + 1).
            return _apply_upon_rules(*_start_round(state, Round(round + 1)))
        case _:
            # Stale timeouts, a block built too late, a COMMIT timeout (the host's concern).
            return state, ()


def _on_proposal(
    state: ConsensusState, proposal: Proposal, valid: bool
) -> tuple[ConsensusState, Actions]:
    """Record the first proposal of a round from its proposer, then apply the upon rules."""
    round = proposal.round
    if (
        round > state.round + MAX_FUTURE_ROUNDS
        or round in state.proposals
        or proposal.proposer != compute_proposer(state.validators, state.height, round)
    ):
        return state, ()
    received = ReceivedProposal(proposal=proposal, valid=valid)
    return _apply_upon_rules(replace(state, proposals={**state.proposals, round: received}), ())


def _on_vote(state: ConsensusState, vote: Vote) -> tuple[ConsensusState, Actions]:
    """Count a vote (reporting an equivocation), then apply the upon rules."""
    tally, equivocation = apply_vote(state.tally, vote, state.round)
    if tally is state.tally:
        return state, ()
    actions: Actions = ()
    if equivocation is not None:
        actions = (ReportEquivocation(equivocation.vote_a, equivocation.vote_b),)
    return _apply_upon_rules(replace(state, tally=tally), actions)


def _on_block_ready(state: ConsensusState, block_hash: Hash32) -> tuple[ConsensusState, Actions]:
    """Propose the built block, once per round, if we are still this round's proposer."""
    if (
        not state.is_signer
        or Trigger.PROPOSED in state.fired
        or compute_proposer(state.validators, state.height, state.round) != state.me
    ):
        return state, ()
    new_state = replace(state, fired=state.fired | {Trigger.PROPOSED})
    return new_state, (SignProposal(state.height, state.round, block_hash, Round(-1)),)


def _start_round(state: ConsensusState, round: Round) -> tuple[ConsensusState, Actions]:
    """Lines 11-21: StartRound(round)."""
    state = replace(state, round=round, step=Step.PROPOSE, fired=frozenset())
    actions: list[Action] = []
    if state.is_signer and compute_proposer(state.validators, state.height, round) == state.me:
        if state.valid_value is not None:
            # Lines 15-16, 19: propose the valid value again, with its polka round.
            state = replace(state, fired=state.fired | {Trigger.PROPOSED})
            actions.append(SignProposal(state.height, round, state.valid_value, state.valid_round))
        else:
            # Line 18: getValue(); the proposal follows ProposalBlockReady.
            actions.append(BuildProposal(state.height, round))
    # Line 21 (armed by the proposer as well, see the module docstring).
    delay = state.config.compute_delay_ms(TimeoutKind.PROPOSE, round)
    actions.append(ScheduleTimeout(TimeoutKind.PROPOSE, state.height, round, delay))
    return state, tuple(actions)


def _apply_upon_rules(state: ConsensusState, actions: Actions) -> tuple[ConsensusState, Actions]:
    """Fire the first upon rule whose condition holds, and repeat until none holds.

    Terminates: each firing decides, raises the round, advances the step or records a
    once-per-round trigger.
    """
    while state.step is not Step.COMMIT:
        for rule in _UPON_RULES:
            fired = rule(state)
            if fired is not None:
                state, new_actions = fired
                actions += new_actions
                break
        else:
            break
    return state, actions


_Fired = tuple[ConsensusState, Actions] | None


def _upon_decision(state: ConsensusState) -> _Fired:
    """Line 49: a valid proposal of any round r and 2f+1 precommits for it in r: decide."""
    for round in sorted(state.proposals):
        received = state.proposals[round]
        block_hash = received.proposal.block_hash
        if received.valid and state.tally.has_quorum_for(round, VoteKind.PRECOMMIT, block_hash):
            precommits = state.tally.get_votes_for(round, VoteKind.PRECOMMIT, block_hash)
            certificate = CommitCertificate(state.height, round, block_hash, precommits)
            delay = state.config.compute_delay_ms(TimeoutKind.COMMIT, round)
            return replace(state, step=Step.COMMIT, decision=block_hash), (
                Decide(state.height, round, block_hash, certificate),
                ScheduleTimeout(TimeoutKind.COMMIT, state.height, round, delay),
            )
    return None


def _upon_higher_round(state: ConsensusState) -> _Fired:
    """Line 55: f+1 of the power voted in a round above ours: StartRound(that round)."""
    higher = [
        round
        for round, power in state.tally.round_power.items()
        if round > state.round and state.validators.is_one_third_plus(power)
    ]
    if not higher:
        return None
    return _start_round(state, max(higher))


def _upon_proposal(state: ConsensusState) -> _Fired:
    """Line 22: the round's proposal with no proof of lock, in step propose: prevote."""
    received = state.proposals.get(state.round)
    if state.step is not Step.PROPOSE or received is None or received.proposal.pol_round != -1:
        return None
    value = received.proposal.block_hash
    is_acceptable = state.locked_round == -1 or state.locked_value == value
    return _prevote(state, value if received.valid and is_acceptable else NIL)


def _upon_proposal_with_polka(state: ConsensusState) -> _Fired:
    """Line 28: the round's proposal with a polka for it in its earlier pol_round: prevote."""
    received = state.proposals.get(state.round)
    if state.step is not Step.PROPOSE or received is None:
        return None
    value, pol_round = received.proposal.block_hash, received.proposal.pol_round
    if not 0 <= pol_round < state.round or not state.tally.has_quorum_for(
        pol_round, VoteKind.PREVOTE, value
    ):
        return None
    # The polka is a proof of lock: it releases a lock taken in a round up to pol_round.
    is_acceptable = state.locked_round <= pol_round or state.locked_value == value
    return _prevote(state, value if received.valid and is_acceptable else NIL)


def _upon_prevote_any(state: ConsensusState) -> _Fired:
    """Line 34: 2f+1 prevotes of the round for anything, in step prevote: arm the timeout."""
    if (
        state.step is not Step.PREVOTE
        or Trigger.PREVOTE_TIMEOUT in state.fired
        or not state.tally.has_quorum_any(state.round, VoteKind.PREVOTE)
    ):
        return None
    delay = state.config.compute_delay_ms(TimeoutKind.PREVOTE, state.round)
    return replace(state, fired=state.fired | {Trigger.PREVOTE_TIMEOUT}), (
        ScheduleTimeout(TimeoutKind.PREVOTE, state.height, state.round, delay),
    )


def _upon_polka_for_proposal(state: ConsensusState) -> _Fired:
    """Line 36: a valid proposal and 2f+1 prevotes for it in our round: lock, precommit it."""
    received = state.proposals.get(state.round)
    if (
        state.step not in (Step.PREVOTE, Step.PRECOMMIT)
        or Trigger.POLKA_VALUE in state.fired
        or received is None
        or not received.valid
        or not state.tally.has_quorum_for(
            state.round, VoteKind.PREVOTE, received.proposal.block_hash
        )
    ):
        return None
    value = received.proposal.block_hash
    fired = state.fired | {Trigger.POLKA_VALUE}
    actions: Actions = ()
    if state.step is Step.PREVOTE:
        state = replace(state, locked_value=value, locked_round=state.round, step=Step.PRECOMMIT)
        actions = _cast_vote(state, VoteKind.PRECOMMIT, value)
    return replace(state, valid_value=value, valid_round=state.round, fired=fired), actions


def _upon_polka_nil(state: ConsensusState) -> _Fired:
    """Line 44: 2f+1 prevotes for nil in our round, in step prevote: precommit nil."""
    if state.step is not Step.PREVOTE or not state.tally.has_quorum_for(
        state.round, VoteKind.PREVOTE, NIL
    ):
        return None
    new_state = replace(state, step=Step.PRECOMMIT)
    return new_state, _cast_vote(new_state, VoteKind.PRECOMMIT, NIL)


def _upon_precommit_any(state: ConsensusState) -> _Fired:
    """Line 47: 2f+1 precommits of our round for anything: arm the precommit timeout."""
    if Trigger.PRECOMMIT_TIMEOUT in state.fired or not state.tally.has_quorum_any(
        state.round, VoteKind.PRECOMMIT
    ):
        return None
    delay = state.config.compute_delay_ms(TimeoutKind.PRECOMMIT, state.round)
    return replace(state, fired=state.fired | {Trigger.PRECOMMIT_TIMEOUT}), (
        ScheduleTimeout(TimeoutKind.PRECOMMIT, state.height, state.round, delay),
    )


# Decide first: once decided nothing else matters. Then leave a stale round before acting in it.
_UPON_RULES: tuple[Callable[[ConsensusState], _Fired], ...] = (
    _upon_decision,
    _upon_higher_round,
    _upon_proposal,
    _upon_proposal_with_polka,
    _upon_prevote_any,
    _upon_polka_for_proposal,
    _upon_polka_nil,
    _upon_precommit_any,
)


def _prevote(state: ConsensusState, block_hash: bytes) -> tuple[ConsensusState, Actions]:
    """Lines 24-27 and 30-33: broadcast the prevote, step_p <- prevote."""
    new_state = replace(state, step=Step.PREVOTE)
    return new_state, _cast_vote(new_state, VoteKind.PREVOTE, block_hash)


def _cast_vote(state: ConsensusState, kind: VoteKind, block_hash: bytes) -> Actions:
    """Ask the host to sign a vote of the current round, unless this node does not sign."""
    if not state.is_signer:
        return ()
    return (SignVote(state.height, state.round, kind, block_hash),)


def _get_event_height(event: Event) -> BlockNumber:
    match event:
        case ProposalReceived(proposal=proposal):
            return proposal.height
        case VoteReceived(vote=vote):
            return vote.height
        case _:
            return event.height


def _check_round_value(name: str, value: Hash32 | None, value_round: Round, round: Round) -> None:
    if (value is None) != (value_round == -1) or not -1 <= value_round <= round:
        raise ConsensusError(
            f"{name}_value and {name}_round disagree: a value needs a round in [0, {round}], "
            f"no value needs -1; got {value!r} at round {value_round}"
        )
