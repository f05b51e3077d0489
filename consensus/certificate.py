"""Verifying that a commit certificate proves its block was committed.

A certificate proves a commit when its precommits are all for its (height, round, block) on this
chain, come from distinct members of the validator set of that height in address order, are
correctly signed, and together carry more than 2/3 of the set's power. This module checks exactly
that; it does not pick the validator set (the caller knows which set decided the height).
"""

from openledger.consensus.errors import InvalidCertificate, InvalidVote
from openledger.consensus.messages import CommitCertificate, Vote, VoteKind
from openledger.consensus.signing import validate_vote_signature
from openledger.consensus.validators import ValidatorSet
from openledger.genesis.types import Address, ChainId


def verify_certificate(
    certificate: CommitCertificate, validators: ValidatorSet, chain_id: ChainId
) -> None:
    """Raise `InvalidCertificate`, naming the first problem, unless the certificate is valid.

    Signatures are checked last, so a certificate that fails a cheap check (wrong vote, too
    little power) costs no signature recovery.
    """
    if certificate.height < validators.start_height:
        raise InvalidCertificate(
            f"height {certificate.height} is before the validator set's start height "
            f"{validators.start_height}; verify it against the set of that height"
        )
    signers: set[Address] = set()
    previous: Address | None = None
    power = 0
    for index, vote in enumerate(certificate.precommits):
        _check_vote_matches(certificate, chain_id, index, vote)
        label = f"precommit {index} (validator 0x{vote.validator.hex()})"
        if not validators.is_member(vote.validator):
            raise InvalidCertificate(f"{label}: not a member of the validator set")
        if vote.validator in signers:
            raise InvalidCertificate(f"{label}: duplicate signer")
        if previous is not None and vote.validator < previous:
            raise InvalidCertificate(f"{label}: precommits must be sorted by validator address")
        signers.add(vote.validator)
        previous = vote.validator
        power += validators.get_power(vote.validator)
    if not validators.is_quorum(power):
        raise InvalidCertificate(
            f"precommits carry power {power} of {validators.total_power}; more than 2/3 "
            f"(at least {validators.quorum}) is needed"
        )
    for index, vote in enumerate(certificate.precommits):
        try:
            validate_vote_signature(vote)
        except InvalidVote as error:
            raise InvalidCertificate(
                f"precommit {index} (validator 0x{vote.validator.hex()}): {error.problem}"
            ) from error


def _check_vote_matches(
    certificate: CommitCertificate, chain_id: ChainId, index: int, vote: Vote
) -> None:
    expected = (chain_id, certificate.height, certificate.round, certificate.block_hash)
    found = (vote.chain_id, vote.height, vote.round, vote.block_hash)
    if vote.kind is not VoteKind.PRECOMMIT:
        raise InvalidCertificate(f"precommit {index} is a {vote.kind.name.lower()}")
    for name, want, got in zip(
        ("chain_id", "height", "round", "block_hash"), expected, found, strict=True
    ):
        if want != got:
            shown_want = f"0x{want.hex()}" if isinstance(want, bytes) else want
            shown_got = f"0x{got.hex()}" if isinstance(got, bytes) else got
            raise InvalidCertificate(
                f"precommit {index} is for {name} {shown_got}, not the certificate's {shown_want}"
            )
