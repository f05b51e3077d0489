"""`eth_*` methods that read blocks, transactions, receipts and account state.

Block parameters resolve against committed blocks only. `latest`, `pending`, `safe` and
`finalized` all name the head: every committed block is final, and the pending state is the head
state (the mempool adds only to `eth_getTransactionCount(addr, "pending")`). A number above the
head, or an unknown hash, gets geth's "header not found" error for state queries and `null` for
block queries.
"""

from typing import Any

from eth.abc import BlockHeaderAPI

from openledger.rpc.codec import (
    UINT64_MAX,
    BlockId,
    address,
    data,
    parse_address,
    parse_block_id,
    parse_bool,
    parse_hash,
    parse_quantity,
    parse_slot,
    quantity,
    word,
)
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.errors import RpcError, invalid_input
from openledger.rpc.format import BlockReceipts, format_block, format_transaction
from openledger.state.store import ChainStore
from openledger.state.threads import run_blocking

methods = MethodTable()

LATEST = BlockId(tag="latest")
ADDRESS = Param("address", parse_address)
BLOCK = Param("block", parse_block_id, default=LATEST)
BLOCK_NUMBER = Param("block", lambda v: parse_block_id(v, allow_hash=False))
BLOCK_HASH = Param("blockHash", parse_hash)
HYDRATED = Param("hydrated", parse_bool, default=False)
INDEX = Param("index", lambda v: parse_quantity(v, UINT64_MAX))
TX_HASH = Param("transactionHash", parse_hash)


def resolve_header(store: ChainStore, block: BlockId) -> BlockHeaderAPI | None:
    """The committed header a block parameter names, or None."""
    if block.hash is not None:
        return store.get_header_by_hash(block.hash)
    if block.tag == "earliest":
        return store.get_header(0)
    if block.tag is not None:
        return store.head
    return store.get_header(block.number) if block.number is not None else None


def require_header(store: ChainStore, block: BlockId) -> BlockHeaderAPI:
    """Like `resolve_header`, but a missing block is an error (for state queries)."""
    header = resolve_header(store, block)
    if header is None:
        raise invalid_input("header not found")
    return header


# --- chain ---------------------------------------------------------------------------------------


@methods.method("eth_chainId")
async def chain_id(ctx: RequestContext) -> str:
    return quantity(ctx.api.chain.chain_id)


@methods.method("eth_blockNumber")
async def block_number(ctx: RequestContext) -> str:
    return quantity(ctx.api.store.head.block_number)


@methods.method("eth_getBlockByNumber", params=(BLOCK_NUMBER, HYDRATED))
async def get_block_by_number(ctx: RequestContext, block: BlockId, full: bool) -> Any:
    return await _block_json(ctx.api.store, resolve_header(ctx.api.store, block), full)


@methods.method("eth_getBlockByHash", params=(BLOCK_HASH, HYDRATED))
async def get_block_by_hash(ctx: RequestContext, block_hash: bytes, full: bool) -> Any:
    store = ctx.api.store
    return await _block_json(store, store.get_header_by_hash(block_hash), full)


async def _block_json(store: ChainStore, header: BlockHeaderAPI | None, full: bool) -> Any:
    if header is None:
        return None
    transactions = await run_blocking(None, store.get_transactions, header)
    return format_block(header, transactions, full=full)


@methods.method("eth_getBlockTransactionCountByNumber", params=(BLOCK_NUMBER,))
async def count_by_number(ctx: RequestContext, block: BlockId) -> Any:
    header = resolve_header(ctx.api.store, block)
    return None if header is None else quantity(len(ctx.api.store.get_transactions(header)))


@methods.method("eth_getBlockTransactionCountByHash", params=(BLOCK_HASH,))
async def count_by_hash(ctx: RequestContext, block_hash: bytes) -> Any:
    header = ctx.api.store.get_header_by_hash(block_hash)
    return None if header is None else quantity(len(ctx.api.store.get_transactions(header)))


@methods.method("eth_getUncleCountByBlockNumber", params=(BLOCK_NUMBER,))
async def uncle_count_by_number(ctx: RequestContext, block: BlockId) -> Any:
    return None if resolve_header(ctx.api.store, block) is None else "0x0"


@methods.method("eth_getUncleCountByBlockHash", params=(BLOCK_HASH,))
async def uncle_count_by_hash(ctx: RequestContext, block_hash: bytes) -> Any:
    return None if ctx.api.store.get_header_by_hash(block_hash) is None else "0x0"


@methods.method("eth_getUncleByBlockNumberAndIndex", params=(BLOCK_NUMBER, INDEX))
async def uncle_by_number(ctx: RequestContext, block: BlockId, index: int) -> None:
    return None


@methods.method("eth_getUncleByBlockHashAndIndex", params=(BLOCK_HASH, INDEX))
async def uncle_by_hash(ctx: RequestContext, block_hash: bytes, index: int) -> None:
    return None


