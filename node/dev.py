"""Dev mode: one local validator that mines on demand, as `anvil` and `hardhat node` do.

- With `--block-time 0` (automine), a block is mined as soon as an executable transaction
  arrives; transactions that arrive while a block is being built go into the next one together.
  `eth_sendRawTransaction` and `eth_sendTransaction` answer once the block that holds the
  transaction is committed (`wait_until_mined`), as Hardhat and Anvil do, so a receipt asked for
  right after the answer is there.
- With a positive block time, a block is mined on that interval, empty or not.
- `evm_mine`, `anvil_mine`, `evm_increaseTime` and `evm_setNextBlockTimestamp` steer it.
- `anvil_setBalance`, `anvil_setNonce`, `anvil_setCode` and `anvil_setStorageAt` (and their
  `hardhat_` names) change an account at the start of a new block, mined at once without pool
  transactions. Anvil and Hardhat change their pending state instead: here every state is a
  block's state, so the block number goes up by one.
- `evm_snapshot` remembers the head (and the clock settings); `evm_revert` makes that block the
  head again and forgets that snapshot and every later one, as Hardhat and Anvil do. Pending
  transactions stay in the pool if they are still valid; those of the blocks dropped are gone.

The producer is the chain's one writer: every block, whatever asked for it, is built and
committed by `DevProducer.run`, one at a time.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from eth.abc import BlockHeaderAPI

from openledger.consensus.chain_rules import compute_timestamp, make_template
from openledger.genesis.dev import derive_dev_keys, derive_dev_validator_key, make_dev_genesis
from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.load import load_genesis, write_genesis
from openledger.genesis.model import Genesis
from openledger.genesis.types import Address, ChainId, Hash32
from openledger.node.chain import NodeChain
from openledger.node.sealing import SoloSealer
from openledger.state.db import DatabaseError
from openledger.state.errors import InvalidBlock
from openledger.state.execute import AccountOverride, StateOverrides
from openledger.state.impersonation import ImpersonatedTransaction

log = logging.getLogger("openledger.dev")

GENESIS_FILE = "genesis.json"
MINED_WAIT_SECONDS = 30.0
"""Longest an automine submission waits for its block before answering anyway."""
MAX_TIMESTAMP = 2**64 - 1
"""A header's timestamp is a 64-bit number."""


class TimestampOutOfRange(OpenLedgerError):
    """A clock change would date blocks beyond what a header holds."""


@dataclass(frozen=True, slots=True)
class DevChainSpec:
    """A dev chain's genesis and its keys."""

    genesis: Genesis
    """The genesis (read back from the data directory on restarts)."""
    accounts: dict[Address, bytes]
    """Prefunded accounts and their private keys, in derivation order."""
    validator_key: bytes
    """The private key of the single validator."""


def prepare_dev_chain(
    datadir: Path, chain_id: ChainId, accounts: int, block_time: float
) -> DevChainSpec:
    """The dev chain of `datadir`: created on first start, read back afterwards.

    The genesis is written into the data directory so that a restart finds the same chain
    (its timestamp is the time of the first start).
    """
    keys = derive_dev_keys(accounts)
    validator = derive_dev_validator_key()
    path = datadir / GENESIS_FILE
    if path.exists():
        genesis = load_genesis(path)
        if genesis.chain_id != chain_id:
            raise OpenLedgerError(
                f"the data directory {datadir} holds a dev chain with chain id "
                f"{genesis.chain_id}; start with --chain-id {genesis.chain_id} or use another "
                "--datadir"
            )
    else:
        genesis = make_dev_genesis(
            chain_id,
            tuple(key.address for key in keys),
            (validator.address,),
            block_time_ms=int(block_time * 1000),
            timestamp=int(time.time()),
        )
        datadir.mkdir(parents=True, exist_ok=True)
        write_genesis(genesis, path)
    return DevChainSpec(
        genesis, {key.address: key.private_key for key in keys}, validator.private_key
    )


@dataclass
class _MineRequest:
    count: int
    timestamp: int | None
    done: asyncio.Future[list[BlockHeaderAPI]]
    overrides: StateOverrides = ()


@dataclass(frozen=True, slots=True)
class _Snapshot:
    number: int
    block_hash: bytes
    time_offset: int
    next_timestamp: int | None


@dataclass
class _RevertRequest:
    snapshot: _Snapshot
    done: asyncio.Future[bool]


