"""RLP encoding of votes, proposals and certificates: round trips, a fixed vector, and the
rejection of every malformed input with our own errors."""

import contextlib
import sys

import pytest
import rlp
from consensus_helpers import BLOCK_B, CHAIN_ID, DUMMY_SIGNATURE, V0, V1, precommit
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from openledger.consensus.errors import (
    ConsensusError,
    InvalidCertificate,
    InvalidProposal,
    InvalidVote,
)
from openledger.consensus.messages import (
    NIL,
    CommitCertificate,
    Proposal,
    Vote,
    VoteKind,
)
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Round

UINT64 = st.integers(min_value=0, max_value=2**64 - 1)
ADDRESS = st.binary(min_size=20, max_size=20).map(Address)
HASH = st.binary(min_size=32, max_size=32).map(Hash32)
SIGNATURE = st.binary(min_size=65, max_size=65)

VOTES = st.builds(
    Vote,
    chain_id=UINT64.map(ChainId),
    height=UINT64.map(BlockNumber),
    round=UINT64.map(Round),
    kind=st.sampled_from(VoteKind),
    block_hash=st.one_of(st.just(NIL), HASH),
    validator=ADDRESS,
    signature=SIGNATURE,
)


@st.composite
def proposals(draw: st.DrawFn) -> Proposal:
    round = draw(st.integers(min_value=0, max_value=2**64 - 1))
    return Proposal(
        chain_id=ChainId(draw(UINT64)),
        height=BlockNumber(draw(UINT64)),
        round=Round(round),
        block_hash=draw(HASH),
        pol_round=Round(draw(st.integers(min_value=-1, max_value=min(round - 1, 2**63)))),
        proposer=draw(ADDRESS),
        signature=draw(SIGNATURE),
    )


CERTIFICATES = st.builds(
    CommitCertificate,
    height=UINT64.map(BlockNumber),
    round=UINT64.map(Round),
    block_hash=HASH,
    precommits=st.lists(VOTES, max_size=5).map(tuple),
)


@given(VOTES)
def test_vote_round_trip(vote: Vote) -> None:
    assert Vote.decode(vote.encode()) == vote


@given(proposals())
def test_proposal_round_trip(proposal: Proposal) -> None:
    assert Proposal.decode(proposal.encode()) == proposal


@settings(max_examples=50)
@given(CERTIFICATES)
def test_certificate_round_trip(certificate: CommitCertificate) -> None:
    encoded = certificate.encode()
    assert CommitCertificate.decode(encoded) == certificate
    assert certificate.hash() == keccak(encoded)


RLP_ITEMS = st.recursive(
    st.one_of(st.binary(max_size=70), st.sampled_from([b"", b"\x00", b"\x01", b"\x02"])),
    lambda children: st.lists(children, max_size=8),
    max_leaves=20,
)
DECODERS = (
    (Vote.decode, InvalidVote),
    (Proposal.decode, InvalidProposal),
    (CommitCertificate.decode, InvalidCertificate),
)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_our_errors(data: bytes) -> None:
    for decode, error in DECODERS:
        with contextlib.suppress(error):
            decode(data)


@settings(max_examples=100)
@given(RLP_ITEMS)
def test_random_rlp_structures_raise_only_our_errors(item: object) -> None:
    data = rlp.encode(item)
    for decode, error in DECODERS:
        with contextlib.suppress(error):
            assert decode(data).encode() == data


@settings(max_examples=200)
@given(VOTES, st.data())
def test_mutated_encodings_raise_only_our_errors(vote: Vote, data: st.DataObject) -> None:
    encoded = bytearray(vote.encode())
    position = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[position] = data.draw(st.integers(min_value=0, max_value=255))
    try:
        decoded = Vote.decode(bytes(encoded))
    except InvalidVote:
        return
    assert decoded.encode() == bytes(encoded)


def test_vote_encoding_is_fixed() -> None:
    vote = Vote(
        ChainId(1), BlockNumber(2), Round(0), VoteKind.PREVOTE, NIL, b"\x11" * 20, b"\x22" * 65
    )
    expected = (
        bytes.fromhex("f85d")
        + b"\x01\x02\x80\x01\x80"
        + b"\x94"
        + b"\x11" * 20
        + b"\xb8\x41"
        + b"\x22" * 65
    )
    assert vote.encode() == expected


def test_proposal_encodes_pol_round_plus_one() -> None:
    proposal = Proposal(CHAIN_ID, BlockNumber(5), Round(3), BLOCK_B, Round(-1), V0, DUMMY_SIGNATURE)
    assert rlp.decode(proposal.encode())[4] == b""
    later = Proposal(CHAIN_ID, BlockNumber(5), Round(3), BLOCK_B, Round(2), V0, DUMMY_SIGNATURE)
    assert rlp.decode(later.encode())[4] == b"\x03"


def _vote_fields(**changes: object) -> list[object]:
    fields: dict[str, object] = {
        "chain_id": 1,
        "height": 2,
        "round": 0,
        "kind": 1,
        "block_hash": BLOCK_B,
        "validator": V0,
        "signature": DUMMY_SIGNATURE,
    }
    fields.update(changes)
    return list(fields.values())


