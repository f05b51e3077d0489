"""An in-memory network for tests: the `Network` contract without sockets, driven step by step.

`MemoryNetwork` is a hub; `join()` returns a `MemoryTransport` with the same methods and callbacks
as `P2PService`, so node code runs unchanged. Nothing happens by itself: `send` and `broadcast`
only queue, and the test calls `deliver_next()` or `deliver_all()` to run callbacks, one at a time,
in the test's own thread. Everything random (loss, delay, reordering) comes from one generator
seeded by the test, and time from a `FakeClock`, so a scenario replays identically for a seed.

The model follows the TCP transport: every two joined peers are connected unless a partition, an
explicit disconnect (down for `reconnect_ms`, or the ban if longer) or a departure separates them.
Link changes reach both ends as `on_peer_connected` / `on_peer_disconnected`, before any message;
messages still in flight when a link goes down are lost, as on a closed socket. Messages on one link
keep their order (as on TCP) unless `set_reorder(True)`. Callbacks' exceptions propagate to the
test, where they are easiest to read.
"""

import collections
import heapq
import itertools
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass

from openledger.node.p2p.framing import MAX_FRAME_SIZE, compute_max_payload_size
from openledger.node.p2p.identity import PeerId
from openledger.node.p2p.network import (
    Direction,
    OnMessage,
    OnPeerConnected,
    OnPeerDisconnected,
    PeerInfo,
    compute_excluded,
    validate_application_message,
)
from support.clock import FakeClock

DropFilter = Callable[[PeerId, PeerId, int, bytes], bool]
"""`(sender, recipient, kind, payload) -> True` to lose that message."""


