"""The handshake: Hello encoding, refusals, signatures and session keys."""

import asyncio
import struct
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeAlias

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_hash.auto import keccak

from openledger.genesis.types import ChainId, Hash32
from openledger.node.p2p.errors import (
    HandshakeError,
    HandshakeTimeout,
    IncompatiblePeer,
    MalformedHello,
    P2PError,
    PeerAuthenticationError,
    SelfConnection,
)
from openledger.node.p2p.handshake import (
    HELLO_SIZE,
    HandshakeParams,
    HandshakeResult,
    Hello,
    accept_handshake,
    compute_transcript_hash,
    decode_hello,
    derive_session_keys,
    dial_handshake,
    encode_hello,
)
from openledger.node.p2p.identity import PeerId, compute_peer_id

from .harness import CHAIN_ID, GENESIS_HASH, HOST, make_key

pytestmark = pytest.mark.timeout(20, method="thread")

INITIATOR = HandshakeParams(make_key(1), CHAIN_ID, GENESIS_HASH, listen_port=30301)
RESPONDER = HandshakeParams(make_key(2), CHAIN_ID, GENESIS_HASH, listen_port=30302)
RESPONDER_ID = compute_peer_id(make_key(2))

Outcome: TypeAlias = HandshakeResult | P2PError
Responder = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[Outcome]]


def _sample_hello() -> Hello:
    return Hello(
        version=1,
        chain_id=ChainId(2**64 - 1),
        genesis_hash=GENESIS_HASH,
        static_key=compute_peer_id(make_key(1)),
        ephemeral_key=bytes(range(32)),
        nonce=bytes(32),
        listen_port=65535,
    )


def test_hello_round_trips_through_its_145_byte_body() -> None:
    hello = _sample_hello()
    body = encode_hello(hello)
    assert len(body) == HELLO_SIZE == 145
    assert body[:6] == b"OLP2\x00\x01"
    assert decode_hello(body) == hello


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (lambda body: b"HTTP" + body[4:], MalformedHello, "not an OpenLedger p2p Hello"),
        (lambda body: body[:4] + b"\x00\x02" + body[6:], IncompatiblePeer, "ours 1, theirs 2"),
        (lambda body: body[:-1], MalformedHello, "must be 145 bytes, got 144"),
        (lambda body: body + b"\x00", MalformedHello, "must be 145 bytes, got 146"),
        (lambda body: body[:3], MalformedHello, "too short"),
        (lambda body: body[:46] + b"\x04" + body[47:], MalformedHello, "static key"),
    ],
)
def test_decode_hello_refuses_what_is_not_a_version_1_hello(
    mutate: Callable[[bytes], bytes], error: type[P2PError], message: str
) -> None:
    with pytest.raises(error, match=message):
        decode_hello(mutate(encode_hello(_sample_hello())))


def test_session_keys_split_into_two_directions_and_depend_on_the_transcript() -> None:
    secret = bytes(range(32))
    transcript = compute_transcript_hash(b"initiator hello", b"responder hello")
    keys = derive_session_keys(secret, transcript)

    assert keys == derive_session_keys(secret, transcript)
    assert keys.initiator_to_responder != keys.responder_to_initiator
    expected = HKDF(hashes.SHA256(), 64, transcript, b"openledger/p2p/v1").derive(secret)
    assert keys.initiator_to_responder + keys.responder_to_initiator == expected
    for other in (
        compute_transcript_hash(b"responder hello", b"initiator hello"),
        compute_transcript_hash(b"initiator hello", b"responder hellO"),
    ):
        assert derive_session_keys(secret, other) != keys
    assert transcript == keccak(b"openledger/p2p/handshake/v1initiator helloresponder hello")


async def test_both_sides_derive_matching_keys_and_learn_each_other() -> None:
    initiator, responder = await _run_pair(INITIATOR, _accepting(RESPONDER), RESPONDER_ID)

    assert isinstance(initiator, HandshakeResult) and isinstance(responder, HandshakeResult)
    assert initiator.send_key == responder.receive_key
    assert initiator.receive_key == responder.send_key
    assert initiator.send_key != initiator.receive_key
    assert initiator.transcript_hash == responder.transcript_hash
    assert initiator.peer_id == RESPONDER_ID
    assert responder.peer_id == compute_peer_id(INITIATOR.node_key)
    assert responder.remote_hello.listen_port == 30301