@pytest.mark.parametrize(
    ("description", "data", "message"),
    [
        ("empty input", b"", "not a valid RLP"),
        ("trailing byte", rlp.encode(_vote_fields()) + b"\x00", "not a valid RLP"),
        ("a byte string, not a list", rlp.encode(b"vote"), "must be an RLP list"),
        ("six fields", rlp.encode(_vote_fields()[:6]), "has 7 fields, got 6"),
        ("eight fields", rlp.encode([*_vote_fields(), b""]), "has 7 fields, got 8"),
        (
            "31-byte block hash",
            rlp.encode(_vote_fields(block_hash=b"\x01" * 31)),
            "block_hash must be 0 or 32",
        ),
        (
            "19-byte validator",
            rlp.encode(_vote_fields(validator=b"\x01" * 19)),
            "validator must be 20",
        ),
        (
            "64-byte signature",
            rlp.encode(_vote_fields(signature=b"\x01" * 64)),
            "signature must be 65",
        ),
        ("kind 3", rlp.encode(_vote_fields(kind=3)), "kind must be 1"),
        ("kind 0", rlp.encode(_vote_fields(kind=0)), "kind must be 1"),
        ("leading zero in height", rlp.encode(_vote_fields(height=b"\x00\x02")), "leading zero"),
        ("9-byte round", rlp.encode(_vote_fields(round=2**64)), "more than a 64-bit"),
        (
            "a list as chain id",
            rlp.encode(_vote_fields(chain_id=[b"\x01"])),
            "nested too deeply",
        ),
        ("non-canonical RLP", b"\xf8\x05" + rlp.encode(_vote_fields())[2:], "not a valid RLP"),
        ("truncated", rlp.encode(_vote_fields())[:-1], "longer than what contains it"),
        (
            "an item overflowing its list",
            bytes.fromhex("c3830102"),
            "longer than what contains it",
        ),
    ],
)
def test_malformed_votes_are_rejected(description: str, data: bytes, message: str) -> None:
    with pytest.raises(InvalidVote, match=message):
        Vote.decode(data)


def test_malformed_proposals_are_rejected() -> None:
    good = [1, 5, 3, BLOCK_B, 0, V0, DUMMY_SIGNATURE]
    assert Proposal.decode(rlp.encode(good)).pol_round == -1
    for bad, message in (
        ([1, 5, 3, BLOCK_B, 4, V0, DUMMY_SIGNATURE], "pol_round must be -1 or a round below"),
        ([1, 5, 3, NIL, 0, V0, DUMMY_SIGNATURE], "block_hash must be 32"),
        ([1, 5, 3, BLOCK_B, 0, V0], "has 7 fields"),
    ):
        with pytest.raises(InvalidProposal, match=message):
            Proposal.decode(rlp.encode(bad))


def test_malformed_certificates_are_rejected() -> None:
    vote = precommit(V1, BLOCK_B)._to_rlp_list()
    assert len(CommitCertificate.decode(rlp.encode([1, 0, BLOCK_B, [vote]])).precommits) == 1
    broken_vote = [*vote[:6], b"\x01" * 64]
    for bad, message in (
        ([1, 0, BLOCK_B, [broken_vote]], "precommit 0: signature must be 65"),
        ([1, 0, BLOCK_B, b"votes"], "precommits must be an RLP list"),
        ([1, 0, NIL, []], "block_hash must be 32"),
        ([1, 0, BLOCK_B], "has 4 fields"),
    ):
        with pytest.raises(InvalidCertificate, match=message):
            CommitCertificate.decode(rlp.encode(bad))


def test_deeply_nested_input_is_rejected_not_crashing() -> None:
    # Far deeper than Python's recursion limit: decoding must stop at the structure's depth.
    depth = sys.getrecursionlimit() * 2
    prefixes, length = [], 1
    for _ in range(depth):
        if length < 56:
            prefix = bytes([0xC0 + length])
        else:
            size = length.to_bytes((length.bit_length() + 7) // 8, "big")
            prefix = bytes([0xF7 + len(size)]) + size
        prefixes.append(prefix)
        length += len(prefix)
    payload = b"".join(reversed(prefixes)) + b"\xc0"
    for decode, error in DECODERS:
        with pytest.raises(error, match="nested too deeply"):
            decode(payload)


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: Vote(1, 2, 0, 3, NIL, V0, DUMMY_SIGNATURE), InvalidVote, "kind"),
        (lambda: Vote(1, -1, 0, 1, NIL, V0, DUMMY_SIGNATURE), InvalidVote, "height"),
        (lambda: Vote(1, 2, True, 1, NIL, V0, DUMMY_SIGNATURE), InvalidVote, "round"),
        (
            lambda: Vote(1, 2, 0, 1, "00" * 32, V0, DUMMY_SIGNATURE),
            InvalidVote,
            "block_hash must be bytes",
        ),
        (lambda: Proposal(1, 2, 0, BLOCK_B, 0, V0, DUMMY_SIGNATURE), InvalidProposal, "pol_round"),
        (
            lambda: CommitCertificate(1, 0, BLOCK_B, [precommit(V0, BLOCK_B)]),
            InvalidCertificate,
            "tuple",
        ),
    ],
)
def test_building_a_malformed_value_fails(
    build: object, error: type[ConsensusError], message: str
) -> None:
    with pytest.raises(error, match=message):
        build()  # type: ignore[operator]


def test_vote_kind_given_as_int_becomes_the_enum() -> None:
    vote = Vote(ChainId(1), BlockNumber(2), Round(0), 2, NIL, V0, DUMMY_SIGNATURE)  # type: ignore[arg-type]
    assert vote.kind is VoteKind.PRECOMMIT
    assert vote.is_nil


def test_certificate_hash_depends_on_every_vote() -> None:
    votes = (precommit(V0, BLOCK_B), precommit(V1, BLOCK_B))
    certificate = CommitCertificate(BlockNumber(1), Round(0), BLOCK_B, votes)
    fewer = CommitCertificate(BlockNumber(1), Round(0), BLOCK_B, votes[:1])
    assert certificate.hash() != fewer.hash()
    assert len(certificate.hash()) == 32
