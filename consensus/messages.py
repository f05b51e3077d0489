"""Consensus messages: votes, proposals and commit certificates, and their RLP encoding.

This module owns the wire and storage form of the values the BFT protocol exchanges and keeps.
It checks shape (field types, sizes and ranges) when a value is built and when bytes are
decoded, and raises `InvalidVote`, `InvalidProposal` or `InvalidCertificate` for anything else,
whatever the input bytes. It does not check signatures (`signing.py`) nor whether a certificate
proves a commit (`certificate.py`).

Encodings are RLP lists; integers are minimal big-endian byte strings of at most 8 bytes
(heights, rounds and chain ids are unsigned 64-bit numbers), and nothing may follow the list.
Decoding is linear in the input and never nests deeper than the structure allows:

- Vote: `[chain_id, height, round, kind, block_hash, validator, signature]`
- Proposal: `[chain_id, height, round, block_hash, pol_round + 1, proposer, signature]`
- CommitCertificate: `[height, round, block_hash, [vote, ...]]`, each vote as its own list.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import rlp
from eth_hash.auto import keccak
from rlp.codec import consume_length_prefix

from openledger.consensus.errors import (
    ConsensusError,
    InvalidCertificate,
    InvalidProposal,
    InvalidVote,
)
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Round

NIL: Final = b""
"""The `block_hash` of a vote for no block."""

MAX_CERTIFICATE_PRECOMMITS: Final = 10_000
"""The most precommits a certificate may carry, as CometBFT's `MaxVotesCount`; bounds decoding."""

SIGNATURE_SIZE: Final = 65
"""A recoverable secp256k1 signature: `r || s || v`, v in {0, 1}."""

_UINT64_LIMIT: Final = 2**64
_RlpItem = bytes | list["_RlpItem"]


class VoteKind(IntEnum):
    """The two votes of a Tendermint round."""

    PREVOTE = 1
    PRECOMMIT = 2


@dataclass(frozen=True, slots=True)
class Vote:
    """A validator's signed prevote or precommit for one block, or for nil, at (height, round)."""

    chain_id: ChainId
    """The EIP-155 chain id; it is signed, so a vote cannot be replayed on another chain."""

    height: BlockNumber
    """The height being decided."""

    round: Round
    """The round of that height, from 0."""

    kind: VoteKind
    """`PREVOTE` or `PRECOMMIT`; a plain 1 or 2 is converted."""

    block_hash: bytes
    """The 32-byte hash of the block voted for, or `NIL` (empty) for a vote for no block."""

    validator: Address
    """The 20-byte address of the validator that claims to have signed the vote."""

    signature: bytes
    """65 bytes `r || s || v` over `compute_vote_sign_bytes`; checked by `signing.py`, not here."""

    def __post_init__(self) -> None:
        _check_uint(self.chain_id, "chain_id", InvalidVote)
        _check_uint(self.height, "height", InvalidVote)
        _check_uint(self.round, "round", InvalidVote)
        object.__setattr__(self, "kind", _to_vote_kind(self.kind))
        _check_bytes(self.block_hash, "block_hash", (0, 32), InvalidVote)
        _check_bytes(self.validator, "validator", (20,), InvalidVote)
        _check_bytes(self.signature, "signature", (SIGNATURE_SIZE,), InvalidVote)

    @property
    def is_nil(self) -> bool:
        """Whether this is a vote for no block."""
        return self.block_hash == NIL

    def encode(self) -> bytes:
        """The RLP encoding `[chain_id, height, round, kind, block_hash, validator, signature]`."""
        return rlp.encode(self._to_rlp_list())

    @classmethod
    def decode(cls, data: bytes) -> "Vote":
        """Parse `encode()`'s output; raise `InvalidVote` for anything else."""
        return cls._from_rlp_list(_decode_rlp(data, 1, InvalidVote))

    def _to_rlp_list(self) -> list[bytes]:
        return [
            _encode_uint(self.chain_id),
            _encode_uint(self.height),
            _encode_uint(self.round),
            _encode_uint(self.kind),
            self.block_hash,
            self.validator,
            self.signature,
        ]

    @classmethod
    def _from_rlp_list(cls, item: _RlpItem) -> "Vote":
        fields = _expect_list(item, 7, "vote", InvalidVote)
        return cls(
            chain_id=ChainId(_decode_uint(fields[0], "chain_id", InvalidVote)),
            height=BlockNumber(_decode_uint(fields[1], "height", InvalidVote)),
            round=Round(_decode_uint(fields[2], "round", InvalidVote)),
            kind=_to_vote_kind(_decode_uint(fields[3], "kind", InvalidVote)),
            block_hash=_expect_bytes(fields[4], "block_hash", InvalidVote),
            validator=Address(_expect_bytes(fields[5], "validator", InvalidVote)),
            signature=_expect_bytes(fields[6], "signature", InvalidVote),
        )


