"""What the network benchmark observes: heads as each node announces them, receipts, commits, CPU.

`HeadStream` subscribes to `newHeads` over a node's WebSocket (the HTTP port) and records when
each height first arrives, by this process's clock; the other measurements read those times
instead of polling. `measure_finality` sends transfers one at a time and times their receipts on
every node; `fetch_commit_rounds` reads the round each height was decided in; `ProcessesCpu`
splits CPU time between the nodes, this client and the rest of the machine.

Nothing here starts or stops a node, and nothing here judges a number.
"""

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp
from processes import compute_cpu_seconds, compute_machine_busy_seconds
from rpc_load import BenchmarkError, call
from transfers import SignedTransfer

RECEIPT_RECHECK_SECONDS = 0.25
"""Longest wait between two receipt queries on a node when no new head is announced (a safety
net: the query normally follows each head notification)."""
RECEIPT_TIMEOUT_SECONDS = 60.0
"""A transfer without a receipt on every node after this long fails the run."""


class HeadStream:
    """The heads one node announces over WebSocket, each with the time it first arrived here."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        self.url = url
        self.arrivals: dict[int, float] = {}
        """Height -> `time.perf_counter()` when its `newHeads` notification arrived."""
        self.height = -1
        """Highest height announced so far."""
        self._changed = asyncio.Event()
        self._subscribed = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Subscribe and record heads until cancelled; raise if the node closes the socket."""
        async with session.ws_connect(self.url, heartbeat=None, autoping=True) as socket:
            await socket.send_str(
                json.dumps(
                    {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
                )
            )
            answer = await socket.receive_json()
            if "result" not in answer:
                raise BenchmarkError(f"{self.name} refused eth_subscribe newHeads: {answer}")
            self._subscribed.set()
            async for message in socket:
                now = time.perf_counter()
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                head = json.loads(message.data)["params"]["result"]
                self.record(int(head["number"], 16), now)
        raise BenchmarkError(f"{self.name} closed its WebSocket")

    def record(self, height: int, arrived: float) -> None:
        """Note a head; wake whoever waits for a new one."""
        self.arrivals.setdefault(height, arrived)
        if height > self.height:
            self.height = height
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    async def wait_subscribed(self, timeout: float) -> None:
        """Return once the subscription is in place."""
        await asyncio.wait_for(self._subscribed.wait(), timeout)

    async def wait_beyond(self, height: int, timeout: float) -> None:
        """Return once a height above `height` is announced, or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.height <= height:
                    await self._changed.wait()

    def compute_intervals(self, first: int, last: int) -> tuple[float, ...]:
        """Seconds between the arrivals of consecutive heights, for the heights first..last
        (an interval whose either end was not announced is left out)."""
        return tuple(
            self.arrivals[height] - self.arrivals[height - 1]
            for height in range(first, last + 1)
            if height in self.arrivals and height - 1 in self.arrivals
        )


@dataclass(frozen=True, slots=True)
class CoresByProcess:
    """CPU time used during a window, per second of wall time (1.0 = one core)."""

    nodes: tuple[tuple[str, float], ...]
    """Each node process by name, all its threads."""
    client: float
    """This process: the benchmark's client."""
    others: float
    """Every other process on the machine."""

    @property
    def nodes_total(self) -> float:
        """All node processes together."""
        return sum(cores for _, cores in self.nodes)


class ProcessesCpu:
    """CPU time used from now on by each node process, by this process, and by everything else."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._started = time.perf_counter()
        self._client = time.process_time()
        self._nodes = {name: compute_cpu_seconds(pid) for name, pid in self.pids.items()}
        self._machine = compute_machine_busy_seconds()

    def compute_cores(self) -> CoresByProcess:
        """CPU seconds used since the start, per wall second since the start."""
        seconds = time.perf_counter() - self._started
        client = time.process_time() - self._client
        nodes = {
            name: compute_cpu_seconds(pid) - self._nodes[name] for name, pid in self.pids.items()
        }
        machine = compute_machine_busy_seconds() - self._machine
        return CoresByProcess(
            nodes=tuple((name, used / seconds) for name, used in nodes.items()),
            client=client / seconds,
            others=max(0.0, machine - client - sum(nodes.values())) / seconds,
        )


async def wait_for_height(stream: HeadStream, height: int, timeout: float) -> None:
    """Wait until `stream` announces `height` (or a later one); raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while stream.height < height:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchmarkError(
                f"{stream.name} is at height {stream.height}, not {height}, after {timeout:g} s"
            )
        await stream.wait_beyond(stream.height, left)


@dataclass(frozen=True, slots=True)
class FinalitySample:
    """When one transfer's receipt appeared, in seconds after its submission started."""

    block: int
    """The block that holds it."""
    rpc_seconds: float
    """On the RPC node it was submitted to."""
    validator_seconds: tuple[float, ...]
    """On each validator, in the order of the devnet's manifest."""


async def measure_finality(
    session: aiohttp.ClientSession,
    rpc: HeadStream,
    validators: Sequence[HeadStream],
    transfers: Sequence[SignedTransfer],
    max_delay: float,
    rng: random.Random,
) -> tuple[FinalitySample, ...]:
    """Submit `transfers` one at a time through `rpc`, each after the previous one has a receipt on
    every node and after a random pause of up to `max_delay` seconds (so that submissions fall at
    random points of the block interval, as a user's do, rather than just after a commit).

    A receipt counts from the answer that first returns it; each node is asked again as soon as it
    announces a new head. A refused submission, a receipt whose status is not 1, or a receipt
    missing after `RECEIPT_TIMEOUT_SECONDS` fails the run.
    """
    samples = []
    for transfer in transfers:
        await asyncio.sleep(rng.uniform(0.0, max_delay))
        tx_hash = "0x" + transfer.hash.hex()
        started = time.perf_counter()
        await call(session, rpc.url, "eth_sendRawTransaction", "0x" + transfer.raw.hex())
        seen = await asyncio.gather(
            *(_wait_for_receipt(session, stream, tx_hash, started) for stream in (rpc, *validators))
        )
        blocks = {block for _, block in seen}
        if len(blocks) != 1:
            raise BenchmarkError(f"{tx_hash} is in different blocks on different nodes: {seen}")
        samples.append(
            FinalitySample(
                block=blocks.pop(),
                rpc_seconds=seen[0][0],
                validator_seconds=tuple(seconds for seconds, _ in seen[1:]),
            )
        )
    return tuple(samples)


async def _wait_for_receipt(
    session: aiohttp.ClientSession, stream: HeadStream, tx_hash: str, started: float
) -> tuple[float, int]:
    while True:
        height = stream.height
        receipt = await call(session, stream.url, "eth_getTransactionReceipt", tx_hash)
        now = time.perf_counter()
        if receipt is not None:
            if receipt["status"] != "0x1":
                raise BenchmarkError(f"{tx_hash} failed on {stream.name}: {receipt}")
            return now - started, int(receipt["blockNumber"], 16)
        if now - started > RECEIPT_TIMEOUT_SECONDS:
            raise BenchmarkError(
                f"{tx_hash} has no receipt on {stream.name} after {RECEIPT_TIMEOUT_SECONDS:g} s"
            )
        await stream.wait_beyond(height, RECEIPT_RECHECK_SECONDS)


async def fetch_commit_rounds(
    session: aiohttp.ClientSession, url: str, first: int, last: int
) -> tuple[int, ...]:
    """The round in which each height first..last was decided, from its commit certificate."""
    rounds = []
    for height in range(first, last + 1):
        commit = await call(session, url, "ol_getCommit", hex(height))
        if commit is None:
            raise BenchmarkError(f"block {height} has no commit certificate")
        rounds.append(int(commit["round"], 16))
    return tuple(rounds)


async def check_same_block(
    session: aiohttp.ClientSession, streams: Sequence[HeadStream], height: int, timeout: float
) -> bool:
    """Wait until every node has `height`; True when they all hold the same block there."""
    for stream in streams:
        await stream.wait_beyond(height - 1, timeout)
    hashes = set()
    for stream in streams:
        block = await call(session, stream.url, "eth_getBlockByNumber", hex(height), False)
        hashes.add(None if block is None else block["hash"])
    return len(hashes) == 1 and None not in hashes
