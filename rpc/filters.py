"""Polling filters (`eth_newFilter` and friends) and WebSocket subscriptions (`eth_subscribe`).

Both are fed by the node's block and pending-transaction events. Polling filters expire after
five minutes without a poll (geth's timeout) and buffer at most `MAX_BUFFERED` items each; the
number of filters and subscriptions is bounded too, so a client cannot make the node hold
unbounded state.
"""

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth.abc import BlockHeaderAPI

from openledger.rpc.codec import data, quantity
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.errors import LIMIT_EXCEEDED, RpcError, invalid_input
from openledger.rpc.format import format_header
from openledger.rpc.logs import LogFilter, block_logs, parse_log_filter, query_logs, resolve_range
from openledger.rpc.work import offload
from openledger.state.store import ChainStore

FILTER_TIMEOUT_SECONDS = 300.0
MAX_FILTERS = 1000
MAX_BUFFERED = 10_000
MAX_SUBSCRIPTIONS_PER_CONNECTION = 100
MAX_SUBSCRIPTIONS = 1000
"""Subscriptions across all connections: with `MAX_HELD_*` this bounds their memory (about 20 KB
each at most), which per-connection counts alone did not (256 connections of 100 subscriptions
of 4,000 topics each came to gigabytes)."""
MAX_HELD_ADDRESSES = 128
"""Addresses of a log filter or subscription that the node keeps (`eth_getLogs` takes more)."""
MAX_HELD_TOPICS = 128
"""Topic alternatives, over all positions, of a kept log filter or subscription."""

methods = MethodTable()


@dataclass
class PollFilter:
    """One polling filter."""

    kind: str
    """"block", "pending" or "log"."""
    criteria: LogFilter | None = None
    """For log filters, what to match."""
    next_block: int = 0
    """For log filters, the first block not yet reported."""
    items: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_BUFFERED))
    """Block or transaction hashes not yet reported."""
    last_poll: float = field(default_factory=time.monotonic)
    """When the client last polled, for expiry."""


class FilterManager:
    """The polling filters and subscriptions of one RPC server."""

    def __init__(self, store: ChainStore) -> None:
        self.store = store
        self.filters: dict[str, PollFilter] = {}
        self.subscriptions: dict[str, tuple[str, Any, Callable[[Any], None]]] = {}

    # --- events from the node -------------------------------------------------------------------

    def on_block(self, header: BlockHeaderAPI) -> None:
        """A block was committed."""
        self._expire()
        block_hash = data(header.hash)
        for item in self.filters.values():
            if item.kind == "block":
                item.items.append(block_hash)
            elif item.kind == "log":
                # Normally a no-op; after a dev chain's evm_revert, the blocks from this one on
                # are new and their logs not yet reported.
                item.next_block = min(item.next_block, header.block_number)
        for kind, criteria, send in list(self.subscriptions.values()):
            if kind == "newHeads":
                send(_head_notification(header))
            elif kind == "logs":
                for log in block_logs(self.store, header, criteria):
                    send(log)

    def on_pending_transaction(self, tx_hash: bytes) -> None:
        """A transaction entered the mempool."""
        encoded = data(tx_hash)
        for item in self.filters.values():
            if item.kind == "pending":
                item.items.append(encoded)
        for kind, _, send in list(self.subscriptions.values()):
            if kind == "newPendingTransactions":
                send(encoded)

    # --- polling filters ------------------------------------------------------------------------

    def add(self, item: PollFilter) -> str:
        """Install a filter; returns its id."""
        self._expire()
        if len(self.filters) >= MAX_FILTERS:
            raise RpcError(
                LIMIT_EXCEEDED, f"too many filters (limit {MAX_FILTERS}); uninstall some"
            )
        filter_id = quantity(secrets.randbits(128))
        self.filters[filter_id] = item
        return filter_id

    def get(self, filter_id: str) -> PollFilter:
        """The filter with `filter_id`, or the "filter not found" error geth gives."""
        item = self.filters.get(filter_id)
        if item is None:
            raise invalid_input("filter not found")
        item.last_poll = time.monotonic()
        return item

    async def changes(self, filter_id: str) -> list[Any]:
        """What happened since the last poll."""
        item = self.get(filter_id)
        if item.kind != "log" or item.criteria is None:
            drained = list(item.items)
            item.items.clear()
            return drained
        head = self.store.head.block_number
        first, last = max(item.next_block, _start(self.store, item.criteria)), head
        if item.criteria.to_block is not None:
            last = min(last, resolve_range(self.store, item.criteria)[1])
        if first > last:
            return []
        item.next_block = last + 1
        return await offload(query_logs, self.store, item.criteria, first, last)

    def _expire(self) -> None:
        deadline = time.monotonic() - FILTER_TIMEOUT_SECONDS
        for filter_id in [key for key, item in self.filters.items() if item.last_poll < deadline]:
            del self.filters[filter_id]


def _head_notification(header: BlockHeaderAPI) -> dict[str, Any]:
    head = format_header(header, 0)
    for key in ("size", "uncles", "withdrawals"):
        del head[key]
    return head


