"""Checking and executing a block someone else proposed or committed.

A block extends our head if, besides executing to exactly its header (`state.execute.import_block`),
it follows the chain rules that tie it to consensus:

- its `extraData` is the hash of a valid commit certificate of its parent (empty for block 1), and
  that certificate comes with it;
- its `mixHash` is derived from that `extraData`;
- its coinbase is the proposer, its gas limit the parent's, its timestamp after the parent's and
  not far in the future;
- its body is the one its header names (transaction root; no uncles, no withdrawals), checked
  before anything executes: a signature covers only the header.

The same checks serve live consensus (a proposal) and block sync (a committed block).
"""

import asyncio
from dataclasses import dataclass

from eth.abc import BlockAPI, BlockHeaderAPI
from eth.constants import BLANK_ROOT_HASH, EMPTY_UNCLE_HASH
from eth.db.trie import make_trie_root_and_nodes

from openledger.consensus.certificate import verify_certificate
from openledger.consensus.errors import ConsensusError
from openledger.consensus.messages import CommitCertificate
from openledger.genesis.types import Address, BlockNumber
from openledger.node.sealing import compute_mix_hash
from openledger.node.validator_sets import ValidatorSource
from openledger.state.errors import InvalidBlock
from openledger.state.execute import Chain, import_block
from openledger.state.fork import BlockInputs
from openledger.state.store import ChainStore, ExecutedBlock

MAX_FUTURE_SECONDS = 15
"""How far ahead of our clock a block's timestamp may be."""


@dataclass(frozen=True, slots=True)
class CandidateBlock:
    """A block executed on top of our head, ready to commit if consensus decides it."""

    executed: ExecutedBlock
    """The executed block."""
    parent_certificate: CommitCertificate | None
    """The parent's commit certificate its `extraData` refers to."""

    @property
    def block(self) -> BlockAPI:
        """The block."""
        return self.executed.block


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
        if parent_certificate is None:
            raise InvalidBlock(f"block {header.block_number} comes without its parent's commit")
        if (
            parent_certificate.height != parent.block_number
            or parent_certificate.block_hash != parent.hash
        ):
            raise InvalidBlock(f"block {header.block_number} carries a commit of another block")
        try:
            verify_certificate(
                parent_certificate,
                validators.for_height(BlockNumber(parent.block_number)),
                chain_id,
            )
        except ConsensusError as error:
            raise InvalidBlock(
                f"block {header.block_number} carries an invalid parent commit: {error}"
            ) from error
        if header.extra_data != parent_certificate.hash():
            raise InvalidBlock(
                f"block {header.block_number} extraData is not the hash of its parent's commit"
            )
    if header.mix_hash != compute_mix_hash(header.extra_data):
        raise InvalidBlock(f"block {header.block_number} mixHash is not derived from its extraData")
    _check_body(block)


def _check_body(block: BlockAPI) -> None:
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


async def execute_candidate(
    chain: Chain,
    store: ChainStore,
    block: BlockAPI,
    parent_certificate: CommitCertificate | None,
    proposer: Address,
    validators: ValidatorSource,
    now: float,
) -> CandidateBlock:
    """Check `block` against the chain rules and execute it (off the event loop)."""
    parent = store.head
    check_block_rules(parent, block, parent_certificate, proposer, validators, chain.chain_id, now)
    signers = (
        tuple(vote.validator for vote in parent_certificate.precommits)
        if parent_certificate
        else ()
    )
    executed = await asyncio.to_thread(
        import_block, chain, store.db, parent, block, BlockInputs(proposer, signers)
    )
    return CandidateBlock(executed, parent_certificate)
