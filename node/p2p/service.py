"""The TCP peer-to-peer service: listens, dials the configured peers, and keeps the sessions.

`P2PService` is the node's `Network`. It accepts inbound connections, dials every bootstrap peer
and redials it (exponential back-off with jitter) whenever the session drops, admits at most one
session per peer id, enforces bans and the peer limit, and reports sessions to the node through
three callbacks. What the payloads mean is the node's business.

Who is admitted (bans, the peer limit, one session per peer) is decided by `admission.py`.
Why one file of about 400 lines: listening, dialling and the session table are one piece of
event-loop state; the session itself (`peer.py`), the handshake and the framing are apart.
"""

import asyncio
import logging
import random
import time
from collections.abc import Callable, Collection, Coroutine, Iterable
from typing import Any

from eth_keys.datatypes import PrivateKey

from openledger.genesis.types import ChainId, Hash32
from openledger.node.p2p.admission import compute_refusal
from openledger.node.p2p.backoff import compute_backoff_delay
from openledger.node.p2p.bans import BanList
from openledger.node.p2p.budget import InboundBudget
from openledger.node.p2p.config import TransportConfig
from openledger.node.p2p.errors import (
    IncompatiblePeer,
    ListenError,
    P2PError,
    PeerAuthenticationError,
)
from openledger.node.p2p.framing import compute_max_payload_size
from openledger.node.p2p.handshake import HandshakeParams, accept_handshake, dial_handshake
from openledger.node.p2p.identity import (
    PeerAddress,
    PeerId,
    compute_peer_id,
    parse_peer_address,
    short_peer_id,
)
from openledger.node.p2p.network import (
    Direction,
    OnMessage,
    OnPeerConnected,
    OnPeerDisconnected,
    PeerInfo,
    compute_excluded,
    validate_application_message,
)
from openledger.node.p2p.peer import PeerConnection

log = logging.getLogger(__name__)


