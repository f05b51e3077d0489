"""Peer ids, peer addresses and the node key file."""

import os
import stat
from pathlib import Path

import pytest

from openledger.node.p2p.errors import InvalidNodeKey, InvalidPeerAddress
from openledger.node.p2p.identity import (
    PeerAddress,
    compute_peer_id,
    format_peer_address,
    load_or_create_node_key,
    parse_peer_address,
)

from .harness import make_key

KEY_HEX = compute_peer_id(make_key(1)).hex()


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        (f"{KEY_HEX}@127.0.0.1:30303", "127.0.0.1", 30303),
        (f"{KEY_HEX}@validator-1.devnet:1", "validator-1.devnet", 1),
        (f"{KEY_HEX}@[::1]:65535", "::1", 65535),
        (f"  {KEY_HEX.upper()}@node:30303\n", "node", 30303),
    ],
)
def test_parse_peer_address_accepts_the_documented_forms(text: str, host: str, port: int) -> None:
    address = parse_peer_address(text)
    assert address == PeerAddress(compute_peer_id(make_key(1)), host, port)
    assert parse_peer_address(str(address)) == address


def test_format_peer_address_brackets_ipv6() -> None:
    peer_id = compute_peer_id(make_key(1))
    assert format_peer_address(peer_id, "::1", 9) == f"{KEY_HEX}@[::1]:9"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("127.0.0.1:30303", "missing '@'"),
        (f"{KEY_HEX[:-2]}@h:1", "must be 66 hex characters, found 64"),
        (f"0x{KEY_HEX}@h:1", "must be 66 hex characters, found 68"),
        (f"{'zz' * 33}@h:1", "not hexadecimal"),
        (f"04{KEY_HEX[2:]}@h:1", "not a compressed secp256k1 public key"),
        (f"02{'ff' * 32}@h:1", "not a compressed secp256k1 public key"),
        (f"{KEY_HEX}@host", "missing ':port'"),
        (f"{KEY_HEX}@:30303", "the host is empty"),
        (f"{KEY_HEX}@h:0", "not a number in 1..65535"),
        (f"{KEY_HEX}@h:65536", "not a number in 1..65535"),
        (f"{KEY_HEX}@h:http", "not a number in 1..65535"),
        (f"{KEY_HEX}@::1:30303", "IPv6 host must be written [address]:port"),
        (f"{KEY_HEX}@[::1]30303", "IPv6 host must be written [address]:port"),
        (f"{KEY_HEX}@[not-v6]:1", "not an IPv6 address"),
    ],
)
def test_parse_peer_address_names_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidPeerAddress) as caught:
        parse_peer_address(text)
    assert problem in str(caught.value)
    assert "<66 hex chars of the compressed public key>@host:port" in str(caught.value)


def test_node_key_is_created_private_and_then_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nodekey"

    created = load_or_create_node_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == created.to_bytes().hex()  # geth's format: 64 hex, no newline.
    assert load_or_create_node_key(path) == created
    assert list(path.parent.iterdir()) == [path]  # No temporary file left behind.


def test_node_keys_are_random(tmp_path: Path) -> None:
    assert load_or_create_node_key(tmp_path / "a") != load_or_create_node_key(tmp_path / "b")


def test_node_key_written_by_hand_with_a_newline_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "nodekey"
    path.write_text(make_key(7).to_bytes().hex() + "\n")
    os.chmod(path, 0o600)
    assert load_or_create_node_key(path) == make_key(7)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"not a key", "64 hex characters, found 9"),
        (b"ab" * 31, "64 hex characters, found 62"),
        (b"00" * 32, "not a valid secp256k1 private key"),
        (b"ff" * 32, "not a valid secp256k1 private key"),
        (b"\xff\xfe", "not ASCII"),
    ],
)
def test_malformed_node_key_file_is_refused_and_kept(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "nodekey"
    path.write_bytes(content)

    with pytest.raises(InvalidNodeKey) as caught:
        load_or_create_node_key(path)

    assert problem in str(caught.value)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content
