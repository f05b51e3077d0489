"""The `debug` namespace: geth's tracing methods (`debug_traceTransaction`, `debug_traceCall`,
`debug_traceBlockByNumber`, `debug_traceBlockByHash`) and the execution-apis raw getters
(`debug_getRawHeader`, `debug_getRawBlock`, `debug_getRawTransaction`, `debug_getRawReceipts`,
`debug_getBadBlocks`).

A trace re-executes on committed state in the RPC worker pool, one trace at a time, so that a
second worker stays free for `eth_call`; each trace stops at its `timeout` (5 s unless the
caller asks for up to `MAX_TIMEOUT`) and the struct logger at `MAX_STRUCT_LOGS` entries.
"""

import asyncio
import re
from typing import Any

import rlp
from eth.abc import BlockHeaderAPI

from openledger.genesis.types import Address
from openledger.rpc.codec import BlockId, data, parse_block_id, parse_bool, parse_hash
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.errors import invalid_input
from openledger.rpc.eth_exec import (
    BLOCK,
    CALL_GAS_CAP,
    TX,
    TransactionRequest,
    parse_state_overrides,
)
from openledger.rpc.eth_read import require_header, resolve_header
from openledger.rpc.work import offload
from openledger.state.execute import StateOverrides
from openledger.state.fork import BlockInputs
from openledger.state.tracers import MAX_STRUCT_LOGS, TraceOptions
from openledger.state.tracing import TRACERS, trace_block, trace_call

methods = MethodTable()

MAX_TIMEOUT = 120.0
"""Longest `timeout` a trace may ask for, in seconds."""

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_TRACER_OPTIONS = {
    "callTracer": {"onlyTopCall": "only_top_call", "withLog": "with_log"},
    "prestateTracer": {"diffMode": "diff_mode"},
}
_LOGGER_OPTIONS = {
    "disableStorage": "disable_storage",
    "disableStack": "disable_stack",
    "enableMemory": "enable_memory",
    "enableReturnData": "enable_return_data",
}


def parse_duration(value: Any) -> float:
    """A Go duration string ("5s", "300ms", "1m30s") in seconds."""
    if not isinstance(value, str) or not value:
        raise ValueError('timeout must be a duration string such as "5s" or "300ms"')
    position, total = 0, 0.0
    while position < len(value):
        match = _DURATION_PART.match(value, position)
        if match is None:
            raise ValueError(f'timeout {value!r} is not a duration such as "5s" or "300ms"')
        total += float(match.group(1)) * _SECONDS[match.group(2)]
        position = match.end()
    if not 0 < total <= MAX_TIMEOUT:
        raise ValueError(f"timeout must be more than 0 and at most {MAX_TIMEOUT:g}s")
    return total


