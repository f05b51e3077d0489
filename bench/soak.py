"""Soak benchmark: a devnet under mixed load for a long time, a validator restarted periodically.

    .venv/bin/python bench/soak.py [--minutes M] [--restart-every S] [--sample-every S]
                                   [--down-seconds S] [--bound S] [--gap-bound S] [--warmup S]
                                   [--tx-period S] [--signal alternate|term|kill]
                                   [--workdir DIR] [--json OUT]

A devnet of four validators and one RPC node (`openledger.node.devnet.init_devnet`,
`devnet_processes.up` and `down`, as `openledger devnet init/up/down`) runs on 127.0.0.1 for M minutes (default 30). Through
the RPC node (`soak_load`): transfers from three dev accounts, calls of a small contract that
emits a log, calls of the Datanets precompile (`createDatanet`, `contribute`), one each per
sender every `--tx-period` seconds; `eth_getLogs`, `eth_call` of a precompile view and
`eth_blockNumber` every second; a `logs` subscription for the contract and a `newHeads`
subscription on every node. Every S seconds (default 300) a validator, in turn, is stopped
(SIGKILL and SIGTERM alternately by default), kept down `--down-seconds`, and started again.
Every `--sample-every` seconds each node's RSS, open descriptors and data directory size are
sampled (`soak_faults`).

At the end (`soak_checks`): the same block hash and state root at every height on every node;
every receipted transaction still receipted, in the same block, on every node; the contract's
logs, by `eth_getLogs` and by subscription, exactly those of its receipted calls; no double sign
seen; and after every restart the validator signed a commit again within `--bound` seconds of
the signal (default 60) with no gap between heights at the RPC node above `--gap-bound` seconds
(default 20). `soak_report` says how "flat within 10%" is judged.

A benchmark: exit status 1 only when an invariant does not hold (or the load could not run).
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from machine import describe_machine
from network_probes import HeadStream, wait_for_height
from rpc_load import BenchmarkError, call, make_session
from soak_checks import compare_chains, compare_logs, count_lost_receipts, read_heads, scan_logs
from soak_faults import Restart, Sample, restart_validator, sample_nodes
from soak_load import (
    TICK_INIT,
    DatanetBodies,
    LogSubscription,
    ReadCounts,
    ReceiptBook,
    Sender,
    make_contract_body,
    make_transfer_body,
    read_loop,
    sign,
)
from soak_report import SoakReport, compute_json, format_report, summarise

from openledger.genesis.dev import derive_dev_keys
from openledger.node import devnet as devnet_lib
from openledger.node import devnet_processes

SETTLE_SECONDS = 120.0
"""After the load stops: the longest wait for the last receipts and for every node's head."""
LOG_TAIL_LINES = 20


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak; print the report; 0 when every invariant holds."""
    args = parse_arguments(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # so that `devnet down` runs in `finally`
    print(f"machine:    {describe_machine().describe()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="openledger-soak-") as temporary:
        workdir = args.workdir or Path(temporary)
        base = devnet_lib.find_free_port_base(10)
        devnet = devnet_lib.init_devnet(
            workdir / "devnet", validators=4, rpc_nodes=1, light_kdf=True,
            p2p_base_port=base, rpc_base_port=base + 5,
        )  # fmt: skip
        print(f"parameters: {vars(args)}; devnet in {devnet.directory}, ports {base}..{base + 9}")
        try:
            devnet_processes.up(devnet)
            report = asyncio.run(soak(devnet, args))
        except BaseException:
            for node in devnet.nodes:
                path = devnet.directory / "logs" / f"{node.name}.log"
                tail = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                print(f"--- {path}, last lines:", *tail, sep="\n")
            raise
        finally:
            devnet_processes.down(devnet, timeout=20)
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(compute_json(report), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if report.failures() else 0


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The run's parameters."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--minutes", type=_positive, default=30.0, help="length of the load (default 30)")
    add("--restart-every", type=_positive, default=300.0, metavar="S",
        help="seconds between validator restarts (default 300)")  # fmt: skip
    add("--sample-every", type=_positive, default=30.0, metavar="S",
        help="seconds between resource samples (default 30)")  # fmt: skip
    add("--down-seconds", type=float, default=5.0, metavar="S",
        help="how long a stopped validator stays down (default 5)")  # fmt: skip
    add("--bound", type=_positive, default=60.0, metavar="S",
        help="a restarted validator signs again within S seconds of the signal (default 60)")  # fmt: skip
    add("--gap-bound", type=_positive, default=20.0, metavar="S",
        help="longest allowed interval between heights around a restart (default 20)")  # fmt: skip
    add("--warmup", type=float, default=60.0, metavar="S",
        help="samples of a process younger than S seconds are not judged (default 60)")  # fmt: skip
    add("--tx-period", type=_positive, default=1.0, metavar="S",
        help="each of the five senders sends one transaction every S seconds (default 1)")  # fmt: skip
    add("--signal", choices=("alternate", "term", "kill"), default="alternate",
        help="how validators are stopped (default: SIGKILL, SIGTERM, SIGKILL, ...)")  # fmt: skip
    add("--workdir", type=Path, metavar="DIR", help="keep the devnet here (logs, chains)")
    add("--json", type=Path, metavar="OUT", help="also write every number here")
    args = parser.parse_args(argv)
    if args.workdir is not None and (args.workdir / "devnet").exists():
        parser.error(f"--workdir: {args.workdir / 'devnet'} exists already")
    if args.restart_every < args.bound:
        parser.error("--restart-every must be at least --bound (one restart at a time)")
    return args


async def soak(devnet: devnet_lib.Devnet, args: argparse.Namespace) -> SoakReport:
    """The load, the restarts and the samples for `args.minutes`; then the checks."""
    duration = args.minutes * 60
    streams = {node.name: HeadStream(node.name, f"http://127.0.0.1:{node.rpc_port}")
               for node in devnet.nodes}  # fmt: skip
    rpc = streams["rpc1"]
    stop, heads_stop = asyncio.Event(), asyncio.Event()
    ws_session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
    async with ws_session, make_session(32) as session:
        follows = [
            asyncio.create_task(_follow(s, ws_session, heads_stop)) for s in streams.values()
        ]
        await wait_for_height(rpc, 2, SETTLE_SECONDS)
        keys = derive_dev_keys(5)
        contract = await _deploy(session, rpc.url, devnet, keys[3])
        subscription = LogSubscription(rpc.url, contract)
        subscription_task = asyncio.create_task(subscription.run(ws_session))
        await asyncio.wait_for(subscription.subscribed.wait(), SETTLE_SECONDS)
        book, reads = ReceiptBook(), ReadCounts()
        senders = [
            Sender("transfer", keys[i], make_transfer_body(i), args.tx_period) for i in range(3)
        ]
        datanets = DatanetBodies(book, keys[4].address)
        senders += [Sender("contract", keys[3], make_contract_body(bytes.fromhex(contract[2:])), args.tx_period),
                    Sender("precompile", keys[4], datanets, args.tx_period)]  # fmt: skip
        started = time.perf_counter()
        samples: list[Sample] = []
        load = [
            asyncio.create_task(s.run(session, rpc.url, devnet.chain_id, book, stop))
            for s in senders
        ]
        load += [asyncio.create_task(book.poll(session, rpc.url, stop)),
                 asyncio.create_task(read_loop(session, rpc.url, contract, datanets, reads, stop)),
                 asyncio.create_task(_sample_loop(devnet, started, args.sample_every, samples, stop))]  # fmt: skip
        restarter = asyncio.create_task(
            _restart_loop(session, devnet, rpc, started, duration, args)
        )
        await asyncio.wait({restarter}, timeout=duration)
        if restarter.done():
            restarter.result()  # a validator that could not be restarted ends the run now
        await asyncio.sleep(max(0.0, started + duration - time.perf_counter()))
        restarts = await restarter
        stop.set()
        await asyncio.gather(*load)
        samples += await asyncio.to_thread(sample_nodes, devnet, time.perf_counter() - started)
        print(f"load stopped after {time.perf_counter() - started:.0f} s; checking", flush=True)
        deadline = time.monotonic() + SETTLE_SECONDS
        while book.pending and time.monotonic() < deadline:
            await book.fetch(session, rpc.url)
            await asyncio.sleep(0.5)
        urls = {name: stream.url for name, stream in streams.items()}
        last = max((await read_heads(session, urls)).values()) + 1
        for stream in streams.values():
            await wait_for_height(stream, last, SETTLE_SECONDS)
        await asyncio.sleep(1.0)  # the subscription's last notifications
        subscription_task.cancel()
        heads_stop.set()
        for task in follows:
            task.cancel()
        await asyncio.gather(subscription_task, *follows, return_exceptions=True)
        chain = await compare_chains(session, urls, last)
        lost = await count_lost_receipts(session, urls, book.receipted)
        logs = await compare_logs(session, rpc.url, contract, book.receipted,
                                  [tx for tx, _ in subscription.logs], subscription.removed, last)  # fmt: skip
    return SoakReport(
        parameters={key: str(value) for key, value in vars(args).items()},
        samples=tuple(samples),
        summaries=tuple(summarise(node.name, samples, duration, args.warmup) for node in devnet.nodes),
        restarts=tuple(restarts),
        longest_gaps=tuple(_longest_gap(rpc, started + r.at, args.bound, r) for r in restarts),
        load=_describe_load(senders, book, reads, len(subscription.logs)),
        chain=chain,
        lost_receipts=lost,
        logs=logs,
        log_scans=scan_logs({n.name: devnet.directory / "logs" / f"{n.name}.log" for n in devnet.nodes}),
        bound=args.bound,
        gap_bound=args.gap_bound,
    )  # fmt: skip


async def _follow(stream: HeadStream, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
    """`stream.run`, again whenever the node goes away (a restarted validator), until `stop`."""
    while not stop.is_set():
        with contextlib.suppress(BenchmarkError, aiohttp.ClientError, OSError):
            await stream.run(session)
        await asyncio.sleep(0.5)


async def _deploy(
    session: aiohttp.ClientSession, url: str, devnet: devnet_lib.Devnet, key: Any
) -> str:
    """Deploy the `Tick` contract from `key`; its address."""
    nonce = int(
        await call(session, url, "eth_getTransactionCount", "0x" + key.address.hex(), "pending"), 16
    )
    raw, tx_hash = sign(key, devnet.chain_id, nonce, (b"", 0, TICK_INIT, 200_000))
    await call(session, url, "eth_sendRawTransaction", "0x" + raw.hex())
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        receipt = await call(session, url, "eth_getTransactionReceipt", "0x" + tx_hash.hex())
        if receipt is not None:
            if receipt["status"] != "0x1":
                raise BenchmarkError(f"the contract deployment failed: {receipt}")
            return str(receipt["contractAddress"]).lower()
        await asyncio.sleep(0.5)
    raise BenchmarkError("the contract deployment has no receipt")


async def _sample_loop(
    devnet: devnet_lib.Devnet,
    started: float,
    every: float,
    samples: list[Sample],
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        samples += await asyncio.to_thread(sample_nodes, devnet, time.perf_counter() - started)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def _restart_loop(
    session: aiohttp.ClientSession,
    devnet: devnet_lib.Devnet,
    rpc: HeadStream,
    started: float,
    duration: float,
    args: argparse.Namespace,
) -> list[Restart]:
    """One validator after the other, every `args.restart_every` seconds of the run."""
    validators = [node for node in devnet.nodes if node.role == "validator"]
    signals = {"term": [signal.SIGTERM], "kill": [signal.SIGKILL],
               "alternate": [signal.SIGKILL, signal.SIGTERM]}[args.signal]  # fmt: skip
    restarts: list[Restart] = []
    while (len(restarts) + 1) * args.restart_every < duration:
        await asyncio.sleep(
            started + (len(restarts) + 1) * args.restart_every - time.perf_counter()
        )
        node = validators[len(restarts) % len(validators)]
        number = signals[len(restarts) % len(signals)]
        restart = await restart_validator(
            session, devnet, node, number, rpc, started, args.down_seconds, args.bound
        )
        print(f"restart: {restart}", flush=True)
        restarts.append(restart)
    return restarts


def _longest_gap(rpc: HeadStream, start: float, bound: float, restart: Restart) -> float:
    """The longest interval between heights at the RPC node from `start` until the validator
    signed again (or `bound` ran out), counting from the last height before `start`."""
    end = start + (restart.signing if restart.signing is not None else bound)
    times = sorted(rpc.arrivals.values())
    before = [t for t in times if t < start]
    inside = [t for t in times if start <= t <= end]
    points = before[-1:] + inside
    gaps = [b - a for a, b in itertools.pairwise(points)]
    return max([*gaps, end - points[-1]] if points else [end - start])


def _describe_load(
    senders: Sequence[Sender], book: ReceiptBook, reads: ReadCounts, notified: int
) -> dict[str, Any]:
    kinds = sorted({sender.kind for sender in senders})
    receipted = book.receipted.values()
    refusals = [message for sender in senders for message in sender.refused]
    return {
        "sent": {kind: sum(s.sent for s in senders if s.kind == kind) for kind in kinds},
        "receipted": {kind: sum(1 for r in receipted if r.kind == kind) for kind in kinds},
        "failed_receipts": sum(1 for r in receipted if r.status != 1),
        "accepted_without_receipt_at_end": len(book.pending),
        "refused": len(refusals),
        "refusals_first": refusals[:3],
        "get_logs": reads.get_logs,
        "logs_returned": reads.logs_returned,
        "eth_calls": reads.calls,
        "read_errors": len(reads.errors),
        "read_errors_first": reads.errors[:3],
        "subscription_logs": notified,
    }


def _interrupt(signal_number: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signal_number}")


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


if __name__ == "__main__":
    sys.exit(main())