@dataclass
class DevProducer:
    """Mines the dev chain's blocks, and offers the dev RPC controls."""

    chain: NodeChain
    sealer: SoloSealer
    accounts: dict[Address, bytes]
    block_time: float = 0.0
    clock: Callable[[], float] = time.time
    automine: bool = True
    _time_offset: int = 0
    _next_timestamp: int | None = None
    _requests: deque[_MineRequest | _RevertRequest] = field(default_factory=deque)
    _snapshots: dict[int, _Snapshot] = field(default_factory=dict)
    _next_snapshot: int = 1
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _next_tick: float | None = None
    _mined_waiters: dict[bytes, list[asyncio.Future[None]]] = field(default_factory=dict)
    impersonated: set[Address] = field(default_factory=set)
    """Accounts `eth_sendTransaction` may send from without a key (`anvil_impersonateAccount`)."""
    auto_impersonate: bool = False
    """Whether every account may be sent from (`anvil_autoImpersonateAccount`)."""

    def __post_init__(self) -> None:
        self.automine = self.block_time == 0
        self.set_interval(self.block_time)

    async def run(self) -> None:
        """Produce blocks until cancelled."""
        while True:
            await self._wait(self._next_tick)
            while self._requests:
                request = self._requests.popleft()
                try:
                    if isinstance(request, _RevertRequest):
                        await self._revert(request)
                        continue
                    headers = [
                        await self._produce(
                            request.timestamp if i == 0 else None, request.overrides
                        )
                        for i in range(request.count)
                    ]
                except DatabaseError as error:
                    # The disk is full or failing: the node must stop, with the reason.
                    if not request.done.done():
                        request.done.set_exception(error)
                    raise
                except Exception as error:
                    # A request's failure is its caller's error (-32603 at the RPC), never the
                    # node's: raising here would leave the task group and stop the node. A
                    # failed build or commit writes nothing (each commit is one batch).
                    log.exception("a dev request failed in the block producer")
                    if not request.done.done():
                        request.done.set_exception(error)
                    continue
                if not request.done.done():
                    request.done.set_result(headers)
            if self._next_tick is not None and self.clock() >= self._next_tick:
                await self._produce(None)
                self._next_tick = self.clock() + self.block_time
            while self.automine and self.chain.has_executable():
                await self._produce(None)
            # Nothing executable is left: whoever still waits sent a transaction that cannot be
            # mined yet (a nonce gap) and gets its answer now.
            self._release_waiters(list(self._mined_waiters))

    async def _wait(self, next_tick: float | None) -> None:
        work = self.chain.work_available
        waits = [asyncio.ensure_future(self._wake.wait())]
        if self.automine:
            waits.append(asyncio.ensure_future(work.wait()))
        timeout = None if next_tick is None else max(0.0, next_tick - self.clock())
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
        self._wake.clear()
        work.clear()

    async def _produce(
        self, timestamp: int | None, overrides: StateOverrides = ()
    ) -> BlockHeaderAPI:
        store = self.chain.store
        parent = store.head
        if timestamp is None:
            timestamp = self._next_timestamp
        now = int(self.clock()) + self._time_offset
        block_timestamp = (
            compute_timestamp(parent, now)
            if timestamp is None
            else max(timestamp, parent.timestamp + 1)
        )
        self._next_timestamp = None
        template = make_template(
            self.sealer.address, block_timestamp, store.get_commit(parent.block_number)
        )
        if overrides:
            template = replace(template, overrides=overrides)
        built = await self.chain.build_block(template, include_pool=not overrides)
        certificate = self.sealer.seal(built.executed.block.header)
        header = await self.chain.commit(built.executed, certificate)
        self.chain.drop_rejected(built.rejected)
        self._release_waiters([t.hash for t in built.executed.block.transactions])
        self._release_waiters([tx_hash for tx_hash, _ in built.rejected])
        if overrides:
            self.chain.recheck_pool()
        log.info(
            "mined block %d (%d transactions, %d gas) 0x%s",
            header.block_number,
            len(built.executed.block.transactions),
            header.gas_used,
            header.hash.hex()[:16],
        )
        return header

    # --- DevControls ----------------------------------------------------------------------------

    async def mine(self, count: int, timestamp: int | None) -> list[BlockHeaderAPI]:
        """Mine `count` blocks now (the first at `timestamp` if given)."""
        done: asyncio.Future[list[BlockHeaderAPI]] = asyncio.get_running_loop().create_future()
        self._requests.append(_MineRequest(count, timestamp, done))
        self._wake.set()
        return await done

    async def set_account(self, address: Address, change: AccountOverride) -> BlockHeaderAPI:
        """Change an account, in a block of its own mined now."""
        done: asyncio.Future[list[BlockHeaderAPI]] = asyncio.get_running_loop().create_future()
        self._requests.append(_MineRequest(1, None, done, ((address, change),)))
        self._wake.set()
        (header,) = await done
        return header

    def snapshot(self) -> int:
        """Remember the head; returns the snapshot's id."""
        head = self.chain.store.head
        snapshot_id = self._next_snapshot
        self._next_snapshot += 1
        self._snapshots[snapshot_id] = _Snapshot(
            head.block_number, head.hash, self._time_offset, self._next_timestamp
        )
        return snapshot_id

    async def revert(self, snapshot_id: int) -> bool:
        """Go back to a snapshot; False if there is no such snapshot (or it was used, or an
        earlier revert dropped its block)."""
        snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None:
            return False
        for later in [i for i in self._snapshots if i >= snapshot_id]:
            del self._snapshots[later]
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._requests.append(_RevertRequest(snapshot, done))
        self._wake.set()
        return await done

    async def _revert(self, request: _RevertRequest) -> None:
        """In the writer: rewind to the snapshot's block if it is still canonical, and put the
        clock settings back before anything else is mined."""
        snapshot = request.snapshot
        try:
            await self.chain.rewind(snapshot.number, snapshot.block_hash)
        except InvalidBlock as error:
            log.info("evm_revert refused: %s", error)
            request.done.set_result(False)
            return
        self._time_offset, self._next_timestamp = snapshot.time_offset, snapshot.next_timestamp
        log.info("reverted to block %d 0x%s", snapshot.number, snapshot.block_hash.hex()[:16])
        request.done.set_result(True)

    async def wait_until_mined(self, tx_hash: bytes) -> None:
        """With automine, return once the block holding pool transaction `tx_hash` is committed
        (or it was dropped, or cannot be mined yet, or after `MINED_WAIT_SECONDS`); without
        automine, at once."""
        if not self.automine or tx_hash not in self.chain.mempool:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._mined_waiters.setdefault(tx_hash, [])
        waiters.append(future)
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(future), MINED_WAIT_SECONDS)
        except TimeoutError:
            log.warning("transaction 0x%s not mined within %g s", tx_hash.hex(), MINED_WAIT_SECONDS)
        finally:
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._mined_waiters.pop(tx_hash, None)

    def _release_waiters(self, hashes: list[bytes]) -> None:
        for tx_hash in hashes:
            for future in self._mined_waiters.pop(tx_hash, ()):
                if not future.done():
                    future.set_result(None)

    def set_next_timestamp(self, timestamp: int) -> None:
        """Give the next block this timestamp."""
        self._next_timestamp = timestamp

    def increase_time(self, seconds: int) -> int:
        """Move the chain's clock forward; returns the total offset in seconds. Refuses an offset
        that would date blocks beyond a header's 64-bit timestamp (no block could be mined)."""
        latest = max(int(self.clock()) + self._time_offset, self.chain.store.head.timestamp)
        if latest + seconds >= MAX_TIMESTAMP:
            raise TimestampOutOfRange(
                f"{seconds} s more would date blocks beyond {MAX_TIMESTAMP}, the largest "
                "timestamp a block header holds"
            )
        self._time_offset += seconds
        return self._time_offset

    def set_automine(self, enabled: bool) -> None:
        """Turn mining on each transaction on or off."""
        self.automine = enabled
        if not enabled:
            self._release_waiters(list(self._mined_waiters))
        self._wake.set()

    def is_automine(self) -> bool:
        """Whether a block is mined on each transaction."""
        return self.automine

    def set_interval(self, seconds: float) -> None:
        """Mine on this interval (0 stops interval mining)."""
        self.block_time = seconds
        self._next_tick = self.clock() + seconds if seconds > 0 else None
        self._wake.set()

    def submit_impersonated(self, transaction: ImpersonatedTransaction) -> Hash32:
        """Pool a transaction sent as an impersonated account."""
        return self.chain.submit_impersonated(transaction)

    def drop_transaction(self, tx_hash: bytes) -> bool:
        """Remove a transaction from the pool."""
        return self.chain.mempool.remove(tx_hash)
