"""The consensus host: runs the pure BFT state machine against the world.

It is the node's one writer when the node is a validator or a full node. One loop takes inputs
from a queue — peer messages, timers, peer (dis)connections — one at a time, turns them into
machine events, and performs the machine's actions:

| action | what the host does |
| --- | --- |
| `BuildProposal` | builds a block from the mempool (off the event loop) |
| `SignProposal` / `SignVote` | signs through `SafeSigner` (recorded with fsync first), broadcasts, feeds it back |
| `ScheduleTimeout` | arms a timer that queues a `TimerExpired` input |
| `Decide` | commits the block with its certificate, in one LevelDB batch |
| `ReportEquivocation` | hands the two votes to the evidence reporter |

Peer messages are checked before they become events (`node/inbound.py`); a peer whose message
fails a check is disconnected and banned for a while (`BAN_SECONDS`). A peer ahead of us triggers
block sync (`node/sync.py`).

Why one file of about 400 lines: the loop, the machine's actions and the publishing of our own
messages are one writer's steps; what peers send is admitted apart (`node/inbound.py`).
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from openledger.consensus.chain_rules import ValidatorSource, compute_timestamp, make_template
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
from openledger.consensus.machine import resume_height, step
from openledger.consensus.messages import CommitCertificate, Vote
from openledger.consensus.state import ConsensusState
from openledger.consensus.validators import compute_proposer
from openledger.genesis.types import Address, BlockNumber, Hash32, Round
from openledger.node.blocks import CandidateBlock, CandidateCache
from openledger.node.chain import NodeChain
from openledger.node.inbound import InboundAdmission, PeerLink, PeerMessage
from openledger.node.p2p.gossip import SeenCache, compute_message_id
from openledger.node.p2p.identity import PeerId
from openledger.node.p2p.network import Network
from openledger.node.protocol import (
    MessageKind,
    ProposalMessage,
    ProtocolError,
    Status,
    encode_proposal,
    encode_status,
    encode_transactions,
)
from openledger.node.restore import collect_locked_blocks, restore_locked_blocks
from openledger.node.safety import LockRecord, SafeSigner
from openledger.node.sync import BlockSync
from openledger.node.timers import Scheduler

log = logging.getLogger("openledger.consensus")

BAN_SECONDS = 60.0
INBOX_SIZE = 20_000
TICK_MS = 1000


@dataclass(frozen=True, slots=True)
class TimerExpired:
    """A consensus timer fired."""

    kind: TimeoutKind
    height: BlockNumber
    round: int


@dataclass(frozen=True, slots=True)
class Tick:
    """The periodic housekeeping timer."""


Input: TypeAlias = PeerMessage | PeerLink | TimerExpired | Tick

EquivocationListener = Callable[[Vote, Vote], None]


class ConsensusHost(InboundAdmission):
    """Drives consensus for one node (validator, or full node when `signer` is None)."""

    def __init__(
        self,
        chain: NodeChain,
        network: Network,
        validators: ValidatorSource,
        scheduler: Scheduler,
        timeouts: TimeoutConfig,
        genesis_hash: Hash32,
        *,
        signer: SafeSigner | None = None,
        on_equivocation: EquivocationListener | None = None,
    ) -> None:
        self.chain = chain
        self.network = network
        self.validators = validators
        self.scheduler = scheduler
        self.timeouts = timeouts
        self.genesis_hash = genesis_hash
        self.signer = signer
        self.on_equivocation = on_equivocation
        self.inbox: asyncio.Queue[Input] = asyncio.Queue(INBOX_SIZE)
        self.state: ConsensusState | None = None
        self.candidates = CandidateCache()
        self.sync = BlockSync(chain, network, validators, self._on_synced, self.candidates.get)
        self._seen = SeenCache()
        self._future: dict[int, list[PeerMessage]] = defaultdict(list)
        self._own_messages: list[tuple[int, bytes]] = []
        self._saved_lock: LockRecord | None = None
        self.dropped_inputs = 0
        self.metrics: Any = None
        """`NodeMetrics` when the node serves metrics."""
        chain.on_new_transaction(self._relay_transaction)

    @property
    def me(self) -> Address | None:
        """This node's validator address, if it signs."""
        return self.signer.address if self.signer else None

    # --- inputs (transport callbacks run on the event loop) -------------------------------------

    def on_message(self, peer: PeerId, kind: int, payload: bytes) -> None:
        """Transport callback: queue a peer's message."""
        self._put(PeerMessage(peer, kind, payload))

    def on_peer_connected(self, peer: PeerId) -> None:
        """Transport callback: greet the peer with our status and current messages."""
        self.network.send(peer, MessageKind.STATUS, encode_status(self.status()))
        for kind, payload in self._own_messages:
            self.network.send(peer, kind, payload)
        self._put(PeerLink(peer, up=True))

    def on_peer_disconnected(self, peer: PeerId, reason: str) -> None:
        """Transport callback."""
        self._put(PeerLink(peer, up=False))

    def _put(self, item: Input) -> None:
        try:
            self.inbox.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped_inputs += 1

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Start at the height after our head and process inputs until cancelled."""
        await self.start()
        while True:
            item = await self.inbox.get()
            await self.handle(item)

    async def start(self) -> None:
        """Enter the height after our head, resuming a persisted lock, and arm the tick.

        A validator that already signed in a round of this height resumes in the round after:
        its signer would refuse any other vote in that round, and if every validator restarted
        (a whole devnet), nobody would vote, so no timeout would move anyone on.
        """
        height = BlockNumber(self.chain.store.head.block_number + 1)
        validators = self.validators.for_height(height)
        lock = self.signer.load_lock() if self.signer else None
        if lock is None or lock.height != height:
            lock = LockRecord(height, Round(0), None, Round(-1), None, Round(-1))
        last = self.signer.last_signed if self.signer else None
        round = lock.round
        if last is not None and last[0] == height:
            round = Round(max(round, last[1] + 1))
        if round > 0 or lock.locked_value is not None or lock.valid_value is not None:
            log.info("resuming height %d at round %d with the persisted lock", height, round)
        polka = await self._restore_locked_blocks(height)
        state, actions = resume_height(
            height, validators, self.me, self.timeouts, round=round,
            locked_value=lock.locked_value, locked_round=lock.locked_round,
            valid_value=lock.valid_value, valid_round=lock.valid_round,
        )  # fmt: skip
        self._arm_tick()
        await self._apply(state, actions)
        for vote in polka:
            # The polka lets our re-proposal (with its POL round) be prevoted; peers that lost
            # it get it repeated with our messages.
            self._own_messages.append((MessageKind.VOTE, vote.encode()))
            await self._feed(VoteReceived(vote))

    async def _restore_locked_blocks(self, height: BlockNumber) -> list[Vote]:
        """Execute the persisted locked/valid blocks of `height` again into `candidates`."""
        if self.signer is None:
            return []
        restored = await restore_locked_blocks(
            self.chain, self.signer.load_lock_blocks(), height, self.validators,
            self.scheduler.now(),
        )  # fmt: skip
        polka: list[Vote] = []
        for candidate, votes in restored:
            self.candidates[Hash32(candidate.block.hash)] = candidate
            polka.extend(votes)
        return polka

    async def process_pending(self) -> int:
        """Handle every queued input without waiting (for deterministic tests)."""
        handled = 0
        while not self.inbox.empty():
            await self.handle(self.inbox.get_nowait())
            handled += 1
        return handled

    async def handle(self, item: Input) -> None:
        """Handle one input; a misbehaving peer is disconnected, nothing else escapes."""
        match item:
            case PeerMessage(peer=peer, kind=kind, payload=payload):
                try:
                    await self._on_peer_message(peer, kind, payload)
                except (ProtocolError, ConsensusError) as error:
                    log.warning("dropping peer %s: %s", peer.hex()[:12], error)
                    self.network.disconnect(peer, str(error), ban_seconds=BAN_SECONDS)
            case TimerExpired(kind=TimeoutKind.COMMIT, height=height):
                await self._start_next_height(height)
            case TimerExpired(kind=kind, height=height, round=round):
                await self._feed(TimeoutFired(kind, height, round))  # type: ignore[arg-type]
            case PeerLink(peer=peer, up=up):
                if not up:
                    self.sync.forget(peer)
            case Tick():
                self._on_tick()

    # --- the machine ----------------------------------------------------------------------------

    async def _feed(self, event: Event) -> None:
        if self.state is None:
            return
        state, actions = step(self.state, event)
        await self._apply(state, actions)

    async def _apply(self, state: ConsensusState, actions: tuple[Action, ...]) -> None:
        self.state = state
        self._save_lock(state)
        for action in actions:
            await self._perform(action)

    def _save_lock(self, state: ConsensusState) -> None:
        if self.signer is None or not state.is_signer:
            return
        lock = LockRecord(
            state.height, state.round, state.locked_value, state.locked_round,
            state.valid_value, state.valid_round,
        )  # fmt: skip
        if lock != self._saved_lock:
            self.signer.save_lock(lock, collect_locked_blocks(state, self.candidates))
            self._saved_lock = lock

    async def _perform(self, action: Action) -> None:
        match action:
            case BuildProposal(height=height, round=round):
                await self._build_proposal(height, round)
            case SignProposal(
                height=height, round=round, block_hash=block_hash, pol_round=pol_round
            ):
                await self._sign_proposal(height, round, block_hash, pol_round)
            case SignVote(height=height, round=round, kind=kind, block_hash=block_hash):
                await self._sign_vote(height, round, kind, block_hash)
            case ScheduleTimeout(kind=kind, height=height, round=round, delay_ms=delay_ms):
                self.scheduler.call_later(
                    delay_ms, lambda: self._put(TimerExpired(kind, height, round))
                )
            case Decide(height=height, block_hash=block_hash, certificate=certificate):
                await self._commit_decision(height, block_hash, certificate)
            case ReportEquivocation(vote_a=vote_a, vote_b=vote_b):
                log.warning(
                    "validator 0x%s signed two %s votes at height %d round %d",
                    vote_a.validator.hex(), vote_a.kind.name.lower(), vote_a.height, vote_a.round,
                )  # fmt: skip
                if self.on_equivocation is not None:
                    self.on_equivocation(vote_a, vote_b)

    async def _build_proposal(self, height: BlockNumber, round: int) -> None:
        store = self.chain.store
        parent = store.head
        if self.me is None or parent.block_number + 1 != height:
            return
        template = make_template(
            self.me, compute_timestamp(parent, int(self.scheduler.now())),
            store.get_commit(parent.block_number),
        )  # fmt: skip
        built = await self.chain.build_block(template)
        self.chain.drop_rejected(built.rejected)
        parent_bytes = store.get_commit(parent.block_number)
        parent_certificate = CommitCertificate.decode(parent_bytes) if parent_bytes else None
        candidate = CandidateBlock(built.executed, parent_certificate)
        block_hash = Hash32(candidate.block.hash)
        self.candidates[block_hash] = candidate
        await self._feed(ProposalBlockReady(height, round, block_hash))  # type: ignore[arg-type]

    async def _sign_proposal(
        self, height: BlockNumber, round: int, block_hash: Hash32, pol_round: int
    ) -> None:
        candidate = self.candidates.get(block_hash)
        if self.signer is None or candidate is None:
            return
        proposal = self.signer.sign_proposal(height, round, block_hash, pol_round)  # type: ignore[arg-type]
        if proposal is None:
            return
        payload = encode_proposal(
            ProposalMessage(proposal, candidate.block, candidate.parent_certificate)
        )
        self._publish(MessageKind.PROPOSAL, payload)
        await self._feed(ProposalReceived(proposal, valid=True))

    async def _sign_vote(
        self, height: BlockNumber, round: int, kind: Any, block_hash: bytes
    ) -> None:
        if self.signer is None:
            return
        vote = self.signer.sign_vote(height, round, kind, block_hash)  # type: ignore[arg-type]
        if vote is None:
            return
        self._publish(MessageKind.VOTE, vote.encode())
        await self._feed(VoteReceived(vote))

    async def _commit_decision(
        self, height: BlockNumber, block_hash: Hash32, certificate: CommitCertificate
    ) -> None:
        store = self.chain.store
        if store.head.block_number >= height:
            return  # block sync got there first
        candidate = self.candidates.get(block_hash)
        if candidate is None:
            log.warning(
                "decided block 0x%s at height %d is not here; syncing",
                block_hash.hex()[:16],
                height,
            )
            self.sync.request_from_best()
            return
        parent = candidate.parent_certificate.encode() if candidate.parent_certificate else None
        header = await self.chain.commit(candidate.executed, certificate.encode(), parent)
        log.info(
            "committed block %d 0x%s (%d transactions, round %d, %d precommits)",
            header.block_number, header.hash.hex()[:16], len(candidate.block.transactions),
            certificate.round, len(certificate.precommits),
        )  # fmt: skip
        self.candidates.clear()
        self._own_messages.clear()
        self.sync.on_committed(self.scheduler.now())
        self.network.broadcast(MessageKind.STATUS, encode_status(self.status()))

    async def _start_next_height(self, decided: int) -> None:
        """Enter the height after our head (after a commit timeout or a sync)."""
        height = BlockNumber(self.chain.store.head.block_number + 1)
        if self.state is not None and height <= self.state.height:
            return
        if height <= decided:
            return
        self.candidates.clear()
        self._own_messages.clear()
        await self._feed(StartHeight(height, self.validators.for_height(height), self.me))
        for past in [number for number in self._future if number < height]:
            del self._future[past]
        for message in self._future.pop(height, []):
            try:
                await self._on_peer_message(
                    message.peer, message.kind, message.payload, replay=True
                )
            except (ProtocolError, ConsensusError) as error:
                log.warning("dropping peer %s: %s", message.peer.hex()[:12], error)
                self.network.disconnect(message.peer, str(error), ban_seconds=BAN_SECONDS)

    async def _on_synced(self) -> None:
        """Block sync committed blocks: announce the new head (before any vote at the next height,
        so peers do not take our votes for fabrications), then jump to the height after it."""
        self.sync.on_committed(self.scheduler.now())
        self.network.broadcast(MessageKind.STATUS, encode_status(self.status()))
        if self.state is not None:
            await self._start_next_height(self.state.height)

    # --- publishing -----------------------------------------------------------------------------

    def _publish(self, kind: int, payload: bytes) -> None:
        """Broadcast our own message and keep it to repeat it until the height is committed."""
        self._seen.is_new(compute_message_id(kind, payload))
        self._own_messages.append((kind, payload))
        self.network.broadcast(kind, payload)

    def _relay_transaction(self, entry: Any) -> None:
        self.network.broadcast(MessageKind.TRANSACTIONS, encode_transactions([entry.raw]))

    def _arm_tick(self) -> None:
        self.scheduler.call_later(TICK_MS, lambda: self._put(Tick()))

    def _on_tick(self) -> None:
        """Repeat our status and our messages of this height (a peer may have missed them), and
        keep block sync moving."""
        self._arm_tick()
        self.network.broadcast(MessageKind.STATUS, encode_status(self.status()))
        for kind, payload in self._own_messages:
            self.network.broadcast(kind, payload)
        self.sync.on_tick(self.scheduler.now())

    # --- views ----------------------------------------------------------------------------------

    def status(self) -> Status:
        """Our chain and head, as announced to peers."""
        head = self.chain.store.head
        return Status(
            self.chain.chain.chain_id, self.genesis_hash, head.block_number, Hash32(head.hash)
        )

    def describe(self) -> dict[str, Any]:
        """The consensus state for `ol_consensusState` and `openledger devnet status`."""
        state = self.state
        if state is None:
            return {"validator": self.me, "height": self.chain.store.head.block_number + 1}
        proposer = compute_proposer(state.validators, state.height, state.round)
        return {
            "validator": self.me,
            "height": state.height,
            "round": state.round,
            "step": state.step.name.lower(),
            "proposer": proposer,
            "lockedRound": state.locked_round,
            "validRound": state.valid_round,
            "validators": len(state.validators.validators),
            "totalPower": hex(state.validators.total_power),
            "syncing": self.sync.is_syncing(),
        }
