"""Decoding raw transactions and the checks that need no state.

`decode_transaction` turns the bytes of `eth_sendRawTransaction` (or a gossiped transaction) into
a py-evm transaction or raises InvalidTransaction saying what is wrong; `check_transaction` applies
the chain's static rules (chain id, replay protection, gas, fee fields, sizes). The checks against
an account's nonce and balance belong to the mempool, which knows the pending state.
"""

import rlp
from eth.abc import SignedTransactionAPI
from eth_keys.exceptions import BadSignature
from eth_utils import ValidationError

from openledger.genesis.types import ChainId, Gas
from openledger.state.errors import (
    ExceedsBlockGasLimit,
    InitcodeTooLarge,
    IntrinsicGasTooLow,
    InvalidChainId,
    InvalidRlp,
    InvalidSender,
    OversizedData,
    RefusedByEvm,
    TipAboveFeeCap,
    UnprotectedTransaction,
    UnsupportedTransactionType,
)
from openledger.state.fork import OpenLedgerVM

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MAX_TRANSACTION_SIZE = 128 * 1024
"""Largest encoded transaction accepted (geth's txMaxSize)."""
MAX_INITCODE_SIZE = 2 * 24576
"""EIP-3860 limit on contract creation code."""
BLOB_TRANSACTION_TYPE = 3
SUPPORTED_TYPES = (0, 1, 2, 4)

# EIP-7623: a transaction must pay at least 10 gas per calldata token (zero byte = 1 token,
# other byte = 4) on top of the 21000 base.
_FLOOR_PER_TOKEN = 10
_BASE_GAS = 21000


def decode_transaction(raw: bytes, vm_class: type[OpenLedgerVM]) -> SignedTransactionAPI:
    """Decode and signature-check an encoded transaction."""
    if len(raw) > MAX_TRANSACTION_SIZE:
        raise OversizedData(len(raw), MAX_TRANSACTION_SIZE)
    if not raw:
        raise InvalidRlp("the transaction is empty")
    # Bytes 0x00..0x7f open an EIP-2718 envelope; a legacy transaction is an RLP list (0xc0 and
    # up), so there is no envelope of type 0.
    if raw[0] <= 0x7F and (raw[0] == 0 or raw[0] not in SUPPORTED_TYPES):
        if raw[0] == BLOB_TRANSACTION_TYPE:
            raise UnsupportedTransactionType(
                "blob transactions (type 3) are refused: this chain has no blob network"
            )
        raise UnsupportedTransactionType(f"unknown type {raw[0]}")
    try:
        transaction = vm_class.get_transaction_builder().decode(raw)
    # TypeError: pyrlp's integer sedes meets a list where a malformed access list has one.
    except (
        rlp.DecodingError,
        rlp.DeserializationError,
        ValidationError,
        ValueError,
        TypeError,
    ) as error:
        raise InvalidRlp(f"cannot decode the transaction: {error}") from error
    if transaction.encode() != raw and rlp.encode(transaction) != raw:
        raise InvalidRlp("the transaction is not canonically encoded")
    # The signature first: py-evm's `validate()` of a legacy transaction also recovers the
    # sender, and a bad signature must be refused with the same reason whatever the type.
    # Recovering the sender is the whole check, done once (the sender is cached on the object):
    # py-evm's `check_signature_validity` would recover the key, verify the signature against
    # it (which a recovered key always passes) and `.sender` would recover it again.
    try:
        _ = transaction.sender
    except (BadSignature, ValidationError, ValueError) as error:
        raise InvalidSender(f"bad signature: {error}") from error
    # EIP-2: a signature with s above n/2 has a twin (n - s) that recovers the same sender, so a
    # third party could re-sign a pending transaction under another hash. py-evm checks this for
    # legacy transactions only; geth refuses it for every type.
    if transaction.s > SECP256K1_N // 2:
        raise InvalidSender("signature s value is above secp256k1n/2 (EIP-2)")
    # py-evm's `validate()` of legacy and type 1 transactions refuses gas below the intrinsic gas
    # in its own words; refuse it with the reason clients match on, whatever the type.
    if transaction.gas < transaction.intrinsic_gas:
        raise IntrinsicGasTooLow(transaction.gas, transaction.intrinsic_gas)
    try:
        transaction.validate()
    except ValidationError as error:
        raise RefusedByEvm(str(error)) from error
    return transaction


def check_transaction(
    transaction: SignedTransactionAPI,
    chain_id: ChainId,
    block_gas_limit: Gas,
    *,
    allow_unprotected: bool = False,
) -> None:
    """Apply the rules that depend only on the transaction and the chain's constants."""
    if transaction.chain_id is None:
        if not allow_unprotected:
            raise UnprotectedTransaction()
    elif transaction.chain_id != chain_id:
        raise InvalidChainId(transaction.chain_id, chain_id)
    if transaction.gas > block_gas_limit:
        raise ExceedsBlockGasLimit(transaction.gas, block_gas_limit)
    needed = max(transaction.intrinsic_gas, compute_floor_gas(transaction.data))
    if transaction.gas < needed:
        raise IntrinsicGasTooLow(transaction.gas, needed)
    if transaction.max_priority_fee_per_gas > transaction.max_fee_per_gas:
        raise TipAboveFeeCap(transaction.max_priority_fee_per_gas, transaction.max_fee_per_gas)
    if not transaction.to and len(transaction.data) > MAX_INITCODE_SIZE:
        raise InitcodeTooLarge(len(transaction.data), MAX_INITCODE_SIZE)


def compute_floor_gas(data: bytes) -> int:
    """EIP-7623's least gas for a transaction carrying `data`."""
    zeros = data.count(0)
    tokens = zeros + 4 * (len(data) - zeros)
    return _BASE_GAS + _FLOOR_PER_TOKEN * tokens


def compute_upfront_cost(transaction: SignedTransactionAPI) -> int:
    """What the sender must hold for the transaction to be included: gas at the fee cap plus
    value."""
    return int(transaction.gas * transaction.max_fee_per_gas + transaction.value)


def compute_effective_tip(transaction: SignedTransactionAPI, base_fee: int) -> int:
    """The priority fee per gas the proposer receives at `base_fee` (negative if below it)."""
    return int(min(transaction.max_priority_fee_per_gas, transaction.max_fee_per_gas - base_fee))
