"""The node's chain: the store, the mempool and execution, behind the one-writer rule.

RPC handlers call `submit_transaction` (on the event loop thread). Block producers (the dev
producer, later the consensus driver) call `build_block` and `commit`; they are the only writers,
and they run one at a time. Execution and the LevelDB write run in a worker thread so that the
event loop keeps answering RPC while a block is built; the mempool is touched only on the event
loop thread, before and after.
"""

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eth.abc import BlockHeaderAPI, SignedTransactionAPI, StateAPI
from eth_hash.auto import keccak

from openledger.consensus.chain_rules import BlockTemplate
from openledger.genesis.types import Address, Hash32, Wei
from openledger.node.mempool import Mempool, PoolTransaction
from openledger.state.errors import (
    AlreadyKnown,
    GasLimitReached,
    InvalidTransaction,
)
from openledger.state.execute import (
    BlockBuilder,
    Chain,
    compute_next_base_fee,
)
from openledger.state.fork import BlockInputs
from openledger.state.impersonation import ImpersonatedTransaction
from openledger.state.store import ChainStore, ExecutedBlock
from openledger.state.threads import run_blocking
from openledger.state.transactions import check_transaction, decode_transaction

log = logging.getLogger("openledger.chain")


@dataclass(frozen=True, slots=True)
class BuiltBlock:
    """A block built from the mempool, not yet committed."""

    executed: ExecutedBlock
    """The executed block."""
    rejected: tuple[tuple[Hash32, str], ...]
    """Transactions taken from the pool that could not be included, with the reason."""


def start_block(
    chain: Chain, store: ChainStore, parent: BlockHeaderAPI, template: BlockTemplate
) -> BlockBuilder:
    """A builder of the block after `parent` with the header fields of `template`: how every
    block of this node starts (and the test chain harness's blocks too)."""
    return BlockBuilder(
        chain,
        store.db,
        parent,
        coinbase=template.proposer,
        timestamp=template.timestamp,
        extra_data=template.extra_data,
        mix_hash=template.mix_hash,
        inputs=BlockInputs(template.proposer, template.last_commit_signers),
        overrides=template.overrides,
    )


