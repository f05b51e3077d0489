"""Who a node is on the network: its secp256k1 node key, peer id and peer address.

A node's peer id is the 33-byte compressed public key of its node key; a peer address is
`<66 hex chars of that key>@host:port`, the form operators write in `--peers`. The node key file
holds the private key as 64 hex characters, like geth's `nodekey`. This module parses and formats
those forms and creates the key file; it does no networking.
"""

import ipaddress
import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import NewType

from eth_keys import keys
from eth_keys.datatypes import PrivateKey
from eth_keys.exceptions import ValidationError

from openledger.node.p2p.errors import InvalidNodeKey, InvalidPeerAddress

log = logging.getLogger(__name__)

PeerId = NewType("PeerId", bytes)
"""A peer's 33-byte compressed secp256k1 public key."""

PEER_ID_SIZE = 33
"""Bytes in a peer id (a compressed secp256k1 public key)."""

_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class PeerAddress:
    """Where to reach a peer and which key it must prove it holds."""

    peer_id: PeerId
    """The peer's compressed public key; the handshake refuses anyone else at that address."""
    host: str
    """A host name or IP address (IPv6 without brackets)."""
    port: int
    """The TCP port the peer listens on, 1..65535."""

    def __str__(self) -> str:
        return format_peer_address(self.peer_id, self.host, self.port)


def parse_peer_address(text: str) -> PeerAddress:
    """Parses `<66 hex chars>@host:port` (IPv6 hosts in brackets: `...@[::1]:30303`)."""
    key_hex, at, location = text.strip().partition("@")
    if not at:
        raise InvalidPeerAddress(text, "missing '@' between the key and host:port")
    peer_id = _parse_peer_id(text, key_hex)
    host, port = _parse_host_port(text, location)
    return PeerAddress(peer_id=peer_id, host=host, port=port)


def format_peer_address(peer_id: PeerId, host: str, port: int) -> str:
    """The inverse of `parse_peer_address`; brackets an IPv6 host."""
    shown_host = f"[{host}]" if ":" in host else host
    return f"{peer_id.hex()}@{shown_host}:{port}"


def compute_peer_id(node_key: PrivateKey) -> PeerId:
    """The peer id of a node key: its compressed public key."""
    return PeerId(node_key.public_key.to_compressed_bytes())


def short_peer_id(peer_id: PeerId) -> str:
    """A short form for logs; like a git short hash, enough to tell peers apart by eye."""
    return peer_id.hex()[:10]


def is_valid_peer_id(peer_id: bytes) -> bool:
    """Whether `peer_id` is a compressed secp256k1 public key on the curve."""
    if len(peer_id) != PEER_ID_SIZE:
        return False
    try:
        keys.PublicKey.from_compressed_bytes(peer_id)
    except (ValidationError, ValueError):
        return False
    return True


def load_or_create_node_key(path: str | os.PathLike[str]) -> PrivateKey:
    """Loads the node key at `path`, or creates one (file mode 0600) if the file is absent.

    A file that exists but does not hold exactly 64 hex characters of a valid secp256k1 private
    key is refused rather than replaced: the key is the node's identity, and peers that list our
    address would no longer accept us.
    """
    key_path = Path(path)
    if not key_path.exists():
        return _create_node_key(key_path)
    try:
        text = key_path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        raise InvalidNodeKey(str(key_path), "is not ASCII hex text") from None
    except OSError as error:
        raise InvalidNodeKey(str(key_path), f"cannot be read: {error.strerror}") from error
    if not text:
        raise InvalidNodeKey(str(key_path), "is empty; delete it to generate a new node key")
    if _HEX_KEY.fullmatch(text) is None:
        raise InvalidNodeKey(
            str(key_path), f"must hold exactly 64 hex characters, found {len(text)} characters"
        )
    try:
        node_key = PrivateKey(bytes.fromhex(text))
    except ValidationError:
        raise InvalidNodeKey(str(key_path), "is not a valid secp256k1 private key") from None
    if key_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        # Not fatal (an operator may have reasons), but whoever reads the file can impersonate us.
        log.warning("node key file %s is readable by other users; chmod 600 it", key_path)
    return node_key


def _create_node_key(key_path: Path) -> PrivateKey:
    node_key = _generate_private_key()
    key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Written to a temporary file and linked into place, so a crash never leaves a half-written key
    # and two processes starting at once cannot both believe they created it.
    temporary = key_path.with_name(f".{key_path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as key_file:
            key_file.write(node_key.to_bytes().hex())
            key_file.flush()
            os.fsync(key_file.fileno())
        os.link(temporary, key_path)
    except FileExistsError:
        return load_or_create_node_key(key_path)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("created a new node key in %s", key_path)
    return node_key


def _generate_private_key() -> PrivateKey:
    while True:
        # A random 32-byte string is a valid key unless it is 0 or at least the curve order
        # (probability about 2**-128), in which case we draw again.
        try:
            return PrivateKey(secrets.token_bytes(32))
        except ValidationError:
            continue


def _parse_peer_id(text: str, key_hex: str) -> PeerId:
    if len(key_hex) != 2 * PEER_ID_SIZE:
        raise InvalidPeerAddress(
            text, f"the key must be {2 * PEER_ID_SIZE} hex characters, found {len(key_hex)}"
        )
    try:
        raw = bytes.fromhex(key_hex)
    except ValueError:
        raise InvalidPeerAddress(text, "the key is not hexadecimal") from None
    if not is_valid_peer_id(raw):
        raise InvalidPeerAddress(text, "the key is not a compressed secp256k1 public key")
    return PeerId(raw)


def _parse_host_port(text: str, location: str) -> tuple[str, int]:
    if location.startswith("["):
        host, bracket, rest = location[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise InvalidPeerAddress(text, "an IPv6 host must be written [address]:port")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidPeerAddress(text, f"{host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = location.rpartition(":")
        if not colon:
            raise InvalidPeerAddress(text, "missing ':port' after the host")
        if ":" in host:
            raise InvalidPeerAddress(text, "an IPv6 host must be written [address]:port")
    if not host:
        raise InvalidPeerAddress(text, "the host is empty")
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise InvalidPeerAddress(text, f"the port {port_text!r} is not a number in 1..65535")
    return host, int(port_text)
