"""One established session with a peer: its outbound queue, reader, writer and keep-alive.

A `PeerConnection` starts right after the handshake. It first exchanges the welcome (each side
says, in its first encrypted frame, whether it accepts the session, so a refused peer learns why
and never sees a connected-then-dropped flap), then runs three tasks until the session ends: the
reader hands application messages to `on_message`, the writer drains a bounded queue into the
socket, and the keep-alive pings and drops a peer that stays silent too long.

Reserved kinds used here: 0 ping, 1 pong, 2 goodbye (payload: UTF-8 reason), 3 welcome. A session
is closed by calling `close(reason)`; `run()` then returns that reason. Who may connect, and what a
closed session means for the node, is `service.py`'s business.
"""

import asyncio
import collections
import contextlib
import logging
import time

from openledger.node.p2p.budget import InboundBudget, InboundBudgetExhausted
from openledger.node.p2p.config import TransportConfig
from openledger.node.p2p.errors import (
    FrameError,
    HandshakeError,
    HandshakeTimeout,
    PeerRefused,
    ProtocolViolation,
)
from openledger.node.p2p.framing import FrameOpener, FrameSealer, read_frame
from openledger.node.p2p.handshake import HandshakeResult
from openledger.node.p2p.identity import PeerId, short_peer_id
from openledger.node.p2p.network import MIN_APPLICATION_KIND, Direction, OnMessage, PeerInfo

log = logging.getLogger(__name__)

PING_KIND = 0
"""Keep-alive request; the payload (at most 8 bytes) is echoed in the pong."""
PONG_KIND = 1
"""Keep-alive answer."""
GOODBYE_KIND = 2
"""The sender is closing the session; the payload is the reason, UTF-8."""
WELCOME_KIND = 3
"""The first frame of a session: the sender accepts it."""

MAX_REASON_BYTES = 256
"""Longest goodbye reason sent or shown; a reason is for a log line, not a document."""


