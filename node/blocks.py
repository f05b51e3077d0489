"""Executing a block someone else proposed or committed, once it follows the chain rules.

The rules (`consensus.chain_rules.check_block_rules`) tie the block to consensus; executing it to
exactly its header is `state.execute.import_block`. The same path serves live consensus (a
proposal) and block sync (a committed block).

A node executes each block once: `CandidateCache` keeps the executed candidates of the current
height (state root, receipts and the trie writes, still pending in the `ExecutedBlock`'s overlay),
keyed by block hash, and consensus or block sync commits a block found there without executing it
again. The header hash commits to the state and receipt roots, so an execution found by the
block's hash is that block's execution.
"""

from collections import OrderedDict
from dataclasses import dataclass

from eth.abc import BlockAPI

from openledger.consensus.chain_rules import (
    ValidatorSource,
    check_block_rules,
    compute_commit_signers,
)
from openledger.consensus.messages import CommitCertificate
from openledger.genesis.types import Address, Hash32
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


MAX_CANDIDATES = 8
"""Executed candidates kept per height. An honest height has one per round; a proposer that
equivocates could send many, and each holds a block and its trie writes."""


class CandidateCache:
    """The executed candidates of the current height, by block hash, oldest evicted first beyond
    `limit`; emptied when the height changes."""

    def __init__(self, limit: int = MAX_CANDIDATES) -> None:
        self.limit = limit
        self._items: OrderedDict[bytes, CandidateBlock] = OrderedDict()

    def get(self, block_hash: bytes) -> CandidateBlock | None:
        """The executed candidate with this hash, if kept."""
        return self._items.get(block_hash)

    def __setitem__(self, block_hash: Hash32, candidate: CandidateBlock) -> None:
        self._items[block_hash] = candidate
        self._items.move_to_end(block_hash)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget every candidate (the height changed)."""
        self._items.clear()


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
