"""The dev node's figures that grow with the chain: a data directory of many blocks, restarted.

    .venv/bin/python bench/growth.py [--blocks B] [--per-block K] [--checkpoints N] [--json OUT]

The data directory is built in-process through the dev node's own build path, as fast as it
goes: the dev genesis (gas limit 1e9) written as `openledger dev` writes it, then blocks made by
`BlockBuilder` from the template `make_template` gives, sealed by the dev `SoloSealer` and
committed by `ChainStore.commit`, exactly as `DevProducer` makes them, only without the RPC and
the pool. Every block holds K pre-signed transactions: EIP-1559 transfers from 100 senders, and
every tenth block one call of a contract (deployed in block 1) that emits a log with topic
`TOPIC`. At each of N checkpoints (evenly spaced) the store is closed and a real
`openledger dev --datadir` process is started on it, and the run prints:

- restart time (process start until it answers JSON-RPC) and its resident memory (VmRSS) then;
- `eth_getLogs` by the contract's address and by `TOPIC` over the last 10,000 blocks (the node's
  `MAX_BLOCK_RANGE`) and over the whole chain in windows of 10,000: median of 5, every answer
  checked for the expected number of logs;
- bytes on disk (the data directory) per transaction and per block.

A benchmark, not a test; it exits non-zero only when an answer is wrong.
"""

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from compare_nodes import ACCOUNTS, CHAIN_ID, GAS_LIMIT
from eth._utils.address import generate_contract_address
from machine import describe_machine
from processes import start_dev_node
from rpc_load import BenchmarkError, call, make_session
from transfers import sign_deployment, sign_message, sign_transfers

from openledger.genesis.dev import derive_dev_keys
from openledger.genesis.load import write_genesis
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.node.dev import prepare_dev_chain
from openledger.node.sealing import SoloSealer, make_template
from openledger.state.execute import BlockBuilder, Chain
from openledger.state.fork import BlockInputs
from openledger.state.store import ChainStore
from openledger.state.transactions import decode_transaction

TOPIC = "0x" + "ab" * 32
EMITTER_RUNTIME = bytes.fromhex("7f" + "ab" * 32 + "60006000a1" + "00")
"""PUSH32 TOPIC, PUSH1 0, PUSH1 0, LOG1, STOP."""
LOG_EVERY = 10
SENDERS = 100
WINDOW = 10_000
QUERIES = 5


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blocks", type=int, default=10_000, metavar="B")
    parser.add_argument("--per-block", type=int, default=10, metavar="K")
    parser.add_argument("--checkpoints", type=int, default=2, metavar="N")
    parser.add_argument("--json", type=Path, metavar="OUT")
    args = parser.parse_args(argv)
    if not 10 <= args.blocks <= 1_000_000 or not 1 <= args.per_block <= 10_000:
        parser.error("--blocks: 10 .. 1000000; --per-block: 1 .. 10000")
    print(f"machine:    {describe_machine().describe()}")
    print(f"parameters: blocks={args.blocks} per-block={args.per_block} "
          f"checkpoints={args.checkpoints}", flush=True)  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="openledger-growth-") as directory:
        datadir = Path(directory) / "datadir"
        builder = ChainBuilder(datadir, args.per_block, args.blocks)
        for checkpoint in range(1, args.checkpoints + 1):
            target = args.blocks * checkpoint // args.checkpoints
            built = builder.build_until(target)
            print(f"built {target} blocks, {builder.transactions} transactions "
                  f"({built:.0f} tx/s while building)", flush=True)  # fmt: skip
            builder.close()
            rows.append(measure(datadir, builder, Path(directory) / f"node{checkpoint}.log"))
            print(json.dumps(rows[-1]), flush=True)
            builder.reopen()
        builder.close()
    print(format_rows(rows))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


