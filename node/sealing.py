"""How the dev chain seals its blocks: one validator, whose single precommit is the whole commit.

The rules a sealed block follows (`extraData`, `mixHash`, timestamps) are in
`consensus.chain_rules`.
"""

from eth.abc import BlockHeaderAPI

from openledger.consensus.messages import CommitCertificate, VoteKind
from openledger.consensus.signing import compute_signer_address, sign_vote
from openledger.genesis.types import BlockNumber, ChainId, Hash32, Round


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
