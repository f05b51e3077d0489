"""The invariants the soak checks at the end, on every node of the devnet.

- the same block hash and state root at every height on every node (`compare_chains`);
- every transaction that got a receipt during the run has it, in the same block, on every node
  (`count_lost_receipts`);
- the contract's logs that `eth_getLogs` returns, and those the `logs` subscription sent, are
  those of the receipted contract calls (`compare_logs`);
- no node saw a validator sign two votes for one height, round and kind (`count_double_signs`,
  from the warning every node logs when it sees one, which is also when evidence is submitted).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from soak_load import Receipted, call_batch

BATCH = 100
"""Requests per JSON-RPC batch."""
LOG_RANGE = 5_000
"""Blocks per `eth_getLogs` (below the node's limit of 10,000)."""
DOUBLE_SIGN = re.compile(r"signed two \w+ votes")
ERROR_LINE = re.compile(r"\bERROR\b|Traceback")


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """The chains compared, height 0 to `last`."""

    last: int
    disagreements: tuple[int, ...]
    """Heights where the nodes' (hash, state root) differ or a node has no block."""


async def compare_chains(
    session: aiohttp.ClientSession, urls: Mapping[str, str], last: int
) -> ChainCheck:
    """(hash, stateRoot) of every height 0..last on every node."""
    seen: dict[int, set[tuple[str, str] | None]] = {height: set() for height in range(last + 1)}
    for url in urls.values():
        for start in range(0, last + 1, BATCH):
            heights = range(start, min(last + 1, start + BATCH))
            blocks = await call_batch(
                session, url, [("eth_getBlockByNumber", [hex(h), False]) for h in heights]
            )
            for height, block in zip(heights, blocks, strict=True):
                seen[height].add(None if block is None else (block["hash"], block["stateRoot"]))
    return ChainCheck(
        last=last,
        disagreements=tuple(h for h, found in seen.items() if len(found) != 1 or None in found),
    )


async def count_lost_receipts(
    session: aiohttp.ClientSession, urls: Mapping[str, str], receipted: Mapping[str, Receipted]
) -> dict[str, int]:
    """Per node, the receipted transactions it has no receipt for, or one in another block."""
    hashes = list(receipted)
    lost = {}
    for name, url in urls.items():
        missing = 0
        for start in range(0, len(hashes), BATCH):
            chunk = hashes[start : start + BATCH]
            found = await call_batch(
                session, url, [("eth_getTransactionReceipt", [tx_hash]) for tx_hash in chunk]
            )
            for tx_hash, receipt in zip(chunk, found, strict=True):
                missing += receipt is None or receipt["blockHash"] != receipted[tx_hash].block_hash
        lost[name] = missing
    return lost


@dataclass(frozen=True, slots=True)
class LogsCheck:
    """The contract's logs: expected from receipts, found by `eth_getLogs` and by subscription."""

    expected: int
    """Receipted contract calls with status 1 (each emits one log)."""
    get_logs_missing: int
    get_logs_unexpected: int
    subscription_missing: int
    subscription_unexpected: int
    subscription_removed: int

    @property
    def ok(self) -> bool:
        """Both ways of reading logs saw exactly the receipted calls."""
        return not (
            self.get_logs_missing
            or self.get_logs_unexpected
            or self.subscription_missing
            or self.subscription_unexpected
            or self.subscription_removed
        )


async def compare_logs(
    session: aiohttp.ClientSession,
    url: str,
    contract: str,
    receipted: Mapping[str, Receipted],
    subscribed: Sequence[str],
    removed: int,
    last: int,
) -> LogsCheck:
    """The contract's logs from block 0 to `last` against its receipted calls."""
    expected = {
        tx_hash for tx_hash, r in receipted.items() if r.kind == "contract" and r.status == 1
    }
    found: set[str] = set()
    for start in range(0, last + 1, LOG_RANGE):
        window = {"fromBlock": hex(start), "toBlock": hex(min(last, start + LOG_RANGE - 1))}
        (logs,) = await call_batch(
            session, url, [("eth_getLogs", [{**window, "address": contract}])]
        )
        found.update(entry["transactionHash"] for entry in logs)
    notified = set(subscribed)
    return LogsCheck(
        expected=len(expected),
        get_logs_missing=len(expected - found),
        get_logs_unexpected=len(found - expected),
        subscription_missing=len(expected - notified),
        subscription_unexpected=len(notified - expected),
        subscription_removed=removed,
    )


@dataclass(frozen=True, slots=True)
class LogScan:
    """What one node's log file says."""

    double_signs: int
    """Lines reporting a validator that signed two votes."""
    error_lines: int
    """Lines with ERROR or a traceback (reported, not an invariant: a killed peer is logged)."""


def scan_logs(paths: Mapping[str, Path]) -> dict[str, LogScan]:
    """Each node's log, from the start of the run."""
    scans = {}
    for name, path in paths.items():
        text = path.read_text(errors="replace") if path.exists() else ""
        scans[name] = LogScan(
            double_signs=len(DOUBLE_SIGN.findall(text)), error_lines=len(ERROR_LINE.findall(text))
        )
    return scans


async def read_heads(session: aiohttp.ClientSession, urls: Mapping[str, str]) -> dict[str, int]:
    """Each node's head."""
    heads = {}
    for name, url in urls.items():
        (head,) = await call_batch(session, url, [("eth_blockNumber", [])])
        heads[name] = int(head, 16)
    return heads
