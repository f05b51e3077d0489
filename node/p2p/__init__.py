"""The authenticated, encrypted peer-to-peer transport of the OpenLedger node.

It carries `(kind, payload)` messages between nodes of one chain and knows nothing of what they
mean: consensus votes, transactions and blocks are the node's business. The node talks to it
through the `Network` protocol; `P2PService` implements it over TCP (the in-memory double the
deterministic tests use is `tests/support/memory.py`). Modules, from the wire up: `identity` (keys
and addresses), `handshake`, `framing`, `peer` (one session), `admission`, `service`, `gossip`
(de-duplication).
"""

from openledger.node.p2p.config import TransportConfig
from openledger.node.p2p.errors import (
    FrameAuthenticationError,
    FrameError,
    FrameTooLarge,
    HandshakeError,
    HandshakeTimeout,
    IncompatiblePeer,
    InvalidNodeKey,
    InvalidPeerAddress,
    ListenError,
    MalformedFrame,
    MalformedHello,
    MessageTooLarge,
    NonceExhausted,
    P2PError,
    PeerAuthenticationError,
    PeerRefused,
    ProtocolViolation,
    SelfConnection,
)
from openledger.node.p2p.gossip import SeenCache, compute_message_id
from openledger.node.p2p.identity import (
    PeerAddress,
    PeerId,
    compute_peer_id,
    format_peer_address,
    load_or_create_node_key,
    parse_peer_address,
    short_peer_id,
)
from openledger.node.p2p.network import (
    MAX_APPLICATION_KIND,
    MIN_APPLICATION_KIND,
    Direction,
    Network,
    OnMessage,
    OnPeerConnected,
    OnPeerDisconnected,
    PeerInfo,
)
from openledger.node.p2p.service import P2PService

__all__ = [
    "MAX_APPLICATION_KIND",
    "MIN_APPLICATION_KIND",
    "Direction",
    "FrameAuthenticationError",
    "FrameError",
    "FrameTooLarge",
    "HandshakeError",
    "HandshakeTimeout",
    "IncompatiblePeer",
    "InvalidNodeKey",
    "InvalidPeerAddress",
    "ListenError",
    "MalformedFrame",
    "MalformedHello",
    "MessageTooLarge",
    "Network",
    "NonceExhausted",
    "OnMessage",
    "OnPeerConnected",
    "OnPeerDisconnected",
    "P2PError",
    "P2PService",
    "PeerAddress",
    "PeerAuthenticationError",
    "PeerId",
    "PeerInfo",
    "PeerRefused",
    "ProtocolViolation",
    "SeenCache",
    "SelfConnection",
    "TransportConfig",
    "compute_message_id",
    "compute_peer_id",
    "format_peer_address",
    "load_or_create_node_key",
    "parse_peer_address",
    "short_peer_id",
]
