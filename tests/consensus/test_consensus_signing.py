"""Signed bytes, signing and signer recovery of votes and proposals with real secp256k1 keys."""

from dataclasses import replace

import pytest
import rlp
from consensus_helpers import BLOCK_B, BLOCK_C, CHAIN_ID, KEYS, OUTSIDER, V0, V1
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from openledger.consensus.errors import ConsensusError, InvalidProposal, InvalidVote
from openledger.consensus.messages import NIL, Vote, VoteKind
from openledger.consensus.signing import (
    SECP256K1_N,
    compute_proposal_sign_bytes,
    compute_signer_address,
    compute_vote_sign_bytes,
    recover_proposal_signer,
    recover_vote_signer,
    sign_proposal,
    sign_vote,
    validate_proposal_signature,
    validate_vote_signature,
)
from openledger.genesis.types import BlockNumber, ChainId, Round

SECP256K1_P = 2**256 - 2**32 - 977


def signed_precommit(block_hash: bytes = BLOCK_B, chain_id: int = CHAIN_ID) -> Vote:
    return sign_vote(
        KEYS[V1],
        chain_id=ChainId(chain_id),
        height=BlockNumber(7),
        round=Round(2),
        kind=VoteKind.PRECOMMIT,
        block_hash=block_hash,
    )


def with_signature(vote: Vote, r: int, s: int, v: int) -> Vote:
    return replace(vote, signature=r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v]))


def test_vote_sign_bytes_follow_the_design() -> None:
    expected = keccak(b"openledger/vote/v1" + rlp.encode([1337, 7, 2, 2, BLOCK_B]))
    assert (
        compute_vote_sign_bytes(CHAIN_ID, BlockNumber(7), Round(2), VoteKind.PRECOMMIT, BLOCK_B)
        == expected
    )


def test_proposal_sign_bytes_follow_the_design() -> None:
    expected = keccak(b"openledger/proposal/v1" + rlp.encode([1337, 7, 2, BLOCK_B, 0]))
    assert (
        compute_proposal_sign_bytes(CHAIN_ID, BlockNumber(7), Round(2), BLOCK_B, Round(-1))
        == expected
    )


def test_sign_bytes_separate_domains_chains_and_fields() -> None:
    vote_bytes = compute_vote_sign_bytes(
        CHAIN_ID, BlockNumber(7), Round(2), VoteKind.PREVOTE, BLOCK_B
    )
    others = {
        compute_vote_sign_bytes(ChainId(1), BlockNumber(7), Round(2), VoteKind.PREVOTE, BLOCK_B),
        compute_vote_sign_bytes(CHAIN_ID, BlockNumber(7), Round(2), VoteKind.PRECOMMIT, BLOCK_B),
        compute_vote_sign_bytes(CHAIN_ID, BlockNumber(7), Round(2), VoteKind.PREVOTE, NIL),
        compute_vote_sign_bytes(CHAIN_ID, BlockNumber(7), Round(3), VoteKind.PREVOTE, BLOCK_B),
        # The same RLP fields as the prevote, under the proposal domain (kind 1 = pol_round 0).
        compute_proposal_sign_bytes(CHAIN_ID, BlockNumber(7), Round(2), BLOCK_B, Round(0)),
    }
    assert vote_bytes not in others
    assert len(others) == 5


def test_signed_vote_recovers_its_validator() -> None:
    vote = signed_precommit()
    assert vote.validator == V1 == compute_signer_address(KEYS[V1])
    assert recover_vote_signer(vote) == V1
    validate_vote_signature(vote)
    assert vote.signature[64] in (0, 1)
    assert int.from_bytes(vote.signature[32:64], "big") <= SECP256K1_N // 2


def test_signed_proposal_recovers_its_proposer() -> None:
    proposal = sign_proposal(
        KEYS[V0],
        chain_id=CHAIN_ID,
        height=BlockNumber(3),
        round=Round(1),
        block_hash=BLOCK_C,
        pol_round=Round(0),
    )
    assert recover_proposal_signer(proposal) == proposal.proposer == V0
    validate_proposal_signature(proposal)
    with pytest.raises(InvalidProposal, match="signed by"):
        validate_proposal_signature(replace(proposal, pol_round=Round(-1)))


@pytest.mark.parametrize(
    "change",
    [
        {"block_hash": BLOCK_C},
        {"block_hash": NIL},
        {"round": Round(3)},
        {"height": BlockNumber(8)},
        {"chain_id": ChainId(1)},
        {"kind": VoteKind.PREVOTE},
        {"validator": OUTSIDER},
    ],
)
def test_a_changed_field_breaks_the_signature(change: dict[str, object]) -> None:
    tampered = replace(signed_precommit(), **change)  # type: ignore[arg-type]
    with pytest.raises(InvalidVote, match="signed by"):
        validate_vote_signature(tampered)


def test_high_s_twin_of_a_valid_signature_is_rejected() -> None:
    vote = signed_precommit()
    r = int.from_bytes(vote.signature[:32], "big")
    s = int.from_bytes(vote.signature[32:64], "big")
    twin = with_signature(vote, r, SECP256K1_N - s, 1 - vote.signature[64])
    with pytest.raises(InvalidVote, match="lower half"):
        recover_vote_signer(twin)


def _r_without_a_curve_point() -> int:
    x = 1
    while pow(x**3 + 7, (SECP256K1_P - 1) // 2, SECP256K1_P) == 1:
        x += 1
    return x


@pytest.mark.parametrize(
    ("r", "s", "v", "message"),
    [
        (1, 1, 27, "v must be 0 or 1"),
        (1, 1, 2, "v must be 0 or 1"),
        (0, 1, 0, "r is out of range"),
        (SECP256K1_N, 1, 0, "r is out of range"),
        (1, 0, 0, "lower half"),
        (1, SECP256K1_N // 2 + 1, 0, "lower half"),
        (_r_without_a_curve_point(), 1, 0, "no public key recovers"),
    ],
)
def test_malformed_signatures_are_rejected(r: int, s: int, v: int, message: str) -> None:
    with pytest.raises(InvalidVote, match=message):
        recover_vote_signer(with_signature(signed_precommit(), r, s, v))


@settings(max_examples=200)
@given(st.binary(min_size=65, max_size=65))
def test_random_signatures_recover_or_raise_invalid_vote(signature: bytes) -> None:
    vote = replace(signed_precommit(), signature=signature)
    try:
        signer = recover_vote_signer(vote)
    except InvalidVote:
        return
    assert len(signer) == 20


@pytest.mark.parametrize("key", [b"", b"\x00" * 32, SECP256K1_N.to_bytes(32, "big"), b"\x01" * 31])
def test_bad_private_keys_are_refused(key: bytes) -> None:
    with pytest.raises(ConsensusError, match="validator key"):
        compute_signer_address(key)
