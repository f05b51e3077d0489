"""Inbound-message admission: what a peer's message must pass before it reaches consensus.

Messages are checked before they become events: decoding, chain id, signatures, membership,
proposer, and the proposed block's execution (`node/blocks.py`). A message that fails a check an
honest peer would have made before relaying it raises `ProtocolError` (or `ConsensusError`), and
the host disconnects and bans the peer. That includes a consensus message whose height contradicts
the head the peer announced: an honest node votes, and relays, only at the height after its head,
so a vote for a height long past (a replay) or far ahead (a fabrication) comes from a peer that
lies. Messages for the next heights are buffered (bounded) and replayed when the height starts.
Admitted votes, proposals and transactions are relayed to every peer but the sender.

`InboundAdmission` is the consensus host's half that admits messages; `ConsensusHost`
(`node/consensus_host.py`) is the half that drives the state machine, and provides the attributes
declared here.
"""

import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from openledger.consensus.chain_rules import ValidatorSource
from openledger.consensus.events import Event, ProposalReceived, VoteReceived
from openledger.consensus.signing import validate_proposal_signature, validate_vote_signature
from openledger.consensus.state import ConsensusState
from openledger.consensus.validators import compute_proposer
from openledger.genesis.types import Hash32
from openledger.node.blocks import CandidateCache, execute_candidate
from openledger.node.chain import NodeChain
from openledger.node.p2p.gossip import SeenCache, compute_message_id
from openledger.node.p2p.identity import PeerId
from openledger.node.p2p.network import Network
from openledger.node.protocol import (
    MessageKind,
    ProtocolError,
    decode_proposal,
    decode_status,
    decode_transactions,
    decode_vote,
    encode_transactions,
)
from openledger.node.sync import BlockSync
from openledger.node.timers import Scheduler
from openledger.state.errors import InvalidBlock, InvalidTransaction

log = logging.getLogger("openledger.consensus")

HEIGHT_SLACK_BELOW = 1
"""An honest peer may still relay precommits of the height it has just committed."""
HEIGHT_SLACK_ABOVE = 2
"""Its announced head may lag its actual head by a block or two between STATUS messages."""
MAX_BUFFERED_MESSAGES = 2000
MAX_BUFFERED_HEIGHTS = 2


@dataclass(frozen=True, slots=True)
class PeerMessage:
    """A message from a peer."""

    peer: PeerId
    kind: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class PeerLink:
    """A peer connected (`up`) or disconnected."""

    peer: PeerId
    up: bool


