"""What validators sign, and secp256k1 signing and recovery for votes and proposals.

The signed message is `keccak256(domain ++ rlp(fields))`: the domain keeps a vote signature from
ever being valid as a proposal (or as an Ethereum transaction, whose payloads never start with
these bytes), and the chain id in the fields keeps it from being replayed on another chain.
Signatures are 65 bytes `r || s || v` with v in {0, 1}; high-s signatures (EIP-2) are refused so
that each message has one valid signature per key.

Only the host signs (after persisting what it signs); the state machine never does. Recovery
raises `InvalidVote` / `InvalidProposal` for every malformed or unrecoverable signature.
"""

from typing import Final

import rlp
from eth_hash.auto import keccak
from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature, ValidationError

from openledger.consensus.errors import ConsensusError, InvalidProposal, InvalidVote
from openledger.consensus.messages import SIGNATURE_SIZE, Proposal, Vote, VoteKind
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Round

VOTE_DOMAIN: Final = b"openledger/vote/v1"
"""Prefix of the signed bytes of a vote."""

PROPOSAL_DOMAIN: Final = b"openledger/proposal/v1"
"""Prefix of the signed bytes of a proposal."""

SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The order of the secp256k1 group."""


def compute_vote_sign_bytes(
    chain_id: ChainId, height: BlockNumber, round: Round, kind: VoteKind, block_hash: bytes
) -> Hash32:
    """`keccak256(b"openledger/vote/v1" ++ rlp([chain_id, height, round, kind, block_hash]))`."""
    payload = rlp.encode([int(chain_id), int(height), int(round), int(kind), bytes(block_hash)])
    return Hash32(keccak(VOTE_DOMAIN + payload))


def compute_proposal_sign_bytes(
    chain_id: ChainId, height: BlockNumber, round: Round, block_hash: Hash32, pol_round: Round
) -> Hash32:
    """`keccak256(b"openledger/proposal/v1" ++ rlp([chain_id, height, round, hash, pol+1]))`."""
    payload = rlp.encode(
        [int(chain_id), int(height), int(round), bytes(block_hash), int(pol_round) + 1]
    )
    return Hash32(keccak(PROPOSAL_DOMAIN + payload))


def compute_signer_address(private_key_bytes: bytes) -> Address:
    """The address of the validator that signs with this 32-byte secp256k1 key."""
    return Address(_load_private_key(private_key_bytes).public_key.to_canonical_address())


def sign_vote(
    private_key_bytes: bytes,
    *,
    chain_id: ChainId,
    height: BlockNumber,
    round: Round,
    kind: VoteKind,
    block_hash: bytes,
) -> Vote:
    """A vote signed with the key; `validator` is the key's address."""
    message = compute_vote_sign_bytes(chain_id, height, round, kind, block_hash)
    validator, signature = _sign(private_key_bytes, message)
    return Vote(chain_id, height, round, kind, block_hash, validator, signature)


def sign_proposal(
    private_key_bytes: bytes,
    *,
    chain_id: ChainId,
    height: BlockNumber,
    round: Round,
    block_hash: Hash32,
    pol_round: Round,
) -> Proposal:
    """A proposal signed with the key; `proposer` is the key's address."""
    message = compute_proposal_sign_bytes(chain_id, height, round, block_hash, pol_round)
    proposer, signature = _sign(private_key_bytes, message)
    return Proposal(chain_id, height, round, block_hash, pol_round, proposer, signature)


def recover_vote_signer(vote: Vote) -> Address:
    """The address whose key made `vote.signature`; raise `InvalidVote` if there is none."""
    message = compute_vote_sign_bytes(
        vote.chain_id, vote.height, vote.round, vote.kind, vote.block_hash
    )
    return _recover_address(message, vote.signature, InvalidVote)


def recover_proposal_signer(proposal: Proposal) -> Address:
    """The address whose key made `proposal.signature`; raise `InvalidProposal` if none."""
    message = compute_proposal_sign_bytes(
        proposal.chain_id, proposal.height, proposal.round, proposal.block_hash, proposal.pol_round
    )
    return _recover_address(message, proposal.signature, InvalidProposal)


def validate_vote_signature(vote: Vote) -> None:
    """Raise `InvalidVote` unless `vote.validator` signed the vote."""
    signer = recover_vote_signer(vote)
    if signer != vote.validator:
        raise InvalidVote(
            f"signed by 0x{signer.hex()}, not by the validator it names 0x{vote.validator.hex()}"
        )


def validate_proposal_signature(proposal: Proposal) -> None:
    """Raise `InvalidProposal` unless `proposal.proposer` signed the proposal."""
    signer = recover_proposal_signer(proposal)
    if signer != proposal.proposer:
        raise InvalidProposal(
            f"signed by 0x{signer.hex()}, not by the proposer it names 0x{proposal.proposer.hex()}"
        )


def _load_private_key(private_key_bytes: bytes) -> PrivateKey:
    try:
        return PrivateKey(private_key_bytes)
    except (ValidationError, TypeError) as exc:
        raise ConsensusError(
            "a validator key must be 32 bytes encoding an integer in [1, secp256k1 order)"
        ) from exc


def _sign(private_key_bytes: bytes, message: Hash32) -> tuple[Address, bytes]:
    """(the key's address, its 65-byte signature of `message`): the one place a key signs."""
    key = _load_private_key(private_key_bytes)
    return Address(key.public_key.to_canonical_address()), key.sign_msg_hash(message).to_bytes()


def _recover_address(message: Hash32, signature: bytes, error: type[ConsensusError]) -> Address:
    if len(signature) != SIGNATURE_SIZE:
        raise error(f"signature must be {SIGNATURE_SIZE} bytes, got {len(signature)}")
    r = int.from_bytes(signature[0:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (0, 1):
        raise error(f"signature v must be 0 or 1, got {v}")
    if not 0 < r < SECP256K1_N:
        raise error("signature r is out of range [1, secp256k1 order)")
    if not 0 < s <= SECP256K1_N // 2:
        raise error("signature s must be in the lower half of the secp256k1 order (EIP-2)")
    try:
        public_key = Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(message)
    except (BadSignature, ValidationError) as exc:
        raise error(f"no public key recovers from the signature ({exc})") from exc
    return Address(public_key.to_canonical_address())
