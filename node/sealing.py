"""How a block is tied to the commit of its parent, and how the dev chain seals its blocks.

Chain rules (docs/design.md): block H's `extraData` is the 32-byte hash of the commit certificate
of block H-1 (empty for block 1: genesis has no commit), its `mixHash` (prevRandao) is
`keccak256("openledger/prevrandao" ++ extraData)`, and its timestamp is strictly after its
parent's. A validator checks a proposal against the same functions.
"""

from eth.abc import BlockHeaderAPI
from eth_hash.auto import keccak

from openledger.consensus.messages import CommitCertificate, VoteKind
from openledger.consensus.signing import compute_signer_address, sign_vote
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32, Round
from openledger.node.chain import BlockTemplate
from openledger.state.store import ChainStore

PREVRANDAO_DOMAIN = b"openledger/prevrandao"


def compute_extra_data(parent_certificate: bytes | None) -> bytes:
    """The `extraData` of a block whose parent has this encoded commit certificate."""
    return b"" if parent_certificate is None else keccak(parent_certificate)


def compute_mix_hash(extra_data: bytes) -> bytes:
    """The `mixHash` (prevRandao) of a block with this `extraData`."""
    return keccak(PREVRANDAO_DOMAIN + extra_data)


def compute_timestamp(parent: BlockHeaderAPI, now: int) -> int:
    """A block timestamp: the clock, but never at or before the parent's."""
    return max(now, parent.timestamp + 1)


def make_template(
    store: ChainStore, proposer: Address, timestamp: int, parent_certificate: bytes | None
) -> BlockTemplate:
    """The header fields of the next block."""
    extra_data = compute_extra_data(parent_certificate)
    signers: tuple[Address, ...] = ()
    if parent_certificate is not None:
        certificate = CommitCertificate.decode(parent_certificate)
        signers = tuple(vote.validator for vote in certificate.precommits)
    return BlockTemplate(
        proposer=proposer,
        timestamp=timestamp,
        extra_data=extra_data,
        mix_hash=compute_mix_hash(extra_data),
        last_commit_signers=signers,
    )


class SoloSealer:
    """Seals blocks for a chain with one validator, whose single precommit is the whole commit.

    The dev chain uses it: the one validator has all the stake, so its own precommit is more than
    two thirds of it, and the certificate is as verifiable as any other.
    """

    def __init__(self, private_key: bytes, chain_id: ChainId) -> None:
        self._key = private_key
        self.chain_id = chain_id
        self.address = compute_signer_address(private_key)

    def seal(self, header: BlockHeaderAPI) -> bytes:
        """The encoded commit certificate of the block with `header`."""
        vote = sign_vote(
            self._key,
            chain_id=self.chain_id,
            height=BlockNumber(header.block_number),
            round=Round(0),
            kind=VoteKind.PRECOMMIT,
            block_hash=Hash32(header.hash),
        )
        return CommitCertificate(
            BlockNumber(header.block_number), Round(0), Hash32(header.hash), (vote,)
        ).encode()
