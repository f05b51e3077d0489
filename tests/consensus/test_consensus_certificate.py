"""Commit certificate verification with real signatures over a stake-weighted set.

Powers are 4, 3, 2 and 1 ether for V0..V3: total 10 ether, quorum just over 6.67 ether, so
V0 + V1 (7) commits and V1 + V2 + V3 (6) does not.
"""

from dataclasses import replace

import pytest
from consensus_helpers import (
    BLOCK_B,
    BLOCK_C,
    CHAIN_ID,
    ETHER,
    KEYS,
    OUTSIDER,
    V0,
    V1,
    V2,
    V3,
    make_set,
)

from openledger.consensus.certificate import verify_certificate
from openledger.consensus.errors import InvalidCertificate
from openledger.consensus.messages import CommitCertificate, Vote, VoteKind
from openledger.consensus.signing import sign_vote
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Round

VALIDATORS = make_set([4 * ETHER, 3 * ETHER, 2 * ETHER, 1 * ETHER], start_height=5)
HEIGHT = BlockNumber(9)
ROUND = Round(1)


def signed(
    signer: Address,
    *,
    block_hash: bytes = BLOCK_B,
    height: int = HEIGHT,
    round: int = ROUND,
    kind: VoteKind = VoteKind.PRECOMMIT,
    chain_id: int = CHAIN_ID,
) -> Vote:
    return sign_vote(
        KEYS[signer],
        chain_id=ChainId(chain_id),
        height=BlockNumber(height),
        round=Round(round),
        kind=kind,
        block_hash=block_hash,
    )


def certificate(*votes: Vote, block_hash: Hash32 = BLOCK_B) -> CommitCertificate:
    return CommitCertificate(HEIGHT, ROUND, block_hash, tuple(votes))


def test_a_valid_certificate_verifies_and_survives_encoding() -> None:
    for voters in ([V0, V1], [V0, V2, V3], [V0, V1, V2, V3]):
        cert = certificate(*(signed(v) for v in voters))
        verify_certificate(cert, VALIDATORS, CHAIN_ID)
        verify_certificate(CommitCertificate.decode(cert.encode()), VALIDATORS, CHAIN_ID)


@pytest.mark.parametrize(
    ("description", "cert", "message"),
    [
        (
            "6 of 10 ether",
            certificate(signed(V1), signed(V2), signed(V3)),
            "power 6000000000000000000 of 10000000000000000000",
        ),
        ("no precommits", certificate(), "power 0 of"),
        (
            "V0 twice",
            certificate(signed(V0), signed(V0), signed(V2)),
            "precommit 1 .*duplicate signer",
        ),
        ("not sorted", certificate(signed(V1), signed(V0)), "precommit 1 .*sorted by validator"),
        (
            "a precommit of another round",
            certificate(signed(V0), signed(V1, round=0)),
            "precommit 1 is for round 0, not the certificate's 1",
        ),
        (
            "a precommit of another height",
            certificate(signed(V0, height=8), signed(V1)),
            "precommit 0 is for height 8",
        ),
        (
            "a precommit for another block",
            certificate(signed(V0), signed(V1, block_hash=BLOCK_C)),
            "precommit 1 is for block_hash 0x",
        ),
        (
            "a nil precommit",
            certificate(signed(V0), signed(V1, block_hash=b"")),
            "precommit 1 is for block_hash 0x,",
        ),
        (
            "a precommit of another chain",
            certificate(signed(V0), signed(V1, chain_id=1)),
            "precommit 1 is for chain_id 1",
        ),
        (
            "a prevote",
            certificate(signed(V0), signed(V1, kind=VoteKind.PREVOTE)),
            "precommit 1 is a prevote",
        ),
        ("a non-member", certificate(signed(V0), signed(V1), signed(OUTSIDER)), "not a member"),
        (
            "V1's vote signed by V3",
            certificate(signed(V0), replace(signed(V3), validator=V1)),
            "precommit 1 .*signed by 0x",
        ),
        (
            "a corrupted signature",
            certificate(signed(V0), replace(signed(V1), signature=b"\x00" * 65)),
            "precommit 1 .*r is out of range",
        ),
    ],
)
def test_invalid_certificates_are_rejected_naming_the_problem(
    description: str, cert: CommitCertificate, message: str
) -> None:
    with pytest.raises(InvalidCertificate, match=message):
        verify_certificate(cert, VALIDATORS, CHAIN_ID)


def test_wrong_chain_id_argument_is_rejected() -> None:
    cert = certificate(signed(V0), signed(V1))
    with pytest.raises(InvalidCertificate, match="chain_id 1337, not the certificate's 1"):
        verify_certificate(cert, VALIDATORS, ChainId(1))


def test_a_set_that_starts_later_cannot_verify() -> None:
    later = make_set([4 * ETHER, 3 * ETHER, 2 * ETHER, 1 * ETHER], start_height=10)
    with pytest.raises(InvalidCertificate, match="start height 10"):
        verify_certificate(certificate(signed(V0), signed(V1)), later, CHAIN_ID)