def _start(store: ChainStore, criteria: LogFilter) -> int:
    return resolve_range(store, criteria)[0] if criteria.from_block is not None else 0


def manager(ctx: RequestContext) -> FilterManager:
    """The filter manager of the server handling this request."""
    return ctx.services["filters"]  # type: ignore[no-any-return]


def _filter_id(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ValueError("expected a filter id (a hex string)")
    return value.lower()


FILTER_ID = Param("filterId", _filter_id)


def _parse_held_filter(value: Any) -> LogFilter:
    """A log filter the node keeps (polling filter or subscription): smaller than a query's."""
    criteria = parse_log_filter(value)
    if len(criteria.addresses) > MAX_HELD_ADDRESSES:
        raise ValueError(
            f"at most {MAX_HELD_ADDRESSES} addresses in a filter or subscription "
            f"(got {len(criteria.addresses)}); use eth_getLogs or several filters"
        )
    topics = sum(len(position) for position in criteria.topics if position is not None)
    if topics > MAX_HELD_TOPICS:
        raise ValueError(
            f"at most {MAX_HELD_TOPICS} topics in all positions of a filter or subscription "
            f"(got {topics}); use eth_getLogs or several filters"
        )
    return criteria


@methods.method("eth_newFilter", params=(Param("filter", _parse_held_filter),))
async def new_filter(ctx: RequestContext, criteria: LogFilter) -> str:
    filters = manager(ctx)
    if criteria.block_hash is not None:
        raise RpcError(-32602, "invalid argument 0 (filter): blockHash is not supported in filters")
    head = ctx.api.store.head.block_number
    start = (
        resolve_range(ctx.api.store, criteria)[0] if criteria.from_block is not None else head + 1
    )
    return filters.add(PollFilter("log", criteria, next_block=start))


@methods.method("eth_newBlockFilter")
async def new_block_filter(ctx: RequestContext) -> str:
    return manager(ctx).add(PollFilter("block"))


@methods.method("eth_newPendingTransactionFilter")
async def new_pending_filter(ctx: RequestContext) -> str:
    return manager(ctx).add(PollFilter("pending"))


@methods.method("eth_getFilterChanges", params=(FILTER_ID,))
async def get_filter_changes(ctx: RequestContext, filter_id: str) -> list[Any]:
    return await manager(ctx).changes(filter_id)


@methods.method("eth_getFilterLogs", params=(FILTER_ID,))
async def get_filter_logs(ctx: RequestContext, filter_id: str) -> list[Any]:
    item = manager(ctx).get(filter_id)
    if item.kind != "log" or item.criteria is None:
        raise invalid_input("filter not found")
    first, last = resolve_range(ctx.api.store, item.criteria)
    return await offload(query_logs, ctx.api.store, item.criteria, first, last)


@methods.method("eth_uninstallFilter", params=(FILTER_ID,))
async def uninstall_filter(ctx: RequestContext, filter_id: str) -> bool:
    return manager(ctx).filters.pop(filter_id, None) is not None


# --- subscriptions (WebSocket only) --------------------------------------------------------------


def _subscription_kind(value: Any) -> str:
    if value not in ("newHeads", "logs", "newPendingTransactions"):
        raise ValueError("expected newHeads, logs or newPendingTransactions")
    return str(value)


@methods.method("eth_subscribe", params=(
    Param("subscriptionName", _subscription_kind),
    Param("filter", _parse_held_filter, default=LogFilter()),
))  # fmt: skip
async def subscribe(ctx: RequestContext, kind: str, criteria: LogFilter) -> str:
    connection = ctx.connection
    if connection is None:
        raise RpcError(-32601, "notifications not supported: subscribe over a WebSocket connection")
    if len(connection.subscriptions) >= MAX_SUBSCRIPTIONS_PER_CONNECTION:
        raise RpcError(
            LIMIT_EXCEEDED, f"too many subscriptions (limit {MAX_SUBSCRIPTIONS_PER_CONNECTION})"
        )
    if len(manager(ctx).subscriptions) >= MAX_SUBSCRIPTIONS:
        raise RpcError(
            LIMIT_EXCEEDED,
            f"too many subscriptions on this node (limit {MAX_SUBSCRIPTIONS}); try again later",
        )
    subscription_id = quantity(secrets.randbits(128))

    def send(result: Any) -> None:
        connection.notify(subscription_id, result)

    manager(ctx).subscriptions[subscription_id] = (kind, criteria, send)
    connection.subscriptions.add(subscription_id)
    return subscription_id


@methods.method("eth_unsubscribe", params=(Param("subscriptionId", _filter_id),))
async def unsubscribe(ctx: RequestContext, subscription_id: str) -> bool:
    connection = ctx.connection
    if connection is None or subscription_id not in connection.subscriptions:
        return False
    connection.subscriptions.discard(subscription_id)
    return manager(ctx).subscriptions.pop(subscription_id, None) is not None
