"""The transaction pool.

Transactions wait here between submission and inclusion, organised per sender by nonce:

- *pending* transactions are executable now: their nonces continue the sender's account nonce
  without a gap;
- *queued* transactions wait for a missing nonce.

A transaction with the nonce of one already in the pool replaces it only if it raises both fee
fields by at least `price_bump_percent` (10 %, as geth). The pool has per-sender and total limits;
when full, a new transaction evicts the cheapest tail transaction of another sender if it pays a
higher tip, and is refused otherwise. Block building takes transactions by effective tip across
senders, in nonce order within each sender (`select`).

The pool lives on the event loop thread: RPC handlers add to it and the node loop selects from it
and prunes it after each block; neither touches it from another thread.
"""

import heapq
import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from eth.abc import SignedTransactionAPI

from openledger.genesis.types import Address, Gas, Hash32, Wei
from openledger.state.errors import (
    AlreadyKnown,
    FeeCapBelowBaseFee,
    InsufficientFunds,
    NonceTooHigh,
    NonceTooLow,
    ReplacementUnderpriced,
    SenderNotEoa,
    TxPoolFull,
)
from openledger.state.fork import is_eoa_code
from openledger.state.transactions import compute_effective_tip, compute_upfront_cost


class AccountReader(Protocol):
    """The account fields of the head state the pool checks against."""

    def get_nonce(self, address: Address) -> int: ...

    def get_balance(self, address: Address) -> int: ...

    def get_code(self, address: Address) -> bytes: ...


@dataclass(frozen=True, slots=True)
class PoolLimits:
    """Bounds on what strangers can make the pool hold."""

    max_per_sender: int = 64
    """Most transactions one sender may have in the pool (pending and queued)."""
    max_total: int = 6144
    """Most transactions in the pool."""
    max_nonce_gap: int = 64
    """Farthest a queued nonce may be ahead of the account nonce."""
    price_bump_percent: int = 10
    """Least fee increase for a replacement, in percent."""


DEV_POOL_LIMITS = PoolLimits(max_per_sender=10_000, max_total=50_000, max_nonce_gap=10_000)
"""A dev node's pool: Anvil and Hardhat have no per-sender limit for local accounts, and a script
sending hundreds of transactions from one account without waiting must not be refused. Only the
dev node's own user submits there; a validator's pool keeps the strict defaults."""


@dataclass(frozen=True, slots=True)
class PoolTransaction:
    """A transaction in the pool, with what the pool needs to know about it."""

    transaction: SignedTransactionAPI
    """The decoded, signature-checked transaction."""
    raw: bytes
    """Its canonical encoding, as gossiped and as returned by `eth_getRawTransaction`."""
    hash: Hash32
    """Its hash."""
    sender: Address
    """Its recovered sender."""
    arrival: int
    """Arrival order, to break ties between equal tips (first come, first served)."""
    received_at: float = field(default_factory=time.time)
    """Wall-clock arrival time, for reports."""

    @property
    def nonce(self) -> int:
        """The transaction's nonce."""
        return int(self.transaction.nonce)


@dataclass(frozen=True, slots=True)
class AddResult:
    """What `add` did with a transaction."""

    hash: Hash32
    """The transaction's hash."""
    pending: bool
    """True when it is executable now, False when it waits for a missing nonce."""
    replaced: Hash32 | None = None
    """The hash of the transaction it replaced, if any."""


