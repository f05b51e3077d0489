"""The block chain rules every validator must agree on, read by consensus and by the node.

Chain rules (docs/design.md):

- block H's `extraData` is the 32-byte hash of the commit certificate of block H-1 (empty for
  block 1: genesis has no commit), and that certificate comes with the block;
- its `mixHash` (prevRandao) is `keccak256("openledger/prevrandao" ++ extraData)`;
- its coinbase is the proposer, its gas limit the parent's, its timestamp strictly after its
  parent's and not far in the future;
- its body is the one its header names (transaction root; no uncles, no withdrawals), checked
  before anything executes: a signature covers only the header.

A producer fills a `BlockTemplate` with `make_template`; a validator checks a proposal, and block
sync a committed block, with `check_block_rules`. Executing the block to exactly its header is
`state.execute.import_block`'s part.
"""

from dataclasses import dataclass
from typing import Protocol

from eth.abc import BlockAPI, BlockHeaderAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_UNCLE_HASH
from eth.db.trie import make_trie_root_and_nodes
from eth_hash.auto import keccak

from openledger.consensus.certificate import verify_certificate
from openledger.consensus.errors import ConsensusError
from openledger.consensus.messages import CommitCertificate
from openledger.consensus.validators import ValidatorSet
from openledger.genesis.types import Address, BlockNumber
from openledger.state.errors import InvalidBlock
from openledger.state.execute import StateOverrides

PREVRANDAO_DOMAIN = b"openledger/prevrandao"
MAX_FUTURE_SECONDS = 15
"""How far ahead of our clock a block's timestamp may be."""


class ValidatorSource(Protocol):
    """The validator set of any height this node has the parent state of."""

    def for_height(self, height: BlockNumber) -> ValidatorSet: ...


@dataclass(frozen=True, slots=True)
class BlockTemplate:
    """The header fields a producer chooses for a new block."""

    proposer: Address
    """Coinbase: the validator that proposes the block."""
    timestamp: int
    """Block timestamp, strictly after the parent's."""
    extra_data: bytes
    """The hash of the parent's commit certificate (empty for block 1)."""
    mix_hash: bytes
    """prevRandao, derived from `extra_data`."""
    last_commit_signers: tuple[Address, ...] = ()
    """Who signed the parent's commit (for the block hooks)."""
    overrides: StateOverrides = ()
    """Account changes made before the transactions (dev mode's `anvil_setBalance` and kin)."""


def compute_extra_data(parent_certificate: bytes | None) -> bytes:
    """The `extraData` of a block whose parent has this encoded commit certificate."""
    return b"" if parent_certificate is None else keccak(parent_certificate)


def compute_mix_hash(extra_data: bytes) -> bytes:
    """The `mixHash` (prevRandao) of a block with this `extraData`."""
    return keccak(PREVRANDAO_DOMAIN + extra_data)


def compute_timestamp(parent: BlockHeaderAPI, now: int) -> int:
    """A block timestamp: the clock, but never at or before the parent's."""
    return max(now, parent.timestamp + 1)


def compute_commit_signers(certificate: CommitCertificate | None) -> tuple[Address, ...]:
    """Who signed a commit certificate (none for genesis, which has no commit)."""
    return () if certificate is None else tuple(vote.validator for vote in certificate.precommits)


def make_template(
    proposer: Address, timestamp: int, parent_certificate: bytes | None
) -> BlockTemplate:
    """The header fields of the next block."""
    extra_data = compute_extra_data(parent_certificate)
    certificate = (
        None if parent_certificate is None else CommitCertificate.decode(parent_certificate)
    )
    return BlockTemplate(
        proposer=proposer,
        timestamp=timestamp,
        extra_data=extra_data,
        mix_hash=compute_mix_hash(extra_data),
        last_commit_signers=compute_commit_signers(certificate),
    )


def check_block_rules(
    parent: BlockHeaderAPI,
    block: BlockAPI,
    parent_certificate: CommitCertificate | None,
    proposer: Address,
    validators: ValidatorSource,
    chain_id: int,
    now: float,
) -> None:
    """Raise InvalidBlock unless `block` follows the chain rules on top of `parent`."""
    header = block.header
    if header.parent_hash != parent.hash or header.block_number != parent.block_number + 1:
        raise InvalidBlock(
            f"block {header.block_number} does not extend our head {parent.block_number}"
        )
    if header.coinbase != proposer:
        raise InvalidBlock(
            f"block {header.block_number} coinbase 0x{header.coinbase.hex()} is not its proposer"
        )
    if header.gas_limit != parent.gas_limit:
        raise InvalidBlock(f"block {header.block_number} changes the gas limit")
    if header.timestamp <= parent.timestamp:
        raise InvalidBlock(f"block {header.block_number} timestamp is not after its parent's")
    if header.timestamp > now + MAX_FUTURE_SECONDS:
        raise InvalidBlock(
            f"block {header.block_number} timestamp is {header.timestamp - int(now)} s in the future"
        )
    if parent.block_number == 0:
        if parent_certificate is not None or header.extra_data != b"":
            raise InvalidBlock("block 1 must have empty extraData and no parent certificate")
    else:
        _check_commit_link(parent, header, parent_certificate, validators, chain_id)
    if header.mix_hash != compute_mix_hash(header.extra_data):
        raise InvalidBlock(f"block {header.block_number} mixHash is not derived from its extraData")
    check_block_body(block)


def _check_commit_link(
    parent: BlockHeaderAPI,
    header: BlockHeaderAPI,
    parent_certificate: CommitCertificate | None,
    validators: ValidatorSource,
    chain_id: int,
) -> None:
    if parent_certificate is None:
        raise InvalidBlock(f"block {header.block_number} comes without its parent's commit")
    if (
        parent_certificate.height != parent.block_number
        or parent_certificate.block_hash != parent.hash
    ):
        raise InvalidBlock(f"block {header.block_number} carries a commit of another block")
    try:
        verify_certificate(
            parent_certificate, validators.for_height(BlockNumber(parent.block_number)), chain_id
        )
    except ConsensusError as error:
        raise InvalidBlock(
            f"block {header.block_number} carries an invalid parent commit: {error}"
        ) from error
    if header.extra_data != parent_certificate.hash():
        raise InvalidBlock(
            f"block {header.block_number} extraData is not the hash of its parent's commit"
        )


def check_block_body(block: BlockAPI) -> None:
    """Raise InvalidBlock unless the body is the one the header names (no uncles, no
    withdrawals, the transactions of its transaction root)."""
    header = block.header
    if block.uncles or header.uncles_hash != EMPTY_UNCLE_HASH:
        raise InvalidBlock(f"block {header.block_number} has uncles")
    if block.withdrawals or header.withdrawals_root != BLANK_ROOT_HASH:
        raise InvalidBlock(f"block {header.block_number} has withdrawals")
    root, _ = make_trie_root_and_nodes(block.transactions)
    if root != header.transaction_root:
        raise InvalidBlock(
            f"block {header.block_number} transactions do not match its transaction root"
        )
