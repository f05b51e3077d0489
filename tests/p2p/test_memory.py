"""The in-memory network: the `Network` contract, and deterministic loss, delay and partitions."""

from dataclasses import dataclass, field

import pytest
from support.clock import FakeClock
from support.memory import LinkEvent, MemoryNetwork, MemoryTransport, MessageDelivery

from openledger.node.p2p.errors import MessageTooLarge
from openledger.node.p2p.identity import PeerId
from openledger.node.p2p.network import Direction, Network

A, B, C, D = (PeerId(name) for name in (b"alice", b"bob", b"carol", b"dave"))
KIND = 42


@dataclass
class Inbox:
    """What one endpoint's callbacks saw."""

    messages: list[tuple[PeerId, int, bytes]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def on_message(self, peer_id: PeerId, kind: int, payload: bytes) -> None:
        self.messages.append((peer_id, kind, payload))

    def on_peer_connected(self, peer_id: PeerId) -> None:
        self.events.append(f"+{peer_id.decode()}")

    def on_peer_disconnected(self, peer_id: PeerId, reason: str) -> None:
        self.events.append(f"-{peer_id.decode()}: {reason}")

    def payloads(self) -> list[bytes]:
        return [payload for _, _, payload in self.messages]


def _network(
    *peers: PeerId, seed: int = 1
) -> tuple[MemoryNetwork, dict[PeerId, MemoryTransport], dict[PeerId, Inbox]]:
    hub = MemoryNetwork(seed=seed)
    inboxes = {peer: Inbox() for peer in peers}
    transports = {
        peer: hub.join(
            peer,
            on_message=inboxes[peer].on_message,
            on_peer_connected=inboxes[peer].on_peer_connected,
            on_peer_disconnected=inboxes[peer].on_peer_disconnected,
        )
        for peer in peers
    }
    hub.deliver_all()
    return hub, transports, inboxes


def test_peers_connect_and_messages_wait_for_delivery() -> None:
    hub, net, inbox = _network(A, B, C)
    assert inbox[A].events == ["+bob", "+carol"]
    assert [info.peer_id for info in net[B].peers()] == [A, C]

    assert net[A].broadcast(KIND, b"hello") == 2
    assert net[B].send(A, KIND, b"hi alice")
    assert inbox[B].messages == [] and inbox[A].messages == []  # Nothing moves by itself.

    delivered = hub.deliver_all()

    assert [type(step) for step in delivered] == [MessageDelivery] * 3
    assert inbox[B].messages == [(A, KIND, b"hello")]
    assert inbox[C].messages == [(A, KIND, b"hello")]
    assert inbox[A].messages == [(B, KIND, b"hi alice")]
    assert hub.deliver_next() is None


def test_broadcast_excludes_and_send_to_a_stranger_fails() -> None:
    hub, net, inbox = _network(A, B, C)
    assert net[A].broadcast(KIND, b"relay", exclude=B) == 1
    assert net[A].broadcast(KIND, b"relay 2", exclude=[B, C]) == 0
    assert net[A].send(D, KIND, b"who?") is False
    hub.deliver_all()
    assert inbox[B].messages == [] and inbox[C].payloads() == [b"relay"]


def test_peer_info_mirrors_the_tcp_transport() -> None:
    hub, net, _ = _network(A, B)
    net[A].send(B, KIND, b"12345")
    hub.deliver_all()
    (a_view,) = net[A].peers()
    (b_view,) = net[B].peers()
    assert (a_view.direction, b_view.direction) == (Direction.INBOUND, Direction.OUTBOUND)
    assert a_view.bytes_out == b_view.bytes_in == 6
    assert a_view.local_address == b_view.remote_address


def test_the_transport_satisfies_the_network_protocol_and_its_limits() -> None:
    hub = MemoryNetwork(max_frame_size=1024)
    network: Network = hub.join(A)
    with pytest.raises(ValueError, match="reserved"):
        network.broadcast(0, b"ping")
    with pytest.raises(MessageTooLarge):
        network.broadcast(KIND, bytes(1024))


def test_callbacks_may_be_plugged_in_after_joining() -> None:
    hub = MemoryNetwork()
    a, b = hub.join(A), hub.join(B)
    inbox = Inbox()
    b.on_message = inbox.on_message
    a.send(B, KIND, b"late wiring")
    hub.deliver_all()
    assert inbox.payloads() == [b"late wiring"]


def test_a_partition_separates_groups_until_healed() -> None:
    hub, net, inbox = _network(A, B, C, D)
    net[A].send(C, KIND, b"in flight when the network splits")

    hub.partition({A, B}, {C, D})
    hub.deliver_all()

    assert inbox[C].messages == []  # Lost with the connection it travelled on.
    assert "-alice: network partitioned" in inbox[C].events
    assert [info.peer_id for info in net[A].peers()] == [B]
    assert net[A].send(C, KIND, b"x") is False
    assert net[A].broadcast(KIND, b"to my side") == 1
    hub.deliver_all()
    assert inbox[B].payloads() == [b"to my side"] and inbox[D].messages == []

    hub.heal()
    hub.deliver_all()
    assert inbox[C].events[-2:] == ["+alice", "+bob"]
    assert net[A].broadcast(KIND, b"together again") == 3
    hub.deliver_all()
    assert inbox[D].payloads() == [b"together again"]


def test_peers_named_in_no_group_form_one_more_group() -> None:
    hub, net, _ = _network(A, B, C, D)
    hub.partition({A})
    assert [info.peer_id for info in net[B].peers()] == [C, D]
    assert net[A].peers() == []
    with pytest.raises(ValueError, match="two groups"):
        hub.partition({A, B}, {B})


def test_delay_follows_the_fake_clock_and_keeps_each_link_in_order() -> None:
    clock = FakeClock()
    hub = MemoryNetwork(seed=3, clock=clock)
    inbox = Inbox()
    a = hub.join(A)
    hub.join(B, on_message=inbox.on_message)
    hub.deliver_all()
    hub.set_delay(10, 50)

    for number in range(20):
        a.send(B, KIND, bytes([number]))
    assert hub.deliver_all() == []
    clock.advance(9)
    assert hub.deliver_all() == []

    clock.advance(41)
    delivered = hub.deliver_all()

    assert [step.at_ms for step in delivered] == [50] * 20
    assert inbox.payloads() == [bytes([number]) for number in range(20)]  # TCP order.
    assert hub.next_due_ms() is None


def test_run_until_idle_moves_the_clock_to_each_delayed_message() -> None:
    hub, net, inbox = _network(A, B, C, seed=5)
    hub.set_delay(100, 300)
    net[A].broadcast(KIND, b"one")
    net[C].send(B, KIND, b"two")

    delivered = hub.run_until_idle()

    assert len(delivered) == 3 and all(100 <= step.at_ms <= 300 for step in delivered)
    assert hub.clock.now() == max(step.at_ms for step in delivered)
    assert sorted(inbox[B].payloads()) == [b"one", b"two"]


def test_loss_is_deterministic_for_a_seed() -> None:
    def scenario(seed: int) -> list[bytes]:
        hub, net, inbox = _network(A, B, seed=seed)
        hub.set_loss(0.3)
        for number in range(200):
            net[A].send(B, KIND, number.to_bytes(2, "big"))
        hub.deliver_all()
        assert hub.dropped == 200 - len(inbox[B].messages)
        return inbox[B].payloads()

    first = scenario(seed=7)
    assert scenario(seed=7) == first
    assert scenario(seed=8) != first
    assert 110 <= len(first) <= 170  # About 70 % of 200 arrive.


def test_reordering_is_deterministic_for_a_seed() -> None:
    def scenario(seed: int) -> list[bytes]:
        hub, net, inbox = _network(A, B, seed=seed)
        hub.set_reorder(True)
        for number in range(30):
            net[A].send(B, KIND, bytes([number]))
        hub.deliver_all()
        return inbox[B].payloads()

    first = scenario(seed=11)
    in_order = [bytes([number]) for number in range(30)]
    assert sorted(first) == in_order and first != in_order
    assert scenario(seed=11) == first
    assert scenario(seed=12) != first


def test_a_drop_filter_loses_chosen_messages() -> None:
    hub, net, inbox = _network(A, B, C)
    hub.set_drop_filter(lambda sender, recipient, kind, payload: recipient == C)
    net[A].broadcast(KIND, b"not for carol")
    hub.deliver_all()
    assert inbox[B].payloads() == [b"not for carol"] and inbox[C].messages == []
    hub.set_drop_filter(None)
    net[A].broadcast(KIND, b"now for all")
    hub.deliver_all()
    assert inbox[C].payloads() == [b"now for all"]


def test_disconnect_bans_the_link_until_the_ban_ends() -> None:
    hub, net, inbox = _network(A, B)
    net[B].send(A, KIND, b"invalid block")
    hub.deliver_all()

    net[A].disconnect(B, "sent an invalid block", ban_seconds=60)
    hub.deliver_all()

    assert inbox[A].events[-1] == "-bob: sent an invalid block"
    assert inbox[B].events[-1] == "-alice: the remote said goodbye: sent an invalid block"
    hub.clock.advance(59_999)
    assert net[B].send(A, KIND, b"let me in") is False
    hub.clock.advance(1)
    hub.deliver_all()
    assert inbox[A].events[-1] == "+bob"
    assert net[B].send(A, KIND, b"reformed")


def test_disconnect_without_a_ban_reconnects_after_reconnect_ms() -> None:
    hub, net, _ = _network(A, B)
    net[A].disconnect(B, "resync")
    hub.clock.advance(499)
    assert net[A].peers() == []
    hub.clock.advance(1)
    assert [info.peer_id for info in net[A].peers()] == [B]


def test_a_peer_that_leaves_and_rejoins_starts_a_new_session() -> None:
    hub, net, inbox = _network(A, B)
    net[A].send(B, KIND, b"to the old process")
    hub.leave(B)
    events = hub.deliver_all()

    assert events == [LinkEvent(A, B, False, "connection closed by the remote", 0)]
    assert net[B].send(A, KIND, b"x") is False and net[B].peers() == []

    fresh = Inbox()
    hub.join(B, on_message=fresh.on_message, on_peer_connected=fresh.on_peer_connected)
    hub.deliver_all()
    assert fresh.events == ["+alice"] and fresh.messages == [] and inbox[B].messages == []


def test_the_fake_clock_only_moves_forward() -> None:
    clock = FakeClock(start_ms=5)
    clock.advance(10)
    assert clock.now() == 15
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_an_endless_echo_is_reported_instead_of_hanging() -> None:
    hub = MemoryNetwork()
    a = hub.join(A)
    b = hub.join(B)
    a.on_message = a.send  # Each echoes whatever it receives back to the sender.
    b.on_message = b.send
    a.send(B, KIND, b"ping-pong")
    with pytest.raises(RuntimeError, match="after 1000 steps"):
        hub.deliver_all(max_steps=1000)


def test_a_whole_scenario_replays_identically_for_a_seed() -> None:
    def scenario(seed: int) -> list[tuple[str, bytes, bytes, int]]:
        hub, net, _ = _network(A, B, C, D, seed=seed)
        hub.set_loss(0.2)
        hub.set_delay(5, 80)
        hub.set_reorder(True)
        trace = []
        for round_number in range(10):
            if round_number == 4:
                hub.partition({A, B}, {C, D})
            if round_number == 7:
                hub.heal()
            for sender in (A, B, C, D):
                net[sender].broadcast(KIND, sender + bytes([round_number]))
            hub.clock.advance(20)
            for step in hub.deliver_all():
                if isinstance(step, MessageDelivery):
                    trace.append(("msg", step.recipient, step.payload, step.at_ms))
                else:
                    trace.append(("link", step.peer_id, step.remote, step.at_ms))
        return trace

    first = scenario(seed=21)
    assert len(first) > 50
    assert scenario(seed=21) == first
    assert scenario(seed=22) != first
