"""Test helpers for the p2p transport: running services, recording callbacks, raw peers.

A `Cluster` starts real `P2PService`s on 127.0.0.1, port 0, with timers shrunk to milliseconds,
and stops them all at the end of the test. A `RawPeer` performs a genuine handshake and welcome
and then lets the test write whatever bytes it likes, to play a misbehaving or slow peer.
"""

import asyncio
import random
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from eth_keys.datatypes import PrivateKey

from openledger.genesis.types import ChainId, Hash32
from openledger.node.p2p.config import TransportConfig
from openledger.node.p2p.framing import FrameOpener, FrameSealer, read_frame
from openledger.node.p2p.handshake import HandshakeParams, HandshakeResult, dial_handshake
from openledger.node.p2p.identity import PeerAddress, PeerId, compute_peer_id
from openledger.node.p2p.peer import WELCOME_KIND
from openledger.node.p2p.service import P2PService

CHAIN_ID = ChainId(1337)
GENESIS_HASH = Hash32(bytes.fromhex("11" * 32))
HOST = "127.0.0.1"
KIND = 42
"""An application message kind for tests."""

FAST_CONFIG = TransportConfig(
    handshake_timeout=2.0,
    ping_interval=0.5,
    peer_timeout=2.0,
    dial_backoff_initial=0.05,
    dial_backoff_max=0.2,
    close_grace=0.5,
)
"""Production bounds with timers shrunk so reconnects and timeouts happen within a test."""


def make_key(seed: int) -> PrivateKey:
    """A deterministic node key, so a failing test replays with the same peer ids."""
    return PrivateKey(random.Random(seed).randbytes(32))


def order_keys(first: PrivateKey, second: PrivateKey) -> tuple[PrivateKey, PrivateKey]:
    """The two keys sorted by peer id, smaller first."""
    if compute_peer_id(first) < compute_peer_id(second):
        return first, second
    return second, first


async def wait_until(predicate: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """Polls `predicate` until truthy; fails the test with `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


@dataclass
class Recorder:
    """Records what a service reports through its three callbacks."""

    messages: list[tuple[PeerId, int, bytes]] = field(default_factory=list)
    connected: list[PeerId] = field(default_factory=list)
    disconnected: list[tuple[PeerId, str]] = field(default_factory=list)

    def on_message(self, peer_id: PeerId, kind: int, payload: bytes) -> None:
        self.messages.append((peer_id, kind, payload))

    def on_peer_connected(self, peer_id: PeerId) -> None:
        self.connected.append(peer_id)

    def on_peer_disconnected(self, peer_id: PeerId, reason: str) -> None:
        self.disconnected.append((peer_id, reason))

    def payloads_from(self, peer_id: PeerId) -> list[bytes]:
        return [payload for sender, _, payload in self.messages if sender == peer_id]

    def reasons(self) -> str:
        return " | ".join(reason for _, reason in self.disconnected)


@dataclass
class RunningNode:
    """A service running in a task, with its recorder."""

    service: P2PService
    recorder: Recorder
    task: asyncio.Task[None]
    key: PrivateKey
    port: int

    @property
    def peer_id(self) -> PeerId:
        return compute_peer_id(self.key)

    @property
    def address(self) -> PeerAddress:
        return PeerAddress(self.peer_id, HOST, self.port)

    def peer_ids(self) -> set[PeerId]:
        return {info.peer_id for info in self.service.peers()}


class Cluster:
    """Starts services for one test and stops every one of them at its end."""

    def __init__(self) -> None:
        self._nodes: list[RunningNode] = []
        self._raw_peers: list[RawPeer] = []

    async def start(
        self,
        key: PrivateKey,
        bootstrap: Iterable[PeerAddress | str] = (),
        *,
        chain_id: ChainId = CHAIN_ID,
        genesis_hash: Hash32 = GENESIS_HASH,
        config: TransportConfig = FAST_CONFIG,
        max_peers: int = 50,
        port: int = 0,
        recorder: Recorder | None = None,
    ) -> RunningNode:
        recorder = recorder or Recorder()
        service = P2PService(
            key,
            chain_id,
            genesis_hash,
            HOST,
            port,
            bootstrap,
            recorder.on_message,
            recorder.on_peer_connected,
            recorder.on_peer_disconnected,
            max_peers=max_peers,
            config=config,
            rng=random.Random(0),
        )
        task = asyncio.create_task(service.run())
        listening = asyncio.create_task(service.wait_listening())
        await asyncio.wait({task, listening}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            listening.cancel()
            task.result()  # Raises the reason it could not start.
        node = RunningNode(service, recorder, task, key, service.listen_port)
        self._nodes.append(node)
        return node

    async def stop(self, node: RunningNode) -> None:
        node.task.cancel()
        await asyncio.gather(node.task, return_exceptions=True)

    async def connect_raw(
        self,
        node: RunningNode,
        key: PrivateKey,
        *,
        receive_buffer: int | None = None,
        welcome: bool = True,
    ) -> "RawPeer":
        peer = await RawPeer.connect(node, key, receive_buffer=receive_buffer, welcome=welcome)
        self._raw_peers.append(peer)
        return peer

    async def close(self) -> None:
        for peer in self._raw_peers:
            peer.writer.transport.abort()
        for node in self._nodes:
            await self.stop(node)
        for node in self._nodes:
            if not node.task.cancelled() and node.task.exception() is not None:
                raise AssertionError("a service failed") from node.task.exception()


class RawPeer:
    """A hand-driven peer: real handshake and welcome, then any bytes the test writes."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handshake: HandshakeResult,
        peer_id: PeerId,
    ) -> None:
        self.peer_id = peer_id
        """Our (the raw peer's) id, as the service sees it."""
        self.reader = reader
        self.writer = writer
        self.handshake = handshake
        self.sealer = FrameSealer(handshake.send_key)
        self.opener = FrameOpener(handshake.receive_key)

    @classmethod
    async def connect(
        cls,
        node: RunningNode,
        key: PrivateKey,
        *,
        receive_buffer: int | None = None,
        welcome: bool = True,
    ) -> "RawPeer":
        """Dials `node`; `receive_buffer` shrinks the socket's buffer to play a slow reader."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (HOST, node.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        params = HandshakeParams(key, CHAIN_ID, GENESIS_HASH, listen_port=0)
        handshake = await dial_handshake(reader, writer, params, node.peer_id)
        peer = cls(reader, writer, handshake, compute_peer_id(key))
        if welcome:
            await peer.send(WELCOME_KIND, b"")
            kind, payload = await peer.receive()
            if kind != WELCOME_KIND:
                raise AssertionError(f"expected a welcome, got kind {kind}: {payload!r}")
        return peer

    async def send(self, kind: int, payload: bytes) -> None:
        await self.write(self.sealer.seal(kind, payload))

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self) -> tuple[int, bytes]:
        kind, payload, _ = await asyncio.wait_for(read_frame(self.reader, self.opener), 5)
        return kind, payload

    async def wait_closed_by_remote(self, timeout: float = 5.0) -> bool:
        """True if the remote closes the connection within `timeout` (whatever it sent before)."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(65536):
                    pass
        except TimeoutError:
            return False
        except ConnectionError:
            return True
        return True
