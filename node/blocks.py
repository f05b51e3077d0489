"""Executing a block someone else proposed or committed, once it follows the chain rules.

The rules (`consensus.chain_rules.check_block_rules`) tie the block to consensus; executing it to
exactly its header is `state.execute.import_block`. The same path serves live consensus (a
proposal) and block sync (a committed block).
"""

from dataclasses import dataclass

from eth.abc import BlockAPI

from openledger.consensus.chain_rules import (
    ValidatorSource,
    check_block_rules,
    compute_commit_signers,
)
from openledger.consensus.messages import CommitCertificate
from openledger.genesis.types import Address
from openledger.state.execute import Chain, import_block
from openledger.state.fork import BlockInputs
from openledger.state.store import ChainStore, ExecutedBlock
from openledger.state.threads import run_blocking


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
    signers = compute_commit_signers(parent_certificate)
    executed = await run_blocking(
        None, import_block, chain, store.db, parent, block, BlockInputs(proposer, signers)
    )
    return CandidateBlock(executed, parent_certificate)
