"""The handshake that turns a fresh TCP stream into an authenticated, encrypted session.

Both sides send a Hello at once, then a signature, then derive the session keys:

1. Hello (`encode_hello`): a 2-byte big-endian length, then a fixed 145-byte body: magic `OLP2`,
   protocol version (u16), chain id (u64), genesis hash (32), static compressed secp256k1 key (33),
   fresh X25519 ephemeral key (32), random nonce (32), listen port (u16), all big-endian.
2. Each side checks the other's Hello (version, chain id, genesis hash, not ourselves, and for the
   dialler the key it expected) and closes without signing if anything differs.
3. Each side sends the 65-byte signature `r || s || v` (v in {0, 1}) of its static key over
   `transcript = keccak256(b"openledger/p2p/handshake/v1" ++ initiator_body ++ responder_body)` and
   checks that the other's signature recovers the static key its Hello announced. The transcript
   holds both ephemeral keys and nonces, so a signature proves the key holder is present in this
   session and cannot be replayed into another one.
4. Keys: HKDF-SHA256 over the X25519 shared secret, salt = transcript, info = `b"openledger/p2p/v1"`,
   64 bytes: the first 32 encrypt initiator-to-responder frames, the last 32 the other direction.

This module performs exactly one handshake over a stream it is given; it neither dials nor decides
whether a peer is welcome (bans, peer limits), which is `service.py`'s business.
"""

import asyncio
import secrets
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_hash.auto import keccak
from eth_keys import keys
from eth_keys.datatypes import PrivateKey
from eth_keys.exceptions import BadSignature, ValidationError

from openledger.genesis.types import ChainId, Hash32
from openledger.node.p2p.errors import (
    HandshakeError,
    HandshakeTimeout,
    IncompatiblePeer,
    MalformedHello,
    PeerAuthenticationError,
    SelfConnection,
)
from openledger.node.p2p.framing import KEY_SIZE
from openledger.node.p2p.identity import PeerId, compute_peer_id, is_valid_peer_id, short_peer_id

PROTOCOL_VERSION = 1
"""The version this code speaks; peers with another version are refused."""

HELLO_MAGIC = b"OLP2"
"""The first bytes of every Hello body, so a stray client is told apart from an old peer."""

MAX_HELLO_SIZE = 1024
"""The largest Hello body we read; a larger declared length is refused unread."""

SIGNATURE_SIZE = 65
"""Bytes of a recoverable secp256k1 signature `r || s || v`."""

HANDSHAKE_TIMEOUT = 5.0
"""Default seconds allowed for the whole handshake."""

TRANSCRIPT_DOMAIN = b"openledger/p2p/handshake/v1"
"""Domain separator of the transcript hash, so the signature means nothing anywhere else."""

SESSION_KEY_INFO = b"openledger/p2p/v1"
"""HKDF `info` of the session keys."""

_LENGTH = struct.Struct(">H")
_HELLO_HEAD = struct.Struct(">4sH")
_HELLO = struct.Struct(">4sHQ32s33s32s32sH")
HELLO_SIZE = _HELLO.size
"""Bytes of a version-1 Hello body (145)."""


@dataclass(frozen=True, slots=True)
class Hello:
    """The first message of each side of a handshake."""

    version: int
    """The protocol version the sender speaks."""
    chain_id: ChainId
    """The EIP-155 chain id the sender's chain uses (0..2**64-1)."""
    genesis_hash: Hash32
    """The hash of the sender's genesis block; same chain id with another genesis is another chain."""
    static_key: PeerId
    """The sender's long-lived compressed public key: its peer id."""
    ephemeral_key: bytes
    """A fresh X25519 public key (32 bytes) for this session only, for forward secrecy."""
    nonce: bytes
    """32 random bytes, so two transcripts never coincide."""
    listen_port: int
    """The TCP port the sender accepts peers on, or 0 if it does not listen."""


@dataclass(frozen=True, slots=True)
class HandshakeParams:
    """What our side of a handshake announces and proves."""

    node_key: PrivateKey
    """Our static secp256k1 key; its compressed public key is our peer id."""
    chain_id: ChainId
    """Our chain id; peers on another chain are refused."""
    genesis_hash: Hash32
    """Our genesis hash; peers with another genesis are refused."""
    listen_port: int
    """The port we announce for peers to dial back, or 0."""


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """The two directional keys of a session, as HKDF derived them."""

    initiator_to_responder: bytes
    """Key of the frames the dialling side sends."""
    responder_to_initiator: bytes
    """Key of the frames the accepting side sends."""


