"""The chain store: committed blocks, receipts, indexes and commit certificates.

Built on py-evm's ChainDB (headers, canonical chain, transaction index, state tries) plus our own
keys (receipts by block, the log index, commit certificates; see `state/schema.py`). `commit()`
writes a whole block in one atomic LevelDB batch, head pointer included, so a crash leaves either
the block or nothing. Readers (RPC) see only committed data.

The store is written by one writer (the node loop); reads may come from any thread.
"""

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import rlp
from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI, SignedTransactionAPI, StateAPI
from eth.db.chain import ChainDB
from eth.db.schema import SchemaV1
from eth.exceptions import CanonicalHeadNotFound, HeaderNotFound, TransactionNotFound
from eth.rlp.sedes import chain_gaps
from eth.vm.chain_context import ChainContext
from eth_utils import ValidationError
from lru import LRU

from openledger.genesis.model import Genesis
from openledger.genesis.types import Address, BlockNumber, ChainId, Hash32
from openledger.state import schema
from openledger.state.db import LevelDB, Overlay
from openledger.state.errors import GenesisMismatch, InvalidBlock
from openledger.state.fork import OpenLedgerVM
from openledger.state.genesis_state import build_genesis_header
from openledger.state.impersonation import restore_senders


@dataclass(frozen=True, slots=True)
class ExecutedBlock:
    """A block that was executed but not yet committed."""

    block: BlockAPI
    """The block, with its final header."""
    receipts: tuple[ReceiptAPI, ...]
    """One receipt per transaction, in order."""
    changes: dict[bytes, bytes | None]
    """Database writes made by executing it: state trie nodes, code, transaction and receipt
    tries."""


BODY_CACHE_BLOCKS = 64
"""Blocks whose decoded transactions and receipts are kept (each RPC receipt lookup needs the
whole block's; without the cache, fetching every receipt of a block of n transactions decodes
n * n of them)."""


@dataclass(frozen=True, slots=True)
class TransactionLocation:
    """Where a committed transaction is."""

    block_number: BlockNumber
    """Number of the block that holds it."""
    index: int
    """Its position in that block."""


