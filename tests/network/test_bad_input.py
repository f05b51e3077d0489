"""Bad input from peers: every malformed, oversized, replayed, wrong-chain, non-validator or
far-future message is refused without harm and its sender dropped; bad blocks are refused whether
proposed live or served by block sync. The chain goes on and no node forks."""

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
import rlp
from byzantine import BadBlockProposer
from cluster import CHAIN_ID, Cluster, node_key

from openledger.consensus.messages import CommitCertificate, VoteKind
from openledger.consensus.signing import sign_proposal, sign_vote
from openledger.genesis.types import BlockNumber, ChainId, Hash32, Round
from openledger.node.protocol import CommittedBlock as Committed
from openledger.node.protocol import (
    MessageKind,
    ProposalMessage,
    Status,
    encode_blocks,
    encode_proposal,
    encode_status,
)

pytestmark = pytest.mark.timeout(240)

STRANGER_KEY = hashlib.sha256(b"not a validator").digest()


@pytest.fixture
def cluster(tmp_path: Path):  # type: ignore[no-untyped-def]
    instance = Cluster(tmp_path)
    yield instance
    instance.close()


class Rogue:
    """A peer that joins the network and sends what it is told to."""

    def __init__(self, cluster: Cluster, index: int = 99) -> None:
        self.cluster = cluster
        self.peer_id = node_key(index).public_key.to_compressed_bytes()
        self.dropped_by: set[bytes] = set()
        self.received: list[tuple[bytes, int, bytes]] = []
        self.transport = cluster.hub.join(
            self.peer_id,
            on_message=lambda peer, kind, payload: self.received.append((peer, kind, payload)),
            on_peer_disconnected=lambda peer, reason: self.dropped_by.add(peer),
        )

    async def connect_to(self, peer_id: bytes) -> None:
        """Run the cluster until this peer is connected to `peer_id`."""
        await self.cluster.run_until(
            lambda: any(p.peer_id == peer_id for p in self.transport.peers())
        )

    def announce(self, head_number: int, genesis_hash: bytes | None = None) -> None:
        store = self.cluster.members[0].chain.store
        status = Status(
            CHAIN_ID,
            Hash32(genesis_hash or store.genesis_hash),
            BlockNumber(head_number),
            Hash32(bytes(32)),
        )
        self.transport.broadcast(MessageKind.STATUS, encode_status(status))


def _vote(key: bytes, *, height: int, chain_id: int = CHAIN_ID, block_hash: bytes = b"") -> bytes:
    return sign_vote(
        key, chain_id=ChainId(chain_id), height=BlockNumber(height), round=Round(0),
        kind=VoteKind.PREVOTE, block_hash=block_hash,
    ).encode()  # fmt: skip


def _weaken(certificate: CommitCertificate) -> CommitCertificate:
    """The same commit with a single precommit: far from 2/3 of the stake."""
    return CommitCertificate(
        certificate.height, certificate.round, certificate.block_hash, certificate.precommits[:1]
    )


def _committed(store: object, number: int) -> tuple[CommitCertificate | None, Committed]:
    """Block `number` of `store` with its commit, and its parent's commit."""
    header = store.get_header(number)  # type: ignore[attr-defined]
    certificate = CommitCertificate.decode(store.get_commit(number))  # type: ignore[attr-defined]
    parent_bytes = store.get_commit(number - 1) if number > 1 else None  # type: ignore[attr-defined]
    parent = CommitCertificate.decode(parent_bytes) if parent_bytes else None
    return parent, Committed(store.get_block(header), certificate)  # type: ignore[attr-defined]


def _two_blocks(cluster: Cluster) -> bytes:
    store = cluster.member(0).chain.store
    parent, first = _committed(store, 1)
    return encode_blocks(parent, [first, _committed(store, 2)[1]])


def _renumbered(cluster: Cluster, number: int) -> bytes:
    """Block 2 with its commit, claiming to be block `number`."""
    parent, item = _committed(cluster.member(0).chain.store, 2)
    block = item.block.copy(header=item.block.header.copy(block_number=number))
    return encode_blocks(parent, [Committed(block, item.certificate)])


