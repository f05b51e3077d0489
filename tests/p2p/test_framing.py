"""Frames: sealing, opening, nonces, and the bounds that protect a reader."""

import asyncio

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from openledger.node.p2p.errors import (
    FrameAuthenticationError,
    FrameTooLarge,
    MalformedFrame,
    MessageTooLarge,
    NonceExhausted,
)
from openledger.node.p2p.framing import (
    HEADER_SIZE,
    LAST_NONCE,
    MAX_FRAME_SIZE,
    FrameOpener,
    FrameSealer,
    compute_max_payload_size,
    read_frame,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_a_sealed_frame_opens_to_its_kind_and_payload() -> None:
    sealer, opener = FrameSealer(KEY), FrameOpener(KEY)
    for kind, payload in [(16, b""), (255, b"block"), (0, bytes(1000))]:
        frame = sealer.seal(kind, payload)
        assert len(frame) == HEADER_SIZE + 1 + len(payload) + 16
        assert opener.parse_header(frame[:HEADER_SIZE]) == len(frame) - HEADER_SIZE
        assert opener.open(frame[:HEADER_SIZE], frame[HEADER_SIZE:]) == (kind, payload)


def test_frames_use_a_big_endian_counter_nonce_and_the_header_as_associated_data() -> None:
    sealer = FrameSealer(KEY)
    frames = [sealer.seal(16, b"same message") for _ in range(3)]

    for counter, frame in enumerate(frames):
        header = frame[:HEADER_SIZE]
        assert header == (1 + 12 + 16).to_bytes(4, "big")
        expected = ChaCha20Poly1305(KEY).encrypt(
            counter.to_bytes(12, "big"), b"\x10same message", header
        )
        assert frame[HEADER_SIZE:] == expected
    assert len(set(frames)) == 3  # The same message never produces the same bytes twice.


def test_a_replayed_or_reordered_frame_fails_authentication() -> None:
    sealer, opener = FrameSealer(KEY), FrameOpener(KEY)
    first, second = sealer.seal(16, b"one"), sealer.seal(16, b"two")
    with pytest.raises(FrameAuthenticationError):
        opener.open(second[:HEADER_SIZE], second[HEADER_SIZE:])
    assert opener.open(first[:HEADER_SIZE], first[HEADER_SIZE:]) == (16, b"one")
    with pytest.raises(FrameAuthenticationError):
        opener.open(first[:HEADER_SIZE], first[HEADER_SIZE:])


@pytest.mark.parametrize("position", [0, 1, HEADER_SIZE, HEADER_SIZE + 5, -1])
def test_any_flipped_bit_fails_authentication(position: int) -> None:
    frame = bytearray(FrameSealer(KEY).seal(16, b"payload"))
    frame[position] ^= 0x80 if position < HEADER_SIZE else 0x01
    with pytest.raises(FrameAuthenticationError):
        FrameOpener(KEY, max_frame_size=2**32 - 1).open(
            bytes(frame[:HEADER_SIZE]), bytes(frame[HEADER_SIZE:])
        )


def test_another_key_cannot_open_a_frame() -> None:
    frame = FrameSealer(KEY).seal(16, b"secret")
    with pytest.raises(FrameAuthenticationError):
        FrameOpener(OTHER_KEY).open(frame[:HEADER_SIZE], frame[HEADER_SIZE:])


def test_each_direction_stops_before_its_nonce_would_wrap() -> None:
    sealer = FrameSealer(KEY, first_nonce=LAST_NONCE)
    opener = FrameOpener(KEY, first_nonce=LAST_NONCE)
    last = sealer.seal(16, b"last")
    assert last[HEADER_SIZE:] == ChaCha20Poly1305(KEY).encrypt(
        b"\xff" * 12, b"\x10last", last[:HEADER_SIZE]
    )
    assert opener.open(last[:HEADER_SIZE], last[HEADER_SIZE:]) == (16, b"last")

    with pytest.raises(NonceExhausted):
        sealer.seal(16, b"one too many")
    with pytest.raises(NonceExhausted):
        opener.open(last[:HEADER_SIZE], last[HEADER_SIZE:])


def test_payload_size_is_bounded_by_the_frame_size() -> None:
    sealer = FrameSealer(KEY, max_frame_size=1024)
    largest = compute_max_payload_size(1024)
    assert len(sealer.seal(16, bytes(largest))) == HEADER_SIZE + 1024
    with pytest.raises(MessageTooLarge, match="1008 bytes"):
        sealer.seal(16, bytes(largest + 1))
    assert compute_max_payload_size(MAX_FRAME_SIZE) == 16 * 1024 * 1024 - 17


async def test_read_frame_reads_frames_from_a_stream() -> None:
    sealer, reader = FrameSealer(KEY), asyncio.StreamReader()
    reader.feed_data(sealer.seal(16, b"a") + sealer.seal(17, b"bc"))
    opener = FrameOpener(KEY)
    assert await read_frame(reader, opener) == (16, b"a", HEADER_SIZE + 18)
    assert await read_frame(reader, opener) == (17, b"bc", HEADER_SIZE + 19)


async def test_an_oversized_declared_length_is_refused_before_the_body_is_read() -> None:
    reader = asyncio.StreamReader()
    # Only the header arrives: a reader that waited for the body would block here forever.
    reader.feed_data((1024 + 1).to_bytes(4, "big"))
    with pytest.raises(FrameTooLarge, match="1025 bytes, more than the limit of 1024"):
        await asyncio.wait_for(read_frame(reader, FrameOpener(KEY, max_frame_size=1024)), 1)


async def test_a_frame_too_short_for_a_kind_and_tag_is_refused() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data((16).to_bytes(4, "big") + bytes(16))
    with pytest.raises(MalformedFrame, match="fewer than the minimum of 17"):
        await asyncio.wait_for(read_frame(reader, FrameOpener(KEY)), 1)


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FrameSealer(bytes(16))