async def test_two_sessions_between_the_same_peers_get_different_keys() -> None:
    first, _ = await _run_pair(INITIATOR, _accepting(RESPONDER), RESPONDER_ID)
    second, _ = await _run_pair(INITIATOR, _accepting(RESPONDER), RESPONDER_ID)
    assert isinstance(first, HandshakeResult) and isinstance(second, HandshakeResult)
    assert first.send_key != second.send_key


async def test_wire_format_is_the_documented_one() -> None:
    """A peer written from the module docstring alone completes a handshake with ours."""
    responder_result: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

    async def on_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        responder_result.set_result(await accept_handshake(reader, writer, RESPONDER))
        writer.close()

    server = await asyncio.start_server(on_accept, HOST, 0)
    reader, writer = await asyncio.open_connection(HOST, server.sockets[0].getsockname()[1])
    ephemeral = X25519PrivateKey.generate()
    body = struct.pack(
        ">4sHQ32s33s32s32sH",
        b"OLP2",
        1,
        CHAIN_ID,
        GENESIS_HASH,
        compute_peer_id(INITIATOR.node_key),
        ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        bytes(32),
        30301,
    )
    writer.write(len(body).to_bytes(2, "big") + body)
    remote_body = await reader.readexactly(int.from_bytes(await reader.readexactly(2), "big"))
    transcript = keccak(b"openledger/p2p/handshake/v1" + body + remote_body)
    writer.write(INITIATOR.node_key.sign_msg_hash(transcript).to_bytes())
    await reader.readexactly(65)
    result = await asyncio.wait_for(responder_result, 5)
    writer.close()
    server.close()

    remote = decode_hello(remote_body)
    assert remote.static_key == RESPONDER_ID and remote.listen_port == 30302
    secret = ephemeral.exchange(X25519PublicKey.from_public_bytes(remote.ephemeral_key))
    keys = HKDF(hashes.SHA256(), 64, transcript, b"openledger/p2p/v1").derive(secret)
    assert isinstance(result, HandshakeResult)
    assert result.receive_key == keys[:32] and result.send_key == keys[32:]


@pytest.mark.parametrize(
    ("responder", "message"),
    [
        (replace(RESPONDER, chain_id=ChainId(1)), "chain id mismatch: ours 1337, theirs 1"),
        (replace(RESPONDER, genesis_hash=Hash32(bytes(32))), "genesis hash mismatch"),
    ],
)
async def test_both_sides_refuse_a_peer_of_another_chain(
    responder: HandshakeParams, message: str
) -> None:
    initiator, accepted = await _run_pair(INITIATOR, _accepting(responder), RESPONDER_ID)
    assert isinstance(initiator, IncompatiblePeer) and message in str(initiator)
    assert isinstance(accepted, IncompatiblePeer)


async def test_the_dialler_refuses_a_remote_with_another_key() -> None:
    expected = compute_peer_id(make_key(3))
    initiator, accepted = await _run_pair(INITIATOR, _accepting(RESPONDER), expected)
    assert isinstance(initiator, PeerAuthenticationError)
    assert "but the remote is" in str(initiator)
    assert isinstance(accepted, HandshakeError)  # It only sees the connection close.


async def test_connecting_to_ourselves_is_refused() -> None:
    ourselves = compute_peer_id(INITIATOR.node_key)
    initiator, accepted = await _run_pair(INITIATOR, _accepting(INITIATOR), ourselves)
    assert isinstance(initiator, SelfConnection) and isinstance(accepted, SelfConnection)


async def test_a_signature_by_another_key_is_refused() -> None:
    async def forger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        # Announces RESPONDER's key (a Hello anyone can copy) but cannot sign with it.
        await _send_hello(writer, RESPONDER)
        await _read_hello(reader)
        writer.write(make_key(3).sign_msg_hash(bytes(32)).to_bytes())
        return HandshakeError("forger")

    initiator, _ = await _run_pair(INITIATOR, forger, RESPONDER_ID)
    assert isinstance(initiator, PeerAuthenticationError)
    assert "not by the announced key" in str(initiator)