@dataclass(frozen=True, slots=True)
class HandshakeResult:
    """An authenticated session, ready for framing."""

    peer_id: PeerId
    """The remote's proven static key."""
    remote_hello: Hello
    """The remote's Hello (its announced listen port, for instance)."""
    send_key: bytes
    """Key of the frames we send."""
    receive_key: bytes
    """Key of the frames we receive."""
    transcript_hash: Hash32
    """The hash both sides signed; identifies the session."""


async def dial_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    params: HandshakeParams,
    expected_peer_id: PeerId,
    timeout: float = HANDSHAKE_TIMEOUT,
) -> HandshakeResult:
    """Runs the handshake as initiator; refuses a remote that is not `expected_peer_id`."""
    return await _run_handshake(reader, writer, params, True, expected_peer_id, timeout)


async def accept_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    params: HandshakeParams,
    timeout: float = HANDSHAKE_TIMEOUT,
) -> HandshakeResult:
    """Runs the handshake as responder, for any remote that proves its key."""
    return await _run_handshake(reader, writer, params, False, None, timeout)


def encode_hello(hello: Hello) -> bytes:
    """The Hello body (without its length prefix)."""
    if not 0 <= hello.chain_id < 2**64:
        raise ValueError(f"chain id {hello.chain_id} does not fit in 64 bits")
    return _HELLO.pack(
        HELLO_MAGIC,
        hello.version,
        hello.chain_id,
        hello.genesis_hash,
        hello.static_key,
        hello.ephemeral_key,
        hello.nonce,
        hello.listen_port,
    )


def decode_hello(body: bytes) -> Hello:
    """Parses a Hello body; refuses other protocols, other versions and malformed keys."""
    if len(body) < _HELLO_HEAD.size:
        raise MalformedHello(f"Hello of {len(body)} bytes is too short")
    magic, version = _HELLO_HEAD.unpack_from(body)
    if magic != HELLO_MAGIC:
        raise MalformedHello(f"not an OpenLedger p2p Hello (magic {magic!r})")
    # The version is read before the length is checked: a newer Hello may be longer, and the
    # operator should read "version mismatch", not "malformed".
    if version != PROTOCOL_VERSION:
        raise IncompatiblePeer(
            f"protocol version mismatch: ours {PROTOCOL_VERSION}, theirs {version}"
        )
    if len(body) != HELLO_SIZE:
        raise MalformedHello(f"version-1 Hello must be {HELLO_SIZE} bytes, got {len(body)}")
    _, _, chain_id, genesis_hash, static_key, ephemeral_key, nonce, port = _HELLO.unpack(body)
    if not is_valid_peer_id(static_key):
        raise MalformedHello("static key is not a compressed secp256k1 public key")
    return Hello(
        version=version,
        chain_id=ChainId(chain_id),
        genesis_hash=Hash32(genesis_hash),
        static_key=PeerId(static_key),
        ephemeral_key=ephemeral_key,
        nonce=nonce,
        listen_port=port,
    )


def validate_remote_hello(local: Hello, remote: Hello, expected_peer_id: PeerId | None) -> None:
    """Refuses a remote on another chain, ourselves, or someone other than who we dialled."""
    if remote.chain_id != local.chain_id:
        raise IncompatiblePeer(
            f"chain id mismatch: ours {local.chain_id}, theirs {remote.chain_id}"
        )
    if remote.genesis_hash != local.genesis_hash:
        raise IncompatiblePeer(
            f"genesis hash mismatch: ours 0x{local.genesis_hash.hex()}, "
            f"theirs 0x{remote.genesis_hash.hex()}"
        )
    if remote.static_key == local.static_key:
        raise SelfConnection("connected to ourselves (is our own address among the peers?)")
    if expected_peer_id is not None and remote.static_key != expected_peer_id:
        raise PeerAuthenticationError(
            f"dialled peer {short_peer_id(expected_peer_id)} but the remote is "
            f"{short_peer_id(remote.static_key)}"
        )


