"""Benchmark of a real `openledger dev` node, each number next to a reference from the same run.

    .venv/bin/python bench/dev_node.py [--transfers N] [--senders K] [--clients C] [--seconds T]
                                       [--json OUT]

1. Transfers end to end: N EIP-1559 transfers from K dev accounts, signed before the clock
   starts, sent with `eth_sendRawTransaction` by K concurrent clients (one per sender, in nonce
   order); the clock runs from the first submission until the head holds the last one. Every
   receipt is then checked (status 1); a lost or failed transfer makes the run fail.
   Reference: the same transactions, in the same blocks, executed in-process with
   `BlockBuilder` on a fresh `ChainStore`.
2. Reads: C concurrent clients for T seconds each of `eth_blockNumber`, then of `eth_call` to a
   contract whose view returns 42 (every answer is checked). Reference: a bare aiohttp server
   answering a fixed JSON-RPC response (`bench/bare_server.py`), hammered by the same code.

This is a benchmark, not a test: it asserts nothing about speed. It exits non-zero only when it
could not measure honestly (a transfer lost or failed, a read answered wrongly). The client and
the node share the machine's cores; README.md says how to read the numbers.
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from machine import describe_machine
from processes import (
    ServerProcess,
    compute_machine_busy_seconds,
    start_bare_server,
    start_dev_node,
)
from report import Parameters, Report, TransferCheck, compute_json, format_report
from rpc_load import (
    BenchmarkError,
    ReadResult,
    SubmitResult,
    call,
    encode_request,
    make_session,
    measure_reads,
    submit_transfers,
)
from transfers import (
    SignedTransfer,
    measure_execution,
    sign_deployment,
    sign_transfers,
)

from openledger.genesis.dev import derive_dev_keys
from openledger.genesis.types import ChainId, Hash32

CHAIN_ID = ChainId(1337)
RUNTIME_CODE = bytes.fromhex("602a60005260206000f3")
"""PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN: every call returns 42."""
INIT_CODE = bytes.fromhex("69" + RUNTIME_CODE.hex() + "600052600a6016f3")
"""PUSH10 runtime, PUSH1 0, MSTORE, then RETURN the 10 bytes at offset 22."""
ANSWER = "0x" + (42).to_bytes(32, "big").hex()
RECEIPT_BATCH = 250
"""Receipts asked for per JSON-RPC batch when checking the transfers (not timed)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the report; return 0 unless it could not measure honestly."""
    parameters, json_path = parse_arguments(argv)
    machine = describe_machine()
    print(f"machine:    {machine.describe()}")
    print(
        f"parameters: transfers={parameters.transfers} senders={parameters.senders} "
        f"clients={parameters.clients} seconds={parameters.seconds:g}",
    )
    background = measure_background_cores()
    print(
        f"background: {background:.2f} cores busy before the start"
        + (
            " (the machine is not quiet: numbers will be low and noisy)" if background > 0.2 else ""
        ),
        flush=True,
    )
    keys = derive_dev_keys(parameters.senders + 1)
    batches = sign_transfers(keys[: parameters.senders], parameters.transfers, CHAIN_ID)
    deployment = sign_deployment(keys[parameters.senders], INIT_CODE, CHAIN_ID)

    with tempfile.TemporaryDirectory(prefix="openledger-bench-") as directory:
        workdir = Path(directory)
        node = start_dev_node(
            workdir / "datadir", workdir / "node.log", accounts=max(10, parameters.senders + 1)
        )
        try:
            transfers, check, reads = asyncio.run(
                measure_node(node, parameters, batches, deployment)
            )
        except BaseException:
            node.stop()
            print(f"node log ({node.log_path}):\n{node.log_path.read_text()[-4000:]}")
            raise
        node_exit_status = node.stop()

        bare_server = start_bare_server(workdir / "bare.log")
        try:
            bare = asyncio.run(measure_bare(bare_server, parameters))
        finally:
            bare_server.stop()

    execution = measure_execution(check.blocks, [key.address for key in keys], CHAIN_ID)
    report = Report(
        machine, parameters, background, transfers, check, execution, reads, bare, node_exit_status
    )
    print(format_report(report))
    if json_path is not None:
        json_path.write_text(json.dumps(compute_json(report), indent=2) + "\n")
        print(f"wrote {json_path}")
    return 0 if report.ok else 1


def parse_arguments(argv: Sequence[str] | None) -> tuple[Parameters, Path | None]:
    """The run's parameters and the JSON output path."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--transfers",
        type=_positive_int,
        default=2000,
        metavar="N",
        help="transfers sent end to end (default 2000)",
    )
    parser.add_argument(
        "--senders",
        type=_positive_int,
        default=8,
        metavar="K",
        help="dev accounts sending them, one client each (default 8)",
    )
    parser.add_argument(
        "--clients",
        type=_positive_int,
        default=16,
        metavar="C",
        help="concurrent clients for the reads (default 16)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=5.0,
        metavar="T",
        help="duration of each read measurement (default 5)",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every number here")
    args = parser.parse_args(argv)
    if args.senders > 999:
        parser.error("--senders: at most 999 (the node funds at most 1000 dev accounts)")
    if args.transfers < args.senders:
        parser.error("--transfers: at least one per sender")
    if not 0 < args.seconds <= 600:
        parser.error("--seconds: between 0 and 600")
    return Parameters(args.transfers, args.senders, args.clients, args.seconds), args.json


def measure_background_cores(seconds: float = 1.0) -> float:
    """Cores the rest of the machine keeps busy while this process sleeps."""
    before = compute_machine_busy_seconds()
    time.sleep(seconds)
    return (compute_machine_busy_seconds() - before) / seconds


async def measure_node(
    node: ServerProcess,
    parameters: Parameters,
    batches: Sequence[Sequence[SignedTransfer]],
    deployment: SignedTransfer,
) -> tuple[SubmitResult, TransferCheck, tuple[ReadResult, ...]]:
    """Deploy the view contract, send the transfers and check them, then measure the reads."""
    async with make_session(max(parameters.clients, parameters.senders + 1)) as session:
        contract = await deploy_contract(session, node.url, deployment)
        transfers = await submit_transfers(session, node.url, batches, node.pid)
        check = await check_transfers(session, node.url, batches)
        block_number = await measure_reads(
            session,
            node.url,
            encode_request("eth_blockNumber", []),
            b'"result"',
            label="eth_blockNumber",
            clients=parameters.clients,
            seconds=parameters.seconds,
            server_pid=node.pid,
        )
        call_body = encode_request("eth_call", [{"to": contract, "data": "0x"}, "latest"])
        eth_call = await measure_reads(
            session,
            node.url,
            call_body,
            f'"{ANSWER}"'.encode(),
            label="eth_call",
            clients=parameters.clients,
            seconds=parameters.seconds,
            server_pid=node.pid,
        )
    return transfers, check, (block_number, eth_call)


async def measure_bare(server: ServerProcess, parameters: Parameters) -> ReadResult:
    """The read reference: the same client code against the bare aiohttp server."""
    async with make_session(parameters.clients) as session:
        return await measure_reads(
            session,
            server.url,
            encode_request("eth_blockNumber", []),
            b'"result"',
            label="bare aiohttp",
            clients=parameters.clients,
            seconds=parameters.seconds,
            server_pid=server.pid,
        )


async def deploy_contract(
    session: aiohttp.ClientSession, url: str, deployment: SignedTransfer
) -> str:
    """Deploy the view contract, wait for its receipt, and check a call returns 42."""
    await call(session, url, "eth_sendRawTransaction", "0x" + deployment.raw.hex())
    receipt = None
    for _ in range(600):
        receipt = await call(
            session, url, "eth_getTransactionReceipt", "0x" + deployment.hash.hex()
        )
        if receipt is not None:
            break
        await asyncio.sleep(0.05)
    if receipt is None or receipt["status"] != "0x1":
        raise BenchmarkError(f"the view contract was not deployed: receipt {receipt}")
    address = str(receipt["contractAddress"])
    answer = await call(session, url, "eth_call", {"to": address, "data": "0x"}, "latest")
    if answer != ANSWER:
        raise BenchmarkError(f"the view contract answered {answer}, not 42")
    return address


async def check_transfers(
    session: aiohttp.ClientSession, url: str, batches: Sequence[Sequence[SignedTransfer]]
) -> TransferCheck:
    """Fetch every transfer's receipt; count the missing and the failed; recover the blocks."""
    transfers = {transfer.hash: transfer for batch in batches for transfer in batch}
    hashes = list(transfers)
    receipts: list[Any] = []
    for first in range(0, len(hashes), RECEIPT_BATCH):
        chunk = hashes[first : first + RECEIPT_BATCH]
        body = json.dumps(
            [
                {"jsonrpc": "2.0", "id": index, "method": "eth_getTransactionReceipt",
                 "params": ["0x" + tx_hash.hex()]}
                for index, tx_hash in enumerate(chunk)
            ]
        ).encode()  # fmt: skip
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            answers = sorted(await r.json(content_type=None), key=lambda answer: answer["id"])
        receipts += [answer.get("result") for answer in answers]
    found = [receipt for receipt in receipts if receipt is not None]
    placed: dict[int, list[tuple[int, bytes]]] = {}
    for receipt in found:
        raw = transfers[Hash32(bytes.fromhex(receipt["transactionHash"][2:]))].raw
        placed.setdefault(int(receipt["blockNumber"], 16), []).append(
            (int(receipt["transactionIndex"], 16), raw)
        )
    blocks = tuple(tuple(raw for _, raw in sorted(placed[number])) for number in sorted(placed))
    return TransferCheck(
        receipts=len(found),
        failed=sum(1 for receipt in found if receipt["status"] != "0x1"),
        block_sizes=tuple(len(block) for block in blocks),
        blocks=blocks,
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


if __name__ == "__main__":
    sys.exit(main())
