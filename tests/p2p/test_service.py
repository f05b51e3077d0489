"""Real services over TCP on 127.0.0.1: sessions, refusals, misbehaving peers, reconnects."""

import asyncio
import logging
import socket
from dataclasses import replace

import pytest
from eth_keys.datatypes import PrivateKey

from openledger.genesis.types import ChainId, Hash32
from openledger.node.p2p.errors import ListenError, MessageTooLarge
from openledger.node.p2p.framing import HEADER_SIZE, MAX_FRAME_SIZE, compute_max_payload_size
from openledger.node.p2p.identity import PeerAddress, PeerId, compute_peer_id
from openledger.node.p2p.network import Direction, Network
from openledger.node.p2p.peer import GOODBYE_KIND, PING_KIND, PONG_KIND, decode_reason
from openledger.node.p2p.service import P2PService

from .harness import (
    FAST_CONFIG,
    HOST,
    KIND,
    Cluster,
    Recorder,
    make_key,
    order_keys,
    wait_until,
)

# The thread method, because a signal raised inside the event loop is swallowed by the task it
# lands in, and a hung test would then hang the whole run.
pytestmark = pytest.mark.timeout(20, method="thread")

P2P_LOGGER = "openledger.node.p2p"


async def test_two_services_exchange_messages_both_ways(cluster: Cluster) -> None:
    b = await cluster.start(make_key(2))
    a = await cluster.start(make_key(1), bootstrap=[b.address])
    await wait_until(lambda: a.peer_ids() == {b.peer_id} and b.peer_ids() == {a.peer_id}, "session")

    assert a.service.send(b.peer_id, KIND, b"from a")
    assert b.service.send(a.peer_id, KIND + 1, b"from b")
    await wait_until(lambda: a.recorder.messages and b.recorder.messages, "both messages")

    assert b.recorder.messages == [(a.peer_id, KIND, b"from a")]
    assert a.recorder.messages == [(b.peer_id, KIND + 1, b"from b")]
    assert a.recorder.connected == [b.peer_id] and b.recorder.connected == [a.peer_id]
    (a_view,) = a.service.peers()
    (b_view,) = b.service.peers()
    assert a_view.direction is Direction.OUTBOUND and b_view.direction is Direction.INBOUND
    assert a_view.remote_address == (HOST, b.port)
    assert b_view.listen_port == a.port
    assert a_view.bytes_out > 0 and a_view.bytes_in > 0


async def test_broadcast_reaches_every_peer_but_the_excluded(cluster: Cluster) -> None:
    c = await cluster.start(make_key(3))
    b = await cluster.start(make_key(2), bootstrap=[c.address])
    a = await cluster.start(make_key(1), bootstrap=[b.address, c.address])
    await wait_until(
        lambda: a.peer_ids() == {b.peer_id, c.peer_id} and len(c.service.peers()) == 2,
        "a connected to b and c",
    )

    assert a.service.broadcast(KIND, b"to all") == 2
    assert a.service.broadcast(KIND, b"not to b", exclude=b.peer_id) == 1
    assert b.service.broadcast(KIND, b"from b", exclude=[c.peer_id]) == 1
    await wait_until(lambda: len(c.recorder.messages) == 2, "c got two")
    await wait_until(lambda: len(a.recorder.messages) == 1, "a got b's")
    await asyncio.sleep(0.1)

    assert b.recorder.payloads_from(a.peer_id) == [b"to all"]
    assert c.recorder.payloads_from(a.peer_id) == [b"to all", b"not to b"]
    assert a.recorder.payloads_from(b.peer_id) == [b"from b"]


async def test_send_refuses_reserved_kinds_oversized_payloads_and_unknown_peers(
    cluster: Cluster,
) -> None:
    a = await cluster.start(make_key(1))
    network: Network = a.service  # The node programs against this protocol.
    with pytest.raises(ValueError, match="reserved"):
        network.broadcast(PING_KIND, b"")
    with pytest.raises(MessageTooLarge):
        network.broadcast(KIND, bytes(compute_max_payload_size(MAX_FRAME_SIZE) + 1))
    assert network.send(compute_peer_id(make_key(9)), KIND, b"x") is False


