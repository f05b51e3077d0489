"""Side-by-side benchmark: `openledger dev`, `hardhat node` and `anvil` under the same load.

    .venv/bin/python bench/compare.py [--sequential N] [--seconds T] [--nodes NAMES] [--json OUT]

Each node is started twice, one after another in one run, with the same parameters
(`compare_nodes.py`): chain id 1337, the dev mnemonic's accounts, gas limit 1e9. With automine:
a view contract is deployed, then

1. **sequential**: N transfers from one account, each sent with `eth_sendRawTransaction` and its
   receipt then awaited (asked for at once, then every 2 ms), as a test suite does;
2. **eth_call** of the view (it returns 42) and 3. **eth_blockNumber**: 8 concurrent keep-alive
   clients for T seconds each (`rpc_load.measure_reads`; every answer is checked).

Then with a block every second: 4. **bulk**: 3,000 pre-signed EIP-1559 transfers from 100
senders (30 each), sent in JSON-RPC batches of 100 (batch k holds every sender's nonce k), each
batch sent when the previous one is answered; **admission** is 3,000 ÷ the time until the last
batch is answered, **bulk** 3,000 ÷ the time until the last receipt. Every receipt is checked
afterwards (status 1). A benchmark, not a test: it exits non-zero only when it could not measure
honestly (a refused transaction, a missing or failed receipt, a wrong answer).
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
from compare_nodes import CHAIN_ID, NODES, NodeKind, describe_versions, ensure_references
from dev_node import ANSWER, INIT_CODE, check_transfers, deploy_contract
from machine import describe_machine
from rpc_load import HEADERS, BenchmarkError, CpuWindow, call, encode_request, make_session
from rpc_load import measure_reads as measure_rpc_reads
from transfers import SignedTransfer, sign_deployment, sign_transfers

from openledger.genesis.dev import derive_dev_keys

BULK_SENDERS = 100
BULK_PER_SENDER = 30
BATCH = BULK_SENDERS
READ_CLIENTS = 8
RECEIPT_POLL_SECONDS = 0.002
BULK_POLL_SECONDS = 0.02
WAIT_SECONDS = 60.0
"""Longest wait for one receipt (sequential) or for the last one (bulk)."""

FIGURES = (
    ("sequential", "sequential transfers, sent then receipt awaited, automine (tx/s)"),
    ("bulk", "bulk transfers until the last receipt (tx/s)"),
    ("admission", "admission: eth_sendRawTransaction accepted (tx/s)"),
    ("eth_call", "eth_call of a view function (req/s)"),
    ("eth_blockNumber", "eth_blockNumber (req/s)"),
)


@dataclass(frozen=True, slots=True)
class NodeFigures:
    """Every figure of one node, and the CPU it used for the transfers."""

    sequential: float
    bulk: float
    admission: float
    eth_call: float
    eth_blockNumber: float  # noqa: N815 (the JSON-RPC method's name)
    sequential_cpu_ms: float
    """Node CPU per sequential transfer."""
    bulk_cpu_ms: float
    """Node CPU per bulk transfer, from the first batch to the last receipt."""
    others_cores: float
    """Cores busy in other processes, mean over the measured windows (noise)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run every node through the load; print the table; 0 unless a run was not honest."""
    args = parse_arguments(argv)
    ensure_references()
    print(f"machine:    {describe_machine().describe()}")
    print(f"references: {describe_versions()}")
    print(
        f"parameters: sequential={args.sequential} bulk={BULK_SENDERS}x{BULK_PER_SENDER} "
        f"batch={BATCH} clients={READ_CLIENTS} seconds={args.seconds:g}",
        flush=True,
    )
    keys = derive_dev_keys(2 + BULK_SENDERS)
    deployment = sign_deployment(keys[0], INIT_CODE, CHAIN_ID)
    sequential = sign_transfers(keys[1:2], args.sequential, CHAIN_ID)[0]
    bulk = sign_transfers(keys[2:], BULK_SENDERS * BULK_PER_SENDER, CHAIN_ID)
    batches = [
        [sender[nonce] for sender in bulk][first : first + BATCH]
        for nonce in range(BULK_PER_SENDER)
        for first in range(0, BULK_SENDERS, BATCH)
    ]
    results: dict[str, NodeFigures] = {}
    for kind in NODES:
        if kind.name in args.nodes:
            print(f"measuring {kind.name} ...", flush=True)
            results[kind.name] = measure_node(
                kind, args.seconds, deployment, sequential, bulk, batches
            )
    print(format_table(results))
    if args.json is not None:
        args.json.write_text(json.dumps({n: asdict(f) for n, f in results.items()}, indent=2))
    return 0


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequential", type=int, default=300, metavar="N",
                        help="sequential transfers (default 300)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=5.0, metavar="T",
                        help="duration of each read measurement (default 5)")  # fmt: skip
    parser.add_argument("--nodes", type=lambda text: text.split(","),
                        default=[kind.name for kind in NODES],
                        help="comma-separated node names (default: all three)")  # fmt: skip
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.sequential <= 10_000:
        parser.error("--sequential: between 1 and 10000")
    if not 0 < args.seconds <= 60:
        parser.error("--seconds: between 0 and 60")
    return args


def measure_node(
    kind: NodeKind,
    seconds: float,
    deployment: SignedTransfer,
    sequential: Sequence[SignedTransfer],
    bulk: Sequence[Sequence[SignedTransfer]],
    batches: Sequence[Sequence[SignedTransfer]],
) -> NodeFigures:
    """Both starts of one node (automine, then 1 s blocks) and every figure."""
    with tempfile.TemporaryDirectory(prefix="openledger-compare-") as directory:
        automine = _run(kind, Path(directory) / "automine", 0.0,
                        lambda s, url, pid: measure_automine(s, url, pid, seconds, deployment, sequential))  # fmt: skip
        timed = _run(kind, Path(directory) / "timed", 1.0,
                     lambda s, url, pid: measure_bulk(s, url, pid, bulk, batches))  # fmt: skip
    (seq_rate, seq_cpu, call_rate, number_rate, others_a), (bulk_rate, admission, bulk_cpu, others_b) = automine, timed  # fmt: skip
    return NodeFigures(seq_rate, bulk_rate, admission, call_rate, number_rate, seq_cpu, bulk_cpu,
                       (others_a + others_b) / 2)  # fmt: skip


def _run(kind: NodeKind, workdir: Path, block_time: float, load):  # type: ignore[no-untyped-def]
    workdir.mkdir(parents=True)
    server = kind.start(workdir, block_time)
    try:

        async def go():  # type: ignore[no-untyped-def]
            async with make_session(max(READ_CLIENTS, 4)) as session:
                return await load(session, server.url, server.pid)

        return asyncio.run(go())
    except BaseException:
        print(f"{kind.name} log ({server.log_path}):\n{server.log_path.read_text()[-3000:]}")
        raise
    finally:
        server.stop()


async def measure_automine(
    session: aiohttp.ClientSession,
    url: str,
    pid: int,
    seconds: float,
    deployment: SignedTransfer,
    transfers: Sequence[SignedTransfer],
) -> tuple[float, float, float, float, float]:
    """Sequential transfers, then the two reads: (tx/s, CPU ms/tx, calls/s, blockNumber/s, others)."""
    contract = await deploy_contract(session, url, deployment)
    cpu = CpuWindow(pid)
    started = time.perf_counter()
    for transfer in transfers:
        await call(session, url, "eth_sendRawTransaction", "0x" + transfer.raw.hex())
        receipt = await _await_receipt(session, url, transfer)
        if receipt["status"] != "0x1":
            raise BenchmarkError(f"sequential transfer failed: {receipt}")
    elapsed = time.perf_counter() - started
    cores = cpu.compute_cores(elapsed)
    reads = []
    for label, body, expected in (
        ("eth_call", encode_request("eth_call", [{"to": contract, "data": "0x"}, "latest"]),
         f'"{ANSWER}"'.encode()),
        ("eth_blockNumber", encode_request("eth_blockNumber", []), b'"result"'),
    ):  # fmt: skip
        result = await measure_rpc_reads(
            session, url, body, expected, label=label, clients=READ_CLIENTS, seconds=seconds,
            server_pid=pid,
        )  # fmt: skip
        if result.errors:
            raise BenchmarkError(f"{label}: {result.errors} wrong answers")
        reads.append(result)
    others = (cores.others + sum(r.cores.others for r in reads)) / 3
    return (len(transfers) / elapsed, cores.server * elapsed / len(transfers) * 1000,
            reads[0].rps, reads[1].rps, others)  # fmt: skip


async def _await_receipt(
    session: aiohttp.ClientSession, url: str, transfer: SignedTransfer
) -> dict[str, str]:
    deadline = time.perf_counter() + WAIT_SECONDS
    while time.perf_counter() < deadline:
        receipt = await call(session, url, "eth_getTransactionReceipt", "0x" + transfer.hash.hex())
        if receipt is not None:
            return dict(receipt)
        await asyncio.sleep(RECEIPT_POLL_SECONDS)
    raise BenchmarkError(f"no receipt for {transfer.hash.hex()} within {WAIT_SECONDS:g} s")


async def measure_bulk(
    session: aiohttp.ClientSession,
    url: str,
    pid: int,
    bulk: Sequence[Sequence[SignedTransfer]],
    batches: Sequence[Sequence[SignedTransfer]],
) -> tuple[float, float, float, float]:
    """The batches, then the wait for the last receipts: (tx/s, admitted/s, CPU ms/tx, others)."""
    bodies = [
        json.dumps([{"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                     "params": ["0x" + t.raw.hex()]} for i, t in enumerate(batch)]).encode()
        for batch in batches
    ]  # fmt: skip
    count = sum(len(batch) for batch in batches)
    cpu = CpuWindow(pid)
    started = time.perf_counter()
    for body in bodies:
        async with session.post(url, data=body, headers=HEADERS) as response:
            answers = await response.json(content_type=None)
        refused = [answer for answer in answers if "result" not in answer]
        if refused:
            raise BenchmarkError(f"bulk: {len(refused)} refused, first {refused[0]}")
    admitted = time.perf_counter()
    last = ["0x" + sender[-1].hash.hex() for sender in bulk]
    while last and time.perf_counter() < admitted + WAIT_SECONDS:
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt",
                            "params": [h]} for i, h in enumerate(last)]).encode()  # fmt: skip
        async with session.post(url, data=body, headers=HEADERS) as response:
            answers = await response.json(content_type=None)
        found = {last[a["id"]] for a in answers if a.get("result") is not None}
        last = [h for h in last if h not in found]
        if last:
            await asyncio.sleep(BULK_POLL_SECONDS)
    finished = time.perf_counter()
    if last:
        raise BenchmarkError(f"bulk: {len(last)} senders' last receipts missing")
    cores = cpu.compute_cores(finished - started)
    check = await check_transfers(session, url, bulk)
    if check.receipts != count or check.failed:
        raise BenchmarkError(f"bulk: {check.receipts} receipts of {count}, {check.failed} failed")
    return (count / (finished - started), count / (admitted - started),
            cores.server * (finished - started) / count * 1000, cores.others)  # fmt: skip


def format_table(results: dict[str, NodeFigures]) -> str:
    """The issue's table: every figure for every node, and our ratio to each reference."""
    names = list(results)
    ours = results.get("openledger")
    others = [name for name in names if name != "openledger"]
    header = ["figure", *names] + ([f"openledger / {name}" for name in others] if ours else [])
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " --: |" * (len(header) - 1)]
    for attribute, label in FIGURES:
        values = [getattr(results[name], attribute) for name in names]
        row = [label, *(f"{value:,.0f}" for value in values)]
        if ours is not None:
            mine = getattr(ours, attribute)
            row += [f"{mine / getattr(results[name], attribute):.2f}" for name in others]
        lines.append("| " + " | ".join(row) + " |")
    for attribute, label in (("sequential_cpu_ms", "node CPU per sequential transfer (ms)"),
                             ("bulk_cpu_ms", "node CPU per bulk transfer (ms)"),
                             ("others_cores", "other processes (cores busy, mean)")):  # fmt: skip
        row = [label, *(f"{getattr(results[name], attribute):.2f}" for name in names)]
        lines.append("| " + " | ".join(row + [""] * (len(header) - len(row))) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