@dataclass(frozen=True, slots=True)
class MessageDelivery:
    """A message handed to its recipient's `on_message`."""

    sender: PeerId
    """Who sent it."""
    recipient: PeerId
    """Who received it."""
    kind: int
    """The message kind."""
    payload: bytes
    """The message payload."""
    at_ms: int
    """Fake-clock time of the delivery."""


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A link change reported to one end (`on_peer_connected` or `on_peer_disconnected`)."""

    peer_id: PeerId
    """The end that is told."""
    remote: PeerId
    """The peer that connected or disconnected."""
    connected: bool
    """True for a connection, False for a disconnection."""
    reason: str
    """Why the link went down (empty for a connection)."""
    at_ms: int
    """Fake-clock time of the change."""


Delivered = MessageDelivery | LinkEvent
"""What `deliver_next()` reports."""


@dataclass(slots=True)
class _Link:
    up: bool = False
    epoch: int = 0
    since_ms: int = 0


@dataclass(frozen=True, slots=True)
class _Envelope:
    sender: PeerId
    recipient: PeerId
    kind: int
    payload: bytes
    epoch: int


class MemoryNetwork:
    """A deterministic hub connecting `MemoryTransport`s."""

    def __init__(
        self,
        seed: int = 0,
        clock: FakeClock | None = None,
        reconnect_ms: int = 500,
        max_frame_size: int = MAX_FRAME_SIZE,
    ) -> None:
        """`reconnect_ms` is how long a link stays down after `disconnect()` without a ban (the
        TCP transport redials after about that long)."""
        self.clock = clock or FakeClock()
        self.delivered = 0
        """Messages handed to a recipient so far."""
        self.dropped = 0
        """Messages lost so far (loss, drop filter, or a link that went down in flight)."""
        self._rng = random.Random(seed)
        self._reconnect_ms = reconnect_ms
        self._max_payload_size = compute_max_payload_size(max_frame_size)
        self._members: dict[PeerId, MemoryTransport] = {}
        self._join_index: dict[PeerId, int] = {}
        self._joins = itertools.count()
        self._groups: dict[PeerId, int] | None = None
        self._down_until: dict[frozenset[PeerId], int] = {}
        self._links: dict[frozenset[PeerId], _Link] = {}
        # Keyed (local end, remote end); reset when a link comes up, like a new session's counters.
        self._bytes_in: collections.Counter[tuple[PeerId, PeerId]] = collections.Counter()
        self._bytes_out: collections.Counter[tuple[PeerId, PeerId]] = collections.Counter()
        self._control: collections.deque[tuple[MemoryTransport, LinkEvent]] = collections.deque()
        self._in_flight: list[tuple[int, int, _Envelope]] = []
        self._ready: list[_Envelope] = []
        self._last_due: dict[tuple[PeerId, PeerId], int] = {}
        self._sequence = itertools.count()
        self._loss = 0.0
        self._delay_ms = (0, 0)
        self._reorder = False
        self._drop_filter: DropFilter | None = None

    @property
    def max_payload_size(self) -> int:
        """The largest payload a message may carry (as on the TCP transport)."""
        return self._max_payload_size

    def join(
        self,
        peer_id: bytes,
        on_message: OnMessage | None = None,
        on_peer_connected: OnPeerConnected | None = None,
        on_peer_disconnected: OnPeerDisconnected | None = None,
    ) -> "MemoryTransport":
        """Adds a peer, connected to every reachable member (events queued for both ends)."""
        member = PeerId(bytes(peer_id))
        if member in self._members:
            raise ValueError(f"peer {member.hex()} already joined")
        transport = MemoryTransport(
            self, member, on_message, on_peer_connected, on_peer_disconnected
        )
        self._members[member] = transport
        self._join_index[member] = next(self._joins)
        self._refresh_links()
        return transport

    def leave(self, peer_id: bytes) -> None:
        """Removes a peer as if its process stopped; it may `join()` again later."""
        self._refresh_links()
        leaving = PeerId(bytes(peer_id))
        self._members.pop(leaving).is_joined = False
        for other in self._members:
            link = self._links.get(frozenset((leaving, other)))
            if link is not None and link.up:
                # The leaver is no longer a member, so only `other` is told.
                self._take_down(link, other, leaving, "connection closed by the remote", "")

    def partition(self, *groups: Collection[bytes]) -> None:
        """Splits the network: peers reach only peers of their own group; peers named in no
        group form one more group together. Replaces any earlier partition."""
        assignment: dict[PeerId, int] = {}
        for number, group in enumerate(groups):
            for peer_id in group:
                if PeerId(peer_id) in assignment:
                    raise ValueError(f"peer {peer_id.hex()} is in two groups")
                assignment[PeerId(peer_id)] = number
        self._groups = assignment
        self._refresh_links()

    def heal(self) -> None:
        """Ends the partition; separated peers reconnect."""
        self._groups = None
        self._refresh_links()

    def set_loss(self, probability: float) -> None:
        """Loses each message with this probability (drawn from the seeded generator)."""
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"loss probability {probability} is outside 0..1")
        self._loss = probability

    def set_delay(self, min_ms: int, max_ms: int) -> None:
        """Delays each message by a uniform whole number of milliseconds in `min_ms..max_ms`."""
        if not 0 <= min_ms <= max_ms:
            raise ValueError(f"delay range {min_ms}..{max_ms} ms is not 0 <= min <= max")
        self._delay_ms = (min_ms, max_ms)

    def set_reorder(self, enabled: bool) -> None:
        """Delivers the ready messages in a seeded random order instead of sending order."""
        self._reorder = enabled

    def set_drop_filter(self, predicate: DropFilter | None) -> None:
        """Loses every message for which `predicate(sender, recipient, kind, payload)` is true."""
        self._drop_filter = predicate

    def deliver_next(self) -> Delivered | None:
        """Runs the next callback (link events first, then a due message); None if none is due."""
        self._refresh_links()
        while self._control:
            transport, event = self._control.popleft()
            if transport.is_joined:
                transport.notify_link(event)
                return event
        while (envelope := self._pop_ready()) is not None:
            link = self._links.get(frozenset((envelope.sender, envelope.recipient)))
            recipient = self._members.get(envelope.recipient)
            if link is None or not link.up or link.epoch != envelope.epoch or recipient is None:
                self.dropped += 1
                continue
            self.delivered += 1
            self._bytes_in[(envelope.recipient, envelope.sender)] += 1 + len(envelope.payload)
            recipient.notify_message(envelope.sender, envelope.kind, envelope.payload)
            return MessageDelivery(
                envelope.sender,
                envelope.recipient,
                envelope.kind,
                envelope.payload,
                self.clock.now(),
            )
        return None

    def deliver_all(self, max_steps: int = 100_000) -> list[Delivered]:
        """Delivers until nothing is due now (the clock does not move); returns what happened."""
        delivered: list[Delivered] = []
        while (step := self.deliver_next()) is not None:
            delivered.append(step)
            if len(delivered) >= max_steps:
                raise RuntimeError(f"still delivering after {max_steps} steps: a message loop?")
        return delivered

    def run_until_idle(self, max_steps: int = 100_000) -> list[Delivered]:
        """Delivers everything in flight, advancing the clock to each delayed message's time."""
        delivered: list[Delivered] = []
        while True:
            delivered.extend(self.deliver_all(max_steps - len(delivered)))
            due = self.next_due_ms()
            if due is None:
                return delivered
            self.clock.advance(max(0, due - self.clock.now()))

    def next_due_ms(self) -> int | None:
        """When the next callback is due (now if one is ready), or None if nothing is in flight."""
        self._refresh_links()
        if self._control or self._ready:
            return self.clock.now()
        if self._in_flight:
            return max(self._in_flight[0][0], self.clock.now())
        return None

    def send_message(self, sender: PeerId, recipient: PeerId, kind: int, payload: bytes) -> bool:
        """Queues one message on an up link (the transports' `send` and `broadcast` call this)."""
        validate_application_message(kind, payload, self._max_payload_size)
        self._refresh_links()
        link = self._links.get(frozenset((sender, recipient)))
        if link is None or not link.up:
            return False
        self._bytes_out[(sender, recipient)] += 1 + len(payload)
        # Random draws happen only for the knobs in use, so a scenario without loss replays the
        # same delays whatever the loss setting of another test.
        lost = self._drop_filter is not None and self._drop_filter(sender, recipient, kind, payload)
        if not lost and self._loss > 0.0:
            lost = self._rng.random() < self._loss
        if lost:
            self.dropped += 1
            return True  # Like TCP: queued as far as the sender can tell, lost on the way.
        low, high = self._delay_ms
        delay = self._rng.randint(low, high) if high > 0 else 0
        # Messages of one link never overtake each other (TCP order), unless reordering is on.
        due = max(self.clock.now() + delay, self._last_due.get((sender, recipient), 0))
        self._last_due[(sender, recipient)] = due
        envelope = _Envelope(sender, recipient, kind, payload, link.epoch)
        heapq.heappush(self._in_flight, (due, next(self._sequence), envelope))
        return True

    def disconnect_peer(
        self, local: PeerId, remote: PeerId, reason: str, ban_seconds: float
    ) -> None:
        """Takes a link down for `reconnect_ms`, or for the ban if longer (transports call this)."""
        self._refresh_links()
        pair = frozenset((local, remote))
        until = self.clock.now() + max(self._reconnect_ms, round(ban_seconds * 1000))
        self._down_until[pair] = max(until, self._down_until.get(pair, until))
        link = self._links.get(pair)
        if link is not None and link.up:
            self._take_down(link, local, remote, reason, f"the remote said goodbye: {reason}")

    def list_peers(self, local: PeerId) -> list[PeerInfo]:
        """The peers `local` has an up link to, in join order (transports' `peers()`)."""
        self._refresh_links()
        infos = []
        for remote in self._members:
            link = self._links.get(frozenset((local, remote)))
            if remote == local or link is None or not link.up:
                continue
            # The later joiner "dialled": that is what a restarted TCP node does.
            dialled = self._join_index[local] > self._join_index[remote]
            infos.append(
                PeerInfo(
                    peer_id=remote,
                    remote_address=("memory", self._join_index[remote]),
                    local_address=("memory", self._join_index[local]),
                    direction=Direction.OUTBOUND if dialled else Direction.INBOUND,
                    connected_since=link.since_ms / 1000,
                    bytes_in=self._bytes_in[(local, remote)],
                    bytes_out=self._bytes_out[(local, remote)],
                    listen_port=0,
                )
            )
        return infos

    def _refresh_links(self) -> None:
        # Link state is derived from membership, the partition, disconnects and the clock; it is
        # recomputed at every entry point because the test may have moved the clock in between.
        members = list(self._members)
        now = self.clock.now()
        for position, first in enumerate(members):
            for second in members[position + 1 :]:
                pair = frozenset((first, second))
                link = self._links.setdefault(pair, _Link())
                reason = self._compute_separation(first, second, now)
                if reason is None and not link.up:
                    link.up = True
                    link.since_ms = now
                    for local, remote in ((first, second), (second, first)):
                        self._bytes_in[(local, remote)] = 0
                        self._bytes_out[(local, remote)] = 0
                        self._queue_event(local, remote, True, "")
                elif reason is not None and link.up:
                    self._take_down(link, first, second, reason, reason)

    def _compute_separation(self, first: PeerId, second: PeerId, now: int) -> str | None:
        if self._groups is not None and self._groups.get(first, -1) != self._groups.get(second, -1):
            return "network partitioned"
        if self._down_until.get(frozenset((first, second)), now) > now:
            return "disconnected"
        return None

    def _take_down(
        self, link: _Link, first: PeerId, second: PeerId, first_reason: str, second_reason: str
    ) -> None:
        link.up = False
        # A new epoch: what was sent on the old session can no longer arrive.
        link.epoch += 1
        self._queue_event(first, second, False, first_reason)
        self._queue_event(second, first, False, second_reason)

    def _queue_event(self, local: PeerId, remote: PeerId, connected: bool, reason: str) -> None:
        transport = self._members.get(local)
        if transport is not None:
            event = LinkEvent(local, remote, connected, reason, self.clock.now())
            self._control.append((transport, event))

    def _pop_ready(self) -> _Envelope | None:
        now = self.clock.now()
        if not self._reorder:
            if self._ready:
                return self._ready.pop(0)  # Left over from a reordering phase, oldest first.
            if self._in_flight and self._in_flight[0][0] <= now:
                return heapq.heappop(self._in_flight)[2]
            return None
        while self._in_flight and self._in_flight[0][0] <= now:
            self._ready.append(heapq.heappop(self._in_flight)[2])
        if not self._ready:
            return None
        chosen = self._rng.randrange(len(self._ready))
        self._ready[chosen], self._ready[-1] = self._ready[-1], self._ready[chosen]
        return self._ready.pop()