@pytest.mark.parametrize(
    ("chain_id", "genesis_hash", "expected_log"),
    [
        (ChainId(1), Hash32(bytes.fromhex("11" * 32)), "chain id mismatch: ours 1, theirs 1337"),
        (ChainId(1337), Hash32(bytes(32)), "genesis hash mismatch"),
    ],
    ids=["chain id", "genesis hash"],
)
async def test_peer_of_another_chain_is_refused(
    cluster: Cluster,
    caplog: pytest.LogCaptureFixture,
    chain_id: ChainId,
    genesis_hash: Hash32,
    expected_log: str,
) -> None:
    caplog.set_level(logging.INFO, logger=P2P_LOGGER)
    b = await cluster.start(make_key(2))
    a = await cluster.start(
        make_key(1), bootstrap=[b.address], chain_id=chain_id, genesis_hash=genesis_hash
    )
    await wait_until(lambda: expected_log in caplog.text, "the refusal to be logged")
    await asyncio.sleep(0.2)
    assert a.service.peers() == [] and b.service.peers() == []
    assert a.recorder.connected == [] and b.recorder.connected == []


async def test_dialling_with_the_wrong_expected_key_is_refused(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=P2P_LOGGER)
    b = await cluster.start(make_key(2))
    impostor_id = compute_peer_id(make_key(3))
    a = await cluster.start(make_key(1), bootstrap=[PeerAddress(impostor_id, HOST, b.port)])
    await wait_until(lambda: "but the remote is" in caplog.text, "the refusal to be logged")
    assert a.service.peers() == [] and b.service.peers() == []
    assert a.recorder.connected == [] and b.recorder.connected == []


async def test_tampered_ciphertext_closes_the_connection(cluster: Cluster) -> None:
    a = await cluster.start(make_key(1))
    raw = await cluster.connect_raw(a, make_key(2))
    await raw.send(KIND, b"genuine")
    await wait_until(lambda: a.recorder.messages, "the genuine message")

    frame = bytearray(raw.sealer.seal(KIND, b"tampered"))
    frame[HEADER_SIZE + 3] ^= 0x01
    await raw.write(bytes(frame))

    assert await raw.wait_closed_by_remote()
    await wait_until(lambda: a.recorder.disconnected, "the disconnect callback")
    assert "authentication" in a.recorder.reasons()
    assert a.recorder.messages == [(raw.peer_id, KIND, b"genuine")]
    assert a.service.peers() == []


async def test_oversized_frame_closes_the_connection_before_its_body_arrives(
    cluster: Cluster,
) -> None:
    config = replace(FAST_CONFIG, max_frame_size=64 * 1024)
    a = await cluster.start(make_key(1), config=config)
    raw = await cluster.connect_raw(a, make_key(2))
    await wait_until(lambda: a.recorder.connected, "the session")

    # Only the header is sent: a service that waited for (or allocated) the body would hang here.
    await raw.write((64 * 1024 + 1).to_bytes(4, "big"))

    assert await raw.wait_closed_by_remote(timeout=2.0)
    await wait_until(lambda: a.recorder.disconnected, "the disconnect callback")
    assert "more than the limit of 65536" in a.recorder.reasons()


