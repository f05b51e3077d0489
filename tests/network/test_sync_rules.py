"""The block sync rules on their own, against a real chain store: when a node fetches blocks from
a peer that is ahead, and when it pushes a committed block to a peer that is behind."""

from pathlib import Path

import pytest
from cluster import CHAIN_ID, Cluster

from openledger.genesis.types import BlockNumber, Hash32
from openledger.node.protocol import MessageKind, Status, decode_get_blocks, decode_new_block
from openledger.node.sync import PUSH_AFTER, STALL_SECONDS, BlockSync

PEER = b"\x02" + b"\x11" * 32


class RecordingNetwork:
    """Records what block sync sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, int, bytes]] = []

    def send(self, peer: bytes, kind: int, payload: bytes) -> bool:
        self.sent.append((peer, kind, payload))
        return True

    def kinds(self) -> list[int]:
        return [kind for _, kind, _ in self.sent]


@pytest.fixture
async def synced(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A BlockSync over the store of a validator that has committed 5 blocks."""
    cluster = Cluster(tmp_path)
    await cluster.start()
    await cluster.run_until(lambda: all(m.head >= 5 for m in cluster.members))
    member = cluster.member(0)
    for other in cluster.members[1:]:
        cluster.stop(other.index)
    network = RecordingNetwork()

    async def on_synced() -> None:
        return None

    sync = BlockSync(member.chain, network, member.host.validators, on_synced)  # type: ignore[arg-type]
    yield sync, network, member.head
    cluster.close()


def _announce(sync: BlockSync, head: int) -> None:
    genesis = sync.chain.store.genesis_hash
    sync.on_status(PEER, Status(CHAIN_ID, Hash32(genesis), BlockNumber(head), Hash32(bytes(32))))


async def test_a_peer_one_ahead_is_fetched_from_only_after_the_stall(synced) -> None:  # type: ignore[no-untyped-def]
    sync, network, head = synced
    sync.on_committed(100.0)
    _announce(sync, head + 1)
    for now in (100.5, 101.0, 103.0, 100.5 + STALL_SECONDS - 0.1):
        sync.on_tick(now)
    assert MessageKind.GET_BLOCKS not in network.kinds()
    sync.on_tick(100.5 + STALL_SECONDS)
    assert network.kinds() == [MessageKind.GET_BLOCKS]
    assert decode_get_blocks(network.sent[0][2])[0] == head + 1


async def test_a_peer_two_ahead_is_fetched_from_at_once(synced) -> None:  # type: ignore[no-untyped-def]
    sync, network, head = synced
    sync.on_committed(100.0)
    _announce(sync, head + 2)
    assert network.kinds() == [MessageKind.GET_BLOCKS]


async def test_our_head_goes_once_to_a_peer_one_behind_after_a_pause(synced) -> None:  # type: ignore[no-untyped-def]
    sync, network, head = synced
    sync.on_committed(100.0)
    _announce(sync, head - 1)
    sync.on_tick(100.0 + PUSH_AFTER / 2)
    assert network.sent == []  # the peer may be deciding the block itself right now
    sync.on_tick(100.0 + PUSH_AFTER)
    sync.on_tick(101.0 + PUSH_AFTER)
    assert network.kinds() == [MessageKind.NEW_BLOCK]
    parent, item = decode_new_block(network.sent[0][2], sync.chain.chain.vm_class)
    store = sync.chain.store
    assert item.block.hash == store.head.hash
    assert item.certificate.block_hash == store.head.hash
    assert parent is not None and parent.hash() == store.head.extra_data


async def test_a_peer_further_behind_gets_no_push(synced) -> None:  # type: ignore[no-untyped-def]
    sync, network, head = synced
    sync.on_committed(100.0)
    _announce(sync, head - 2)
    sync.on_tick(102.0)
    assert network.sent == []  # it fetches what it needs itself