class Mempool:
    """Pending and queued transactions, per sender."""

    def __init__(self, limits: PoolLimits | None = None) -> None:
        self.limits = limits or PoolLimits()
        self._by_hash: dict[Hash32, PoolTransaction] = {}
        self._by_sender: dict[Address, dict[int, PoolTransaction]] = {}
        self._account_nonce: dict[Address, int] = {}
        self._arrivals = itertools.count()

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._by_hash

    def get(self, tx_hash: bytes) -> PoolTransaction | None:
        """The pooled transaction with `tx_hash`, or None."""
        return self._by_hash.get(Hash32(tx_hash))

    # --- admission ------------------------------------------------------------------------------

    def add(
        self, transaction: SignedTransactionAPI, raw: bytes, state: AccountReader, base_fee: Wei
    ) -> AddResult:
        """Admit a statically valid transaction, checking it against the head state.

        `base_fee` is the base fee of the next block. Raises InvalidTransaction with geth's
        wording when the transaction is refused; the pool is then unchanged.
        """
        tx_hash = Hash32(transaction.hash)
        if tx_hash in self._by_hash:
            raise AlreadyKnown(tx_hash)
        sender = Address(transaction.sender)
        account_nonce = state.get_nonce(sender)
        nonce = int(transaction.nonce)
        if nonce < account_nonce:
            raise NonceTooLow(account_nonce, nonce)
        if nonce > account_nonce + self.limits.max_nonce_gap:
            raise NonceTooHigh(account_nonce, nonce, self.limits.max_nonce_gap)
        code = state.get_code(sender)
        if not is_eoa_code(code) and not getattr(transaction, "impersonated", False):
            raise SenderNotEoa(sender, len(code))
        if transaction.max_fee_per_gas < base_fee:
            raise FeeCapBelowBaseFee(sender, transaction.max_fee_per_gas, base_fee)
        queue = self._by_sender.get(sender, {})
        existing = queue.get(nonce)
        if existing is not None:
            self._check_replacement(existing.transaction, transaction)
        balance = state.get_balance(sender)
        needed = compute_upfront_cost(transaction) + sum(
            compute_upfront_cost(item.transaction) for n, item in queue.items() if n < nonce
        )
        if balance < needed:
            raise InsufficientFunds.of_account(sender, balance, needed)
        if existing is None:
            if len(queue) >= self.limits.max_per_sender:
                raise TxPoolFull(
                    f"account 0x{sender.hex()} already has {len(queue)} transactions in the pool"
                )
            if len(self._by_hash) >= self.limits.max_total:
                self._evict_for(transaction, sender, base_fee)

        entry = PoolTransaction(transaction, raw, tx_hash, sender, next(self._arrivals))
        self._account_nonce[sender] = account_nonce
        if existing is not None:
            del self._by_hash[existing.hash]
        self._by_sender.setdefault(sender, {})[nonce] = entry
        self._by_hash[tx_hash] = entry
        return AddResult(
            tx_hash,
            pending=nonce < self.pending_nonce(sender, account_nonce),
            replaced=existing.hash if existing else None,
        )

    def _check_replacement(self, old: SignedTransactionAPI, new: SignedTransactionAPI) -> None:
        bump = 100 + self.limits.price_bump_percent
        fee_ok = new.max_fee_per_gas * 100 >= old.max_fee_per_gas * bump
        tip_ok = new.max_priority_fee_per_gas * 100 >= old.max_priority_fee_per_gas * bump
        if not (fee_ok and tip_ok):
            raise ReplacementUnderpriced(
                self.limits.price_bump_percent, old.max_fee_per_gas, old.max_priority_fee_per_gas
            )

    def _evict_for(self, incoming: SignedTransactionAPI, sender: Address, base_fee: Wei) -> None:
        """Make room for `incoming` by dropping the last transaction of another sender.

        Only a sender's last transaction may go (dropping one in the middle would strand the
        rest), and only one that `incoming` outbids by effective tip. Queued transactions (not yet
        executable) go before pending ones, the cheapest first; if `incoming` outbids none, it is
        refused.
        """
        tip = compute_effective_tip(incoming, base_fee)
        outbid = []
        for other, queue in self._by_sender.items():
            if other == sender or not queue:
                continue
            tail = queue[max(queue)]
            tail_tip = compute_effective_tip(tail.transaction, base_fee)
            if tail_tip < tip:
                pending = tail.nonce < self.pending_nonce(other, self._account_nonce.get(other, 0))
                outbid.append((int(pending), tail_tip, tail.arrival, tail))
        if not outbid:
            raise TxPoolFull("every transaction the pool could drop pays at least as much")
        self._remove(min(outbid)[3])

    # --- reads ----------------------------------------------------------------------------------

    def pending_nonce(self, sender: Address, account_nonce: int) -> int:
        """The next nonce `sender` should use: its account nonce plus its pending transactions."""
        queue = self._by_sender.get(sender)
        nonce = account_nonce
        if queue:
            while nonce in queue:
                nonce += 1
        return nonce

    def pending_and_queued(
        self,
    ) -> tuple[dict[Address, list[PoolTransaction]], dict[Address, list[PoolTransaction]]]:
        """Pool contents split per sender into pending and queued, each in nonce order."""
        pending: dict[Address, list[PoolTransaction]] = {}
        queued: dict[Address, list[PoolTransaction]] = {}
        for sender, queue in self._by_sender.items():
            boundary = self.pending_nonce(sender, self._account_nonce.get(sender, 0))
            for nonce in sorted(queue):
                target = pending if nonce < boundary else queued
                target.setdefault(sender, []).append(queue[nonce])
        return pending, queued

    def select(self, base_fee: Wei, gas_limit: Gas) -> list[PoolTransaction]:
        """Executable transactions for the next block, best effective tip first.

        Within a sender, nonce order is kept; a sender whose next transaction cannot pay the base
        fee, or does not fit the remaining gas, contributes nothing further.
        """
        heap: list[_HeapItem] = []
        for sender, queue in self._by_sender.items():
            _push_next(heap, self._executable(sender, queue), base_fee)
        selected: list[PoolTransaction] = []
        remaining = gas_limit
        while heap and remaining >= 21000:
            _, _, entry, rest = heapq.heappop(heap)
            if entry.transaction.gas > remaining:
                continue
            selected.append(entry)
            remaining = Gas(remaining - entry.transaction.gas)
            _push_next(heap, rest, base_fee)
        return selected

    def _executable(
        self, sender: Address, queue: dict[int, PoolTransaction]
    ) -> Iterator[PoolTransaction]:
        nonce = self._account_nonce.get(sender, min(queue) if queue else 0)
        while nonce in queue:
            yield queue[nonce]
            nonce += 1

    # --- maintenance ----------------------------------------------------------------------------

    def on_new_head(self, state: AccountReader, senders: Iterable[Address] | None = None) -> int:
        """Drop what the new head made invalid; returns how many transactions were dropped.

        Transactions whose nonce is now used are dropped, and so are those the sender can no
        longer pay for. `senders` limits the work to the accounts a block touched; by default
        every sender in the pool is checked.
        """
        dropped = 0
        for sender in list(senders if senders is not None else self._by_sender):
            queue = self._by_sender.get(sender)
            if not queue:
                continue
            nonce = state.get_nonce(sender)
            self._account_nonce[sender] = nonce
            # A transaction stays only if the sender can pay for it after every earlier one.
            remaining = state.get_balance(sender)
            for entry in [queue[n] for n in sorted(queue)]:
                cost = compute_upfront_cost(entry.transaction)
                if entry.nonce < nonce or cost > remaining:
                    self._remove(entry)
                    dropped += 1
                else:
                    remaining -= cost
        return dropped

    def remove(self, tx_hash: bytes) -> bool:
        """Drop a transaction (dev `anvil_dropTransaction`); True if it was there."""
        entry = self._by_hash.get(Hash32(tx_hash))
        if entry is None:
            return False
        self._remove(entry)
        return True

    def _remove(self, entry: PoolTransaction) -> None:
        self._by_hash.pop(entry.hash, None)
        queue = self._by_sender.get(entry.sender)
        if queue is not None:
            queue.pop(entry.nonce, None)
            if not queue:
                del self._by_sender[entry.sender]
                self._account_nonce.pop(entry.sender, None)


_HeapItem = tuple[int, int, PoolTransaction, Iterator[PoolTransaction]]
"""(negated tip, arrival, a sender's next transaction, the sender's transactions after it); the
arrival order is unique, so the heap never compares further."""


def _push_next(heap: list[_HeapItem], chain: Iterator[PoolTransaction], base_fee: Wei) -> None:
    entry = next(chain, None)
    if entry is None:
        return
    tip = compute_effective_tip(entry.transaction, base_fee)
    if tip >= 0:
        heapq.heappush(heap, (-tip, entry.arrival, entry, chain))