class InboundAdmission:
    """Checks, buffers and relays peer messages, and feeds the admitted ones to consensus."""

    chain: NodeChain
    network: Network
    validators: ValidatorSource
    scheduler: Scheduler
    genesis_hash: Hash32
    state: ConsensusState | None
    candidates: CandidateCache
    sync: BlockSync
    metrics: Any
    _seen: SeenCache
    _future: defaultdict[int, list[PeerMessage]]

    async def _feed(self, event: Event) -> None:
        raise NotImplementedError  # the driver's (ConsensusHost)

    # --- peer messages --------------------------------------------------------------------------

    async def _on_peer_message(
        self, peer: PeerId, kind: int, payload: bytes, *, replay: bool = False
    ) -> None:
        match kind:
            case MessageKind.STATUS:
                status = decode_status(payload)
                if (
                    status.chain_id != self.chain.chain.chain_id
                    or status.genesis_hash != self.genesis_hash
                ):
                    raise ProtocolError("peer is on another chain")
                self.sync.on_status(peer, status)
            case MessageKind.TRANSACTIONS:
                if not self._seen.is_new(compute_message_id(kind, payload)):
                    return
                accepted = []
                for raw in decode_transactions(payload):
                    # Already known, already included, or priced out of our pool: not misbehaviour.
                    with contextlib.suppress(InvalidTransaction):
                        self.chain.submit_transaction(raw, announce=False)
                        accepted.append(raw)
                if accepted:
                    # Relayed on, but not back to the peer it came from.
                    self.network.broadcast(kind, encode_transactions(accepted), exclude=peer)
            case MessageKind.PROPOSAL:
                await self._on_proposal(peer, payload, replay)
            case MessageKind.VOTE:
                await self._on_vote(peer, payload, replay)
            case MessageKind.GET_BLOCKS:
                self.sync.serve(peer, payload)
            case MessageKind.BLOCKS:
                await self.sync.on_blocks(peer, payload)
            case MessageKind.NEW_BLOCK:
                await self.sync.on_new_block(peer, payload)
            case _:
                raise ProtocolError(f"unknown message kind {kind}")

    async def _on_vote(self, peer: PeerId, payload: bytes, replay: bool) -> None:
        if not replay and not self._seen.is_new(compute_message_id(MessageKind.VOTE, payload)):
            return
        vote = decode_vote(payload)
        if vote.chain_id != self.chain.chain.chain_id:
            raise ProtocolError(f"vote for chain {vote.chain_id}")
        if not replay:
            self._check_plausible_height(peer, vote.height)
        if self.state is None or self._buffer_if_future(
            peer, vote.height, MessageKind.VOTE, payload
        ):
            return
        current = self.state.height
        # A late vote (of a height already decided) is checked like any other, against its own
        # height's validator set, and then left out.
        validators = (
            self.state.validators
            if vote.height == current
            else self.validators.for_height(vote.height)
        )
        if not validators.is_member(vote.validator):
            raise ProtocolError(
                f"vote from 0x{vote.validator.hex()}, not a validator at height {vote.height}"
            )
        validate_vote_signature(vote)
        if vote.height != current:
            return
        if self.metrics is not None:
            self.metrics.votes.labels(vote.kind.name.lower()).inc()
        self.network.broadcast(MessageKind.VOTE, payload, exclude=peer)
        await self._feed(VoteReceived(vote))

    async def _on_proposal(self, peer: PeerId, payload: bytes, replay: bool) -> None:
        if not replay and not self._seen.is_new(compute_message_id(MessageKind.PROPOSAL, payload)):
            return
        message = decode_proposal(payload, self.chain.chain.vm_class)
        proposal = message.proposal
        if proposal.chain_id != self.chain.chain.chain_id:
            raise ProtocolError(f"proposal for chain {proposal.chain_id}")
        if not replay:
            self._check_plausible_height(peer, proposal.height)
        if self.state is None or self._buffer_if_future(
            peer, proposal.height, MessageKind.PROPOSAL, payload
        ):
            return
        if proposal.height != self.state.height:
            return
        validate_proposal_signature(proposal)
        expected = compute_proposer(self.state.validators, proposal.height, proposal.round)
        if proposal.proposer != expected:
            raise ProtocolError(
                f"proposal by 0x{proposal.proposer.hex()}, not the proposer of its round"
            )
        if message.block.hash != proposal.block_hash:
            raise ProtocolError("the proposal's block does not match its hash")
        self.network.broadcast(MessageKind.PROPOSAL, payload, exclude=peer)
        candidate = self.candidates.get(proposal.block_hash)
        if candidate is None:
            self.chain.adopt_senders(message.block.transactions)
            try:
                candidate = await execute_candidate(
                    self.chain.chain, self.chain.store, message.block, message.parent_certificate,
                    proposal.proposer, self.validators, self.scheduler.now(),
                )  # fmt: skip
            except InvalidBlock as error:
                log.warning(
                    "invalid block proposed at height %d round %d: %s",
                    proposal.height,
                    proposal.round,
                    error,
                )
                await self._feed(ProposalReceived(proposal, valid=False))
                return
            self.candidates[Hash32(candidate.block.hash)] = candidate
        await self._feed(ProposalReceived(proposal, valid=True))

    def _check_plausible_height(self, peer: PeerId, height: int) -> None:
        """Refuse a consensus message far from the height the peer itself announced."""
        announced = self.sync.announced_head(peer)
        if announced is None:
            return
        if not announced + 1 - HEIGHT_SLACK_BELOW <= height <= announced + 1 + HEIGHT_SLACK_ABOVE:
            raise ProtocolError(
                f"consensus message for height {height} from a peer whose head is {announced}"
            )

    def _buffer_if_future(self, peer: PeerId, height: int, kind: int, payload: bytes) -> bool:
        """Keep messages of the next heights for later; True when the message was handled so."""
        current = (
            self.state.height if self.state is not None else self.chain.store.head.block_number + 1
        )
        if height <= current:
            return False
        if height <= current + MAX_BUFFERED_HEIGHTS:
            buffered = self._future[height]
            if sum(len(items) for items in self._future.values()) < MAX_BUFFERED_MESSAGES:
                buffered.append(PeerMessage(peer, kind, payload))
        return True