async def test_garbage_instead_of_a_hello_is_dropped_and_others_are_still_served(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=P2P_LOGGER)
    a = await cluster.start(make_key(1))
    reader, writer = await asyncio.open_connection(HOST, a.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
    await writer.drain()
    try:
        async with asyncio.timeout(3):
            while await reader.read(65536):
                pass  # Reads our Hello, then the end of the stream.
    finally:
        writer.close()
    assert "Hello declares" in caplog.text

    b = await cluster.start(make_key(2), bootstrap=[a.address])
    await wait_until(lambda: a.peer_ids() == {b.peer_id}, "a later, honest peer")


async def test_redials_a_peer_that_restarted_on_the_same_port(cluster: Cluster) -> None:
    b = await cluster.start(make_key(2))
    a = await cluster.start(make_key(1), bootstrap=[b.address])
    await wait_until(lambda: a.peer_ids() == {b.peer_id}, "the first session")

    await cluster.stop(b)
    await wait_until(lambda: a.recorder.disconnected, "a noticing b left")
    assert "shutting down" in a.recorder.reasons()
    await asyncio.sleep(0.3)  # a keeps redialling a closed port meanwhile.

    b_again = await cluster.start(make_key(2), port=b.port)
    await wait_until(lambda: a.peer_ids() == {b.peer_id}, "the session after the restart")
    assert a.recorder.connected == [b.peer_id, b.peer_id]
    assert a.service.send(b.peer_id, KIND, b"welcome back")
    await wait_until(lambda: b_again.recorder.messages, "a message on the new session")


async def test_a_banned_peer_is_kept_out_until_the_ban_ends(
    cluster: Cluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=P2P_LOGGER)
    a = await cluster.start(make_key(1))
    b = await cluster.start(make_key(2), bootstrap=[a.address])
    await wait_until(lambda: a.peer_ids() == {b.peer_id}, "the first session")

    # The ban is long enough that a loaded machine still sees b refused before it ends.
    a.service.disconnect(b.peer_id, "sent an invalid block", ban_seconds=4.0)
    assert a.service.peers() == []  # At once, although the socket closes a moment later.
    await wait_until(lambda: not a.service.peers() and not b.service.peers(), "the disconnect")
    assert "the remote said goodbye: sent an invalid block" in b.recorder.reasons()
    # b redials every 50..200 ms and is refused each time.
    await wait_until(
        lambda: "refused by the remote: banned for another" in caplog.text, "a refusal"
    )
    assert a.recorder.connected == [b.peer_id] and b.recorder.connected == [a.peer_id]

    await wait_until(lambda: a.peer_ids() == {b.peer_id}, "the session after the ban", 10.0)


async def test_simultaneous_dial_ends_with_one_shared_connection(cluster: Cluster) -> None:
    for attempt in range(3):  # The race has several interleavings; try a few.
        await _dial_each_other_at_once(cluster, make_key(10 + attempt), make_key(20 + attempt))


async def _dial_each_other_at_once(cluster: Cluster, first: PrivateKey, second: PrivateKey) -> None:
    low_key, high_key = order_keys(first, second)
    low, high = await cluster.start(low_key), await cluster.start(high_key)

    # Both dial loops start on the same turn of the event loop: the dials cross on the wire.
    low.service.add_peer(high.address)
    high.service.add_peer(str(low.address))

    await wait_until(
        lambda: len(low.service.peers()) == 1 and len(high.service.peers()) == 1, "a session"
    )
    await asyncio.sleep(0.3)  # Let the losing connection, if any, be refused.

    (low_view,) = low.service.peers()
    (high_view,) = high.service.peers()
    assert low_view.local_address == high_view.remote_address
    assert low_view.remote_address == high_view.local_address
    # The rule: the connection dialled by the smaller peer id is the one kept.
    assert low_view.direction is Direction.OUTBOUND
    assert high_view.direction is Direction.INBOUND
    assert high.service.send(low.peer_id, KIND, b"still works")
    await wait_until(lambda: low.recorder.messages, "a message on the kept connection")
    await cluster.stop(low)
    await cluster.stop(high)


async def test_a_peer_that_dials_again_replaces_its_older_session(cluster: Cluster) -> None:
    a = await cluster.start(make_key(1))
    old = await cluster.connect_raw(a, make_key(2))
    await wait_until(lambda: a.recorder.connected, "the first session")

    new = await cluster.connect_raw(a, make_key(2))

    kind, payload = await old.receive()
    assert (kind, decode_reason(payload)) == (
        GOODBYE_KIND,
        "replaced by another connection to the same peer",
    )
    (view,) = a.service.peers()
    assert view.remote_address == new.writer.get_extra_info("sockname")[:2]
    # The node hears the old session end before the new one starts, so it greets the peer again.
    assert a.recorder.connected == [new.peer_id, new.peer_id]
    assert a.recorder.disconnected == [
        (new.peer_id, "replaced by another connection to the same peer")
    ]
    await new.send(KIND, b"on the new session")
    await wait_until(lambda: a.recorder.messages, "a message on the new session")


async def test_a_peer_that_does_not_read_is_dropped_when_its_queue_overflows(
    cluster: Cluster,
) -> None:
    config = replace(FAST_CONFIG, max_queue_bytes=1024 * 1024)
    a = await cluster.start(make_key(1), config=config)
    b = await cluster.start(make_key(2), bootstrap=[a.address])
    slow = await cluster.connect_raw(a, make_key(3), receive_buffer=4096)
    await wait_until(lambda: len(a.service.peers()) == 2, "both sessions")

    payload = bytes(64 * 1024)
    queued = 0
    while a.service.send(slow.peer_id, KIND, payload):
        queued += 1
        if queued == 2000:
            pytest.fail("125 MiB were queued to a peer that reads nothing")
        await asyncio.sleep(0)  # Lets the writer fill the socket, as real traffic would.

    await wait_until(lambda: a.recorder.disconnected, "the slow peer to be dropped")
    assert "outbound queue full" in a.recorder.reasons()
    assert queued > 16  # The queue filled up; the peer was not refused outright.
    assert a.peer_ids() == {b.peer_id}
    assert a.service.send(b.peer_id, KIND, b"the others are fine")
    await wait_until(lambda: b.recorder.messages, "b still served")


async def test_keep_alive_drops_a_silent_peer_and_keeps_a_live_one(cluster: Cluster) -> None:
    config = replace(FAST_CONFIG, ping_interval=0.05, peer_timeout=0.3)
    a = await cluster.start(make_key(1), config=config)
    b = await cluster.start(make_key(2), bootstrap=[a.address], config=config)
    silent = await cluster.connect_raw(a, make_key(3))
    await wait_until(lambda: len(a.service.peers()) == 2, "both sessions")

    kind, _ = await silent.receive()
    assert kind == PING_KIND  # What the silent peer fails to answer.
    await wait_until(lambda: a.recorder.disconnected, "the silent peer to be dropped", 2.0)
    assert "keep-alive timeout" in a.recorder.reasons()
    await asyncio.sleep(0.6)  # Two peer timeouts: b answers pings, so it stays.

    assert a.peer_ids() == {b.peer_id}
    assert a.recorder.messages == [] and b.recorder.messages == []  # Pings never surface.


async def test_pong_answers_a_ping_with_its_payload(cluster: Cluster) -> None:
    a = await cluster.start(make_key(1))
    raw = await cluster.connect_raw(a, make_key(2))
    await raw.send(PING_KIND, b"12345678")
    kind, payload = await raw.receive()
    while kind == PING_KIND:  # a's own keep-alive may come first.
        kind, payload = await raw.receive()
    assert (kind, payload) == (PONG_KIND, b"12345678")
    assert a.recorder.messages == []


async def test_inbound_peers_beyond_max_peers_are_refused_with_a_reason(cluster: Cluster) -> None:
    a = await cluster.start(make_key(1), max_peers=1)
    await cluster.connect_raw(a, make_key(2))
    await wait_until(lambda: len(a.service.peers()) == 1, "the first peer")

    refused = await cluster.connect_raw(a, make_key(3), welcome=False)
    kind, payload = await refused.receive()

    assert (kind, decode_reason(payload)) == (GOODBYE_KIND, "too many peers (1)")
    assert await refused.wait_closed_by_remote()
    assert len(a.service.peers()) == 1


async def test_a_configured_peer_gets_in_although_the_node_is_full(cluster: Cluster) -> None:
    a_key = make_key(1)
    # b lists a at an address where nothing listens (a validator behind NAT, say), so a can
    # only get in by dialling b: the exemption from max_peers is for inbound sessions.
    unreachable_a = PeerAddress(compute_peer_id(a_key), HOST, _free_port())
    b = await cluster.start(make_key(2), bootstrap=[unreachable_a], max_peers=1)
    c = await cluster.start(make_key(3), bootstrap=[b.address])
    await wait_until(lambda: b.peer_ids() == {c.peer_id}, "b full with c")
    d = await cluster.start(make_key(4), bootstrap=[b.address])

    a = await cluster.start(a_key, bootstrap=[b.address])

    await wait_until(lambda: b.peer_ids() == {a.peer_id, c.peer_id}, "a admitted")
    assert d.peer_id not in b.peer_ids()  # An unlisted peer is still refused.


async def test_stopping_the_service_says_goodbye_and_closes_the_listener(
    cluster: Cluster,
) -> None:
    a = await cluster.start(make_key(1))
    b = await cluster.start(make_key(2), bootstrap=[a.address])
    await wait_until(lambda: a.peer_ids() == {b.peer_id}, "the session")

    await cluster.stop(a)

    await wait_until(lambda: b.recorder.disconnected, "b told")
    assert "the remote said goodbye: the node is shutting down" in b.recorder.reasons()
    assert a.recorder.disconnected == [(b.peer_id, "the node is shutting down")]
    with pytest.raises(OSError):
        await asyncio.open_connection(HOST, a.port)


class FragileRecorder(Recorder):
    """A node whose message handler has a bug that some messages trigger."""

    def on_message(self, peer_id: PeerId, kind: int, payload: bytes) -> None:
        super().on_message(peer_id, kind, payload)
        if payload == b"boom":
            raise RuntimeError("a bug in the node")


async def test_a_failing_callback_does_not_end_the_session(cluster: Cluster) -> None:
    b = await cluster.start(make_key(2), recorder=FragileRecorder())
    a = await cluster.start(make_key(1), bootstrap=[b.address])
    await wait_until(lambda: b.peer_ids() == {a.peer_id}, "the session")

    a.service.send(b.peer_id, KIND, b"boom")
    a.service.send(b.peer_id, KIND, b"after")

    await wait_until(lambda: len(b.recorder.messages) == 2, "both messages")
    assert b.recorder.payloads_from(a.peer_id) == [b"boom", b"after"]
    assert b.peer_ids() == {a.peer_id} and b.recorder.disconnected == []


async def test_listening_on_a_taken_port_fails_with_a_clear_error(cluster: Cluster) -> None:
    a = await cluster.start(make_key(1))
    service = P2PService(
        make_key(2),
        ChainId(1337),
        Hash32(bytes(32)),
        HOST,
        a.port,
        [],
        lambda *_: None,
        lambda *_: None,
        lambda *_: None,
    )
    with pytest.raises(ListenError, match=f"cannot listen on {HOST}:{a.port}"):
        await service.run()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
