"""The authenticated, encrypted peer-to-peer transport of the OpenLedger node.

It carries `(kind, payload)` messages between nodes of one chain and knows nothing of what they
mean: consensus votes, transactions and blocks are the node's business. The node talks to it
through the `Network` protocol; `P2PService` implements it over TCP, `MemoryTransport` in memory for
deterministic tests. Modules, from the wire up: `identity` (keys and addresses), `handshake`,
`framing`, `peer` (one session), `admission`, `service`, `gossip` (de-duplication), `memory`.
"""

from openledger.node.p2p.clock import FakeClock
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
from openledger.node.p2p.memory import LinkEvent, MemoryNetwork, MemoryTransport, MessageDelivery
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
    "FakeClock",
    "FrameAuthenticationError",
    "FrameError",
    "FrameTooLarge",
    "HandshakeError",
    "HandshakeTimeout",
    "IncompatiblePeer",
    "InvalidNodeKey",
    "InvalidPeerAddress",
    "LinkEvent",
    "ListenError",
    "MalformedFrame",
    "MalformedHello",
    "MemoryNetwork",
    "MemoryTransport",
    "MessageDelivery",
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
