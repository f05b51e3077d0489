"""Encrypted frames: how one message travels over an established session.

A frame is a 4-byte big-endian length followed by that many bytes of ChaCha20-Poly1305
ciphertext. The plaintext is a 1-byte message kind and the payload; the length header is the
associated data, so changing it breaks authentication. Each direction of a session has its own key
and a 96-bit big-endian counter as nonce, starting at 0 and incremented per frame, so a nonce never
repeats under one key; a direction that would run out of nonces refuses to go on and the session
must be re-established. A declared length above the maximum is refused before a single byte of the
body is read, so a peer cannot make us buffer an arbitrary amount.

This module only seals and opens frames; it does not decide what kinds mean.
"""

import asyncio
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from openledger.node.p2p.budget import InboundBudget, InboundBudgetExhausted
from openledger.node.p2p.errors import (
    FrameAuthenticationError,
    FrameTimeout,
    FrameTooLarge,
    MalformedFrame,
    MessageTooLarge,
    NonceExhausted,
)

MAX_FRAME_SIZE = 16 * 1024 * 1024
"""Default bound on a frame's ciphertext length (the value of its header), 16 MiB."""

HEADER_SIZE = 4
"""Bytes of the big-endian length header."""

TAG_SIZE = 16
"""Bytes of the Poly1305 authentication tag at the end of every ciphertext."""

KIND_SIZE = 1
"""Bytes of the message kind at the start of every plaintext."""

MIN_FRAME_SIZE = KIND_SIZE + TAG_SIZE
"""The shortest valid ciphertext: a kind and a tag, with an empty payload."""

NONCE_SIZE = 12
"""Bytes of a ChaCha20-Poly1305 nonce (96 bits)."""

LAST_NONCE = 2 ** (8 * NONCE_SIZE) - 1
"""The last counter value a direction may use; after it the session must end."""

KEY_SIZE = 32
"""Bytes of a ChaCha20-Poly1305 key."""

_HEADER = struct.Struct(">I")


def compute_max_payload_size(max_frame_size: int) -> int:
    """The largest payload that fits in one frame of at most `max_frame_size` ciphertext bytes."""
    return max_frame_size - MIN_FRAME_SIZE


class FrameSealer:
    """Seals the frames of one direction of a session, each under the next nonce."""

    def __init__(
        self, key: bytes, max_frame_size: int = MAX_FRAME_SIZE, first_nonce: int = 0
    ) -> None:
        """`first_nonce` is 0 in a session; tests start near `LAST_NONCE` to reach the end."""
        _check_key(key)
        self._aead = ChaCha20Poly1305(key)
        self._max_payload_size = compute_max_payload_size(max_frame_size)
        self._next_nonce = first_nonce

    def seal(self, kind: int, payload: bytes) -> bytes:
        """Returns the whole frame (header and ciphertext) carrying `kind` and `payload`."""
        if not 0 <= kind <= 255:
            raise ValueError(f"message kind {kind} is not a byte")
        if len(payload) > self._max_payload_size:
            raise MessageTooLarge(len(payload), self._max_payload_size)
        nonce = _take_nonce(self._next_nonce)
        self._next_nonce += 1
        header = _HEADER.pack(len(payload) + MIN_FRAME_SIZE)
        ciphertext = self._aead.encrypt(nonce, bytes((kind,)) + payload, header)
        return header + ciphertext


class FrameOpener:
    """Opens the frames of one direction of a session, expecting nonces in order."""

    def __init__(
        self, key: bytes, max_frame_size: int = MAX_FRAME_SIZE, first_nonce: int = 0
    ) -> None:
        """`first_nonce` is 0 in a session; tests start near `LAST_NONCE` to reach the end."""
        _check_key(key)
        self._aead = ChaCha20Poly1305(key)
        self._max_frame_size = max_frame_size
        self._next_nonce = first_nonce

    def parse_header(self, header: bytes) -> int:
        """The ciphertext length a header declares, refused if out of bounds."""
        (length,) = _HEADER.unpack(header)
        if length > self._max_frame_size:
            raise FrameTooLarge(
                f"frame declares {length} bytes, more than the limit of {self._max_frame_size}"
            )
        if length < MIN_FRAME_SIZE:
            raise MalformedFrame(
                f"frame declares {length} bytes, fewer than the minimum of {MIN_FRAME_SIZE}"
            )
        return length

    def open(self, header: bytes, ciphertext: bytes) -> tuple[int, bytes]:
        """Authenticates and decrypts one frame; returns `(kind, payload)`."""
        nonce = _take_nonce(self._next_nonce)
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, header)
        except InvalidTag:
            raise FrameAuthenticationError(
                "frame failed authentication (tampered, reordered or from another session)"
            ) from None
        # Only an authentic frame consumes a nonce; the caller closes the session on failure anyway.
        self._next_nonce += 1
        return plaintext[0], plaintext[KIND_SIZE:]


async def read_frame(
    reader: asyncio.StreamReader,
    opener: FrameOpener,
    budget: InboundBudget | None = None,
    body_timeout: float | None = None,
) -> tuple[int, bytes, int]:
    """Reads one frame; returns `(kind, payload, bytes read from the wire)`.

    The header is checked before the body is read, so an oversized declaration fails at once.
    With a `budget`, the body's size is reserved in it before the body is read (waiting at most
    `body_timeout` for room, else `InboundBudgetExhausted`), and the body must then arrive within
    `body_timeout` (else `FrameTimeout`: the peer declared a frame and stalled).
    Raises `asyncio.IncompleteReadError` if the stream ends, `FrameError` on a bad frame.
    """
    header = await reader.readexactly(HEADER_SIZE)
    length = opener.parse_header(header)
    if budget is None:
        ciphertext = await reader.readexactly(length)
    else:
        try:
            async with asyncio.timeout(body_timeout):
                await budget.reserve(length)
        except TimeoutError:
            raise InboundBudgetExhausted(
                f"no room to receive a frame of {length} bytes: {budget.reserved} of "
                f"{budget.limit} inbound bytes are in flight from all peers"
            ) from None
        try:
            async with asyncio.timeout(body_timeout):
                ciphertext = await reader.readexactly(length)
        except TimeoutError:
            raise FrameTimeout(
                f"declared a frame of {length} bytes and did not send it in {body_timeout} s"
            ) from None
        finally:
            budget.release(length)
    kind, payload = opener.open(header, ciphertext)
    return kind, payload, HEADER_SIZE + length


def _take_nonce(counter: int) -> bytes:
    if counter > LAST_NONCE:
        raise NonceExhausted("session used every nonce of one direction; it must be re-established")
    return counter.to_bytes(NONCE_SIZE, "big")


def _check_key(key: bytes) -> None:
    if len(key) != KEY_SIZE:
        raise ValueError(f"a frame key is {KEY_SIZE} bytes, not {len(key)}")