def compute_transcript_hash(initiator_hello: bytes, responder_hello: bytes) -> Hash32:
    """The hash both sides sign: the domain and both Hello bodies, initiator's first."""
    return Hash32(keccak(TRANSCRIPT_DOMAIN + initiator_hello + responder_hello))


def derive_session_keys(shared_secret: bytes, transcript_hash: Hash32) -> SessionKeys:
    """Expands the X25519 shared secret into the two directional keys of the session."""
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=2 * KEY_SIZE,
        salt=transcript_hash,
        info=SESSION_KEY_INFO,
    ).derive(shared_secret)
    return SessionKeys(
        initiator_to_responder=material[:KEY_SIZE], responder_to_initiator=material[KEY_SIZE:]
    )


def verify_transcript_signature(
    signature: bytes, transcript_hash: Hash32, static_key: PeerId
) -> None:
    """Refuses a signature that does not recover `static_key` over `transcript_hash`."""
    try:
        recovered = keys.Signature(signature).recover_public_key_from_msg_hash(transcript_hash)
    except (BadSignature, ValidationError):
        raise PeerAuthenticationError("handshake signature is malformed") from None
    if recovered.to_compressed_bytes() != static_key:
        raise PeerAuthenticationError(
            f"handshake signature is not by the announced key {short_peer_id(static_key)}"
        )


async def _run_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    params: HandshakeParams,
    initiator: bool,
    expected_peer_id: PeerId | None,
    timeout: float,
) -> HandshakeResult:
    try:
        async with asyncio.timeout(timeout):
            return await _exchange(reader, writer, params, initiator, expected_peer_id)
    except TimeoutError:
        raise HandshakeTimeout(f"handshake not completed within {timeout:g} s") from None
    except asyncio.IncompleteReadError:
        raise HandshakeError("connection closed by the remote during the handshake") from None
    except OSError as error:
        raise HandshakeError(f"connection failed during the handshake: {error}") from error


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    params: HandshakeParams,
    initiator: bool,
    expected_peer_id: PeerId | None,
) -> HandshakeResult:
    ephemeral = X25519PrivateKey.generate()
    local = Hello(
        version=PROTOCOL_VERSION,
        chain_id=params.chain_id,
        genesis_hash=params.genesis_hash,
        static_key=compute_peer_id(params.node_key),
        ephemeral_key=ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
        nonce=secrets.token_bytes(32),
        listen_port=params.listen_port,
    )
    local_body = encode_hello(local)
    # Both sides speak first, so the handshake costs one round trip for the Hellos.
    writer.write(_LENGTH.pack(len(local_body)) + local_body)
    await writer.drain()

    remote_body = await _read_hello_body(reader)
    remote = decode_hello(remote_body)
    validate_remote_hello(local, remote, expected_peer_id)
    shared_secret = _compute_shared_secret(ephemeral, remote.ephemeral_key)

    if initiator:
        transcript_hash = compute_transcript_hash(local_body, remote_body)
    else:
        transcript_hash = compute_transcript_hash(remote_body, local_body)
    writer.write(params.node_key.sign_msg_hash(transcript_hash).to_bytes())
    await writer.drain()
    remote_signature = await reader.readexactly(SIGNATURE_SIZE)
    verify_transcript_signature(remote_signature, transcript_hash, remote.static_key)

    session = derive_session_keys(shared_secret, transcript_hash)
    if initiator:
        send_key, receive_key = session.initiator_to_responder, session.responder_to_initiator
    else:
        send_key, receive_key = session.responder_to_initiator, session.initiator_to_responder
    return HandshakeResult(
        peer_id=remote.static_key,
        remote_hello=remote,
        send_key=send_key,
        receive_key=receive_key,
        transcript_hash=transcript_hash,
    )


async def _read_hello_body(reader: asyncio.StreamReader) -> bytes:
    (length,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    if length > MAX_HELLO_SIZE:
        raise MalformedHello(
            f"Hello declares {length} bytes, more than the limit of {MAX_HELLO_SIZE}"
        )
    return await reader.readexactly(length)


def _compute_shared_secret(ephemeral: X25519PrivateKey, remote_key: bytes) -> bytes:
    try:
        return ephemeral.exchange(X25519PublicKey.from_public_bytes(remote_key))
    except ValueError:
        # A low-order point gives an all-zero secret, which would make the session keys public.
        raise MalformedHello("ephemeral key is not a usable X25519 public key") from None