class PeerConnection:
    """An authenticated session with one peer, from the welcome until it closes."""

    def __init__(
        self,
        *,
        handshake: HandshakeResult,
        direction: Direction,
        dialer: PeerId,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        config: TransportConfig,
        on_message: OnMessage,
        budget: InboundBudget | None = None,
    ) -> None:
        """`budget` is shared by every session of a service (see `budget.py`)."""
        self.peer_id = handshake.peer_id
        self.direction = direction
        self.dialer = dialer
        """Who opened the TCP connection: the rule that resolves a simultaneous dial needs it."""
        self.close_reason: str | None = None
        self.misbehaved = False
        """Whether the session ended because the peer sent a bad or stalled frame."""
        self._budget = budget
        self.bytes_in = 0
        self.bytes_out = 0
        self._listen_port = handshake.remote_hello.listen_port
        self._reader = reader
        self._writer = writer
        self._config = config
        self._on_message = on_message
        self._sealer = FrameSealer(handshake.send_key, config.max_frame_size)
        self._opener = FrameOpener(handshake.receive_key, config.max_frame_size)
        self._queue: collections.deque[tuple[int, bytes]] = collections.deque()
        self._queued_bytes = 0
        self._queue_ready = asyncio.Event()
        self._closed = asyncio.Event()
        self._finished = asyncio.Event()
        self._send_goodbye = False
        self._abort = False
        self._connected_since = time.time()
        self._last_received = asyncio.get_running_loop().time()
        self._remote_address = _get_address(writer, "peername")
        self._local_address = _get_address(writer, "sockname")

    @property
    def is_closed(self) -> bool:
        """Whether `close()` was called; a closed connection delivers and sends nothing more."""
        return self._closed.is_set()

    def info(self) -> PeerInfo:
        """A snapshot for `peers()`."""
        return PeerInfo(
            peer_id=self.peer_id,
            remote_address=self._remote_address,
            local_address=self._local_address,
            direction=self.direction,
            connected_since=self._connected_since,
            bytes_in=self.bytes_in,
            bytes_out=self.bytes_out,
            listen_port=self._listen_port,
        )

    async def exchange_welcome(self) -> None:
        """Sends our welcome and waits for the remote's; raises `PeerRefused` if it said goodbye."""
        try:
            async with asyncio.timeout(self._config.handshake_timeout):
                self._write_frame(WELCOME_KIND, b"")
                await self._writer.drain()
                kind, payload, size = await read_frame(
                    self._reader, self._opener, self._budget, self._config.handshake_timeout
                )
        except TimeoutError:
            raise HandshakeTimeout("the remote sent no welcome in time") from None
        except asyncio.IncompleteReadError:
            raise HandshakeError("connection closed by the remote before its welcome") from None
        except OSError as error:
            raise HandshakeError(f"connection failed before the welcome: {error}") from error
        self.bytes_in += size
        if kind == GOODBYE_KIND:
            raise PeerRefused(f"refused by the remote: {decode_reason(payload)}")
        if kind != WELCOME_KIND:
            raise ProtocolViolation(f"expected a welcome, got a frame of kind {kind}")

    async def refuse(self, reason: str) -> None:
        """Tells the remote why we will not hold a session with it, and closes."""
        self.close(reason)
        await self._shut_down_transport()

    def enqueue(self, kind: int, payload: bytes) -> bool:
        """Queues a message; on overflow drops the peer as too slow and returns False."""
        if self.is_closed:
            return False
        limits = self._config
        # One message always fits in an empty queue, so a large but legal message is never refused
        # for its size alone.
        too_many_bytes = self._queued_bytes > 0 and (
            self._queued_bytes + len(payload) > limits.max_queue_bytes
        )
        if len(self._queue) >= limits.max_queue_messages or too_many_bytes:
            self.close(
                f"outbound queue full ({len(self._queue)} messages, {self._queued_bytes} bytes): "
                "peer reads too slowly",
                goodbye=False,
                abort=True,
            )
            return False
        self._queue.append((kind, payload))
        self._queued_bytes += len(payload)
        self._queue_ready.set()
        return True

    def close(self, reason: str, *, goodbye: bool = True, abort: bool = False) -> None:
        """Ends the session (idempotent); the first reason given is the one reported.

        `goodbye` sends the reason to the remote; `abort` resets the socket without flushing, for a
        peer that does not read (flushing to it could take forever).
        """
        if self.is_closed:
            return
        self.close_reason = reason
        self._send_goodbye = goodbye and not abort
        self._abort = abort
        self._closed.set()

    async def run(self) -> str:
        """Carries messages until the session closes; returns the reason it closed."""
        tasks = [
            asyncio.create_task(self._read_loop()),
            asyncio.create_task(self._write_loop()),
            asyncio.create_task(self._keepalive_loop()),
        ]
        try:
            await self._closed.wait()
        finally:
            self.close("the node is shutting down")
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._shut_down_transport()
            self._finished.set()
        return self.close_reason or "closed"

    async def wait_finished(self) -> None:
        """Returns once `run()` has ended and the socket is closed."""
        await self._finished.wait()

    async def _read_loop(self) -> None:
        try:
            while not self.is_closed:
                kind, payload, size = await read_frame(
                    self._reader, self._opener, self._budget, self._config.frame_timeout
                )
                self.bytes_in += size
                self._last_received = asyncio.get_running_loop().time()
                if self.is_closed:
                    return
                self._dispatch(kind, payload)
        except FrameError as error:
            self.misbehaved = True
            self.close(f"misbehaving peer: {error}")
        except InboundBudgetExhausted as error:
            self.close(str(error))
        except asyncio.IncompleteReadError:
            self.close("connection closed by the remote", goodbye=False)
        except OSError as error:
            self.close(f"connection lost: {error}", goodbye=False)

    def _dispatch(self, kind: int, payload: bytes) -> None:
        if kind >= MIN_APPLICATION_KIND:
            self._on_message(self.peer_id, kind, payload)
        elif kind == PING_KIND:
            self.enqueue(PONG_KIND, payload[:8])
        elif kind == GOODBYE_KIND:
            self.close(f"the remote said goodbye: {decode_reason(payload)}", goodbye=False)
        elif kind == WELCOME_KIND:
            self.close("protocol violation: a second welcome")
        # Pongs only prove liveness (any frame does); other reserved kinds are ignored so that a
        # later version may add control messages without breaking this one.

    async def _write_loop(self) -> None:
        try:
            while not self.is_closed:
                if not self._queue:
                    self._queue_ready.clear()
                    await self._queue_ready.wait()
                    continue
                kind, payload = self._queue.popleft()
                self._queued_bytes -= len(payload)
                self._write_frame(kind, payload)
                await self._writer.drain()
        except FrameError as error:
            self.close(f"cannot send: {error}")
        except OSError as error:
            self.close(f"connection lost: {error}", goodbye=False)

    async def _keepalive_loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval, timeout = self._config.ping_interval, self._config.peer_timeout
        next_ping = loop.time() + interval
        counter = 0
        while not self.is_closed:
            now = loop.time()
            silent_for = now - self._last_received
            if silent_for >= timeout:
                self.close(f"keep-alive timeout: nothing received for {silent_for:.1f} s")
                return
            if now >= next_ping:
                counter += 1
                self.enqueue(PING_KIND, counter.to_bytes(8, "big"))
                next_ping = now + interval
            await asyncio.sleep(min(next_ping, self._last_received + timeout) - now)

    def _write_frame(self, kind: int, payload: bytes) -> None:
        # Sealing and writing happen without an await in between, so frames reach the socket in
        # nonce order even when `close()` writes the goodbye itself.
        frame = self._sealer.seal(kind, payload)
        self._writer.write(frame)
        self.bytes_out += len(frame)

    async def _shut_down_transport(self) -> None:
        transport = self._writer.transport
        if self._abort:
            transport.abort()
            return
        if self._send_goodbye and not self._writer.is_closing():
            self._send_goodbye = False
            reason = (self.close_reason or "").encode("utf-8")[:MAX_REASON_BYTES]
            # Out of nonces, the remote sees the connection close without a reason; nothing more.
            with contextlib.suppress(FrameError):
                self._write_frame(GOODBYE_KIND, reason)
        self._writer.close()
        try:
            async with asyncio.timeout(self._config.close_grace):
                await self._writer.wait_closed()
        except TimeoutError:
            log.debug("peer %s did not take our goodbye in time", short_peer_id(self.peer_id))
            transport.abort()
        except OSError:
            pass  # The connection already failed; there is nothing left to flush.


def decode_reason(payload: bytes) -> str:
    """A goodbye reason made safe for one log line (bounded, printable)."""
    text = payload[:MAX_REASON_BYTES].decode("utf-8", errors="replace")
    return "".join(char if char.isprintable() else "?" for char in text)


def _get_address(writer: asyncio.StreamWriter, name: str) -> tuple[str, int]:
    address = writer.get_extra_info(name)
    if isinstance(address, tuple) and len(address) >= 2:
        # IPv6 addresses come as (host, port, flowinfo, scope_id); the last two mean nothing here.
        return str(address[0]), int(address[1])
    return ("?", 0)