def parse_trace_config(value: Any) -> TraceOptions:
    """geth's `TraceConfig` object."""
    if not isinstance(value, dict):
        raise ValueError("expected a trace config object")
    fields: dict[str, Any] = {}
    tracer = value.get("tracer") or ""
    if not isinstance(tracer, str) or tracer not in TRACERS:
        named = ", ".join(name for name in TRACERS if name)
        raise ValueError(
            f"tracer {tracer!r} not found: this node has {named} and the struct logger "
            "(no tracer); JavaScript tracers are not supported"
        )
    fields["tracer"] = tracer
    for name, attribute in _LOGGER_OPTIONS.items():
        if value.get(name) is not None:
            fields[attribute] = parse_bool(value[name])
    if value.get("limit") is not None:
        limit = value["limit"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError("limit must be a non-negative integer")
        if limit > MAX_STRUCT_LOGS:
            raise ValueError(f"limit must be at most {MAX_STRUCT_LOGS}")
        fields["limit"] = limit
    if value.get("timeout") is not None:
        fields["timeout"] = parse_duration(value["timeout"])
    config = value.get("tracerConfig") or {}
    if not isinstance(config, dict):
        raise ValueError("tracerConfig must be an object")
    for name, attribute in _TRACER_OPTIONS.get(tracer, {}).items():
        if config.get(name) is not None:
            fields[attribute] = parse_bool(config[name])
    return TraceOptions(**fields)


def _parse_call_config(value: Any) -> tuple[TraceOptions, StateOverrides]:
    options = parse_trace_config(value)
    if value.get("blockOverrides"):
        raise ValueError("block overrides are not supported")
    overrides = value.get("stateOverrides")
    return options, parse_state_overrides(overrides) if overrides is not None else ()


CONFIG = Param("TraceConfig", parse_trace_config, default=TraceOptions())
BLOCK_NUMBER = Param("Block", lambda v: parse_block_id(v, allow_hash=False))


# --- tracing --------------------------------------------------------------------------------------


@methods.method("debug_traceTransaction", params=(Param("Transaction hash", parse_hash), CONFIG))
async def trace_transaction(ctx: RequestContext, tx_hash: bytes, options: TraceOptions) -> Any:
    store = ctx.api.store
    location = store.get_transaction_location(tx_hash)
    if location is None:
        raise invalid_input(f"transaction 0x{tx_hash.hex()} not found")
    header = store.get_header(location.block_number)
    (result,) = await _trace_block(ctx, header, options, (location.index,))
    return result


@methods.method("debug_traceBlockByNumber", params=(BLOCK_NUMBER, CONFIG))
async def trace_block_by_number(ctx: RequestContext, block: BlockId, options: TraceOptions) -> Any:
    header = resolve_header(ctx.api.store, block)
    if header is None:
        raise invalid_input(f"block {block.number} not found")
    return await _trace_whole_block(ctx, header, options)


@methods.method("debug_traceBlockByHash", params=(Param("Block hash", parse_hash), CONFIG))
async def trace_block_by_hash(ctx: RequestContext, block_hash: bytes, options: TraceOptions) -> Any:
    header = ctx.api.store.get_header_by_hash(block_hash)
    if header is None:
        raise invalid_input(f"block 0x{block_hash.hex()} not found")
    return await _trace_whole_block(ctx, header, options)


@methods.method("debug_traceCall", params=(
    TX, BLOCK, Param("TraceConfig", _parse_call_config, default=(TraceOptions(), ())),
))  # fmt: skip
async def trace_call_method(
    ctx: RequestContext,
    request: TransactionRequest,
    block: BlockId,
    config: tuple[TraceOptions, StateOverrides],
) -> Any:
    api = ctx.api
    header = require_header(api.store, block)
    options, overrides = config
    async with _trace_slot(ctx):
        return await offload(
            trace_call, api.chain, api.store.db, header, request.to_call(), CALL_GAS_CAP, options,
            overrides,
        )  # fmt: skip


async def _trace_whole_block(
    ctx: RequestContext, header: BlockHeaderAPI, options: TraceOptions
) -> Any:
    transactions = ctx.api.store.get_transactions(header)
    traces = await _trace_block(ctx, header, options, None)
    return [
        {"txHash": data(transaction.hash), "result": trace}
        for transaction, trace in zip(transactions, traces, strict=True)
    ]


async def _trace_block(
    ctx: RequestContext, header: BlockHeaderAPI, options: TraceOptions, indexes: Any
) -> list[Any]:
    api = ctx.api
    store = api.store
    number = header.block_number
    if number == 0:
        raise invalid_input("genesis is not traceable")
    parent = store.get_header(number - 1)
    block = store.get_block(header)
    certificate = api.commit_certificate(number - 1)
    signers = tuple(Address(v) for v, _ in certificate.precommits) if certificate else ()
    inputs = BlockInputs(Address(header.coinbase), signers)
    async with _trace_slot(ctx):
        return await offload(
            trace_block, api.chain, store.db, parent, block, inputs, options, indexes
        )


def _trace_slot(ctx: RequestContext) -> asyncio.Semaphore:
    # One trace at a time: the other RPC worker stays free for calls and estimates.
    found = ctx.services.get("trace_slot")
    if found is None:
        found = ctx.services["trace_slot"] = asyncio.Semaphore(1)
    return found  # type: ignore[no-any-return]


# --- raw getters ----------------------------------------------------------------------------------


def _block_header(ctx: RequestContext, block: BlockId) -> BlockHeaderAPI:
    header = resolve_header(ctx.api.store, block)
    if header is None:
        raise invalid_input("block not found")
    return header


BLOCK_ANY = Param("Block", parse_block_id)


@methods.method("debug_getRawHeader", params=(BLOCK_ANY,))
async def get_raw_header(ctx: RequestContext, block: BlockId) -> str:
    return data(rlp.encode(_block_header(ctx, block)))


@methods.method("debug_getRawBlock", params=(BLOCK_ANY,))
async def get_raw_block(ctx: RequestContext, block: BlockId) -> str:
    header = _block_header(ctx, block)
    return data(rlp.encode(ctx.api.store.get_block(header)))


@methods.method("debug_getRawTransaction", params=(Param("Transaction hash", parse_hash),))
async def get_raw_transaction(ctx: RequestContext, tx_hash: bytes) -> Any:
    store = ctx.api.store
    location = store.get_transaction_location(tx_hash)
    if location is None:
        pooled = ctx.api.pool.get(tx_hash)
        return data(pooled.raw) if pooled is not None else "0x"
    header = store.get_header(location.block_number)
    return data(store.get_transactions(header)[location.index].encode())


@methods.method("debug_getRawReceipts", params=(BLOCK_ANY,))
async def get_raw_receipts(ctx: RequestContext, block: BlockId) -> list[str]:
    header = _block_header(ctx, block)
    return [data(receipt.encode()) for receipt in ctx.api.store.get_receipts(header)]


@methods.method("debug_getBadBlocks")
async def get_bad_blocks(ctx: RequestContext) -> list[Any]:
    # Every block this node rejects is dropped at once (a peer's invalid proposal never reaches
    # the store), so there is no history of bad blocks to report.
    return []
