"""JSON shapes of blocks, transactions, receipts and logs, as the execution-apis schemas define
them.

Receipts carry per-transaction facts that a py-evm receipt does not store (gas used by this
transaction alone, effective gas price, contract address, log indexes across the block): they
are derived here from the block, so the store keeps only the canonical encodings.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp
from eth._utils.address import generate_contract_address
from eth.abc import BlockHeaderAPI, LogAPI, ReceiptAPI, SignedTransactionAPI

from openledger.rpc.codec import address, data, quantity, word


def format_header(header: BlockHeaderAPI, size: int) -> dict[str, Any]:
    """The header fields of a block object."""
    return {
        "number": quantity(header.block_number),
        "hash": data(header.hash),
        "parentHash": data(header.parent_hash),
        "nonce": data(header.nonce),
        "sha3Uncles": data(header.uncles_hash),
        "logsBloom": data(header.bloom.to_bytes(256, "big")),
        "transactionsRoot": data(header.transaction_root),
        "stateRoot": data(header.state_root),
        "receiptsRoot": data(header.receipt_root),
        "miner": address(header.coinbase),
        "difficulty": quantity(header.difficulty),
        "extraData": data(header.extra_data),
        "size": quantity(size),
        "gasLimit": quantity(header.gas_limit),
        "gasUsed": quantity(header.gas_used),
        "timestamp": quantity(header.timestamp),
        "mixHash": data(header.mix_hash),
        "baseFeePerGas": quantity(header.base_fee_per_gas),
        "withdrawalsRoot": data(header.withdrawals_root),
        "blobGasUsed": quantity(header.blob_gas_used),
        "excessBlobGas": quantity(header.excess_blob_gas),
        "parentBeaconBlockRoot": data(header.parent_beacon_block_root),
        "requestsHash": data(header.requests_hash),  # type: ignore[attr-defined]  # Prague header
        "uncles": [],
        "withdrawals": [],
    }


def format_block(
    header: BlockHeaderAPI,
    transactions: Sequence[SignedTransactionAPI],
    *,
    full: bool,
) -> dict[str, Any]:
    """A block object; `full` lists transaction objects instead of hashes."""
    size = len(rlp.encode([header, [_encoded(tx) for tx in transactions], [], []]))
    block = format_header(header, size)
    if full:
        block["transactions"] = [
            format_transaction(tx, header, index) for index, tx in enumerate(transactions)
        ]
    else:
        block["transactions"] = [data(tx.hash) for tx in transactions]
    return block


def format_transaction(
    tx: SignedTransactionAPI,
    header: BlockHeaderAPI | None = None,
    index: int | None = None,
) -> dict[str, Any]:
    """A transaction object; without `header` it is a pending transaction (no block fields)."""
    type_id = transaction_type(tx)
    result: dict[str, Any] = {
        "type": quantity(type_id),
        "hash": data(tx.hash),
        "nonce": quantity(tx.nonce),
        "blockHash": data(header.hash) if header else None,
        "blockNumber": quantity(header.block_number) if header else None,
        "blockTimestamp": quantity(header.timestamp) if header else None,
        "transactionIndex": quantity(index) if index is not None else None,
        "from": address(tx.sender),
        "to": address(tx.to) if tx.to else None,
        "value": quantity(tx.value),
        "gas": quantity(tx.gas),
        "input": data(tx.data),
        "r": quantity(tx.r),
        "s": quantity(tx.s),
    }
    if type_id == 0:
        result["gasPrice"] = quantity(tx.gas_price)
        result["v"] = quantity(tx.v)  # type: ignore[attr-defined]  # legacy transactions have v
        if tx.chain_id is not None:
            result["chainId"] = quantity(tx.chain_id)
        return result
    result["chainId"] = quantity(tx.chain_id)
    result["accessList"] = [
        {"address": address(entry_address), "storageKeys": [word(key) for key in keys]}
        for entry_address, keys in tx.access_list
    ]
    result["yParity"] = quantity(tx.y_parity)
    result["v"] = quantity(tx.y_parity)
    if type_id == 1:
        result["gasPrice"] = quantity(tx.gas_price)
        return result
    result["maxFeePerGas"] = quantity(tx.max_fee_per_gas)
    result["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee_per_gas)
    result["gasPrice"] = quantity(
        effective_gas_price(tx, base_fee(header)) if header else tx.max_fee_per_gas
    )
    if type_id == 4:
        result["authorizationList"] = [
            {
                "chainId": quantity(auth.chain_id),
                "address": address(auth.address),
                "nonce": quantity(auth.nonce),
                "yParity": quantity(auth.y_parity),
                "r": quantity(auth.r),
                "s": quantity(auth.s),
            }
            for auth in tx.authorization_list
        ]
    return result


@dataclass(frozen=True, slots=True)
class BlockReceipts:
    """A block's transactions and receipts, with what formatting them needs."""

    header: BlockHeaderAPI
    """The block's header."""
    transactions: Sequence[SignedTransactionAPI]
    """Its transactions."""
    receipts: Sequence[ReceiptAPI]
    """Their receipts, in the same order."""

    def format_receipt(self, index: int) -> dict[str, Any]:
        """The receipt object of transaction `index`."""
        tx, receipt = self.transactions[index], self.receipts[index]
        previous_gas = self.receipts[index - 1].gas_used if index else 0
        creates = not tx.to
        return {
            "type": quantity(transaction_type(tx)),
            "transactionHash": data(tx.hash),
            "transactionIndex": quantity(index),
            "blockHash": data(self.header.hash),
            "blockNumber": quantity(self.header.block_number),
            "from": address(tx.sender),
            "to": None if creates else address(tx.to),
            "cumulativeGasUsed": quantity(receipt.gas_used),
            "gasUsed": quantity(receipt.gas_used - previous_gas),
            "contractAddress": address(generate_contract_address(tx.sender, tx.nonce))
            if creates
            else None,
            "logs": self.format_logs(index),
            "logsBloom": data(receipt.bloom.to_bytes(256, "big")),
            "status": quantity(1 if receipt.state_root == b"\x01" else 0),
            "effectiveGasPrice": quantity(effective_gas_price(tx, base_fee(self.header))),
        }

    def first_log_index(self, index: int) -> int:
        """Block-wide index of the first log of transaction `index`."""
        return sum(len(receipt.logs) for receipt in self.receipts[:index])

    def format_logs(self, index: int) -> list[dict[str, Any]]:
        """The log objects of transaction `index`."""
        first = self.first_log_index(index)
        tx = self.transactions[index]
        return [
            format_log(log, self.header, tx.hash, index, first + offset)
            for offset, log in enumerate(self.receipts[index].logs)
        ]


