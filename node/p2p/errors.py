"""The errors the peer-to-peer transport raises on purpose.

Every error names its reason in words an operator can act on, because the node logs them as they
are ("handshake with 02ab..@10.0.0.2:30303 refused: chain id mismatch: ours 1, theirs 5"). The
tree mirrors the stages of a connection: configuration (addresses, keys), the handshake, framing,
and the session that follows.
"""

from openledger.genesis.errors import OpenLedgerError


class P2PError(OpenLedgerError):
    """Base class of every error the p2p transport raises on purpose."""


class InvalidPeerAddress(P2PError):
    """A peer address is not `<66 hex chars of the compressed key>@host:port`."""

    def __init__(self, address: str, problem: str) -> None:
        super().__init__(
            f"invalid peer address {address!r}: {problem} "
            "(expected <66 hex chars of the compressed public key>@host:port)"
        )
        self.address = address
        self.problem = problem


class InvalidNodeKey(P2PError):
    """A node key file exists but does not hold a usable secp256k1 private key."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"node key file {path!r}: {problem}")
        self.path = path
        self.problem = problem


class ListenError(P2PError):
    """The transport cannot listen on the configured address (port taken, bad host)."""


class HandshakeError(P2PError):
    """A handshake failed; `reason` says why, for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedHello(HandshakeError):
    """The remote's Hello is not a well-formed Hello of our protocol (or is too large)."""


class IncompatiblePeer(HandshakeError):
    """The remote speaks another protocol version or belongs to another chain."""


class PeerAuthenticationError(HandshakeError):
    """The remote could not prove it holds the key it claims, or is not the peer we dialled."""


class SelfConnection(HandshakeError):
    """We connected to ourselves (our own address is among the configured peers)."""


class HandshakeTimeout(HandshakeError):
    """The remote did not complete the handshake in time."""


class FrameError(P2PError):
    """A frame broke the framing rules; the connection must be closed."""


class FrameTimeout(FrameError):
    """A peer declared a frame and did not send its body in time."""


class FrameTooLarge(FrameError):
    """A frame declared a length above the configured maximum."""


class MalformedFrame(FrameError):
    """A frame is too short to hold a message kind and an authentication tag."""


class FrameAuthenticationError(FrameError):
    """A frame failed ChaCha20-Poly1305 authentication (tampered, or out of order)."""


class NonceExhausted(FrameError):
    """A direction of a session used every nonce; the session must end before one repeats."""


class ProtocolViolation(P2PError):
    """The remote sent a well-formed frame that our protocol does not allow at that point."""


class PeerRefused(P2PError):
    """The remote refused the session after the handshake (banned, too many peers, duplicate)."""


class MessageTooLarge(P2PError):
    """A message payload does not fit in one frame under the configured maximum."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"message payload of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit
