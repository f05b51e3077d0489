"""The node's peer-to-peer messages, carried by the transport as `(kind, payload)`.

Every payload is RLP. Decoding is strict and bounded: a malformed or oversized message raises
`ProtocolError`, and the node drops the peer that sent it.

| kind | message | payload |
| --- | --- | --- |
| 16 | STATUS | `[chain_id, genesis_hash, head_number, head_hash]`, on connect and periodically |
| 17 | TRANSACTIONS | `[raw_tx, ...]`, at most 256 |
| 18 | PROPOSAL | `[proposal, block, parent_certificate]`; the certificate is empty for block 1 |
| 19 | VOTE | an encoded `Vote` |
| 20 | GET_BLOCKS | `[first_number, count]`, count at most `MAX_BLOCKS_PER_REQUEST` |
| 21 | BLOCKS | `[first_parent_certificate, [[block, certificate], ...]]`: consecutive blocks, each with the commit that finalised it, and the parent commit the first block's `extraData` names |
| 22 | NEW_BLOCK | as BLOCKS, with exactly one block: a committed block pushed to a peer still one block behind |
"""

from dataclasses import dataclass
from enum import IntEnum

import rlp
from eth.abc import BlockAPI

from openledger.consensus.errors import ConsensusError
from openledger.consensus.messages import CommitCertificate, Proposal, Vote
from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.types import BlockNumber, ChainId, Hash32
from openledger.state.fork import OpenLedgerVM

MAX_TRANSACTIONS_PER_MESSAGE = 256
MAX_BLOCKS_PER_REQUEST = 32


class ProtocolError(OpenLedgerError):
    """A peer sent a message that does not decode or breaks the protocol's bounds."""


class MessageKind(IntEnum):
    """Kinds of the node's messages (the transport reserves 0-15)."""

    STATUS = 16
    TRANSACTIONS = 17
    PROPOSAL = 18
    VOTE = 19
    GET_BLOCKS = 20
    BLOCKS = 21
    NEW_BLOCK = 22


@dataclass(frozen=True, slots=True)
class Status:
    """A peer's chain and head."""

    chain_id: ChainId
    """The peer's chain id."""
    genesis_hash: Hash32
    """The peer's genesis hash."""
    head_number: BlockNumber
    """The peer's latest committed block number."""
    head_hash: Hash32
    """Its hash."""


@dataclass(frozen=True, slots=True)
class ProposalMessage:
    """A proposal with the block it proposes and the commit of that block's parent."""

    proposal: Proposal
    """The signed proposal."""
    block: BlockAPI
    """The proposed block."""
    parent_certificate: CommitCertificate | None
    """The commit certificate of the parent, whose hash is the block's `extraData`."""


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    """A committed block and its commit certificate, as block sync serves them."""

    block: BlockAPI
    """The block."""
    certificate: CommitCertificate
    """More than 2/3 of the stake's precommits for it."""


def encode_status(status: Status) -> bytes:
    """STATUS payload."""
    return rlp.encode([status.chain_id, status.genesis_hash, status.head_number, status.head_hash])


def decode_status(payload: bytes) -> Status:
    """Parse a STATUS payload."""
    items = _list(payload, 4, "status")
    return Status(
        ChainId(_uint(items[0], "chain id")),
        Hash32(_fixed(items[1], 32, "genesis hash")),
        BlockNumber(_uint(items[2], "head number")),
        Hash32(_fixed(items[3], 32, "head hash")),
    )


def encode_transactions(raw: list[bytes]) -> bytes:
    """TRANSACTIONS payload."""
    return rlp.encode(raw)


def decode_transactions(payload: bytes) -> list[bytes]:
    """Parse a TRANSACTIONS payload."""
    items = _decode(payload)
    if not isinstance(items, list) or len(items) > MAX_TRANSACTIONS_PER_MESSAGE:
        raise ProtocolError(
            f"transactions must be a list of at most {MAX_TRANSACTIONS_PER_MESSAGE}"
        )
    if not all(isinstance(item, bytes) for item in items):
        raise ProtocolError("each transaction must be a byte string")
    return items


def encode_proposal(message: ProposalMessage) -> bytes:
    """PROPOSAL payload."""
    certificate = message.parent_certificate.encode() if message.parent_certificate else b""
    return rlp.encode([message.proposal.encode(), rlp.encode(message.block), certificate])


def decode_proposal(payload: bytes, vm_class: type[OpenLedgerVM]) -> ProposalMessage:
    """Parse a PROPOSAL payload (signatures are checked by the consensus host)."""
    items = _list(payload, 3, "proposal message")
    proposal_bytes, block_bytes, certificate_bytes = (
        _bytes(item, "proposal field") for item in items
    )
    try:
        proposal = Proposal.decode(proposal_bytes)
        certificate = CommitCertificate.decode(certificate_bytes) if certificate_bytes else None
    except ConsensusError as error:
        raise ProtocolError(f"bad proposal message: {error}") from error
    return ProposalMessage(proposal, decode_block(block_bytes, vm_class), certificate)


def decode_vote(payload: bytes) -> Vote:
    """Parse a VOTE payload."""
    try:
        return Vote.decode(payload)
    except ConsensusError as error:
        raise ProtocolError(f"bad vote: {error}") from error


def encode_get_blocks(first: int, count: int) -> bytes:
    """GET_BLOCKS payload."""
    return rlp.encode([first, count])


def decode_get_blocks(payload: bytes) -> tuple[int, int]:
    """Parse a GET_BLOCKS payload; the count is capped at `MAX_BLOCKS_PER_REQUEST`."""
    items = _list(payload, 2, "block request")
    first, count = _uint(items[0], "first block"), _uint(items[1], "count")
    if count == 0:
        raise ProtocolError("a block request must ask for at least one block")
    return first, min(count, MAX_BLOCKS_PER_REQUEST)


def encode_blocks(
    parent_certificate: CommitCertificate | None, blocks: list[CommittedBlock]
) -> bytes:
    """BLOCKS payload."""
    return rlp.encode(
        [
            parent_certificate.encode() if parent_certificate else b"",
            [[rlp.encode(item.block), item.certificate.encode()] for item in blocks],
        ]
    )


def decode_blocks(
    payload: bytes, vm_class: type[OpenLedgerVM]
) -> tuple[CommitCertificate | None, list[CommittedBlock]]:
    """Parse a BLOCKS payload: the first block's parent commit, and the blocks."""
    head, items = _list(payload, 2, "blocks message")
    if not isinstance(items, list) or len(items) > MAX_BLOCKS_PER_REQUEST:
        raise ProtocolError(f"blocks must be a list of at most {MAX_BLOCKS_PER_REQUEST}")
    parent = _certificate(_bytes(head, "parent certificate")) if head else None
    blocks = []
    for entry in items:
        if not isinstance(entry, list) or len(entry) != 2:
            raise ProtocolError("each block entry must be [block, certificate]")
        block = decode_block(_bytes(entry[0], "block"), vm_class)
        blocks.append(CommittedBlock(block, _certificate(_bytes(entry[1], "certificate"))))
    return parent, blocks


def decode_new_block(
    payload: bytes, vm_class: type[OpenLedgerVM]
) -> tuple[CommitCertificate | None, CommittedBlock]:
    """Parse a NEW_BLOCK payload: the block's parent commit, and the block with its commit."""
    parent, blocks = decode_blocks(payload, vm_class)
    if len(blocks) != 1:
        raise ProtocolError("a new block message carries exactly one block")
    return parent, blocks[0]


def _certificate(data: bytes) -> CommitCertificate:
    try:
        return CommitCertificate.decode(data)
    except ConsensusError as error:
        raise ProtocolError(f"bad certificate: {error}") from error


def decode_block(data: bytes, vm_class: type[OpenLedgerVM]) -> BlockAPI:
    """Decode an RLP block of this chain's fork."""
    try:
        block: BlockAPI = rlp.decode(data, sedes=vm_class.get_block_class())
    except (rlp.DecodingError, rlp.DeserializationError, ValueError, TypeError) as error:
        raise ProtocolError(f"bad block encoding: {error}") from error
    return block


# --- strict RLP helpers -----------------------------------------------------------------------------


def _decode(payload: bytes) -> object:
    try:
        return rlp.decode(payload)
    except (rlp.DecodingError, RecursionError) as error:
        raise ProtocolError(f"malformed RLP: {error}") from error


def _list(payload: bytes, length: int, what: str) -> list[object]:
    items = _decode(payload)
    if not isinstance(items, list) or len(items) != length:
        raise ProtocolError(f"{what} must be an RLP list of {length} items")
    return items


def _bytes(item: object, what: str) -> bytes:
    if not isinstance(item, bytes):
        raise ProtocolError(f"{what} must be a byte string")
    return item


def _fixed(item: object, length: int, what: str) -> bytes:
    value = _bytes(item, what)
    if len(value) != length:
        raise ProtocolError(f"{what} must be {length} bytes")
    return value


def _uint(item: object, what: str) -> int:
    value = _bytes(item, what)
    if len(value) > 8 or (value and value[0] == 0):
        raise ProtocolError(f"{what} must be a canonical integer below 2**64")
    return int.from_bytes(value, "big")