@dataclass(frozen=True, slots=True)
class Proposal:
    """The signed proposal of a block by the proposer of (height, round)."""

    chain_id: ChainId
    """The EIP-155 chain id; it is signed, so a proposal cannot be replayed on another chain."""

    height: BlockNumber
    """The height being decided."""

    round: Round
    """The round of that height, from 0."""

    block_hash: Hash32
    """The 32-byte hash of the proposed block (a proposal is never nil)."""

    pol_round: Round
    """The round of the proof of lock (a polka for this block) the proposer relies on, or -1."""

    proposer: Address
    """The 20-byte address of the validator that claims to have signed the proposal."""

    signature: bytes
    """65 bytes `r || s || v` over `compute_proposal_sign_bytes`; checked by `signing.py`."""

    def __post_init__(self) -> None:
        _check_uint(self.chain_id, "chain_id", InvalidProposal)
        _check_uint(self.height, "height", InvalidProposal)
        _check_uint(self.round, "round", InvalidProposal)
        _check_bytes(self.block_hash, "block_hash", (32,), InvalidProposal)
        if not _is_int(self.pol_round) or not -1 <= self.pol_round < self.round:
            raise InvalidProposal(
                f"pol_round must be -1 or a round below the proposal's round {self.round}, "
                f"got {self.pol_round!r}"
            )
        _check_bytes(self.proposer, "proposer", (20,), InvalidProposal)
        _check_bytes(self.signature, "signature", (SIGNATURE_SIZE,), InvalidProposal)

    def encode(self) -> bytes:
        """The RLP encoding `[chain_id, height, round, block_hash, pol_round + 1, proposer, sig]`."""
        return rlp.encode(
            [
                _encode_uint(self.chain_id),
                _encode_uint(self.height),
                _encode_uint(self.round),
                self.block_hash,
                _encode_uint(self.pol_round + 1),
                self.proposer,
                self.signature,
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> "Proposal":
        """Parse `encode()`'s output; raise `InvalidProposal` for anything else."""
        fields = _expect_list(_decode_rlp(data, 1, InvalidProposal), 7, "proposal", InvalidProposal)
        return cls(
            chain_id=ChainId(_decode_uint(fields[0], "chain_id", InvalidProposal)),
            height=BlockNumber(_decode_uint(fields[1], "height", InvalidProposal)),
            round=Round(_decode_uint(fields[2], "round", InvalidProposal)),
            block_hash=Hash32(_expect_bytes(fields[3], "block_hash", InvalidProposal)),
            pol_round=Round(_decode_uint(fields[4], "pol_round + 1", InvalidProposal) - 1),
            proposer=Address(_expect_bytes(fields[5], "proposer", InvalidProposal)),
            signature=_expect_bytes(fields[6], "signature", InvalidProposal),
        )


@dataclass(frozen=True, slots=True)
class CommitCertificate:
    """The signed precommits that show a block was committed at (height, round).

    Building one checks only its shape; `verify_certificate` checks that the precommits are for
    this block, signed by distinct members of the validator set, and carry more than 2/3 of the
    power. Precommits are kept sorted by validator address, so one set of votes has one hash.
    """

    height: BlockNumber
    """The committed height."""

    round: Round
    """The round in which more than 2/3 of the power precommitted the block."""

    block_hash: Hash32
    """The 32-byte hash of the committed block."""

    precommits: tuple[Vote, ...]
    """The signed precommits for the block, sorted by validator address."""

    def __post_init__(self) -> None:
        _check_uint(self.height, "height", InvalidCertificate)
        _check_uint(self.round, "round", InvalidCertificate)
        _check_bytes(self.block_hash, "block_hash", (32,), InvalidCertificate)
        if not isinstance(self.precommits, tuple) or not all(
            isinstance(vote, Vote) for vote in self.precommits
        ):
            raise InvalidCertificate("precommits must be a tuple of Vote")
        if len(self.precommits) > MAX_CERTIFICATE_PRECOMMITS:
            raise InvalidCertificate(
                f"{len(self.precommits)} precommits, more than the limit "
                f"{MAX_CERTIFICATE_PRECOMMITS}"
            )

    def encode(self) -> bytes:
        """The RLP encoding `[height, round, block_hash, [vote, ...]]`."""
        return rlp.encode(
            [
                _encode_uint(self.height),
                _encode_uint(self.round),
                self.block_hash,
                [vote._to_rlp_list() for vote in self.precommits],
            ]
        )

    @classmethod
    def decode(cls, data: bytes) -> "CommitCertificate":
        """Parse `encode()`'s output; raise `InvalidCertificate` for anything else."""
        item = _decode_rlp(data, 3, InvalidCertificate)
        fields = _expect_list(item, 4, "certificate", InvalidCertificate)
        votes = fields[3]
        if not isinstance(votes, list):
            raise InvalidCertificate("the precommits must be an RLP list, got a byte string")
        if len(votes) > MAX_CERTIFICATE_PRECOMMITS:
            raise InvalidCertificate(
                f"{len(votes)} precommits, more than the limit {MAX_CERTIFICATE_PRECOMMITS}"
            )
        precommits = []
        for index, vote_item in enumerate(votes):
            try:
                precommits.append(Vote._from_rlp_list(vote_item))
            except InvalidVote as error:
                raise InvalidCertificate(f"precommit {index}: {error.problem}") from error
        return cls(
            height=BlockNumber(_decode_uint(fields[0], "height", InvalidCertificate)),
            round=Round(_decode_uint(fields[1], "round", InvalidCertificate)),
            block_hash=Hash32(_expect_bytes(fields[2], "block_hash", InvalidCertificate)),
            precommits=tuple(precommits),
        )

    def hash(self) -> Hash32:
        """`keccak256(rlp(certificate))`: what the next block's `extraData` holds."""
        return Hash32(keccak(self.encode()))


def _to_vote_kind(value: object) -> VoteKind:
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return VoteKind(value)
        except ValueError:
            pass
    raise InvalidVote(f"kind must be 1 (prevote) or 2 (precommit), got {value!r}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_uint(value: object, name: str, error: type[ConsensusError]) -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _UINT64_LIMIT):
        raise error(f"{name} must be an integer in [0, 2**64), got {value!r}")


def _check_bytes(
    value: object, name: str, sizes: Sequence[int], error: type[ConsensusError]
) -> None:
    if not isinstance(value, bytes):
        raise error(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) not in sizes:
        expected = " or ".join(str(size) for size in sizes)
        raise error(f"{name} must be {expected} bytes long, got {len(value)}")


def _encode_uint(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _decode_rlp(data: bytes, max_depth: int, error: type[ConsensusError]) -> _RlpItem:
    """Decode one RLP item that fills `data`, with lists nested at most `max_depth` deep.

    `rlp.decode` recurses once per nesting level (a 1 MB message can hold 300 000 levels, and
    py-evm raises Python's recursion limit to match) and copies each list's bytes as it goes;
    walking with its own prefix parser and a depth bound keeps decoding linear and shallow.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise error(f"expected encoded bytes, got {type(data).__name__}")
    data = bytes(data)
    try:
        item, end = _decode_item(data, 0, len(data), max_depth)
    except (rlp.exceptions.DecodingError, IndexError) as exc:
        raise error(f"not a valid RLP encoding ({exc or 'truncated'})") from exc
    if end != len(data):
        raise error(f"not a valid RLP encoding: {len(data) - end} bytes after the item")
    return item


def _decode_item(data: bytes, start: int, limit: int, depth: int) -> tuple[_RlpItem, int]:
    """The item at `start`, which must end by `limit`, and the position after it."""
    _, kind, length, payload_start = consume_length_prefix(data, start)
    end = payload_start + length
    if end > limit:
        raise rlp.exceptions.DecodingError("an item is longer than what contains it", data)
    if kind is bytes:
        return data[payload_start:end], end
    if depth == 0:
        raise rlp.exceptions.DecodingError("lists are nested too deeply", data)
    items: list[_RlpItem] = []
    position = payload_start
    while position < end:
        item, position = _decode_item(data, position, end, depth - 1)
        items.append(item)
    return items, end


def _expect_list(
    item: _RlpItem, length: int, what: str, error: type[ConsensusError]
) -> list[_RlpItem]:
    if not isinstance(item, list):
        raise error(f"a {what} must be an RLP list, got a byte string")
    if len(item) != length:
        raise error(f"a {what} has {length} fields, got {len(item)}")
    return item


def _expect_bytes(item: _RlpItem, name: str, error: type[ConsensusError]) -> bytes:
    if not isinstance(item, bytes):
        raise error(f"{name} must be an RLP byte string, got a list")
    return item


def _decode_uint(item: _RlpItem, name: str, error: type[ConsensusError]) -> int:
    raw = _expect_bytes(item, name, error)
    if len(raw) > 8:
        raise error(f"{name} is {len(raw)} bytes long, more than a 64-bit integer")
    if raw[:1] == b"\x00":
        raise error(f"{name} has leading zero bytes; integers must be minimally encoded")
    return int.from_bytes(raw, "big")