def format_log(
    log: LogAPI,
    header: BlockHeaderAPI,
    tx_hash: bytes,
    tx_index: int,
    log_index: int,
    *,
    removed: bool = False,
) -> dict[str, Any]:
    """A log object."""
    return {
        "removed": removed,
        "logIndex": quantity(log_index),
        "transactionIndex": quantity(tx_index),
        "transactionHash": data(tx_hash),
        "blockHash": data(header.hash),
        "blockNumber": quantity(header.block_number),
        "blockTimestamp": quantity(header.timestamp),
        "address": address(log.address),
        "data": data(log.data),
        "topics": [word(topic) for topic in log.topics],
    }


def transaction_type(tx: SignedTransactionAPI) -> int:
    """The EIP-2718 type of a transaction (0 for legacy)."""
    type_id = getattr(tx, "type_id", None)
    return int(type_id) if type_id is not None else 0


def base_fee(header: BlockHeaderAPI) -> int:
    """The base fee of a block of this chain (every block since genesis has one)."""
    return int(header.base_fee_per_gas or 0)


def effective_gas_price(tx: SignedTransactionAPI, base_fee: int) -> int:
    """What the sender paid per gas in a block with `base_fee`."""
    return int(min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas))


def _encoded(tx: SignedTransactionAPI) -> Any:
    # Typed transactions sit in a block body as byte strings, legacy ones as RLP lists.
    return tx.encode() if transaction_type(tx) else tx