class MemoryTransport:
    """One peer's endpoint on a `MemoryNetwork`; the same contract as `P2PService`.

    The callbacks are attributes, so a node built after its transport can plug itself in.
    """

    def __init__(
        self,
        hub: MemoryNetwork,
        peer_id: PeerId,
        on_message: OnMessage | None,
        on_peer_connected: OnPeerConnected | None,
        on_peer_disconnected: OnPeerDisconnected | None,
    ) -> None:
        self.on_message = on_message
        self.on_peer_connected = on_peer_connected
        self.on_peer_disconnected = on_peer_disconnected
        self.is_joined = True
        """False once the peer left the hub; it then sends and receives nothing."""
        self._hub = hub
        self._peer_id = peer_id

    @property
    def local_peer_id(self) -> PeerId:
        """This endpoint's peer id."""
        return self._peer_id

    def broadcast(
        self, kind: int, payload: bytes, exclude: PeerId | Collection[PeerId] | None = None
    ) -> int:
        """Queues a message to every connected peer but `exclude`; returns how many."""
        # Checked even with no peer connected, so a bad kind fails in every test, not only some.
        validate_application_message(kind, payload, self._hub.max_payload_size)
        excluded = compute_excluded(exclude)
        queued = 0
        for info in self.peers():
            if info.peer_id not in excluded and self.send(info.peer_id, kind, payload):
                queued += 1
        return queued

    def send(self, peer_id: PeerId, kind: int, payload: bytes) -> bool:
        """Queues a message to one peer; False if it is not connected."""
        if not self.is_joined:
            return False
        return self._hub.send_message(self._peer_id, PeerId(peer_id), kind, payload)

    def disconnect(self, peer_id: PeerId, reason: str, ban_seconds: float = 0.0) -> None:
        """Takes the link to `peer_id` down; it comes back after the ban (or `reconnect_ms`)."""
        if self.is_joined:
            self._hub.disconnect_peer(self._peer_id, PeerId(peer_id), reason, ban_seconds)

    def peers(self) -> list[PeerInfo]:
        """The peers connected now."""
        return self._hub.list_peers(self._peer_id) if self.is_joined else []

    def notify_message(self, sender: PeerId, kind: int, payload: bytes) -> None:
        """Runs `on_message` (the hub calls this on delivery)."""
        if self.on_message is not None:
            self.on_message(sender, kind, payload)

    def notify_link(self, event: LinkEvent) -> None:
        """Runs the connection callbacks (the hub calls this on delivery)."""
        if event.connected:
            if self.on_peer_connected is not None:
                self.on_peer_connected(event.remote)
        elif self.on_peer_disconnected is not None:
            self.on_peer_disconnected(event.remote, event.reason)
