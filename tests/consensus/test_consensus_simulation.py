"""Four machines, real keys, a deterministic in-memory network and a virtual clock decide 20
heights: the pieces (machine, signing, certificates, proposer selection) fit together.

The test plays the host: it signs what a machine asks, checks every signature and membership
before a message enters a machine, feeds a node's own messages back to it, arms timers on a
virtual clock (they fire only when no message is in flight), verifies each certificate, and
starts the next height after the commit timeout. Messages are delivered in a seeded random
order. V2's outgoing messages are lost for heights 5 to 9, so the rounds it should propose
time out and the height is decided in a later round.
"""

import heapq
import random
from dataclasses import dataclass, field

from consensus_helpers import ADDRESSES, CHAIN_ID, ETHER, KEYS, V2, make_set
from eth_hash.auto import keccak

from openledger.consensus.certificate import verify_certificate
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
from openledger.consensus.machine import start_height, step
from openledger.consensus.messages import Proposal, Vote
from openledger.consensus.signing import (
    sign_proposal,
    sign_vote,
    validate_proposal_signature,
    validate_vote_signature,
)
from openledger.consensus.state import ConsensusState
from openledger.genesis.types import Address, BlockNumber, Hash32

HEIGHTS = 20
VALIDATORS = make_set([4 * ETHER, 3 * ETHER, 2 * ETHER, 1 * ETHER])
SILENT_HEIGHTS = range(5, 10)
CONFIG = TimeoutConfig(
    propose_ms=40,
    propose_delta_ms=1,
    prevote_ms=10,
    prevote_delta_ms=1,
    precommit_ms=10,
    precommit_delta_ms=1,
    commit_ms=10,
)


@dataclass
class Node:
    address: Address
    state: ConsensusState
    decided: dict[int, Decide] = field(default_factory=dict)
    future: list[Event] = field(default_factory=list)


@dataclass
class Network:
    nodes: list[Node]
    rng: random.Random = field(default_factory=lambda: random.Random(2024))
    in_flight: list[tuple[Node, Event]] = field(default_factory=list)
    timers: list[tuple[int, int, int, TimeoutFired]] = field(default_factory=list)
    now: int = 0
    sequence: int = 0
    evidence: list[ReportEquivocation] = field(default_factory=list)

    def run(self, max_deliveries: int = 100_000) -> None:
        for _ in range(max_deliveries):
            if all(len(node.decided) == HEIGHTS for node in self.nodes):
                return
            if self.in_flight:
                node, event = self.in_flight.pop(self.rng.randrange(len(self.in_flight)))
                self.deliver(node, event)
            else:
                self.now, _, index, timeout = heapq.heappop(self.timers)
                self.on_timer(self.nodes[index], timeout)
        raise AssertionError(f"no progress: heights {[n.state.height for n in self.nodes]}")

    def deliver(self, node: Node, event: Event) -> None:
        match event:
            case ProposalReceived(proposal=message) | VoteReceived(vote=message):
                height = message.height
            case _:
                height = node.state.height
        if height > node.state.height:
            node.future.append(event)  # a real node keeps these until it gets there, too
            return
        node.state, actions = step(node.state, event)
        for action in actions:
            self.perform(node, action)

    def perform(self, node: Node, action: Action) -> None:
        key = KEYS[node.address]
        match action:
            case BuildProposal(height, round):
                block = Hash32(keccak(b"block %d %d " % (height, round) + node.address))
                self.in_flight.append((node, ProposalBlockReady(height, round, block)))
            case SignProposal(height, round, block_hash, pol_round):
                signed = sign_proposal(
                    key,
                    chain_id=CHAIN_ID,
                    height=height,
                    round=round,
                    block_hash=block_hash,
                    pol_round=pol_round,
                )
                self.broadcast(node, signed)
            case SignVote(height, round, kind, block_hash):
                self.broadcast(
                    node,
                    sign_vote(
                        key,
                        chain_id=CHAIN_ID,
                        height=height,
                        round=round,
                        kind=kind,
                        block_hash=block_hash,
                    ),
                )
            case ScheduleTimeout(kind, height, round, delay_ms):
                self.sequence += 1
                timer = (
                    self.now + delay_ms,
                    self.sequence,
                    self.nodes.index(node),
                    TimeoutFired(kind, height, round),
                )
                heapq.heappush(self.timers, timer)
            case Decide(height, round, block_hash, certificate):
                verify_certificate(certificate, VALIDATORS, CHAIN_ID)
                assert (certificate.height, certificate.round, certificate.block_hash) == (
                    height,
                    round,
                    block_hash,
                )
                node.decided[height] = action
            case ReportEquivocation():
                self.evidence.append(action)

    def broadcast(self, sender: Node, message: Proposal | Vote) -> None:
        if sender.address == V2 and message.height in SILENT_HEIGHTS:
            return  # V2's link is down: even its own copy is lost, as if it crashed after signing
        for node in self.nodes:
            # What the host checks before a message may enter a machine.
            if isinstance(message, Proposal):
                validate_proposal_signature(message)
                self.in_flight.append((node, ProposalReceived(message, valid=True)))
            else:
                validate_vote_signature(message)
                assert VALIDATORS.is_member(message.validator)
                self.in_flight.append((node, VoteReceived(message)))

    def on_timer(self, node: Node, timeout: TimeoutFired) -> None:
        if timeout.kind is not TimeoutKind.COMMIT:
            self.deliver(node, timeout)
            return
        next_height = timeout.height + 1
        if timeout.height != node.state.height or next_height > HEIGHTS:
            return
        self.deliver(node, StartHeight(BlockNumber(next_height), VALIDATORS, node.address))
        waiting, node.future = node.future, []
        for event in waiting:
            self.deliver(node, event)


def test_four_validators_decide_twenty_heights() -> None:
    started = [start_height(BlockNumber(1), VALIDATORS, a, CONFIG) for a in ADDRESSES]
    nodes = [Node(address, state) for address, (state, _) in zip(ADDRESSES, started, strict=True)]
    network = Network(nodes)
    for node, (_, actions) in zip(nodes, started, strict=True):
        for action in actions:
            network.perform(node, action)

    network.run()

    for height in range(1, HEIGHTS + 1):
        decisions = {node.decided[height].block_hash for node in nodes}
        assert len(decisions) == 1, f"height {height} decided differently: {decisions}"
    assert network.evidence == []
    late = {h for h in range(1, HEIGHTS + 1) if nodes[0].decided[h].round > 0}
    assert late, "V2's silence should have cost at least one round"
    assert late <= set(SILENT_HEIGHTS)
    assert network.now < 10_000
