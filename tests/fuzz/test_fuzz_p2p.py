"""p2p fuzzer: the Hello decoder and the frame opener on random and mutated input, then a real
`P2PService` listening on 127.0.0.1 fed over real sockets: random bytes, Hellos with truncated or
oversized lengths, mutated valid Hellos, and after a genuine handshake, mutated and random frames.

The decoders raise only their own errors (P2PError subclasses); the service logs no ERROR and no
traceback, keeps running, and a well-behaved peer can still connect after every input.
Connections come from random 127.x.y.z source addresses, so that no per-address rule of the
service can turn the fuzzer into a test of that rule only.
"""

import asyncio
import random
import secrets
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest
from eth_keys.datatypes import PrivateKey
from hypothesis import example, given, settings
from hypothesis import strategies as st
from p2p.harness import CHAIN_ID, GENESIS_HASH, HOST, Cluster, RawPeer, RunningNode, make_key

from fuzz.conftest import EXAMPLES, FUZZ, ErrorLog, counted
from openledger.node.p2p.errors import P2PError
from openledger.node.p2p.framing import FrameOpener, FrameSealer
from openledger.node.p2p.handshake import HELLO_SIZE, Hello, decode_hello, encode_hello
from openledger.node.p2p.identity import compute_peer_id

SOCKET_FUZZ = settings(FUZZ, max_examples=max(10, EXAMPLES // 3))
"""Socket inputs cost a connection each: a third of the examples of the pure decoders."""
KEY = bytes(range(32))


def _hello(**changes: Any) -> bytes:
    fields: dict[str, Any] = {
        "version": 1, "chain_id": CHAIN_ID, "genesis_hash": GENESIS_HASH,
        "static_key": compute_peer_id(make_key(7)), "ephemeral_key": secrets.token_bytes(32),
        "nonce": secrets.token_bytes(32), "listen_port": 0,
    }  # fmt: skip
    fields.update(changes)
    return encode_hello(Hello(**fields))


@st.composite
def mutated_bytes(draw: st.DrawFn, valid: bytes) -> bytes:
    how = draw(st.sampled_from(["flip", "cut", "append", "replace", "none"]))
    data = bytearray(valid)
    if how == "flip" and data:
        position = draw(st.integers(0, len(data) - 1))
        data[position] ^= draw(st.integers(1, 255))
    elif how == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "append":
        data += draw(st.binary(min_size=1, max_size=64))
    elif how == "replace" and data:
        start = draw(st.integers(0, len(data) - 1))
        chunk = draw(st.binary(min_size=1, max_size=40))
        data[start : start + len(chunk)] = chunk
    return bytes(data)


HELLO_BODIES = st.binary(max_size=300) | st.builds(_hello).flatmap(mutated_bytes)


@FUZZ
@given(body=HELLO_BODIES)
@example(body=b"OLP2" + b"\x00\x01" + b"\x00" * (HELLO_SIZE - 6))
def test_hello_decoder_raises_only_its_errors(body: bytes) -> None:
    with counted("p2p hello decoder") as counts, suppress(P2PError):
        decode_hello(body)
        counts.accepted += 1


@FUZZ
@given(frame=st.binary(min_size=4, max_size=200) | st.tuples(st.integers(0, 255), st.binary(max_size=100)).map(
    lambda parts: FrameSealer(KEY).seal(*parts)).flatmap(mutated_bytes))  # fmt: skip
def test_frame_opener_raises_only_its_errors(frame: bytes) -> None:
    if len(frame) < 4:
        return  # read_frame always hands the opener a whole 4-byte header
    opener = FrameOpener(KEY, max_frame_size=1024)
    with counted("p2p frame opener") as counts, suppress(P2PError):
        length = opener.parse_header(frame[:4])
        opener.open(frame[:4], frame[4 : 4 + length])
        counts.accepted += 1


# --- a real service over real sockets ------------------------------------------------------------


class ServiceInThread:
    """A P2PService on its own event loop thread, driven from the synchronous test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.cluster = Cluster()
        self.node: RunningNode = self.run(self.cluster.start(make_key(1), max_peers=200))

    def run(self, coroutine: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.cluster.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceInThread]:
    running = ServiceInThread()
    try:
        yield running
    finally:
        running.close()


async def _open_from_random_source(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(
        (f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}", 0)
    )
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
    return await asyncio.open_connection(sock=sock)


async def _send_and_hang_up(port: int, chunks: list[bytes]) -> None:
    reader, writer = await _open_from_random_source(port)
    try:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
        # Read what the service answers (its Hello, maybe more) until it closes or 50 ms pass.
        try:
            async with asyncio.timeout(0.05):
                while await reader.read(65536):
                    pass
        except TimeoutError:
            pass
    except ConnectionError:
        pass  # the service hung up first: a fine answer to garbage
    finally:
        writer.transport.abort()


def _assert_still_serving(service: ServiceInThread, error_log: ErrorLog) -> None:
    assert not service.node.task.done(), "the p2p service stopped"
    assert not error_log.records, error_log.text()

    async def handshake() -> None:
        peer = await RawPeer.connect(service.node, PrivateKey(secrets.token_bytes(32)))
        peer.writer.transport.abort()

    service.run(handshake())


PREFIXES = st.sampled_from(["none", "hello", "mutated", "huge", "short"])


@SOCKET_FUZZ
@given(
    prefix=PREFIXES, mutation=st.builds(_hello).flatmap(mutated_bytes), tail=st.binary(max_size=400)
)
def test_bytes_on_a_fresh_connection(service: ServiceInThread, error_log: ErrorLog, prefix: str,
                                     mutation: bytes, tail: bytes) -> None:  # fmt: skip
    length = struct.Struct(">H")
    chunks = {
        "none": [tail],
        "hello": [length.pack(HELLO_SIZE) + _hello(static_key=compute_peer_id(PrivateKey(secrets.token_bytes(32)))), tail],
        "mutated": [length.pack(len(mutation)) + mutation, tail],
        "huge": [length.pack(0xFFFF) + tail],
        "short": [length.pack(HELLO_SIZE) + tail[: HELLO_SIZE // 2]],
    }[prefix]  # fmt: skip
    with counted("p2p socket, before the handshake"):
        service.run(_send_and_hang_up(service.node.port, chunks))
        _assert_still_serving(service, error_log)


FRAME_INPUTS = st.one_of(
    st.tuples(st.integers(0, 255), st.binary(max_size=300)).map(lambda p: ("sealed", p)),
    st.tuples(st.integers(0, 255), st.binary(max_size=100)).map(lambda p: ("mutated", p)),
    st.binary(min_size=1, max_size=300).map(lambda raw: ("raw", raw)),
    st.integers(0, 2**32 - 1).map(lambda n: ("length", n)),
)


@SOCKET_FUZZ
@given(inputs=st.lists(FRAME_INPUTS, min_size=1, max_size=4), seed=st.integers(0, 2**32))
def test_frames_after_a_genuine_handshake(service: ServiceInThread, error_log: ErrorLog,
                                          inputs: list[tuple[str, Any]], seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)

    async def session() -> None:
        peer = await RawPeer.connect(service.node, PrivateKey(secrets.token_bytes(32)))
        try:
            for what, value in inputs:
                if what == "sealed":
                    await peer.send(*value)
                elif what == "mutated":
                    frame = bytearray(peer.sealer.seal(*value))
                    frame[rng.randrange(len(frame))] ^= rng.randrange(1, 256)
                    await peer.write(bytes(frame))
                elif what == "raw":
                    await peer.write(value)
                else:
                    await peer.write(struct.pack(">I", value))
            await peer.wait_closed_by_remote(0.05)
        except ConnectionError:
            pass
        finally:
            peer.writer.transport.abort()

    with counted("p2p socket, after the handshake"):
        service.run(session())
        _assert_still_serving(service, error_log)
