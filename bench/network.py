"""Benchmark of a 4-validator network on loopback: block time, time to finality, throughput.

    .venv/bin/python bench/network.py [--blocks N] [--finality M] [--transfers T] [--senders K]
                                      [--block-time S] [--seed X] [--workdir DIR] [--json OUT]

A devnet of four validators and one RPC node (`openledger.node.devnet`: `init_devnet`, `up`,
`down`) runs on 127.0.0.1 ports below 32768. This process subscribes to `newHeads` over each
node's WebSocket and measures, in this order:

1. Block time: the interval between the RPC node's announcements of N consecutive heights of the
   idle network, next to the configured block time (the pause after each commit), and the share
   of those heights decided in round 0 (`ol_getCommit`).
2. Time to finality: M transfers submitted one at a time through the RPC node, after a random
   pause; from `eth_sendRawTransaction` to the first receipt on the RPC node, and on all four
   validators (a committed block is final: there is nothing more to wait for).
3. Throughput: T pre-signed transfers from K dev accounts, submitted as fast as the RPC node takes
   them (`rpc_load.submit_transfers`), until the head holds them all; every receipt must have
   status 1, and every node must hold the same block at the end.

The network is stopped, then the reference runs: the same T transfers through one
`openledger dev` node (it mines a block as soon as a transaction is pending, with no consensus).

This is a benchmark, not a test: it asserts nothing about speed. It exits non-zero only when it
could not measure honestly. All five nodes and the client share the machine's cores; README.md
says how to read the numbers.
"""

import argparse
import asyncio
import json
import random
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from dev_node import check_transfers, measure_background_cores
from machine import describe_machine
from network_probes import (
    HeadStream,
    ProcessesCpu,
    check_same_block,
    fetch_commit_rounds,
    measure_finality,
    wait_for_height,
)
from network_report import (
    BlockTimeResult,
    DevReference,
    FinalityResult,
    NetworkParameters,
    NetworkReport,
    ThroughputResult,
    compute_json,
    format_report,
)
from processes import start_dev_node
from report import TransferCheck
from rpc_load import SubmitResult, make_session, submit_transfers
from transfers import SignedTransfer, sign_transfers

from openledger.genesis.dev import derive_dev_keys
from openledger.node import devnet as devnet_lib
from openledger.node import devnet_processes

