"""The soak benchmark's load: transactions of three kinds, reads, and WebSocket subscriptions.

Everything goes to one node (the RPC node, which the soak never restarts):

- `Sender`s submit signed transactions at a steady pace, each from its own dev account with its
  own nonces: value transfers, calls of a small contract (`TICK_RUNTIME`: it increments a counter
  and emits one `Tick` log), and calls of the Datanets precompile (`createDatanet`, then
  `contribute` to the latest Datanet). A `ReceiptBook` asks for the receipt of every accepted
  transaction until it has one.
- `read_loop` sends `eth_getLogs` for the contract's and the Datanets precompile's logs over
  recent blocks, `eth_call`s of a precompile view and `eth_blockNumber`.
- `LogSubscription` keeps a `logs` subscription for the contract open and records every log it
  is sent, so that the end of the run can compare it with the receipts.

Every loop stops when `stop` is set; nothing here judges a number.
"""

import asyncio
import contextlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from eth_keys import keys
from rpc_load import BenchmarkError, call
from transfers import MAX_FEE_PER_GAS, MAX_PRIORITY_FEE_PER_GAS, compute_recipient

from openledger.genesis.dev import DevKey
from openledger.genesis.model import ATTRIBUTION_ADDRESS, DATANETS_ADDRESS
from openledger.state.fork import make_vm_class

TICK_TOPIC = keccak(b"Tick(uint256)")
TICK_RUNTIME = (
    bytes.fromhex("600054600101806000556000527f") + TICK_TOPIC + bytes.fromhex("60206000a100")
)
"""counter = sload(0) + 1; sstore(0, counter); log1(counter, keccak("Tick(uint256)")); stop."""
TICK_INIT = bytes.fromhex(f"60{len(TICK_RUNTIME):02x}80600b6000396000f3") + TICK_RUNTIME
"""Copies `TICK_RUNTIME` to memory and returns it."""
CREATE_DATANET = keccak(b"createDatanet(string,string,uint8,bool)")[:4]
CONTRIBUTE = keccak(b"contribute(uint256,bytes32,string,uint256)")[:4]
GET_DATANET = keccak(b"getDatanet(uint256)")[:4]
PENDING_REWARDS = keccak(b"pendingRewards(address)")[:4]
DATANETS = "0x" + DATANETS_ADDRESS.hex()
ATTRIBUTION = "0x" + ATTRIBUTION_ADDRESS.hex()
CONTRIBUTIONS_PER_DATANET = 200
"""Contributions to one Datanet before the next is created (far below the daily quota)."""
MAX_PENDING = 32
"""A sender with this many transactions without a receipt waits before it sends more."""
RECEIPT_POLL_SECONDS = 0.5
READ_PERIOD_SECONDS = 1.0
LOG_WINDOW_BLOCKS = 20
"""The range of each `eth_getLogs` in `read_loop`: the latest blocks."""


@dataclass(frozen=True, slots=True)
class Receipted:
    """A transaction that has a receipt, as the RPC node first returned it."""

    kind: str
    """"transfer", "contract" or "precompile"."""
    block_hash: str
    block_number: int
    status: int
    logs: tuple[dict[str, Any], ...]


@dataclass
class ReceiptBook:
    """Every transaction the RPC node accepted, until it has a receipt, and every receipt."""

    pending: dict[str, str] = field(default_factory=dict)
    """Hash -> kind, accepted and not yet receipted."""
    receipted: dict[str, Receipted] = field(default_factory=dict)

    def count_pending(self, kind: str) -> int:
        """Transactions of one kind still without a receipt."""
        return sum(1 for pending_kind in self.pending.values() if pending_kind == kind)

    async def poll(self, session: aiohttp.ClientSession, url: str, stop: asyncio.Event) -> None:
        """Ask for the receipts of pending transactions, in batches, until `stop`."""
        while not stop.is_set():
            await self.fetch(session, url)
            await _sleep_unless(stop, RECEIPT_POLL_SECONDS)

    async def fetch(self, session: aiohttp.ClientSession, url: str) -> None:
        """One round of receipt queries."""
        hashes = list(self.pending)
        for start in range(0, len(hashes), 100):
            chunk = hashes[start : start + 100]
            answers = await call_batch(
                session, url, [("eth_getTransactionReceipt", [tx_hash]) for tx_hash in chunk]
            )
            for tx_hash, receipt in zip(chunk, answers, strict=True):
                if receipt is not None:
                    self.receipted[tx_hash] = Receipted(
                        kind=self.pending.pop(tx_hash),
                        block_hash=receipt["blockHash"],
                        block_number=int(receipt["blockNumber"], 16),
                        status=int(receipt["status"], 16),
                        logs=tuple(receipt["logs"]),
                    )


