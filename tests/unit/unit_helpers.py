"""Pieces the unit tests share: dev keys, signed transactions, hand-written contracts and a chain
in a temporary LevelDB directory.

Everything here is real: transactions are signed with eth-account, decoded by our decoder and
executed by py-evm; only the clock and the network are absent.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from eth.abc import SignedTransactionAPI
from eth_account import Account as EthAccount
from support.chain import ChainHarness

from openledger.genesis.dev import DevKey, derive_dev_keys, make_dev_genesis
from openledger.genesis.load import with_precompile_code
from openledger.genesis.model import GWEI, Account, Genesis
from openledger.genesis.types import Address, ChainId
from openledger.state.fork import OpenLedgerVM, make_vm_class
from openledger.state.store import ExecutedBlock
from openledger.state.transactions import decode_transaction

CHAIN_ID = ChainId(1337)
VM_CLASS: type[OpenLedgerVM] = make_vm_class()
KEYS: tuple[DevKey, ...] = derive_dev_keys(10)
"""The ten Anvil/Hardhat dev accounts; 0..4 are funded by `make_genesis`, 9 is the validator."""
FUNDED = tuple(key.address for key in KEYS[:5])
PROPOSER = KEYS[9].address
RECIPIENT = Address(bytes.fromhex("00000000000000000000000000000000000000ee"))
"""An address with no account at genesis."""


def address_of(suffix: int) -> Address:
    """A contract address made of zeros and `suffix`, far from precompiles and dev accounts."""
    return Address((0x10000 + suffix).to_bytes(20, "big"))


# --- transactions --------------------------------------------------------------------------------


@cache
def _sign(key_index: int, fields: tuple[tuple[str, Any], ...]) -> bytes:
    # Signing is deterministic (RFC 6979), so equal fields give equal bytes: safe to cache.
    transaction = dict(fields)
    if "accessList" in transaction:
        transaction["accessList"] = [
            {"address": address, "storageKeys": list(keys)}
            for address, keys in transaction["accessList"]
        ]
    signed = EthAccount.sign_transaction(transaction, KEYS[key_index].private_key)
    return bytes(signed.raw_transaction)


def sign(
    sender: int = 0,
    nonce: int = 0,
    *,
    to: bytes | None = RECIPIENT,
    value: int = 0,
    gas: int = 21_000,
    data: bytes = b"",
    tip: int = GWEI,
    fee_cap: int = 2 * GWEI,
    gas_price: int | None = None,
    tx_type: int = 2,
    chain_id: int | None = CHAIN_ID,
    access_list: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> bytes:
    """A raw transaction from dev account `sender`; type 2 unless `tx_type` says otherwise.

    `gas_price` is used by types 0 and 1; `tip` and `fee_cap` by type 2. A legacy transaction
    with `chain_id=None` is not replay protected.
    """
    fields: dict[str, Any] = {"nonce": nonce, "gas": gas, "value": value, "data": data}
    if to is not None:
        fields["to"] = to
    if chain_id is not None:
        fields["chainId"] = chain_id
    if tx_type == 2:
        fields.update(type=2, maxPriorityFeePerGas=tip, maxFeePerGas=fee_cap)
    else:
        fields["gasPrice"] = gas_price if gas_price is not None else 2 * GWEI
        if tx_type == 1:
            fields["type"] = 1
    if access_list:
        fields["accessList"] = access_list
    return _sign(sender, tuple(sorted(fields.items())))


def decode(raw: bytes) -> SignedTransactionAPI:
    """A raw transaction decoded by our decoder."""
    return decode_transaction(raw, VM_CLASS)


def tx(sender: int = 0, nonce: int = 0, **fields: Any) -> SignedTransactionAPI:
    """A signed, decoded transaction (see `sign`)."""
    return decode(sign(sender, nonce, **fields))


# --- hand-written contracts ----------------------------------------------------------------------


def push20(address: bytes) -> str:
    """PUSH20 `address`, as hex."""
    return "73" + address.hex()


# PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN: returns the word 42.
RETURN_42 = bytes.fromhex("602a60005260206000f3")
# Reverts with its own calldata: CALLDATACOPY(0, 0, CALLDATASIZE), REVERT(0, CALLDATASIZE).
REVERT_WITH_CALLDATA = bytes.fromhex("36600060003736" + "6000fd")
# Returns SLOAD(CALLDATALOAD(0)).
READ_SLOT = bytes.fromhex("60003554" + "60005260206000f3")
# Returns BALANCE(CALLER).
READ_CALLER_BALANCE = bytes.fromhex("3331" + "60005260206000f3")
# Clears slots 0, 1 and 2: 3 x 4800 gas of refund, more than the fifth of the gas it may return.
CLEAR_SLOTS = bytes.fromhex("6000600055" + "6000600155" + "6000600255" + "00")
# Sets slots 1 and 2 from zero: 2 x 22100 gas.
SET_TWO_SLOTS = bytes.fromhex("6001600155" + "6001600255" + "00")
# LOG2 with no data and topics CALLDATALOAD(0), CALLDATALOAD(32).
EMIT_LOG2 = bytes.fromhex("602035" + "600035" + "60006000a2" + "00")
# JUMPDEST, PUSH1 0, JUMP: loops until the gas runs out.
LOOP_FOREVER = bytes.fromhex("5b600056")


def forward_all_gas_to(callee: bytes) -> bytes:
    """Code that CALLs `callee` with all its gas (63/64 of it reaches the callee) and reverts
    when the call fails."""
    call = "6000" * 5 + push20(callee) + "5a" + "f1"  # CALL(GAS, callee, 0, 0, 0, 0, 0)
    jumpdest = len(call) // 2 + 8  # after PUSH1 dest, JUMPI, REVERT(0, 0)
    code = call + f"60{jumpdest:02x}" + "57" + "60006000fd" + "5b00"  # JUMPI; REVERT; JUMPDEST STOP
    return bytes.fromhex(code)


RETURNER = address_of(1)
REVERTER = address_of(2)
SLOT_READER = address_of(3)
BALANCE_READER = address_of(4)
REFUNDER = address_of(5)
SLOT_SETTER = address_of(6)
FORWARDER = address_of(7)
EMITTER_A = address_of(8)
EMITTER_B = address_of(9)
LOOPER = address_of(10)

CONTRACTS: Mapping[Address, Account] = {
    RETURNER: Account(code=RETURN_42),
    REVERTER: Account(code=REVERT_WITH_CALLDATA),
    SLOT_READER: Account(code=READ_SLOT, storage=((0, 7), (1, 9))),
    BALANCE_READER: Account(code=READ_CALLER_BALANCE),
    REFUNDER: Account(code=CLEAR_SLOTS, storage=((0, 1), (1, 1), (2, 1))),
    SLOT_SETTER: Account(code=SET_TWO_SLOTS),
    FORWARDER: Account(code=forward_all_gas_to(SLOT_SETTER)),
    EMITTER_A: Account(code=EMIT_LOG2),
    EMITTER_B: Account(code=EMIT_LOG2),
    LOOPER: Account(code=LOOP_FOREVER),
}


# --- a chain on disk -----------------------------------------------------------------------------


def make_genesis(**changes: Any) -> Genesis:
    """The dev genesis of the tests: accounts 0..4 funded, account 9 validates, the contracts
    above deployed; `changes` replace Genesis fields."""
    base = make_dev_genesis(CHAIN_ID, FUNDED, (PROPOSER,))
    alloc = with_precompile_code({**dict(base.alloc), **CONTRACTS})
    return replace(base, **{"alloc": alloc, **changes})


@dataclass
class LocalChain(ChainHarness):
    """A chain store in a temporary directory and the means to add blocks to it (the node's build
    path: `support.chain`), sealed by the validator `KEYS[9]`."""

    @classmethod
    def open(cls, path: Path, genesis: Genesis | None = None) -> "LocalChain":
        """Open (or create) the chain in `path`."""
        return cls.open_chain(path, genesis or make_genesis(), VM_CLASS, KEYS[9].private_key)

    def add_block(
        self, raws: Sequence[bytes] = (), certificate: bytes | None = None
    ) -> ExecutedBlock:
        """Execute the next block and commit it (with `certificate`, by default the sealer's)."""
        executed = self.execute(raws)
        self.commit(executed, certificate)
        return executed

    def balance(self, address: bytes) -> int:
        """Balance of `address` at the head."""
        return int(self.store.state_at(self.store.head).get_balance(Address(address)))

    def nonce(self, address: bytes) -> int:
        """Nonce of `address` at the head."""
        return int(self.store.state_at(self.store.head).get_nonce(Address(address)))
