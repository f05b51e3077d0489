"""Impersonated transactions (a dev node's `anvil_impersonateAccount`): a transaction sent as an
account whose key nobody holds.

Such a transaction carries a placeholder signature (r is the sender's address, s is 1), which
keeps hashes distinct per sender but recovers to no one; `ImpersonatedTransaction` wraps it with
its declared sender for the pool and the block builder. The builder records the senders of a block's impersonated
transactions under `schema.impersonated_key` in the block's own batch, and the store wraps the transaction again
when it reads the block back, so receipts, traces and `eth_getTransactionByHash` show the
impersonated `from` after a restart too. Only a dev node creates them; a block holding one
cannot be verified by anyone else, as Anvil's and Hardhat's cannot.
"""

from collections.abc import Iterable
from typing import Any

import rlp
from eth.abc import SignedTransactionAPI

from openledger.genesis.types import Address
from openledger.state import schema


class ImpersonatedTransaction:
    """A transaction with a placeholder signature, executed as `sender`."""

    impersonated = True
    """Marks it for the EIP-3607 checks: an impersonated account may have code (a contract
    owner, a multisig), as Anvil allows."""

    def __init__(self, transaction: SignedTransactionAPI, sender: Address) -> None:
        self.transaction = transaction
        """The transaction as the block holds it."""
        self.sender = sender
        """Who it is sent as."""

    def get_sender(self) -> Address:
        return self.sender

    def check_signature_validity(self) -> None:
        return None  # nothing to check: the dev node vouches for the sender

    def __getattr__(self, name: str) -> Any:
        # Called only for what the wrapper lacks; `transaction` itself is missing only in a copy
        # under construction, which must not recurse.
        if name == "transaction":
            raise AttributeError(name)
        return getattr(self.transaction, name)


def make_impersonated_transaction(
    vm_class: Any, sender: Address, fields: dict[str, Any]
) -> ImpersonatedTransaction:
    """A type-2 transaction from `sender` with the placeholder signature.

    `fields` are those of `new_dynamic_fee_transaction` without the signature.
    """
    builder = vm_class.get_transaction_builder()
    transaction = builder.new_dynamic_fee_transaction(
        **fields, y_parity=0, r=int.from_bytes(sender, "big"), s=1
    )
    return ImpersonatedTransaction(transaction, sender)


def record_senders(
    db: Any, block_hash: bytes, transactions: Iterable[SignedTransactionAPI]
) -> None:
    """Write the senders of the impersonated `transactions` of a block, if it has any."""
    entries = [
        [index, transaction.sender]
        for index, transaction in enumerate(transactions)
        if isinstance(transaction, ImpersonatedTransaction)
    ]
    if entries:
        db[schema.impersonated_key(block_hash)] = rlp.encode(entries)


def restore_senders(
    db: Any, block_hash: bytes, transactions: tuple[SignedTransactionAPI, ...]
) -> tuple[SignedTransactionAPI, ...]:
    """`transactions` read from a block, the impersonated ones wrapped with their sender (one
    read per block: blocks without any cost a lookup that finds nothing)."""
    encoded = db.get_or_none(schema.impersonated_key(block_hash))
    if encoded is None:
        return transactions
    restored: list[Any] = list(transactions)
    for index, sender in rlp.decode(encoded):
        position = int.from_bytes(index, "big")
        restored[position] = ImpersonatedTransaction(restored[position], Address(sender))
    return tuple(restored)