TxBody = tuple[bytes, int, bytes, int]
"""(to, value, data, gas) of a transaction to sign."""


@dataclass
class Sender:
    """One dev account sending one kind of transaction every `period` seconds."""

    kind: str
    key: DevKey
    make_body: Callable[[], TxBody]
    period: float
    sent: int = 0
    refused: list[str] = field(default_factory=list)
    """The error message of each refused submission (the nonce is then fetched again)."""

    async def run(
        self,
        session: aiohttp.ClientSession,
        url: str,
        chain_id: int,
        book: ReceiptBook,
        stop: asyncio.Event,
    ) -> None:
        """Send until `stop`, at most `MAX_PENDING` without a receipt at a time."""
        nonce = await self.fetch_nonce(session, url)
        while not stop.is_set():
            if book.count_pending(self.kind) >= MAX_PENDING:
                await _sleep_unless(stop, RECEIPT_POLL_SECONDS)
                continue
            raw, tx_hash = sign(self.key, chain_id, nonce, self.make_body())
            try:
                await call(session, url, "eth_sendRawTransaction", "0x" + raw.hex())
            except BenchmarkError as error:
                self.refused.append(str(error))
                nonce = await self.fetch_nonce(session, url)
            else:
                book.pending["0x" + tx_hash.hex()] = self.kind
                self.sent += 1
                nonce += 1
            await _sleep_unless(stop, self.period)

    async def fetch_nonce(self, session: aiohttp.ClientSession, url: str) -> int:
        """The account's next nonce, counting the pool."""
        address = "0x" + self.key.address.hex()
        return int(await call(session, url, "eth_getTransactionCount", address, "pending"), 16)


def sign(key: DevKey, chain_id: int, nonce: int, body: TxBody) -> tuple[bytes, bytes]:
    """An EIP-1559 transaction; returns its encoding and its hash."""
    to, value, data, gas = body
    unsigned = make_vm_class().get_transaction_builder().new_unsigned_dynamic_fee_transaction(
        chain_id=chain_id, nonce=nonce, max_priority_fee_per_gas=MAX_PRIORITY_FEE_PER_GAS,
        max_fee_per_gas=MAX_FEE_PER_GAS, gas=gas, to=to, value=value, data=data, access_list=(),
    )  # fmt: skip
    signed = unsigned.as_signed_transaction(keys.PrivateKey(key.private_key))
    return signed.encode(), signed.hash


def make_transfer_body(index: int) -> Callable[[], TxBody]:
    """A transfer of 1 gwei to a fresh address of this sender's."""
    recipient = compute_recipient(index)
    return lambda: (recipient, 10**9, b"", 21_000)


def make_contract_body(contract: bytes) -> Callable[[], TxBody]:
    """A call of the `Tick` contract (any calldata)."""
    return lambda: (contract, 0, b"", 60_000)


class DatanetBodies:
    """`createDatanet`, then `CONTRIBUTIONS_PER_DATANET` contributions to it, then again.

    The id of the Datanet to contribute to comes from the `DatanetCreated` log of the receipt of
    the latest creation; until that receipt arrives, the sender only creates.
    """

    def __init__(self, book: ReceiptBook, owner: bytes) -> None:
        self.book = book
        self.owner = owner
        """The sender's address (it owns the Datanets)."""
        self.created = 0
        self.contributed = 0

    def __call__(self) -> TxBody:
        datanet = self.latest_datanet()
        if datanet is None or self.contributed >= CONTRIBUTIONS_PER_DATANET:
            self.created += 1
            self.contributed = 0
            arguments = (f"soak {self.created}", "ipfs://soak", 0, True)
            data = CREATE_DATANET + abi_encode(["string", "string", "uint8", "bool"], arguments)
        else:
            self.contributed += 1
            content = os.urandom(32)
            data = CONTRIBUTE + abi_encode(
                ["uint256", "bytes32", "string", "uint256"], (datanet, content, "ipfs://c", 1024)
            )
        return DATANETS_ADDRESS, 0, data, 500_000

    def latest_datanet(self) -> int | None:
        """The id of the latest Datanet created with a receipt, if any."""
        best = None
        for receipt in self.book.receipted.values():
            for entry in receipt.logs if receipt.kind == "precompile" else ():
                topics = entry["topics"]
                created = len(topics) == 3 and topics[0] == "0x" + DATANET_CREATED_TOPIC.hex()
                if entry["address"] == DATANETS and created and receipt.status == 1:
                    best = max(best or 0, int(topics[1], 16))
        return best


