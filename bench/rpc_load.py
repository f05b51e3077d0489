"""Client-side load: JSON-RPC over keep-alive HTTP connections from one aiohttp session.

The load generator shares the machine with the server it measures, so it is kept lean: one
`ClientSession` whose connector holds one connection per concurrent client, request bodies
encoded once before the clock starts, and responses checked by a byte search instead of a JSON
parse. `measure_reads` hammers one fixed request; `submit_transfers` sends pre-signed transactions
and follows the chain head until all of them are in blocks.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from processes import compute_cpu_seconds, compute_machine_busy_seconds
from transfers import SignedTransfer

HEADERS = {"Content-Type": "application/json"}
WARMUP_REQUESTS = 20
"""Requests per client before the clock starts (opens the connections, warms the caches)."""
HEAD_POLL_SECONDS = 0.02
"""How often the head is polled while transfers are outstanding; bounds the end-time error."""
POOL_FULL_BACKOFF_SECONDS = 0.05
"""Longest wait before a transaction the pool refused as full is sent again."""
STALL_SECONDS = 30.0
"""Give up on transfers when the chain has not grown for this long."""


class BenchmarkError(Exception):
    """The benchmark could not measure what it set out to (a refused call, a lost transfer)."""


@dataclass(frozen=True, slots=True)
class CoresBusy:
    """CPU time used during a measured window, per second of wall time (1.0 = one core)."""

    server: float
    """By the server process (the node or the bare server), all its threads."""
    client: float
    """By this process, the load generator."""
    others: float
    """By every other process on the machine: noise the run did not make."""


@dataclass(frozen=True, slots=True)
class ReadResult:
    """Throughput and latency of one kind of read request."""

    method: str
    """The JSON-RPC method, or a label for the reference server."""
    clients: int
    """Concurrent keep-alive clients."""
    requests: int
    """Requests answered inside the measured window."""
    errors: int
    """Answers that were not HTTP 200 with the expected result."""
    seconds: float
    """Wall time from the first request to the last answer."""
    p50_ms: float
    """Median latency, milliseconds."""
    p99_ms: float
    """99th-percentile latency, milliseconds."""
    cores: CoresBusy
    """CPU use in the measured window."""

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    @property
    def server_cpu_us(self) -> float:
        """Server CPU time per request, microseconds (robust to a client-bound run)."""
        return self.cores.server * self.seconds / max(1, self.requests) * 1e6


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What happened to the submitted transfers, as the client saw it."""

    seconds: float
    """From the first submission until the head holds every transfer."""
    included: int
    """Transactions the new blocks hold."""
    pool_full_retries: int
    """Submissions refused with "txpool is full" (the per-sender pool limit) and sent again."""
    submitted: int
    """Transfers the node accepted."""
    refused: tuple[str, ...]
    """Errors of submissions refused for any other reason; that sender's later transfers are
    not sent."""
    first_block: int
    """Number of the first block after the head at the start."""
    last_block: int
    """Head when the last transfer was seen included."""
    cores: CoresBusy
    """CPU use in the measured window (the server is the node)."""


def make_session(clients: int) -> aiohttp.ClientSession:
    """One session, at most `clients` keep-alive connections, no client-side timeouts in the way."""
    connector = aiohttp.TCPConnector(limit=clients, force_close=False, enable_cleanup_closed=False)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=120),
        skip_auto_headers=("User-Agent",),
    )


def encode_request(method: str, params: Sequence[Any]) -> bytes:
    """A JSON-RPC request body."""
    return json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    ).encode()


async def call(session: aiohttp.ClientSession, url: str, method: str, *params: Any) -> Any:
    """Call one method and return its result; raise BenchmarkError on an error answer."""
    async with session.post(url, data=encode_request(method, params), headers=HEADERS) as response:
        payload = await response.json(content_type=None)
    if "error" in payload:
        raise BenchmarkError(f"{method} failed: {payload['error']}")
    return payload["result"]


async def measure_reads(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    expected: bytes,
    *,
    label: str,
    clients: int,
    seconds: float,
    server_pid: int,
) -> ReadResult:
    """`clients` concurrent clients send `body` back to back for `seconds`.

    An answer counts as an error unless it has HTTP status 200 and contains `expected`.
    """
    await asyncio.gather(
        *(_read_loop(session, url, body, expected, WARMUP_REQUESTS, None) for _ in range(clients))
    )
    cpu = CpuWindow(server_pid)
    started = time.perf_counter()
    deadline = started + seconds
    loops = await asyncio.gather(
        *(_read_loop(session, url, body, expected, None, deadline) for _ in range(clients))
    )
    elapsed = time.perf_counter() - started
    cores = cpu.compute_cores(elapsed)
    latencies = sorted(latency for samples, _ in loops for latency in samples)
    return ReadResult(
        method=label,
        clients=clients,
        requests=len(latencies),
        errors=sum(errors for _, errors in loops),
        seconds=elapsed,
        p50_ms=compute_percentile(latencies, 0.50) * 1000,
        p99_ms=compute_percentile(latencies, 0.99) * 1000,
        cores=cores,
    )