class ChainBuilder:
    """Grows a dev data directory block by block through the dev node's build path."""

    def __init__(self, datadir: Path, per_block: int, blocks: int) -> None:
        spec = prepare_dev_chain(datadir, CHAIN_ID, ACCOUNTS, 0.0)
        genesis = dataclasses.replace(spec.genesis, gas_limit=GAS_LIMIT)
        write_genesis(genesis, datadir / "genesis.json")
        self.datadir = datadir
        self.genesis = genesis
        self.vm_class = build_vm_class(genesis)
        self.chain = Chain(self.vm_class, CHAIN_ID)
        self.sealer = SoloSealer(spec.validator_key, CHAIN_ID)
        self.per_block = per_block
        keys = derive_dev_keys(2 + SENDERS)
        self.deployer, self.caller = keys[0], keys[1]
        self.emitter = generate_contract_address(self.deployer.address, 0)
        count = blocks * per_block
        print(f"signing {count} transactions ...", flush=True)
        batches = sign_transfers(keys[2:], count, CHAIN_ID)
        longest = max(len(batch) for batch in batches)
        self._stream = iter(
            [batch[n].raw for n in range(longest) for batch in batches if n < len(batch)]
        )
        self.transactions = 0
        self.logs = 0
        self.store = self._open()

    def _open(self) -> ChainStore:
        return ChainStore.open(
            self.datadir / "chaindata", build_genesis(self.genesis), self.vm_class
        )

    def close(self) -> None:
        self.head = self.store.head.block_number
        self.store.close()

    def reopen(self) -> None:
        self.store = self._open()

    def build_until(self, blocks: int) -> float:
        """Add blocks until the head is `blocks`; return transactions per second."""
        started, first = time.perf_counter(), self.transactions
        while self.store.head.block_number < blocks:
            self._add_block()
        return (self.transactions - first) / max(1e-9, time.perf_counter() - started)

    def _add_block(self) -> None:
        store = self.store
        parent = store.head
        number = parent.block_number + 1
        raws = self._block_transactions(number)
        template = make_template(
            store, self.sealer.address, parent.timestamp + 1, store.get_commit(parent.block_number)
        )
        builder = BlockBuilder(
            self.chain, store.db, parent, coinbase=template.proposer,
            timestamp=template.timestamp, extra_data=template.extra_data,
            mix_hash=template.mix_hash,
            inputs=BlockInputs(template.proposer, template.last_commit_signers),
        )  # fmt: skip
        for raw in raws:
            builder.add_transaction(decode_transaction(raw, self.vm_class))
        executed = builder.finish()
        failed = [receipt for receipt in executed.receipts if receipt.state_root != b"\x01"]
        if failed:
            raise BenchmarkError(f"block {number}: {len(failed)} transactions failed")
        store.commit(executed, self.sealer.seal(executed.block.header))
        self.transactions += len(raws)

    def _block_transactions(self, number: int) -> list[bytes]:
        """The emitter's deployment in block 1, a call of it every tenth block, transfers for
        the rest (nonce rounds of the senders)."""
        raws = []
        if number == 1:
            raws.append(sign_deployment(self.deployer, _init_code(EMITTER_RUNTIME), CHAIN_ID).raw)
        elif number % LOG_EVERY == 0:
            call = sign_message(self.caller, self.logs, self.emitter, b"", 30_000, CHAIN_ID)
            raws.append(call.raw)
            self.logs += 1
        raws += [
            raw for _, raw in zip(range(self.per_block - len(raws)), self._stream, strict=False)
        ]
        return raws


def _init_code(runtime: bytes) -> bytes:
    """Creation code returning `runtime` (CODECOPY it from after this prefix, then RETURN)."""
    size = len(runtime)
    prefix_size = 12
    prefix = bytes.fromhex(f"60{size:02x}60{prefix_size:02x}60003960{size:02x}6000f3")
    assert len(prefix) == prefix_size
    return prefix + runtime


def measure(datadir: Path, builder: ChainBuilder, log_path: Path) -> dict[str, float]:
    """Restart a real dev node on `datadir`; time it, read its RSS, query its logs."""
    size = sum(path.stat().st_size for path in datadir.rglob("*") if path.is_file())
    started = time.perf_counter()
    node = start_dev_node(datadir, log_path, accounts=ACCOUNTS, chain_id=CHAIN_ID)
    restart = time.perf_counter() - started
    try:
        rss = _rss_mib(node.pid)
        head = builder.head
        queries = asyncio.run(_query_logs(node.url, head, builder.emitter, builder.logs))
        rss_after = _rss_mib(node.pid)
    finally:
        status = node.stop()
    if status != 0:
        raise BenchmarkError(f"the node exited with {status}")
    return {
        "blocks": head,
        "transactions": builder.transactions,
        "logs": builder.logs,
        "restart_s": restart,
        "rss_mib": rss,
        "rss_after_queries_mib": rss_after,
        "disk_mib": size / 2**20,
        "bytes_per_transaction": size / builder.transactions,
        "bytes_per_block": size / head,
        **queries,
    }


async def _query_logs(url: str, head: int, emitter: bytes, logs: int) -> dict[str, float]:
    """Median times of the log queries; each answer's count is checked."""
    address = "0x" + emitter.hex()
    first_recent = max(1, head - WINDOW + 1)
    recent = sum(1 for n in range(first_recent, head + 1) if n % LOG_EVERY == 0 and n > 1)
    results: dict[str, float] = {}
    async with make_session(1) as session:
        for label, flt in (("address", {"address": address}), ("topic", {"topics": [TOPIC]})):
            times = []
            for _ in range(QUERIES):
                started = time.perf_counter()
                found = await call(session, url, "eth_getLogs",
                                   {**flt, "fromBlock": hex(first_recent), "toBlock": hex(head)})  # fmt: skip
                times.append(time.perf_counter() - started)
                if len(found) != recent:
                    raise BenchmarkError(f"eth_getLogs by {label}: {len(found)} logs, not {recent}")
            results[f"getlogs_{label}_last_{WINDOW}_ms"] = statistics.median(times) * 1000
            started, total = time.perf_counter(), 0
            for first in range(1, head + 1, WINDOW):
                last = min(head, first + WINDOW - 1)
                total += len(await call(session, url, "eth_getLogs",
                                        {**flt, "fromBlock": hex(first), "toBlock": hex(last)}))  # fmt: skip
            if total != logs:
                raise BenchmarkError(f"eth_getLogs by {label} over the chain: {total}, not {logs}")
            results[f"getlogs_{label}_whole_chain_ms"] = (time.perf_counter() - started) * 1000
    return results


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def format_rows(rows: Sequence[dict[str, float]]) -> str:
    """One column per checkpoint."""
    if not rows:
        return ""
    lines = ["| | " + " | ".join(f"checkpoint {i + 1}" for i in range(len(rows))) + " |",
             "| --- |" + " --: |" * len(rows)]  # fmt: skip
    for key in rows[0]:
        lines.append(f"| {key} | " + " | ".join(f"{row[key]:,.1f}" for row in rows) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