DATANET_CREATED_TOPIC = keccak(b"DatanetCreated(uint256,address,string,string,uint8,bool)")


@dataclass
class ReadCounts:
    """Reads `read_loop` made, and those answered with an error."""

    get_logs: int = 0
    logs_returned: int = 0
    calls: int = 0
    errors: list[str] = field(default_factory=list)


async def read_loop(
    session: aiohttp.ClientSession,
    url: str,
    contract: str,
    datanets: "DatanetBodies",
    counts: ReadCounts,
    stop: asyncio.Event,
) -> None:
    """Every `READ_PERIOD_SECONDS`: `eth_getLogs` over the latest blocks for the contract and for
    the Datanets precompile, and `eth_call`s of precompile views (`pendingRewards` of the
    attribution precompile, `getDatanet` of the latest Datanet once there is one)."""
    while not stop.is_set():
        try:
            head = int(await call(session, url, "eth_blockNumber"), 16)
            window = {"fromBlock": hex(max(0, head - LOG_WINDOW_BLOCKS)), "toBlock": hex(head)}
            for address in (contract, DATANETS):
                found = await call(session, url, "eth_getLogs", {**window, "address": address})
                counts.get_logs += 1
                counts.logs_returned += len(found)
            views = [(ATTRIBUTION, PENDING_REWARDS + bytes(12) + datanets.owner)]
            latest = datanets.latest_datanet()
            if latest is not None:
                views.append((DATANETS, GET_DATANET + latest.to_bytes(32, "big")))
            for to, data in views:
                await call(
                    session, url, "eth_call", {"to": to, "data": "0x" + data.hex()}, "latest"
                )
                counts.calls += 1
        except (BenchmarkError, aiohttp.ClientError, TimeoutError) as error:
            counts.errors.append(str(error))
        await _sleep_unless(stop, READ_PERIOD_SECONDS)


class LogSubscription:
    """A `logs` subscription for one address over WebSocket; keeps every log it is sent."""

    def __init__(self, url: str, address: str) -> None:
        self.url = url
        self.address = address
        self.logs: dict[tuple[str, str], dict[str, Any]] = {}
        """(transaction hash, log index) -> the log as last sent."""
        self.removed = 0
        """Logs sent again with `removed: true` (a reorganisation, which BFT finality forbids)."""
        self.subscribed = asyncio.Event()

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Subscribe and record until cancelled; raise if the node closes the socket."""
        async with session.ws_connect(self.url, heartbeat=None) as socket:
            request = {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                       "params": ["logs", {"address": self.address}]}  # fmt: skip
            await socket.send_str(json.dumps(request))
            answer = await socket.receive_json()
            if "result" not in answer:
                raise BenchmarkError(f"eth_subscribe logs refused: {answer}")
            self.subscribed.set()
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                entry = json.loads(message.data)["params"]["result"]
                self.removed += bool(entry.get("removed"))
                self.logs[(entry["transactionHash"], entry["logIndex"])] = entry
        raise BenchmarkError("the RPC node closed the logs subscription")


async def call_batch(
    session: aiohttp.ClientSession, url: str, requests: Sequence[tuple[str, list[Any]]]
) -> list[Any]:
    """One JSON-RPC batch; the results in request order; raise on any error answer."""
    body = [
        {"jsonrpc": "2.0", "id": index, "method": method, "params": params}
        for index, (method, params) in enumerate(requests)
    ]
    async with session.post(url, json=body) as response:
        answers = await response.json(content_type=None)
    by_id = {answer["id"]: answer for answer in answers}
    if len(by_id) != len(requests):
        raise BenchmarkError(f"a batch of {len(requests)} got {len(by_id)} answers")
    results = []
    for index, (method, _) in enumerate(requests):
        if "error" in by_id[index]:
            raise BenchmarkError(f"{method} failed: {by_id[index]['error']}")
        results.append(by_id[index]["result"])
    return results


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