BAD_MESSAGES: dict[str, Callable[[Cluster, int], tuple[int, bytes]]] = {
    "malformed vote": lambda c, h: (MessageKind.VOTE, b"\x01\x02\x03"),
    "vote for another chain": lambda c, h: (
        MessageKind.VOTE,
        _vote(c.keys[1], height=h, chain_id=1),
    ),
    "vote from a non-validator": lambda c, h: (MessageKind.VOTE, _vote(STRANGER_KEY, height=h)),
    "vote with a bad signature": lambda c, h: (
        MessageKind.VOTE,
        rlp.encode([*rlp.decode(_vote(c.keys[1], height=h))[:6], b"\x11" * 64 + b"\x00"]),
    ),
    "replayed old vote": lambda c, h: (
        MessageKind.VOTE,
        _vote(c.keys[1], height=2, block_hash=bytes(32)),
    ),
    "far-future vote": lambda c, h: (MessageKind.VOTE, _vote(c.keys[1], height=h + 50)),
    "malformed proposal": lambda c, h: (MessageKind.PROPOSAL, rlp.encode([b"x", b"y", b""])),
    "too many transactions": lambda c, h: (MessageKind.TRANSACTIONS, rlp.encode([b"\x02"] * 300)),
    "unknown message kind": lambda c, h: (99, b"hello"),
    "block request of nonsense": lambda c, h: (MessageKind.GET_BLOCKS, b"\xff"),
    "pushed block of nonsense": lambda c, h: (MessageKind.NEW_BLOCK, rlp.encode([b"", [b"x"]])),
    "pushed message of two blocks": lambda c, h: (MessageKind.NEW_BLOCK, _two_blocks(c)),
    "pushed block from the future": lambda c, h: (MessageKind.NEW_BLOCK, _renumbered(c, h + 5)),
}


@pytest.mark.parametrize("case", sorted(BAD_MESSAGES))
async def test_bad_message_gets_its_sender_dropped(cluster: Cluster, case: str) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 4 for m in cluster.members))
    rogue = Rogue(cluster)
    victim = cluster.member(0)
    await rogue.connect_to(victim.peer_id)
    current = victim.head
    rogue.announce(current)
    kind, payload = BAD_MESSAGES[case](cluster, current + 1)
    rogue.transport.send(victim.peer_id, kind, payload)
    await cluster.run_until(lambda: victim.peer_id in rogue.dropped_by, max_ms=30_000)
    # Nothing else happened: the chain goes on, the same everywhere.
    await cluster.run_until(lambda: all(m.head >= current + 3 for m in cluster.members))
    cluster.assert_agreement()


async def test_peer_on_another_genesis_is_dropped(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 2 for m in cluster.members))
    rogue = Rogue(cluster)
    await cluster.run_until(lambda: len(rogue.transport.peers()) == 4)
    rogue.announce(2, genesis_hash=b"\x77" * 32)
    await cluster.run_until(lambda: len(rogue.dropped_by) == 4, max_ms=30_000)


