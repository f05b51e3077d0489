"""Gossip de-duplication."""

import pytest
from eth_hash.auto import keccak

from openledger.node.p2p.gossip import SeenCache, compute_message_id


def test_message_id_is_keccak_of_kind_and_payload() -> None:
    assert compute_message_id(16, b"vote") == keccak(b"\x10vote")
    assert compute_message_id(16, b"vote") != compute_message_id(17, b"vote")


def test_a_message_is_new_only_the_first_time() -> None:
    seen = SeenCache(capacity=10)
    message_id = compute_message_id(16, b"block")
    assert seen.is_new(message_id) is True
    assert seen.is_new(message_id) is False
    assert message_id in seen and len(seen) == 1


def test_the_least_recently_seen_id_is_forgotten_first() -> None:
    seen = SeenCache(capacity=3)
    for message_id in (b"a", b"b", b"c"):
        seen.is_new(message_id)
    assert seen.is_new(b"a") is False  # Seeing "a" again keeps it fresh...
    assert seen.is_new(b"d") is True  # ...so "b", the stalest, makes room.

    assert len(seen) == 3
    assert b"b" not in seen and all(key in seen for key in (b"a", b"c", b"d"))
    assert seen.is_new(b"b") is True


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SeenCache(capacity=0)