VALIDATORS = 4
FUNDED_DEV_ACCOUNTS = 10
"""The devnet genesis prefunds the first ten accounts of the development mnemonic."""
WARMUP_HEIGHT = 3
"""Heights the network makes before any measurement (the first ones include the nodes finding
each other and catching up)."""
STREAM_TIMEOUT_SECONDS = 30.0
"""How long a node may take to subscribe, or to reach a height it should reach by then."""
LOG_TAIL_LINES = 20
"""Lines of each node's log printed when the run fails."""
BLOCK_SECONDS_BOUND = 20.0
"""Per expected block, the longest wait for the idle network to make it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the report; return 0 unless it could not measure honestly."""
    args = parse_arguments(argv)
    machine = describe_machine()
    print(f"machine:    {machine.describe()}")
    background = measure_background_cores()
    print(
        f"background: {background:.2f} cores busy before the start"
        + (" (the machine is not quiet: numbers will be noisy)" if background > 0.2 else ""),
        flush=True,
    )
    keys = derive_dev_keys(args.senders + 1)
    batches = sign_transfers(keys[: args.senders], args.transfers, devnet_lib.DEVNET_CHAIN_ID)
    (finality_transfers,) = sign_transfers(
        keys[args.senders :], args.finality, devnet_lib.DEVNET_CHAIN_ID
    )

    with tempfile.TemporaryDirectory(prefix="openledger-bench-network-") as temporary:
        workdir = args.workdir or Path(temporary)
        devnet, parameters = create_devnet(workdir / "devnet", args)
        block_time, finality, throughput = run_network(
            devnet, parameters, batches, finality_transfers
        )
        print("network stopped; the dev node reference runs", flush=True)
        dev = run_dev_reference(workdir, batches)

    report = NetworkReport(machine, parameters, background, block_time, finality, throughput, dev)
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(compute_json(report), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if report.ok else 1


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The run's parameters."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--blocks",
        type=_positive_int,
        default=30,
        metavar="N",
        help="idle block intervals measured (default 30)",
    )
    parser.add_argument(
        "--finality",
        type=_positive_int,
        default=50,
        metavar="M",
        help="transfers sent one at a time (default 50)",
    )
    parser.add_argument(
        "--transfers",
        type=_positive_int,
        default=2000,
        metavar="T",
        help="transfers sent as fast as possible (default 2000)",
    )
    parser.add_argument(
        "--senders",
        type=_positive_int,
        default=8,
        metavar="K",
        help="dev accounts sending them, one client each (default 8, at most 9)",
    )
    parser.add_argument(
        "--block-time",
        type=float,
        default=1.0,
        metavar="S",
        help="the devnet's block time in seconds (default 1, as `devnet init`)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="X",
        help="seed of the pauses before the finality transfers (default 1)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        metavar="DIR",
        help="keep the devnet (logs, chains) here instead of a temporary directory",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write every number here")
    args = parser.parse_args(argv)  # fmt: skip
    if args.senders >= FUNDED_DEV_ACCOUNTS:
        parser.error(
            f"--senders: at most {FUNDED_DEV_ACCOUNTS - 1} (the devnet funds "
            f"{FUNDED_DEV_ACCOUNTS} dev accounts; one sends the finality transfers)"
        )
    if args.transfers < args.senders:
        parser.error("--transfers: at least one per sender")
    if not 0 < args.block_time <= 60:
        parser.error("--block-time: between 0 and 60 seconds")
    if args.workdir is not None and (args.workdir / "devnet").exists():
        parser.error(f"--workdir: {args.workdir / 'devnet'} exists already")
    return args


def create_devnet(
    directory: Path, args: argparse.Namespace
) -> tuple[devnet_lib.Devnet, NetworkParameters]:
    """`openledger devnet init` on free loopback ports below 32768; the run's parameters."""
    base = devnet_lib.find_free_port_base(2 * (VALIDATORS + 1))
    devnet = devnet_lib.init_devnet(
        directory, validators=VALIDATORS, rpc_nodes=1, light_kdf=True,
        block_time=args.block_time, p2p_base_port=base, rpc_base_port=base + VALIDATORS + 1,
    )  # fmt: skip
    genesis = json.loads((directory / "genesis.json").read_text())
    parameters = NetworkParameters(
        blocks=args.blocks,
        finality_transfers=args.finality,
        transfers=args.transfers,
        senders=args.senders,
        block_time_ms=int(genesis["openledger"]["consensus"]["blockTimeMs"]),
        seed=args.seed,
    )
    print(
        f"parameters: blocks={parameters.blocks} finality={parameters.finality_transfers} "
        f"transfers={parameters.transfers} senders={parameters.senders} "
        f"blockTimeMs={parameters.block_time_ms} seed={parameters.seed}; "
        f"{VALIDATORS} validators + 1 RPC node, 127.0.0.1 ports {base}.."
        f"{base + 2 * VALIDATORS + 1}",
        flush=True,
    )
    return devnet, parameters


def run_network(
    devnet: devnet_lib.Devnet,
    parameters: NetworkParameters,
    batches: Sequence[Sequence[SignedTransfer]],
    finality_transfers: Sequence[SignedTransfer],
) -> tuple[BlockTimeResult, FinalityResult, ThroughputResult]:
    """`devnet up`, the three measurements, and `devnet down` whatever happens."""
    try:
        devnet_processes.up(devnet)
        return asyncio.run(measure_network(devnet, parameters, batches, finality_transfers))
    except Exception:
        for node in devnet.nodes:
            log = devnet.directory / "logs" / f"{node.name}.log"
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                print(f"--- {log}, last lines:", *tail, sep="\n")
        raise
    finally:
        devnet_processes.down(devnet, timeout=20)


async def measure_network(
    devnet: devnet_lib.Devnet,
    parameters: NetworkParameters,
    batches: Sequence[Sequence[SignedTransfer]],
    finality_transfers: Sequence[SignedTransfer],
) -> tuple[BlockTimeResult, FinalityResult, ThroughputResult]:
    """The three measurements, on a running devnet."""
    streams = [HeadStream(node.name, f"http://127.0.0.1:{node.rpc_port}") for node in devnet.nodes]
    rpc = next(stream for stream in streams if stream.name == "rpc1")
    validators = [stream for stream in streams if stream is not rpc]
    pids = {
        node.name: int((devnet.directory / "logs" / f"{node.name}.pid").read_text())
        for node in devnet.nodes
    }
    streams_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
    async with streams_session, make_session(len(streams) + parameters.senders + 1) as session:
        tasks = [asyncio.create_task(stream.run(streams_session)) for stream in streams]
        try:
            for stream in streams:
                await stream.wait_subscribed(STREAM_TIMEOUT_SECONDS)
            await wait_for_height(rpc, max(WARMUP_HEIGHT, rpc.height + 1), STREAM_TIMEOUT_SECONDS)
            block_time = await measure_block_time(session, rpc, parameters, pids)
            print(f"block time: {len(block_time.intervals)} intervals measured", flush=True)
            cpu = ProcessesCpu(pids)
            samples = await measure_finality(
                session,
                rpc,
                validators,
                finality_transfers,
                max_delay=sum(block_time.intervals) / len(block_time.intervals),
                rng=random.Random(parameters.seed),
            )
            finality = FinalityResult(samples, cpu.compute_cores())
            print(f"finality: {len(samples)} transfers measured", flush=True)
            throughput = await measure_throughput(session, rpc, streams, batches, pids)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return block_time, finality, throughput


async def measure_block_time(
    session: aiohttp.ClientSession,
    rpc: HeadStream,
    parameters: NetworkParameters,
    pids: dict[str, int],
) -> BlockTimeResult:
    """Follow the idle network for `parameters.blocks` heights."""
    start = rpc.height
    cpu = ProcessesCpu(pids)
    await wait_for_height(rpc, start + parameters.blocks, BLOCK_SECONDS_BOUND * parameters.blocks)
    cores = cpu.compute_cores()
    last = start + parameters.blocks
    return BlockTimeResult(
        first_height=start + 1,
        intervals=rpc.compute_intervals(start + 1, last),
        rounds=await fetch_commit_rounds(session, rpc.url, start + 1, last),
        cores=cores,
    )


async def measure_throughput(
    session: aiohttp.ClientSession,
    rpc: HeadStream,
    streams: Sequence[HeadStream],
    batches: Sequence[Sequence[SignedTransfer]],
    pids: dict[str, int],
) -> ThroughputResult:
    """Send the transfers as fast as the RPC node takes them; check them on the RPC node."""
    cpu = ProcessesCpu(pids)
    submit = await submit_transfers(session, rpc.url, batches, list(pids.values()))
    cores = cpu.compute_cores()
    check = await check_transfers(session, rpc.url, batches)
    last = max(submit.last_block, submit.first_block)
    return ThroughputResult(
        submit=submit,
        check=check,
        intervals=rpc.compute_intervals(submit.first_block, last),
        rounds=await fetch_commit_rounds(session, rpc.url, submit.first_block, last),
        same_block_everywhere=await check_same_block(
            session, streams, last, STREAM_TIMEOUT_SECONDS
        ),
        cores=cores,
    )


def run_dev_reference(workdir: Path, batches: Sequence[Sequence[SignedTransfer]]) -> DevReference:
    """The same transfers through `openledger dev` with the devnet's chain id."""
    node = start_dev_node(
        workdir / "dev-datadir",
        workdir / "dev.log",
        accounts=FUNDED_DEV_ACCOUNTS,
        chain_id=devnet_lib.DEVNET_CHAIN_ID,
    )
    try:
        submit, check = asyncio.run(_send_to_dev(node.url, node.pid, batches))
    except BaseException:
        print(f"dev node log ({node.log_path}):\n{node.log_path.read_text()[-4000:]}")
        raise
    finally:
        exit_status = node.stop()
    return DevReference(submit, check, exit_status)


async def _send_to_dev(
    url: str, pid: int, batches: Sequence[Sequence[SignedTransfer]]
) -> tuple[SubmitResult, TransferCheck]:
    async with make_session(len(batches) + 1) as session:
        submit = await submit_transfers(session, url, batches, pid)
        return submit, await check_transfers(session, url, batches)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


if __name__ == "__main__":
    sys.exit(main())