# --- transactions and receipts -------------------------------------------------------------------


@methods.method("eth_getTransactionByHash", params=(TX_HASH,))
async def get_transaction_by_hash(ctx: RequestContext, tx_hash: bytes) -> Any:
    store = ctx.api.store
    location = store.get_transaction_location(tx_hash)
    if location is None:
        pooled = ctx.api.pool.get(tx_hash)
        return format_transaction(pooled.transaction) if pooled is not None else None
    header = store.get_header(location.block_number)
    if header is None:
        return None
    transactions = store.get_transactions(header)
    return format_transaction(transactions[location.index], header, location.index)


@methods.method("eth_getRawTransactionByHash", params=(TX_HASH,))
async def get_raw_transaction(ctx: RequestContext, tx_hash: bytes) -> Any:
    store = ctx.api.store
    location = store.get_transaction_location(tx_hash)
    if location is None:
        pooled = ctx.api.pool.get(tx_hash)
        return data(pooled.raw) if pooled is not None else None
    header = store.get_header(location.block_number)
    if header is None:
        return None
    return data(store.get_transactions(header)[location.index].encode())


@methods.method("eth_getTransactionByBlockNumberAndIndex", params=(BLOCK_NUMBER, INDEX))
async def get_transaction_by_number_and_index(
    ctx: RequestContext, block: BlockId, index: int
) -> Any:
    return _transaction_at(ctx.api.store, resolve_header(ctx.api.store, block), index)


@methods.method("eth_getTransactionByBlockHashAndIndex", params=(BLOCK_HASH, INDEX))
async def get_transaction_by_hash_and_index(
    ctx: RequestContext, block_hash: bytes, index: int
) -> Any:
    store = ctx.api.store
    return _transaction_at(store, store.get_header_by_hash(block_hash), index)


def _transaction_at(store: ChainStore, header: BlockHeaderAPI | None, index: int) -> Any:
    if header is None:
        return None
    transactions = store.get_transactions(header)
    if index >= len(transactions):
        return None
    return format_transaction(transactions[index], header, index)


@methods.method("eth_getTransactionReceipt", params=(TX_HASH,))
async def get_transaction_receipt(ctx: RequestContext, tx_hash: bytes) -> Any:
    store = ctx.api.store
    location = store.get_transaction_location(tx_hash)
    if location is None:
        return None
    header = store.get_header(location.block_number)
    if header is None:
        return None
    receipts = BlockReceipts(header, store.get_transactions(header), store.get_receipts(header))
    return receipts.format_receipt(location.index)


@methods.method("eth_getBlockReceipts", params=(BLOCK,))
async def get_block_receipts(ctx: RequestContext, block: BlockId) -> Any:
    store = ctx.api.store
    header = resolve_header(store, block)
    if header is None:
        return None
    receipts = BlockReceipts(header, store.get_transactions(header), store.get_receipts(header))
    return [receipts.format_receipt(index) for index in range(len(receipts.transactions))]


# --- account state -------------------------------------------------------------------------------


@methods.method("eth_getBalance", params=(ADDRESS, BLOCK))
async def get_balance(ctx: RequestContext, account: bytes, block: BlockId) -> str:
    state = ctx.api.store.state_at(require_header(ctx.api.store, block))
    return quantity(state.get_balance(account))


@methods.method("eth_getTransactionCount", params=(ADDRESS, BLOCK))
async def get_transaction_count(ctx: RequestContext, account: bytes, block: BlockId) -> str:
    if block.tag == "pending":
        return quantity(ctx.api.pending_nonce(account))
    state = ctx.api.store.state_at(require_header(ctx.api.store, block))
    return quantity(state.get_nonce(account))


@methods.method("eth_getCode", params=(ADDRESS, BLOCK))
async def get_code(ctx: RequestContext, account: bytes, block: BlockId) -> str:
    state = ctx.api.store.state_at(require_header(ctx.api.store, block))
    return data(state.get_code(account))


@methods.method("eth_getStorageAt", params=(ADDRESS, Param("slot", parse_slot), BLOCK))
async def get_storage_at(ctx: RequestContext, account: bytes, slot: int, block: BlockId) -> str:
    state = ctx.api.store.state_at(require_header(ctx.api.store, block))
    return word(state.get_storage(account, slot))


@methods.method("eth_accounts")
async def accounts(ctx: RequestContext) -> list[str]:
    dev = ctx.api.dev
    return [address(account) for account in dev.accounts] if dev is not None else []


@methods.method("eth_coinbase")
async def coinbase(ctx: RequestContext) -> str:
    validator = ctx.api.consensus_status().get("validator")
    if validator is None:
        raise RpcError(
            -32000, "etherbase must be explicitly specified: this node is not a validator"
        )
    return address(validator)