class NodeChain:
    """Store, mempool and execution of one node."""

    def __init__(
        self,
        store: ChainStore,
        chain: Chain,
        mempool: Mempool | None = None,
        *,
        allow_unprotected: bool = False,
    ) -> None:
        self.store = store
        self.chain = chain
        self.mempool = mempool if mempool is not None else Mempool()  # an empty pool is falsy
        self.allow_unprotected = allow_unprotected
        self.work_available = asyncio.Event()
        self._block_listeners: list[Callable[[BlockHeaderAPI], None]] = []
        self._pending_listeners: list[Callable[[Hash32], None]] = []
        self._transaction_listeners: list[Callable[[PoolTransaction], None]] = []
        self._state_cache: tuple[bytes, StateAPI] | None = None

    # --- listeners ------------------------------------------------------------------------------

    def on_block(self, listener: Callable[[BlockHeaderAPI], None]) -> None:
        """Call `listener` with every committed header."""
        self._block_listeners.append(listener)

    def on_pending_transaction(self, listener: Callable[[Hash32], None]) -> None:
        """Call `listener` with the hash of every transaction that enters the pool."""
        self._pending_listeners.append(listener)

    def on_new_transaction(self, listener: Callable[[PoolTransaction], None]) -> None:
        """Call `listener` with every transaction that enters the pool (for gossip)."""
        self._transaction_listeners.append(listener)

    # --- transactions ---------------------------------------------------------------------------

    def next_base_fee(self) -> Wei:
        """Base fee of the next block."""
        return compute_next_base_fee(self.store.head)

    def decode(self, raw: bytes) -> SignedTransactionAPI:
        """Decode a raw transaction and apply the static rules; raises InvalidTransaction."""
        transaction = decode_transaction(raw, self.chain.vm_class)
        check_transaction(
            transaction,
            self.chain.chain_id,
            self.store.head.gas_limit,
            allow_unprotected=self.allow_unprotected,
        )
        return transaction

    def submit_transaction(self, raw: bytes, *, announce: bool = True) -> Hash32:
        """Validate a raw transaction and add it to the pool; returns its hash.

        A transaction already in the pool is refused by its hash before any decoding: peers
        relay every transaction to each other, and most copies a node receives are ones it has.
        With `announce` False the gossip listeners are not told (the caller relays it itself).
        """
        if keccak(raw) in self.mempool:
            raise AlreadyKnown(keccak(raw))
        return self._admit(self.decode(raw), raw, announce=announce)

    def submit_impersonated(self, transaction: ImpersonatedTransaction) -> Hash32:
        """Add a dev node's impersonated transaction to the pool (never gossiped: no one else
        could verify it)."""
        return self._admit(transaction, transaction.encode(), announce=False)  # type: ignore[arg-type]

    def _admit(self, transaction: SignedTransactionAPI, raw: bytes, *, announce: bool) -> Hash32:
        state = self._head_state()
        result = self.mempool.add(transaction, raw, state, self.next_base_fee())
        entry = self.mempool.get(result.hash)
        for listener in self._pending_listeners:
            listener(result.hash)
        if entry is not None and announce:
            for tx_listener in self._transaction_listeners:
                tx_listener(entry)
        if result.pending:
            self.work_available.set()
        return result.hash

    def _head_state(self) -> StateAPI:
        """A read-only view of the head state, shared by the reads made at the same head (the
        pool's admission checks run per transaction; a fresh py-evm state each time costs more
        than the checks)."""
        head = self.store.head
        if self._state_cache is None or self._state_cache[0] != head.hash:
            self._state_cache = (head.hash, self.store.state_at(head))
        return self._state_cache[1]

    def adopt_senders(self, transactions: Iterable[SignedTransactionAPI]) -> int:
        """Give each transaction of a peer's block that is in our pool the sender the pool
        recovered; returns how many. A proposal's block arrives as bytes, so its transactions are
        new objects, and executing them would recover every sender again (a secp256k1 recovery
        each, an eighth of a validator's CPU under load) though the pool holds most of them. Equal
        hashes are equal signed bytes, hence the same sender; py-evm caches `sender` in the
        object's `__dict__` (a `cached_property`), where this puts it."""
        adopted = 0
        for transaction in transactions:
            entry = self.mempool.get(transaction.hash)
            if entry is not None:
                transaction.__dict__["sender"] = entry.sender
                adopted += 1
        return adopted

    def pending_nonce(self, address: Address) -> int:
        """The next nonce `address` should use, counting its executable pool transactions."""
        state = self._head_state()
        return self.mempool.pending_nonce(address, state.get_nonce(address))

    def has_executable(self) -> bool:
        """True when the pool holds a transaction the next block could include."""
        return bool(self.mempool.select(self.next_base_fee(), self.store.head.gas_limit)[:1])

    # --- the writer -----------------------------------------------------------------------------

    async def build_block(
        self, template: BlockTemplate, *, include_pool: bool = True
    ) -> BuiltBlock:
        """Build the next block from the pool (off the event loop) without committing it."""
        parent = self.store.head
        candidates = (
            self.mempool.select(self.next_base_fee(), parent.gas_limit) if include_pool else []
        )
        return await run_blocking(None, self._build, parent, template, candidates)

    def _build(
        self, parent: BlockHeaderAPI, template: BlockTemplate, candidates: list[PoolTransaction]
    ) -> BuiltBlock:
        builder = start_block(self.chain, self.store, parent, template)
        rejected: list[tuple[Hash32, str]] = []
        failed_senders: set[Address] = set()
        for entry in candidates:
            if entry.sender in failed_senders:
                continue
            try:
                builder.add_transaction(entry.transaction)
            except InvalidTransaction as error:
                failed_senders.add(entry.sender)
                if not isinstance(error, GasLimitReached):
                    rejected.append((entry.hash, str(error)))
        return BuiltBlock(builder.finish(), tuple(rejected))

    async def commit(
        self,
        executed: ExecutedBlock,
        certificate: bytes | None,
        parent_certificate: bytes | None = None,
    ) -> BlockHeaderAPI:
        """Commit a block as the new head, then prune the pool and tell the listeners."""
        await run_blocking(None, self.store.commit, executed, certificate, parent_certificate)
        header = executed.block.header
        state = self.store.state_at(header)
        senders = {Address(tx.sender) for tx in executed.block.transactions}
        self.mempool.on_new_head(state, senders)
        for listener in self._block_listeners:
            try:
                listener(header)
            except Exception:
                log.exception("a block listener failed")
        return header

    async def rewind(self, number: int, expected_hash: bytes | None = None) -> BlockHeaderAPI:
        """Make block `number` the head again (dev mode's `evm_revert`), then re-check the pool
        against its state; the transactions of the blocks dropped are gone."""
        await run_blocking(None, self.store.rewind, number, expected_hash)
        self.recheck_pool()
        return self.store.head

    def recheck_pool(self) -> None:
        """Re-check every pool transaction against the head state (after a rewind or a direct
        change of accounts, which may make transactions invalid or executable)."""
        self.mempool.on_new_head(self.store.state_at(self.store.head))
        self.work_available.set()

    def drop_rejected(self, rejected: tuple[tuple[Hash32, str], ...]) -> None:
        """Remove transactions a block could not include, so they are not retried forever."""
        for tx_hash, reason in rejected:
            if self.mempool.remove(tx_hash):
                log.info("dropped transaction 0x%s: %s", tx_hash.hex(), reason)
