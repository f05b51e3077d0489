"""Block sync: catching up with peers that are ahead, and pushing and serving blocks to peers
that are behind.

A node that starts behind (after downtime, or a new full node) learns the heads of its peers from
their STATUS messages, asks the highest for the blocks after its own head (GET_BLOCKS), and for
each block it receives checks the commit certificate against the validator set of that height
(read from its own state after the previous block), checks the chain rules and executes the block
(unless this node already executed it as a candidate of live consensus: that execution is kept),
then commits it with its certificate. Nothing a peer sends is trusted: a block that fails a check
gets the peer disconnected. When the node has caught up it rejoins live consensus at the
height after its head.

Sync is for falling behind, not for the block being decided: a peer one block ahead has merely
committed a moment before us, and live consensus will decide that block here too. So a request
goes out when a peer is at least two blocks ahead, or when a peer has been ahead for
`STALL_SECONDS` (we missed a decision, e.g. its proposal, and nobody pushed the block).

Committed blocks are also gossiped, to the peers that need them: a peer that still announces the
block before our head `PUSH_AFTER` seconds after we committed it missed the decision (lost
precommits, a full node far from the validators), and gets the block with its commit in a
NEW_BLOCK message, once. It checks the block exactly as a synced one, commits it, and pushes it on
by the same rule. Peers that decided the block themselves announce it within moments and get
nothing, so a healthy network carries no extra blocks.

One request is in flight at a time; an unanswered request expires after `REQUEST_TIMEOUT` and
goes to another peer.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from openledger.consensus.certificate import verify_certificate
from openledger.consensus.chain_rules import ValidatorSource
from openledger.consensus.errors import ConsensusError
from openledger.consensus.messages import CommitCertificate
from openledger.consensus.validators import compute_proposer
from openledger.genesis.types import Address, BlockNumber
from openledger.node.blocks import CandidateBlock, execute_candidate
from openledger.node.chain import NodeChain
from openledger.node.p2p.identity import PeerId
from openledger.node.p2p.network import Network
from openledger.node.protocol import (
    MAX_BLOCKS_PER_REQUEST,
    CommittedBlock,
    MessageKind,
    ProtocolError,
    Status,
    decode_blocks,
    decode_get_blocks,
    decode_new_block,
    encode_blocks,
    encode_get_blocks,
)
from openledger.state.errors import InvalidBlock

log = logging.getLogger("openledger.sync")

REQUEST_TIMEOUT = 5.0
"""Seconds to wait for a BLOCKS answer before asking another peer."""
STALL_SECONDS = 5.0
"""Seconds a peer may be one block ahead of us before we fetch that block."""
PUSH_AFTER = 0.5
"""Seconds after committing a block after which a peer still announcing its parent gets it."""


@dataclass(frozen=True, slots=True)
class _Request:
    peer: PeerId
    first: int
    sent_at: float | None


class BlockSync:
    """Downloads committed blocks from peers and serves ours."""

    def __init__(
        self,
        chain: NodeChain,
        network: Network,
        validators: ValidatorSource,
        on_synced: Callable[[], Awaitable[None]],
        executed: Callable[[bytes], CandidateBlock | None] = lambda block_hash: None,
    ) -> None:
        self.chain = chain
        self.executed = executed
        """Finds a block this node already executed (a candidate of live consensus) by hash."""
        self.network = network
        self.validators = validators
        self.on_synced = on_synced
        self._heads: dict[PeerId, int] = {}
        self._request: _Request | None = None
        self._started_at: int | None = None
        self._now = 0.0
        self._head_committed_at = 0.0
        self._ahead_since: float | None = None
        self._pushed: dict[PeerId, int] = {}
        """The block we last pushed to each peer."""
        self._pushed_by: dict[PeerId, int] = {}
        """The block each peer last pushed to us."""

    # --- views ----------------------------------------------------------------------------------

    @property
    def highest_known(self) -> int:
        """The highest head a peer announced."""
        return max(self._heads.values(), default=0)

    def announced_head(self, peer: PeerId) -> int | None:
        """The head `peer` last announced, if it has."""
        return self._heads.get(peer)

    def is_syncing(self) -> bool:
        """True while a peer is more than one block ahead of us."""
        return self.highest_known > self.chain.store.head.block_number + 1

    def progress(self) -> tuple[int, int, int] | None:
        """(starting block, current block, highest block) while syncing, for `eth_syncing`."""
        if not self.is_syncing():
            self._started_at = None
            return None
        head = self.chain.store.head.block_number
        if self._started_at is None:
            self._started_at = head
        return self._started_at, head, self.highest_known

    # --- requesting -----------------------------------------------------------------------------

    def on_status(self, peer: PeerId, status: Status) -> None:
        """A peer announced its head; ask for blocks if it is two or more ahead and we are idle."""
        self._heads[peer] = status.head_number
        if status.head_number > self.chain.store.head.block_number + 1 and self._request is None:
            self.request_from_best()

    def on_committed(self, now: float) -> None:
        """Our head moved (by consensus or by sync) at `now`."""
        self._head_committed_at = now
        self._ahead_since = None

    def forget(self, peer: PeerId) -> None:
        """A peer left."""
        self._heads.pop(peer, None)
        self._pushed.pop(peer, None)
        self._pushed_by.pop(peer, None)
        if self._request is not None and self._request.peer == peer:
            self._request = None
            self.request_from_best()

    def request_from_best(self, avoid: PeerId | None = None) -> None:
        """Ask the peer with the highest head for the blocks after ours."""
        head = self.chain.store.head.block_number
        candidates = [
            (number, peer)
            for peer, number in self._heads.items()
            if number > head and peer != avoid
        ]
        if not candidates:
            return
        _, peer = max(candidates)
        first = head + 1
        if self.network.send(
            peer, MessageKind.GET_BLOCKS, encode_get_blocks(first, MAX_BLOCKS_PER_REQUEST)
        ):
            self._request = _Request(peer, first, self._now)
            log.info(
                "requesting blocks from %d from peer %s (head %d)",
                first,
                peer.hex()[:12],
                self._heads[peer],
            )

    def on_tick(self, now: float) -> None:
        """Expire an unanswered request and ask someone else; fetch a block we missed; push our
        head to peers that missed it."""
        self._now = now
        request = self._request
        head = self.chain.store.head.block_number
        if (
            request is not None
            and request.sent_at is not None
            and now - request.sent_at > REQUEST_TIMEOUT
        ):
            log.info("peer %s did not answer a block request in time", request.peer.hex()[:12])
            self._request = None
            self.request_from_best(avoid=request.peer)
        elif request is None and self.highest_known > head:
            if self._ahead_since is None:
                self._ahead_since = now
            if self.highest_known > head + 1 or now - self._ahead_since >= STALL_SECONDS:
                self.request_from_best()
        if now - self._head_committed_at >= PUSH_AFTER:
            self._push_head()

    def _push_head(self) -> None:
        head = self.chain.store.head.block_number
        lagging = [
            peer
            for peer, number in self._heads.items()
            if number == head - 1 and self._pushed.get(peer) != head
        ]
        if not lagging or head == 0:
            return
        item = self._read_block(head)
        if item is None:
            return
        payload = encode_blocks(self._read_commit(head - 1), [item])
        for peer in lagging:
            if self.network.send(peer, MessageKind.NEW_BLOCK, payload):
                self._pushed[peer] = head

    # --- receiving ------------------------------------------------------------------------------

    async def on_blocks(self, peer: PeerId, payload: bytes) -> None:
        """Verify, execute and commit the blocks a peer sent in answer to our request."""
        if self._request is None or self._request.peer != peer:
            return  # unsolicited, or the answer to a request we gave up on
        self._request = None
        parent_certificate, blocks = decode_blocks(payload, self.chain.chain.vm_class)
        committed = 0
        for item in blocks:
            number = item.block.header.block_number
            head = self.chain.store.head.block_number
            if number <= head:
                parent_certificate = item.certificate
                continue
            if number != head + 1:
                raise ProtocolError(f"block sync skipped from {head} to {number}")
            await self._commit(item, parent_certificate)
            parent_certificate = item.certificate
            committed += 1
        if committed:
            head, target = self.chain.store.head.block_number, max(self.highest_known, 1)
            log.info(
                "sync: %d blocks imported, head %d of %d (%d%%)",
                committed, head, target, min(100, head * 100 // target),
            )  # fmt: skip
            await self.on_synced()
        if self.highest_known > self.chain.store.head.block_number + 1:
            self.request_from_best()

    async def on_new_block(self, peer: PeerId, payload: bytes) -> None:
        """A peer pushed a committed block: check and commit it if it is the block after our head.

        An honest peer pushes a block only after we announced its parent, once, and then only later
        blocks: a block beyond the one after our head, or one not after the peer's previous push,
        is a fabrication or a replay. One we meanwhile got elsewhere is ignored."""
        parent_certificate, item = decode_new_block(payload, self.chain.chain.vm_class)
        number = item.block.header.block_number
        head = self.chain.store.head.block_number
        if number > head + 1:
            raise ProtocolError(f"pushed block {number}, but our head is {head}")
        if number <= self._pushed_by.get(peer, 0):
            raise ProtocolError(f"pushed block {number} after block {self._pushed_by[peer]}")
        self._pushed_by[peer] = number
        if number <= head:
            return
        await self._commit(item, parent_certificate)
        self._heads[peer] = max(self._heads.get(peer, 0), number)
        log.info("imported block %d pushed by peer %s", number, peer.hex()[:12])
        await self.on_synced()

    async def _commit(
        self, item: CommittedBlock, parent_certificate: CommitCertificate | None
    ) -> None:
        block, certificate = item.block, item.certificate
        number = BlockNumber(block.header.block_number)
        if certificate.height != number or certificate.block_hash != block.hash:
            raise ProtocolError(f"the certificate sent with block {number} is for another block")
        validators = self.validators.for_height(number)
        try:
            verify_certificate(certificate, validators, self.chain.chain.chain_id)
        except ConsensusError as error:
            raise ProtocolError(f"block {number} comes with an invalid commit: {error}") from error
        proposer = Address(compute_proposer(validators, number, certificate.round))
        candidate = self.executed(block.hash)
        if (
            candidate is not None
            and candidate.block.header.parent_hash == self.chain.store.head.hash
        ):
            # Executed on our head when it was proposed, and checked then: same hash, same result.
            parent_bytes = parent_certificate.encode() if parent_certificate else None
            await self.chain.commit(candidate.executed, certificate.encode(), parent_bytes)
            return
        self.chain.adopt_senders(block.transactions)
        try:
            # A certified block's timestamp was accepted by more than 2/3 of the stake when it was
            # fresh; it is not held against our clock now.
            candidate = await execute_candidate(
                self.chain.chain, self.chain.store, block, parent_certificate, proposer, self.validators,
                now=float(block.header.timestamp),
            )  # fmt: skip
        except InvalidBlock as error:
            raise ProtocolError(f"a peer served an invalid block: {error}") from error
        parent_bytes = parent_certificate.encode() if parent_certificate else None
        await self.chain.commit(candidate.executed, certificate.encode(), parent_bytes)

    # --- serving --------------------------------------------------------------------------------

    def serve(self, peer: PeerId, payload: bytes) -> None:
        """Answer a GET_BLOCKS request with committed blocks and their certificates."""
        first, count = decode_get_blocks(payload)
        items: list[CommittedBlock] = []
        head = self.chain.store.head.block_number
        for number in range(max(first, 1), min(first + count, head + 1)):
            item = self._read_block(number)
            if item is None:
                break
            items.append(item)
        parent = self._read_commit(items[0].block.header.block_number - 1) if items else None
        self.network.send(peer, MessageKind.BLOCKS, encode_blocks(parent, items))

    def _read_block(self, number: int) -> CommittedBlock | None:
        """Committed block `number` with its commit, if we have both."""
        store = self.chain.store
        header = store.get_header(number)
        certificate = self._read_commit(number)
        if header is None or certificate is None:
            return None
        return CommittedBlock(store.get_block(header), certificate)

    def _read_commit(self, number: int) -> CommitCertificate | None:
        """The stored commit of block `number` (None for the genesis block)."""
        encoded = self.chain.store.get_commit(number) if number > 0 else None
        return CommitCertificate.decode(encoded) if encoded else None
