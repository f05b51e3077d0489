"""Log queries: the filter object, matching, and `eth_getLogs`.

Candidate blocks come from the store's log index (by address, else by first named topic), then
each candidate block's receipts are matched exactly. A query may span at most
`MAX_BLOCK_RANGE` blocks and return at most `MAX_LOGS` logs; beyond that the client gets a
-32005 error telling it to narrow the range, as public providers answer.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth.abc import BlockHeaderAPI, LogAPI
from eth_bloom import BloomFilter

from openledger.rpc.codec import (
    BlockId,
    parse_address,
    parse_block_id,
    parse_hash,
)
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.errors import LIMIT_EXCEEDED, RpcError, invalid_input
from openledger.rpc.eth_read import resolve_header
from openledger.rpc.format import format_log
from openledger.rpc.work import offload
from openledger.state.store import ChainStore

MAX_BLOCK_RANGE = 10_000
MAX_LOGS = 10_000
MAX_ADDRESSES = 1000
MAX_TOPIC_POSITIONS = 4
MAX_TOPIC_ALTERNATIVES = 1000

methods = MethodTable()


@dataclass(frozen=True, slots=True)
class LogFilter:
    """Which logs a query or filter wants."""

    from_block: BlockId | None = None
    """First block (default latest)."""
    to_block: BlockId | None = None
    """Last block (default latest)."""
    block_hash: bytes | None = None
    """A single block, instead of a range."""
    addresses: tuple[bytes, ...] = ()
    """Emitting contracts; empty means any."""
    topics: tuple[tuple[bytes, ...] | None, ...] = ()
    """Per position: None for any topic, or the alternatives that match."""

    def matches(self, log: LogAPI) -> bool:
        """True when `log` passes the address and topic criteria."""
        if self.addresses and log.address not in self.addresses:
            return False
        if len(self.topics) > len(log.topics):
            return False
        for wanted, topic in zip(self.topics, log.topics, strict=False):
            if wanted is not None and topic.to_bytes(32, "big") not in wanted:
                return False
        return True

    def could_match_bloom(self, bloom: int) -> bool:
        """False when the block's bloom proves no log can match."""
        if bloom == 0:
            return False
        block_bloom = BloomFilter(bloom)
        if self.addresses and not any(address in block_bloom for address in self.addresses):
            return False
        return all(
            wanted is None or any(topic in block_bloom for topic in wanted)
            for wanted in self.topics
        )


def parse_log_filter(value: Any) -> LogFilter:
    """Parse a filter object (`fromBlock`, `toBlock`, `blockHash`, `address`, `topics`)."""
    if not isinstance(value, dict):
        raise ValueError("expected a filter object")
    block_hash = value.get("blockHash")
    if block_hash is not None and (
        value.get("fromBlock") is not None or value.get("toBlock") is not None
    ):
        raise ValueError("cannot specify both blockHash and fromBlock/toBlock")
    raw_address = value.get("address")
    if raw_address is None:
        addresses: tuple[bytes, ...] = ()
    elif isinstance(raw_address, str):
        addresses = (parse_address(raw_address),)
    elif isinstance(raw_address, list):
        if len(raw_address) > MAX_ADDRESSES:
            raise ValueError(f"at most {MAX_ADDRESSES} addresses")
        addresses = tuple(parse_address(item) for item in raw_address)
    else:
        raise ValueError("address must be an address or an array of addresses")
    raw_topics = value.get("topics") or []
    if not isinstance(raw_topics, list):
        raise ValueError("topics must be an array")
    if len(raw_topics) > MAX_TOPIC_POSITIONS:
        raise ValueError(f"at most {MAX_TOPIC_POSITIONS} topic positions")
    topics: list[tuple[bytes, ...] | None] = []
    for position in raw_topics:
        if position is None:
            topics.append(None)
        elif isinstance(position, str):
            topics.append((parse_hash(position),))
        elif isinstance(position, list):
            if len(position) > MAX_TOPIC_ALTERNATIVES:
                raise ValueError(f"at most {MAX_TOPIC_ALTERNATIVES} alternatives per topic")
            alternatives = tuple(parse_hash(topic) for topic in position if topic is not None)
            topics.append(alternatives if alternatives and None not in position else None)
        else:
            raise ValueError("each topic must be null, a hash or an array of hashes")
    return LogFilter(
        from_block=_block(value.get("fromBlock")),
        to_block=_block(value.get("toBlock")),
        block_hash=parse_hash(block_hash) if block_hash is not None else None,
        addresses=addresses,
        topics=tuple(topics),
    )


def _block(value: Any) -> BlockId | None:
    return None if value is None else parse_block_id(value, allow_hash=False)


def resolve_range(store: ChainStore, query: LogFilter) -> tuple[int, int]:
    """The block numbers a range query covers, checked and clamped to the head."""
    head = store.head.block_number
    first = _number(store, query.from_block, head)
    last = _number(store, query.to_block, head)
    if first > last:
        raise invalid_input("invalid block range params: fromBlock is after toBlock")
    return first, min(last, head)


def _number(store: ChainStore, block: BlockId | None, head: int) -> int:
    if block is None:
        return head
    header = resolve_header(store, block)
    if header is not None:
        return int(header.block_number)
    return block.number if block.number is not None else head


def query_logs(store: ChainStore, query: LogFilter, first: int, last: int) -> list[dict[str, Any]]:
    """All logs matching `query` in blocks `first..last` (already clamped)."""
    if last - first + 1 > MAX_BLOCK_RANGE:
        raise RpcError(
            LIMIT_EXCEEDED,
            f"block range of {last - first + 1} blocks is larger than the limit of "
            f"{MAX_BLOCK_RANGE}; query a smaller range",
        )
    topic_keys = next((wanted for wanted in query.topics if wanted), ())
    results: list[dict[str, Any]] = []
    for number in store.find_log_blocks(first, last, query.addresses, topic_keys):
        header = store.get_header(number)
        if header is None or not query.could_match_bloom(header.bloom):
            continue
        results.extend(block_logs(store, header, query))
        if len(results) > MAX_LOGS:
            raise RpcError(
                LIMIT_EXCEEDED,
                f"query returned more than {MAX_LOGS} results; query a smaller range",
            )
    return results


def block_logs(store: ChainStore, header: BlockHeaderAPI, query: LogFilter) -> list[dict[str, Any]]:
    """The logs of one block that match `query`."""
    receipts = store.get_receipts(header)
    if not receipts:
        return []
    # Only the hashes of the transactions, and only once a log matches: the index names every
    # block holding a log of the address or topic, and most of their transactions emit none.
    hashes: Sequence[bytes] | None = None
    found = []
    log_index = 0
    for tx_index, receipt in enumerate(receipts):
        for log in receipt.logs:
            if query.matches(log):
                if hashes is None:
                    hashes = store.get_transaction_hashes(header)
                found.append(format_log(log, header, hashes[tx_index], tx_index, log_index))
            log_index += 1
    return found


@methods.method("eth_getLogs", params=(Param("filter", parse_log_filter),))
async def get_logs(ctx: RequestContext, query: LogFilter) -> list[dict[str, Any]]:
    store = ctx.api.store
    if query.block_hash is not None:
        header = store.get_header_by_hash(query.block_hash)
        if header is None:
            raise invalid_input("unknown block")
        return await offload(block_logs, store, header, query)
    first, last = resolve_range(store, query)
    return await offload(query_logs, store, query, first, last)


__all__ = ["LogFilter", "block_logs", "parse_log_filter", "query_logs"]