async def test_proposal_from_the_wrong_proposer_gets_its_sender_dropped(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 3 for m in cluster.members))
    rogue = Rogue(cluster)
    victim = cluster.member(0)
    await rogue.connect_to(victim.peer_id)
    store = victim.chain.store
    height = victim.head + 1
    state = victim.host.state
    assert state is not None
    from openledger.consensus.validators import compute_proposer

    proposer = compute_proposer(state.validators, BlockNumber(height), Round(0))
    impostor = next(
        k for k, a in zip(cluster.keys, cluster.addresses, strict=True) if a != proposer
    )
    header = store.head
    block = store.get_block(header)
    proposal = sign_proposal(impostor, chain_id=CHAIN_ID, height=BlockNumber(height), round=Round(0),
                             block_hash=Hash32(block.hash), pol_round=Round(-1))  # fmt: skip
    rogue.announce(victim.head)
    rogue.transport.send(
        victim.peer_id,
        MessageKind.PROPOSAL,
        encode_proposal(ProposalMessage(proposal, block, None)),
    )
    await cluster.run_until(lambda: victim.peer_id in rogue.dropped_by, max_ms=30_000)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("state_root", "does not reproduce: state_root differs"),
        ("bad_transaction", "nonce"),
        ("swapped_body", "transactions do not match its transaction root"),
    ],
)
async def test_invalid_proposed_block_is_refused_and_the_chain_goes_on(
    tmp_path: Path, fault: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    cluster = Cluster(tmp_path)
    try:
        BadBlockProposer.fault = fault
        await cluster.start(hosts={0: BadBlockProposer})
        with caplog.at_level(logging.WARNING, logger="openledger.consensus"):
            await cluster.run_until(lambda: all(m.head >= 12 for m in cluster.members))
        cluster.assert_agreement()
        assert cluster.member(0).host.bad_proposals >= 2  # type: ignore[attr-defined]
        refusals = [
            r.getMessage() for r in caplog.records if "invalid block proposed" in r.getMessage()
        ]
        assert refusals and all(reason in message for message in refusals), refusals[:3]
        # Validator 0 never gets its block in: every block is proposed by someone else.
        store = cluster.member(1).chain.store
        proposers = {store.get_header(n).coinbase for n in range(1, 13)}
        assert cluster.addresses[0] not in proposers
    finally:
        cluster.close()


async def test_sync_from_a_peer_serving_an_insufficient_commit_drops_it(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 6 for m in cluster.members))
    cluster.stop(3)
    await cluster.run_until(lambda: all(m.head >= 15 for m in cluster.members))
    honest = cluster.member(0).chain.store
    rogue = Rogue(cluster)

    def serve(peer: bytes, kind: int, payload: bytes) -> None:
        if kind != MessageKind.GET_BLOCKS:
            return
        first = rlp.decode(payload)[0]
        number = int.from_bytes(first, "big")
        if honest.get_header(number) is None or honest.get_commit(number) is None:
            return  # asked for more than exists (the other nodes believe its head of 500 too)
        parent, item = _committed(honest, number)
        weak = Committed(item.block, _weaken(item.certificate))
        rogue.transport.send(peer, MessageKind.BLOCKS, encode_blocks(parent, [weak]))

    rogue.transport.on_message = serve
    back = await cluster.restart(3)
    # The rogue claims the highest head, so it is asked first.
    rogue.announce(500)
    await cluster.run_until(lambda: back.peer_id in rogue.dropped_by, max_ms=60_000)
    await cluster.run_until(lambda: back.head >= 15, max_ms=120_000)
    cluster.assert_agreement()


async def test_pushed_block_with_an_insufficient_commit_drops_its_sender(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 6 for m in cluster.members))
    cluster.stop(3)
    await cluster.run_until(lambda: all(m.head >= 10 for m in cluster.members))
    honest = cluster.member(0).chain.store
    rogue = Rogue(cluster)
    behind = node_key(3).public_key.to_compressed_bytes()

    # The returning validator gets no honest block until the rogue has pushed it a forged one.
    def hold_blocks(sender: bytes, recipient: bytes, kind: int, payload: bytes) -> bool:
        return recipient == behind and kind in (MessageKind.BLOCKS, MessageKind.NEW_BLOCK)

    cluster.hub.set_drop_filter(hold_blocks)
    back = await cluster.restart(3)
    await rogue.connect_to(behind)
    head = back.head
    parent, item = _committed(honest, head + 1)
    forged = encode_blocks(parent, [Committed(item.block, _weaken(item.certificate))])
    cluster.hub.set_drop_filter(None)
    rogue.transport.send(behind, MessageKind.NEW_BLOCK, forged)
    await cluster.run_until(lambda: behind in rogue.dropped_by, max_ms=60_000)
    assert back.head == head or back.chain.store.get_header(head + 1).hash == item.block.hash
    await cluster.run_until(lambda: back.head >= 14, max_ms=120_000)
    cluster.assert_agreement()


async def test_a_block_pushed_twice_gets_its_sender_dropped(cluster: Cluster) -> None:
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 4 for m in cluster.members))
    rogue = Rogue(cluster)
    victim = cluster.member(0)
    await rogue.connect_to(victim.peer_id)
    rogue.announce(victim.head)
    parent, item = _committed(victim.chain.store, 3)
    push = encode_blocks(parent, [item])
    # A block the victim has is ignored the first time (a push may cross our own commit)...
    rogue.transport.send(victim.peer_id, MessageKind.NEW_BLOCK, push)
    await cluster.run_until(lambda: all(m.head >= 6 for m in cluster.members))
    assert victim.peer_id not in rogue.dropped_by
    # ...but no honest peer pushes the same block twice.
    rogue.transport.send(victim.peer_id, MessageKind.NEW_BLOCK, push)
    await cluster.run_until(lambda: victim.peer_id in rogue.dropped_by, max_ms=30_000)
    await cluster.run_until(lambda: all(m.head >= 9 for m in cluster.members))
    cluster.assert_agreement()
