"""The transfer load, signed ahead of time, and its in-process execution rate.

`sign_transfers` builds the benchmark's EIP-1559 transfers before any clock starts.
`measure_execution` is the reference for the end-to-end number: it applies the same transactions,
in the same blocks, with `BlockBuilder` on a fresh `ChainStore`, with no RPC, pool, process
boundary or event loop in between. The chain is assembled as `open_dev_node` assembles it (the
same genesis transformation, VM class, precompiles and block hooks), so that the two measure the
same execution. Nothing here talks to the node under test.
"""

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from eth_hash.auto import keccak
from eth_keys import keys

from openledger.genesis.dev import DevKey, derive_dev_validator_key, make_dev_genesis
from openledger.genesis.types import Address, ChainId, Hash32, Wei
from openledger.node.chainspec import build_genesis, build_vm_class
from openledger.state.execute import BlockBuilder, Chain
from openledger.state.fork import BlockInputs, make_vm_class
from openledger.state.store import ChainStore
from openledger.state.transactions import decode_transaction

GWEI = 10**9
TRANSFER_GAS = 21_000
MAX_FEE_PER_GAS = Wei(20 * GWEI)
"""Twenty times the genesis base fee, which light blocks only lower."""
MAX_PRIORITY_FEE_PER_GAS = Wei(GWEI)
TRANSFER_VALUE = Wei(GWEI)


@dataclass(frozen=True, slots=True)
class SignedTransfer:
    """One pre-signed transfer."""

    raw: bytes
    """Its EIP-2718 encoding, as `eth_sendRawTransaction` takes it."""
    hash: Hash32
    """Its transaction hash."""
    sender: Address
    """The dev account that signed it."""
    nonce: int
    """Its nonce (the sender's transfers are numbered from 0)."""


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """How fast the transfers execute in-process."""

    transfers: int
    """Transfers executed."""
    blocks: int
    """Blocks they were executed in."""
    execute_seconds: float
    """Time in `BlockBuilder` (add every transaction, then `finish`: hooks and roots)."""
    commit_seconds: float
    """Time in `ChainStore.commit` (one LevelDB batch per block)."""
    execute_cpu_seconds: float
    """CPU time of the execution part (equal to `execute_seconds` on an idle core)."""

    @property
    def execute_tps(self) -> float:
        """Transfers per second of execution alone: the reference."""
        return self.transfers / self.execute_seconds

    @property
    def execute_commit_tps(self) -> float:
        """Transfers per second of execution plus commit."""
        return self.transfers / (self.execute_seconds + self.commit_seconds)


def sign_transfers(
    senders: Sequence[DevKey], count: int, chain_id: ChainId
) -> tuple[tuple[SignedTransfer, ...], ...]:
    """`count` transfers spread evenly over `senders`; one tuple per sender, in nonce order.

    Each sender pays its own recipient, a fresh address, so after the first block every transfer
    touches two existing accounts, as most payments do.
    """
    builder = make_vm_class().get_transaction_builder()
    batches: list[tuple[SignedTransfer, ...]] = []
    for index, sender in enumerate(senders):
        key = keys.PrivateKey(sender.private_key)
        recipient = compute_recipient(index)
        share = count // len(senders) + (1 if index < count % len(senders) else 0)
        batch = []
        for nonce in range(share):
            unsigned = builder.new_unsigned_dynamic_fee_transaction(
                chain_id=chain_id,
                nonce=nonce,
                max_priority_fee_per_gas=MAX_PRIORITY_FEE_PER_GAS,
                max_fee_per_gas=MAX_FEE_PER_GAS,
                gas=TRANSFER_GAS,
                to=recipient,
                value=TRANSFER_VALUE,
                data=b"",
                access_list=(),
            )
            signed = unsigned.as_signed_transaction(key)
            batch.append(
                SignedTransfer(signed.encode(), Hash32(signed.hash), sender.address, nonce)
            )
        batches.append(tuple(batch))
    return tuple(batches)


def sign_deployment(deployer: DevKey, init_code: bytes, chain_id: ChainId) -> SignedTransfer:
    """A contract creation from `deployer` with nonce 0."""
    return sign_message(deployer, 0, b"", init_code, 200_000, chain_id)


def sign_message(
    sender: DevKey, nonce: int, to: bytes, data: bytes, gas: int, chain_id: ChainId
) -> SignedTransfer:
    """An EIP-1559 transaction without value: a call of `to`, or a creation when `to` is empty."""
    builder = make_vm_class().get_transaction_builder()
    unsigned = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=chain_id,
        nonce=nonce,
        max_priority_fee_per_gas=MAX_PRIORITY_FEE_PER_GAS,
        max_fee_per_gas=MAX_FEE_PER_GAS,
        gas=gas,
        to=to,
        value=0,
        data=data,
        access_list=(),
    )
    signed = unsigned.as_signed_transaction(keys.PrivateKey(sender.private_key))
    return SignedTransfer(signed.encode(), Hash32(signed.hash), sender.address, nonce)


def compute_recipient(index: int) -> Address:
    """The address sender `index` pays: fresh, and never a precompile or a dev account."""
    return Address(keccak(b"openledger-bench-recipient" + index.to_bytes(4, "big"))[12:])


def measure_execution(
    blocks: Sequence[Sequence[bytes]], funded: Sequence[Address], chain_id: ChainId
) -> ExecutionResult:
    """Execute `blocks` (raw transactions, block by block) on a fresh chain and time it.

    Decoding and signature recovery happen before the clock, as the node does them when a
    transaction is submitted, not when it is executed.
    """
    validator = derive_dev_validator_key()
    genesis = make_dev_genesis(
        chain_id, tuple(funded), (validator.address,), timestamp=int(time.time())
    )
    vm_class = build_vm_class(genesis)
    chain = Chain(vm_class, chain_id)
    decoded = [[decode_transaction(raw, vm_class) for raw in block] for block in blocks]
    for block in decoded:
        for transaction in block:
            _ = transaction.sender  # cached on the object, as in the node's pool
    execute_seconds = commit_seconds = execute_cpu_seconds = 0.0
    with tempfile.TemporaryDirectory(prefix="openledger-bench-exec-") as directory:
        store = ChainStore.open(Path(directory) / "chaindata", build_genesis(genesis), vm_class)
        try:
            for transactions in decoded:
                parent = store.head
                started, started_cpu = time.perf_counter(), time.process_time()
                builder = BlockBuilder(
                    chain,
                    store.db,
                    parent,
                    coinbase=validator.address,
                    timestamp=parent.timestamp + 1,
                    extra_data=b"",
                    mix_hash=bytes(32),
                    # As in the dev chain: block 1 has no parent commit, later blocks carry
                    # the validator's own precommit.
                    inputs=BlockInputs(
                        validator.address,
                        (validator.address,) if parent.block_number > 0 else (),
                    ),
                )
                for transaction in transactions:
                    builder.add_transaction(transaction)
                executed = builder.finish()
                built, built_cpu = time.perf_counter(), time.process_time()
                store.commit(executed, None)
                execute_seconds += built - started
                execute_cpu_seconds += built_cpu - started_cpu
                commit_seconds += time.perf_counter() - built
        finally:
            store.close()
    return ExecutionResult(
        transfers=sum(len(block) for block in blocks),
        blocks=len(blocks),
        execute_seconds=execute_seconds,
        commit_seconds=commit_seconds,
        execute_cpu_seconds=execute_cpu_seconds,
    )