async def submit_transfers(
    session: aiohttp.ClientSession,
    url: str,
    batches: Sequence[Sequence[SignedTransfer]],
    server_pid: int | Sequence[int],
) -> SubmitResult:
    """Send each sender's transfers in nonce order, one client per sender, until all are mined.

    The clock starts at the first submission and stops when the polled head holds as many new
    transactions as were accepted. A submission refused because the sender's pool slots are full
    is sent again after the next block (or `POOL_FULL_BACKOFF_SECONDS`), as a wallet would.
    """
    bodies = [
        [encode_request("eth_sendRawTransaction", ["0x" + t.raw.hex()]) for t in batch]
        for batch in batches
    ]
    head = HeadWatcher(session, url, int(await call(session, url, "eth_blockNumber"), 16))
    cpu = CpuWindow(server_pid)
    started = time.perf_counter()
    watcher = asyncio.create_task(head.follow())
    senders = await asyncio.gather(*(_submit_loop(session, url, sender, head) for sender in bodies))
    submitted = sum(sender.accepted for sender in senders)
    head.expect(submitted)
    finished = await watcher
    refused = tuple(sender.error for sender in senders if sender.error is not None)
    cores = cpu.compute_cores(finished - started)
    return SubmitResult(
        seconds=finished - started,
        included=head.included,
        submitted=submitted,
        pool_full_retries=sum(sender.pool_full_retries for sender in senders),
        refused=refused,
        first_block=head.start + 1,
        last_block=head.number,
        cores=cores,
    )


def compute_percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 for none)."""
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


class CpuWindow:
    """CPU time used from now on by this process, by a server, and by everything else.

    The server may be several processes (the nodes of a network): their CPU times are summed.
    """

    def __init__(self, server_pid: int | Sequence[int]) -> None:
        self.server_pids = (server_pid,) if isinstance(server_pid, int) else tuple(server_pid)
        self._client = time.process_time()
        self._server = self._server_seconds()
        self._machine = compute_machine_busy_seconds()

    def compute_cores(self, seconds: float) -> CoresBusy:
        """CPU seconds used since the start, per second of `seconds`."""
        client = time.process_time() - self._client
        server = self._server_seconds() - self._server
        machine = compute_machine_busy_seconds() - self._machine
        return CoresBusy(
            client=client / seconds,
            server=server / seconds,
            others=max(0.0, machine - client - server) / seconds,
        )

    def _server_seconds(self) -> float:
        return sum(compute_cpu_seconds(pid) for pid in self.server_pids)


class HeadWatcher:
    """Polls the head, counts the transactions of each new block, and wakes waiting senders."""

    def __init__(self, session: aiohttp.ClientSession, url: str, start: int) -> None:
        self.session = session
        self.url = url
        self.start = start
        self.number = start
        self.included = 0
        self._target: int | None = None
        self._new_block = asyncio.Event()
        self._block_number_body = encode_request("eth_blockNumber", [])

    def expect(self, count: int) -> None:
        """Stop following once `count` transactions are included (known when submitting ends)."""
        self._target = count

    async def wait_for_block(self, timeout: float) -> None:
        """Return at the next new block, or after `timeout` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._new_block.wait(), timeout)

    async def follow(self) -> float:
        """Poll until the new blocks hold the expected transactions; return the time seen.

        Gives up, returning as well, when no block came for `STALL_SECONDS`.
        """
        last_progress = time.perf_counter()
        while True:
            async with self.session.post(
                self.url, data=self._block_number_body, headers=HEADERS
            ) as response:
                number = int((await response.json(content_type=None))["result"], 16)
            now = time.perf_counter()
            if number > self.number:
                for block in range(self.number + 1, number + 1):
                    count = await call(
                        self.session, self.url, "eth_getBlockTransactionCountByNumber", hex(block)
                    )
                    self.included += int(count, 16)
                self.number = number
                last_progress = now
                event, self._new_block = self._new_block, asyncio.Event()
                event.set()
            if self._target is not None and self.included >= self._target:
                return now
            if now - last_progress > STALL_SECONDS:
                return now
            await asyncio.sleep(HEAD_POLL_SECONDS)


async def _read_loop(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    expected: bytes,
    count: int | None,
    deadline: float | None,
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    clock = time.perf_counter
    while True:
        sent = clock()
        if (deadline is not None and sent >= deadline) or (count is not None and count <= 0):
            return latencies, errors
        async with session.post(url, data=body, headers=HEADERS) as response:
            payload = await response.read()
            status = response.status
        latencies.append(clock() - sent)
        if status != 200 or expected not in payload:
            errors += 1
        if count is not None:
            count -= 1


async def _submit_loop(
    session: aiohttp.ClientSession, url: str, bodies: Sequence[bytes], head: HeadWatcher
) -> "_SenderOutcome":
    retries = 0
    for accepted, body in enumerate(bodies):
        while True:
            async with session.post(url, data=body, headers=HEADERS) as response:
                payload = await response.read()
            if b'"result"' in payload:
                break
            if b"txpool is full" not in payload:
                # The sender's later nonces could never be mined: stop this sender.
                return _SenderOutcome(accepted, retries, payload.decode(errors="replace"))
            retries += 1
            await head.wait_for_block(POOL_FULL_BACKOFF_SECONDS)
    return _SenderOutcome(len(bodies), retries, None)


@dataclass(frozen=True, slots=True)
class _SenderOutcome:
    accepted: int
    """Transfers the node accepted."""
    pool_full_retries: int
    """Submissions refused as "txpool is full" and sent again."""
    error: str | None
    """The answer that stopped the sender early, if any."""