class P2PService:
    """Authenticated, encrypted sessions with the peers of one chain, over TCP."""

    def __init__(
        self,
        node_key: PrivateKey,
        chain_id: ChainId,
        genesis_hash: Hash32,
        listen_host: str,
        listen_port: int,
        bootstrap_peers: Iterable[PeerAddress | str],
        on_message: OnMessage,
        on_peer_connected: OnPeerConnected,
        on_peer_disconnected: OnPeerDisconnected,
        max_peers: int = 50,
        config: TransportConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`bootstrap_peers` are dialled and redialled for as long as the service runs; they are
        also admitted beyond `max_peers` (which bounds inbound sessions), so validators listed in
        each other's configuration always connect. `rng` drives back-off jitter (tests seed it).
        """
        if len(genesis_hash) != 32:
            raise ValueError(f"genesis hash must be 32 bytes, not {len(genesis_hash)}")
        if not 0 <= chain_id < 2**64:
            raise ValueError(f"chain id {chain_id} does not fit in 64 bits")
        if max_peers < 1:
            raise ValueError(f"max_peers must be positive, not {max_peers}")
        self._node_key = node_key
        self._peer_id = compute_peer_id(node_key)
        self._chain_id = chain_id
        self._genesis_hash = genesis_hash
        self._listen_host = listen_host
        self._requested_port = listen_port
        self._bootstrap = _select_bootstrap_peers(bootstrap_peers, self._peer_id)
        self._bootstrap_ids = {address.peer_id for address in self._bootstrap}
        self._on_message = on_message
        self._on_peer_connected = on_peer_connected
        self._on_peer_disconnected = on_peer_disconnected
        self._max_peers = max_peers
        self._config = config or TransportConfig()
        self._max_payload_size = compute_max_payload_size(self._config.max_frame_size)
        self._rng = rng or random.Random()
        self._peers: dict[PeerId, PeerConnection] = {}
        self._bans = BanList(time.monotonic)
        self._inbound_budget = InboundBudget(self._config.max_inbound_bytes)
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_handshakes = 0
        self._server: asyncio.Server | None = None
        self._listening = asyncio.Event()
        self._closing = False

    @property
    def local_peer_id(self) -> PeerId:
        """Our peer id: the compressed public key of the node key."""
        return self._peer_id

    @property
    def listen_port(self) -> int:
        """The port we listen on (the real one when the service was asked for port 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the p2p service is not listening; await wait_listening() first")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def listen_address(self) -> PeerAddress:
        """Our own address as peers would write it (meaningful when the host is routable)."""
        return PeerAddress(self._peer_id, self._listen_host, self.listen_port)

    async def wait_listening(self) -> None:
        """Returns once `run()` listens; `listen_port` is then valid."""
        await self._listening.wait()

    async def run(self) -> None:
        """Listens and dials until cancelled; then closes every session and the listener."""
        if self._server is not None:
            raise RuntimeError("a P2PService runs once; create a new one to restart")
        try:
            self._server = await asyncio.start_server(
                self._accept, self._listen_host, self._requested_port
            )
        except OSError as error:
            raise ListenError(
                f"cannot listen on {self._listen_host}:{self._requested_port}: {error}"
            ) from error
        self._listening.set()
        log.info("p2p listening on %s as %s", self.listen_address, short_peer_id(self._peer_id))
        try:
            for address in self._bootstrap:
                self._spawn(self._dial_loop(address))
            await asyncio.Event().wait()  # Until cancelled.
        finally:
            self._closing = True
            self._server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()
            log.info("p2p stopped")

    def broadcast(
        self, kind: int, payload: bytes, exclude: PeerId | Collection[PeerId] | None = None
    ) -> int:
        """Queues a message to every connected peer but `exclude`; returns how many."""
        validate_application_message(kind, payload, self._max_payload_size)
        excluded = compute_excluded(exclude)
        queued = 0
        for peer_id, connection in list(self._peers.items()):
            if peer_id not in excluded and connection.enqueue(kind, payload):
                queued += 1
        return queued

    def send(self, peer_id: PeerId, kind: int, payload: bytes) -> bool:
        """Queues a message to one peer; False if it is not connected or was just dropped."""
        validate_application_message(kind, payload, self._max_payload_size)
        connection = self._peers.get(peer_id)
        return connection is not None and connection.enqueue(kind, payload)

    def disconnect(self, peer_id: PeerId, reason: str, ban_seconds: float = 0.0) -> None:
        """Closes the session with `peer_id` (telling it `reason`) and refuses it for
        `ban_seconds`, inbound and outbound; works on a peer that is not connected too."""
        self._bans.ban(peer_id, ban_seconds)
        connection = self._peers.get(peer_id)
        if connection is not None:
            log.info("disconnecting peer %s: %s", short_peer_id(peer_id), reason)
            connection.close(reason)

    def peers(self) -> list[PeerInfo]:
        """The peers with an established session now (not those being disconnected)."""
        return [peer.info() for peer in self._peers.values() if not peer.is_closed]

    def add_peer(self, address: PeerAddress | str) -> None:
        """Dials `address` and keeps redialling it, exactly like a configured peer (geth's
        `admin_addPeer`); does nothing for ourselves or a peer already configured."""
        parsed = parse_peer_address(address) if isinstance(address, str) else address
        if parsed.peer_id == self._peer_id or parsed.peer_id in self._bootstrap_ids:
            return
        self._bootstrap.append(parsed)
        self._bootstrap_ids.add(parsed.peer_id)
        if self._server is not None and not self._closing:
            self._spawn(self._dial_loop(parsed))

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._closing or self._pending_handshakes >= self._config.max_pending_handshakes:
            # Before any handshake work: a flood of connections costs us a socket each, no more.
            writer.transport.abort()
            return
        self._pending_handshakes += 1
        self._spawn(self._serve_inbound(reader, writer))

    async def _serve_inbound(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        remote = _format_address(writer.get_extra_info("peername"))
        try:
            try:
                connection = await self._establish(reader, writer, Direction.INBOUND, None)
            finally:
                self._pending_handshakes -= 1
            if connection is not None:
                await self._run_session(connection)
        except P2PError as error:
            _log_refusal(f"inbound connection from {remote}", error)
        except OSError as error:
            log.info("inbound connection from %s failed: %s", remote, error)
        finally:
            writer.close()

    async def _dial_loop(self, address: PeerAddress) -> None:
        attempt = 0
        while True:
            await self._wait_until_dialable(address.peer_id)
            # Only the first failure in a row is worth an info line; a peer that stays down would
            # otherwise fill the log.
            log_level = logging.INFO if attempt == 0 else logging.DEBUG
            if await self._dial_once(address, log_level):
                attempt = 0  # A session ran and ended: redial promptly, as if for the first time.
            config = self._config
            delay = compute_backoff_delay(
                attempt, config.dial_backoff_initial, config.dial_backoff_max, self._rng
            )
            attempt += 1
            await asyncio.sleep(delay)

    async def _dial_once(self, address: PeerAddress, log_level: int) -> bool:
        """Dials once and runs the session to its end; True if a session was established."""
        try:
            async with asyncio.timeout(self._config.handshake_timeout):
                reader, writer = await asyncio.open_connection(address.host, address.port)
        except (OSError, TimeoutError) as error:
            log.log(log_level, "cannot reach peer %s: %s", address, error or "timeout")
            return False
        try:
            connection = await self._establish(reader, writer, Direction.OUTBOUND, address.peer_id)
            if connection is None:
                return False
            await self._run_session(connection)
            return True
        except P2PError as error:
            _log_refusal(f"dialling {address}", error)
            return False
        except OSError as error:
            log.info("dialling %s failed: %s", address, error)
            return False
        finally:
            writer.close()

    async def _wait_until_dialable(self, peer_id: PeerId) -> None:
        while True:
            connection = self._peers.get(peer_id)
            if connection is not None:
                await connection.wait_finished()
                # The session's task releases it right after `run()` ends; yielding once lets it,
                # so this loop can never spin on a finished session still in the table.
                await asyncio.sleep(0)
                continue
            banned_for = self._bans.get_remaining(peer_id)
            if banned_for > 0:
                await asyncio.sleep(banned_for)
                continue
            return

    async def _establish(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: Direction,
        expected_peer_id: PeerId | None,
    ) -> PeerConnection | None:
        """Handshake, admission and welcome; None if we refused the peer (and told it why)."""
        params = HandshakeParams(
            node_key=self._node_key,
            chain_id=self._chain_id,
            genesis_hash=self._genesis_hash,
            listen_port=self.listen_port,
        )
        timeout = self._config.handshake_timeout
        if expected_peer_id is None:
            result = await accept_handshake(reader, writer, params, timeout)
        else:
            result = await dial_handshake(reader, writer, params, expected_peer_id, timeout)
        outbound = direction is Direction.OUTBOUND
        connection = PeerConnection(
            handshake=result,
            direction=direction,
            dialer=self._peer_id if outbound else result.peer_id,
            reader=reader,
            writer=writer,
            config=self._config,
            on_message=self._deliver,
            budget=self._inbound_budget,
        )
        refusal = self._compute_refusal(connection)
        if refusal is None:
            await connection.exchange_welcome()
            # Checked again: another session with this peer may have started while we waited for
            # the welcome. No await separates this check from `_run_session`'s registration.
            refusal = self._compute_refusal(connection)
        if refusal is not None:
            log.info("refusing peer %s: %s", short_peer_id(result.peer_id), refusal)
            await connection.refuse(refusal)
            return None
        return connection

    def _compute_refusal(self, connection: PeerConnection) -> str | None:
        # A session already closing (its socket still flushing) is not competition: the new one
        # takes its place whoever dialled.
        existing = self._peers.get(connection.peer_id)
        live_existing = existing if existing is not None and not existing.is_closed else None
        return compute_refusal(
            is_closing=self._closing,
            banned_for=self._bans.get_remaining(connection.peer_id),
            new_dialer=connection.dialer,
            existing_dialer=None if live_existing is None else live_existing.dialer,
            is_inbound=connection.direction is Direction.INBOUND,
            is_bootstrap=connection.peer_id in self._bootstrap_ids,
            peer_count=sum(not peer.is_closed for peer in self._peers.values()),
            max_peers=self._max_peers,
        )

    async def _run_session(self, connection: PeerConnection) -> None:
        self._register(connection)
        try:
            await connection.run()
        finally:
            self._release(connection)

    def _register(self, connection: PeerConnection) -> None:
        peer_id = connection.peer_id
        replaced = self._peers.get(peer_id)
        self._peers[peer_id] = connection
        if replaced is not None:
            # The node hears "disconnected" then "connected", so it greets the peer again on the
            # session that stays (what it sent on the replaced one may be lost). A session that
            # was already closing keeps its own reason: `close` only records the first.
            replaced.close("replaced by another connection to the same peer")
            self._notify_disconnected(peer_id, replaced.close_reason or "replaced")
        log.info(
            "peer %s connected (%s, %s)",
            short_peer_id(peer_id),
            connection.direction.value,
            _format_address(connection.info().remote_address),
        )
        self._notify_connected(peer_id)

    def _release(self, connection: PeerConnection) -> None:
        peer_id = connection.peer_id
        reason = connection.close_reason or "closed"
        if connection.misbehaved:
            # Whoever sent a bad or stalled frame comes back no sooner than the ban allows.
            self._bans.ban(peer_id, self._config.misbehaviour_ban)
        if self._peers.get(peer_id) is not connection:
            return  # Replaced: the node was already told.
        del self._peers[peer_id]
        log.info("peer %s disconnected: %s", short_peer_id(peer_id), reason)
        self._notify_disconnected(peer_id, reason)

    # The three callbacks are the node's code; an exception there is a node bug, logged here so
    # that it neither kills the session nor the service.

    def _deliver(self, peer_id: PeerId, kind: int, payload: bytes) -> None:
        _call_node("on_message", self._on_message, peer_id, kind, payload)

    def _notify_connected(self, peer_id: PeerId) -> None:
        _call_node("on_peer_connected", self._on_peer_connected, peer_id)

    def _notify_disconnected(self, peer_id: PeerId, reason: str) -> None:
        _call_node("on_peer_disconnected", self._on_peer_disconnected, peer_id, reason)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("p2p task failed", exc_info=task.exception())


def _select_bootstrap_peers(
    peers: Iterable[PeerAddress | str], own_peer_id: PeerId
) -> list[PeerAddress]:
    selected: dict[PeerId, PeerAddress] = {}
    for peer in peers:
        address = parse_peer_address(peer) if isinstance(peer, str) else peer
        if address.peer_id == own_peer_id:
            # A devnet hands every node the full list; dialling ourselves would only fail.
            continue
        selected.setdefault(address.peer_id, address)
    return list(selected.values())


def _log_refusal(what: str, error: P2PError) -> None:
    if isinstance(error, IncompatiblePeer | PeerAuthenticationError):
        # Usually a configuration mistake (wrong chain, genesis or key): worth an operator's look.
        log.warning("%s refused: %s", what, error)
    else:
        log.info("%s refused: %s", what, error)


def _call_node(name: str, callback: Callable[..., None], *args: object) -> None:
    try:
        callback(*args)
    except Exception:
        log.exception("the node's %s callback failed", name)


def _format_address(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return "an unknown address"