async def test_a_malformed_signature_is_refused() -> None:
    async def scribbler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        await _send_hello(writer, RESPONDER)
        await _read_hello(reader)
        writer.write(b"\xff" * 65)
        return HandshakeError("scribbler")

    initiator, _ = await _run_pair(INITIATOR, scribbler, RESPONDER_ID)
    assert isinstance(initiator, PeerAuthenticationError) and "malformed" in str(initiator)


async def test_a_low_order_ephemeral_key_is_refused() -> None:
    async def weak(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        await _send_hello(writer, RESPONDER, ephemeral_key=bytes(32))
        await _read_hello(reader)
        return HandshakeError("weak")

    initiator, _ = await _run_pair(INITIATOR, weak, RESPONDER_ID)
    assert isinstance(initiator, MalformedHello) and "X25519" in str(initiator)


async def test_an_oversized_hello_is_refused_unread() -> None:
    async def bloated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        writer.write((60000).to_bytes(2, "big"))  # And never the 60000 bytes.
        await reader.read(1024)
        return HandshakeError("bloated")

    initiator, _ = await _run_pair(INITIATOR, bloated, RESPONDER_ID)
    assert isinstance(initiator, MalformedHello)
    assert "60000 bytes, more than the limit of 1024" in str(initiator)


async def test_a_silent_peer_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        while await reader.read(65536):
            pass  # Reads the Hello, answers nothing, until the dialler gives up and hangs up.
        return HandshakeError("silent")

    initiator, _ = await _run_pair(INITIATOR, silent, RESPONDER_ID, timeout=0.2)
    assert isinstance(initiator, HandshakeTimeout) and "0.2 s" in str(initiator)


async def test_a_peer_that_hangs_up_mid_handshake_is_reported() -> None:
    async def quitter(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        await _send_hello(writer, RESPONDER)
        await _read_hello(reader)
        await reader.readexactly(65)  # Everything is read, so closing sends a clean FIN.
        return HandshakeError("quitter")  # The caller closes the socket instead of signing.

    initiator, _ = await _run_pair(INITIATOR, quitter, RESPONDER_ID)
    assert isinstance(initiator, HandshakeError)
    assert "closed by the remote during the handshake" in str(initiator)


def _accepting(params: HandshakeParams) -> Responder:
    async def respond(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Outcome:
        return await accept_handshake(reader, writer, params, timeout=2.0)

    return respond


async def _run_pair(
    initiator: HandshakeParams,
    respond: Responder,
    expected_peer_id: PeerId,
    timeout: float = 2.0,
) -> tuple[Outcome, Outcome]:
    """Runs `dial_handshake` against `respond` over a real socket; returns both outcomes."""
    responded: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

    async def on_accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            responded.set_result(await respond(reader, writer))
        except P2PError as error:
            responded.set_result(error)
        finally:
            writer.close()

    server = await asyncio.start_server(on_accept, HOST, 0)
    try:
        reader, writer = await asyncio.open_connection(HOST, server.sockets[0].getsockname()[1])
        try:
            initiated: Outcome = await dial_handshake(
                reader, writer, initiator, expected_peer_id, timeout
            )
        except P2PError as error:
            initiated = error
        finally:
            writer.close()
        return initiated, await asyncio.wait_for(responded, 5)
    finally:
        server.close()


async def _send_hello(
    writer: asyncio.StreamWriter, params: HandshakeParams, ephemeral_key: bytes | None = None
) -> None:
    public = X25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = encode_hello(
        Hello(
            version=1,
            chain_id=params.chain_id,
            genesis_hash=params.genesis_hash,
            static_key=compute_peer_id(params.node_key),
            ephemeral_key=public if ephemeral_key is None else ephemeral_key,
            nonce=bytes(32),
            listen_port=params.listen_port,
        )
    )
    writer.write(len(body).to_bytes(2, "big") + body)
    await writer.drain()


async def _read_hello(reader: asyncio.StreamReader) -> bytes:
    return await reader.readexactly(int.from_bytes(await reader.readexactly(2), "big"))