class ChainStore:
    """Committed chain data of one data directory."""

    def __init__(self, db: LevelDB, vm_class: type[OpenLedgerVM], chain_id: ChainId) -> None:
        self.db = db
        self.vm_class = vm_class
        self.chain_id = chain_id
        self.chain_context = ChainContext(chain_id)
        self._chaindb = ChainDB(db)
        self._write_lock = threading.Lock()
        self._head = self._chaindb.get_canonical_head()
        # Keyed by block hash: a block's body never changes. Bounded; committed blocks enter
        # with the objects that were executed (their senders already recovered).
        self._transactions: LRU = LRU(BODY_CACHE_BLOCKS)
        self._receipts: LRU = LRU(BODY_CACHE_BLOCKS)
        self.genesis_hash = Hash32(db[schema.GENESIS_HASH_KEY])

    @classmethod
    def open(cls, path: Path, genesis: Genesis, vm_class: type[OpenLedgerVM]) -> "ChainStore":
        """Open the chain in `path`, creating it from `genesis` if the directory is new.

        Raises GenesisMismatch when the directory holds a chain of another genesis.
        """
        db = LevelDB(path)
        try:
            expected = _initialise(db, genesis, vm_class)
            stored = db.get_or_none(schema.GENESIS_HASH_KEY)
            if stored != expected:
                raise GenesisMismatch(
                    f"the data directory {path} holds a chain with genesis "
                    f"0x{(stored or b'').hex()}, but the genesis file gives 0x{expected.hex()}. "
                    "Use the genesis file the directory was created with, or another --datadir."
                )
            return cls(db, vm_class, genesis.chain_id)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    # --- reads ----------------------------------------------------------------------------------

    @property
    def head(self) -> BlockHeaderAPI:
        """Header of the latest committed block."""
        return self._head

    def get_header(self, number: int) -> BlockHeaderAPI | None:
        """Header of the canonical block at `number`, or None."""
        if number < 0 or number > self._head.block_number:
            return None
        try:
            return self._chaindb.get_canonical_block_header_by_number(BlockNumber(number))
        except HeaderNotFound:
            return None

    def get_header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI | None:
        """Header of the canonical block with `block_hash`, or None."""
        try:
            header = self._chaindb.get_block_header_by_hash(Hash32(block_hash))
        except (HeaderNotFound, ValidationError):
            return None
        canonical = self.get_header(header.block_number)
        return header if canonical is not None and canonical.hash == header.hash else None

    def get_transactions(self, header: BlockHeaderAPI) -> tuple[SignedTransactionAPI, ...]:
        """The transactions of a committed block, in order."""
        cached = self._transactions.get(header.hash)
        if cached is None:
            builder = self.vm_class.get_transaction_builder()
            cached = self._transactions[header.hash] = restore_senders(
                self.db, header.hash, tuple(self._chaindb.get_block_transactions(header, builder))
            )
        return cast(tuple[SignedTransactionAPI, ...], cached)

    def get_transaction_hashes(self, header: BlockHeaderAPI) -> tuple[Hash32, ...]:
        """The hashes of a committed block's transactions, in order, without decoding them."""
        cached = self._transactions.get(header.hash)
        if cached is not None:
            return tuple(Hash32(transaction.hash) for transaction in cached)
        return self._chaindb.get_block_transaction_hashes(header)

    def get_block(self, header: BlockHeaderAPI) -> BlockAPI:
        """The committed block with `header`."""
        block_class = self.vm_class.get_block_class()
        return block_class(header, self.get_transactions(header), (), withdrawals=())

    def get_receipts(self, header: BlockHeaderAPI) -> tuple[ReceiptAPI, ...]:
        """The receipts of a committed block, in transaction order."""
        cached = self._receipts.get(header.hash)
        if cached is not None:
            return cast(tuple[ReceiptAPI, ...], cached)
        encoded = self.db.get_or_none(schema.receipts_key(header.hash))
        if encoded is None:
            return ()
        decoder = self.vm_class.get_receipt_builder()
        receipts = tuple(decoder.decode(item) for item in rlp.decode(encoded))
        self._receipts[header.hash] = receipts
        return receipts

    def get_transaction_location(self, tx_hash: bytes) -> TransactionLocation | None:
        """Block number and index of a committed transaction, or None."""
        try:
            number, index = self._chaindb.get_transaction_index(Hash32(tx_hash))
        except TransactionNotFound:
            return None
        if number > self._head.block_number:
            return None
        return TransactionLocation(number, index)

    def get_commit(self, number: int) -> bytes | None:
        """The encoded commit certificate of the canonical block at `number`, or None."""
        return self.db.get_or_none(schema.commit_key(number))

    def state_at(self, header: BlockHeaderAPI) -> StateAPI:
        """A read-only view of the state after the block with `header`.

        Writes to it are discarded: it reads the database directly and is never persisted.
        """
        return self.vm_class.build_state(self.db, header, self.chain_context)

    def find_log_blocks(
        self,
        first: int,
        last: int,
        addresses: Iterable[bytes],
        topics: Iterable[bytes],
    ) -> Iterator[int]:
        """Numbers of blocks in `first..last` that may hold logs matching the filter, ascending.

        With addresses, the address index answers; otherwise the index of the first topic
        position that names topics does; with neither, every block in the range is a candidate
        (the caller checks blooms).
        """
        address_list, topic_list = list(addresses), list(topics)
        if address_list:
            keys = [(schema.LOG_ADDRESS_PREFIX, address) for address in address_list]
        elif topic_list:
            keys = [(schema.LOG_TOPIC_PREFIX, topic) for topic in topic_list]
        else:
            yield from range(first, last + 1)
            return
        numbers: set[int] = set()
        for prefix, item in keys:
            start = prefix + item + schema.encode_number(first)
            stop = prefix + item + schema.encode_number(last + 1)
            numbers.update(
                int.from_bytes(key[-8:], "big") for key, _ in self.db.iterate(start, stop)
            )
        yield from sorted(numbers)

    # --- the one writer -------------------------------------------------------------------------

    def commit(
        self,
        executed: ExecutedBlock,
        certificate: bytes | None,
        parent_certificate: bytes | None = None,
    ) -> None:
        """Make `executed` the new head, with its commit certificate, in one atomic batch.

        `parent_certificate` is the commit of the parent that the block's `extraData` names; it
        replaces the one stored for the parent (which may be another valid set of precommits this
        node collected itself), so every node ends up serving the same, canonical commit.
        """
        block = executed.block
        with self._write_lock:
            if block.header.parent_hash != self._head.hash:
                raise InvalidBlock(
                    f"block {block.number} does not extend the head {self._head.block_number}"
                )
            overlay = Overlay(self.db)
            for key, value in executed.changes.items():
                if value is None:
                    overlay.delete(key)
                else:
                    overlay[key] = value
            ChainDB(overlay).persist_block(block)
            overlay[schema.receipts_key(block.hash)] = rlp.encode(
                [receipt.encode() for receipt in executed.receipts]
            )
            for key in _log_index_keys(block.number, executed.receipts):
                overlay[key] = b""
            if certificate is not None:
                overlay[schema.commit_key(block.number)] = certificate
            if parent_certificate is not None and block.number > 0:
                overlay[schema.commit_key(block.number - 1)] = parent_certificate
            self.db.write(overlay.changes())
            self._transactions[block.hash] = tuple(block.transactions)
            self._receipts[block.hash] = tuple(executed.receipts)
            self._head = block.header

    def rewind(self, number: int, expected_hash: bytes | None = None) -> None:
        """Make the canonical block at `number` the head again, in one atomic batch (dev mode's
        `evm_revert`). The blocks after it stop being canonical: their number, transaction and
        log index entries, receipts and commits go; their headers and state nodes stay, unreachable.
        """
        with self._write_lock:
            head = self._head.block_number
            target = self.get_header(number)
            if target is None:
                raise InvalidBlock(f"cannot rewind to block {number}: the head is {head}")
            if expected_hash is not None and target.hash != expected_hash:
                raise InvalidBlock(
                    f"cannot rewind to block {number} 0x{expected_hash.hex()}: it is no longer "
                    "canonical"
                )
            changes: dict[bytes, bytes | None] = {}
            gone_hashes = []
            for gone in range(number + 1, head + 1):
                header = self._chaindb.get_canonical_block_header_by_number(BlockNumber(gone))
                gone_hashes.append(header.hash)
                changes[SchemaV1.make_block_number_to_hash_lookup_key(BlockNumber(gone))] = None
                for transaction in self.get_transactions(header):
                    key = SchemaV1.make_transaction_hash_to_block_lookup_key(transaction.hash)
                    changes[key] = None
                for key in _log_index_keys(gone, self.get_receipts(header)):
                    changes[key] = None
                changes[schema.receipts_key(header.hash)] = None
                changes[schema.commit_key(gone)] = None
            changes[schema.CANONICAL_HEAD_KEY] = target.hash
            # ChainDB's record of which numbers it holds: everything up to the target, nothing
            # after it (so the next block is persisted as new, not as a replacement).
            gaps = rlp.encode(((), BlockNumber(number + 1)), sedes=chain_gaps)
            changes[SchemaV1.make_header_chain_gaps_lookup_key()] = gaps
            changes[SchemaV1.make_chain_gaps_lookup_key()] = gaps
            # Readers switch to the target (whose data stay) before the later blocks' data go.
            previous, self._head = self._head, target
            try:
                self.db.write(changes, sync=True)
            except BaseException:
                self._head = previous
                raise
            for block_hash in gone_hashes:
                self._transactions.pop(block_hash, None)
                self._receipts.pop(block_hash, None)

    def put_commit(self, number: int, certificate: bytes) -> None:
        """Store (or replace) the commit certificate of the canonical block at `number`."""
        self.db.write({schema.commit_key(number): certificate})


def _initialise(db: LevelDB, genesis: Genesis, vm_class: type[OpenLedgerVM]) -> bytes:
    """Write the genesis block if the database is empty; return the genesis hash of `genesis`."""
    overlay = Overlay(db)
    header = build_genesis_header(genesis, overlay)
    try:
        ChainDB(db).get_canonical_head()
    except CanonicalHeadNotFound:
        chaindb = ChainDB(overlay)
        chaindb.persist_block(vm_class.get_block_class()(header, (), (), withdrawals=()))
        overlay[schema.GENESIS_HASH_KEY] = header.hash
        overlay[schema.VERSION_KEY] = schema.SCHEMA_VERSION
        db.write(overlay.changes(), sync=True)
    return bytes(header.hash)


def _log_index_keys(number: int, receipts: Iterable[ReceiptAPI]) -> set[bytes]:
    keys: set[bytes] = set()
    for receipt in receipts:
        for log in receipt.logs:
            keys.add(schema.log_address_key(log.address, number))
            for topic in log.topics:
                keys.add(schema.log_topic_key(topic.to_bytes(32, "big"), number))
    return keys


def sender_of(transaction: SignedTransactionAPI) -> Address:
    """The sender of a transaction already accepted into a block."""
    return Address(transaction.sender)
