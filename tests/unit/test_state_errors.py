"""Typed transaction errors: one class per failure, its numbers as attributes, geth's words."""

import pytest

from openledger.state.errors import (
    AlreadyKnown,
    ExceedsBlockGasLimit,
    FeeCapBelowBaseFee,
    GasLimitReached,
    InsufficientFunds,
    IntrinsicGasTooLow,
    InvalidChainId,
    InvalidTransaction,
    NonceTooHigh,
    NonceTooLow,
    ReplacementUnderpriced,
    SenderNotEoa,
    TipAboveFeeCap,
    UnprotectedTransaction,
)

SENDER = bytes.fromhex("ab" * 20)

CASES = [
    (NonceTooLow(5, 3), "nonce too low: next nonce 5, tx nonce 3", {"next_nonce": 5, "nonce": 3}),
    (
        NonceTooHigh(5, 70, 64),
        "nonce too high: next nonce 5, tx nonce 70, at most 64 ahead",
        {"next_nonce": 5, "nonce": 70, "max_gap": 64},
    ),
    (
        InsufficientFunds.of_account(SENDER, 10, 21),
        f"insufficient funds for gas * price + value: address 0x{'ab' * 20} have 10 want 21",
        {"have": 10, "want": 21},
    ),
    (
        FeeCapBelowBaseFee(SENDER, 7, 9),
        f"max fee per gas less than block base fee: address 0x{'ab' * 20}, maxFeePerGas: 7, "
        "baseFee: 9",
        {"fee_cap": 7, "base_fee": 9},
    ),
    (GasLimitReached(30, 20), "gas limit reached: needs 30, block has 20", {"needed": 30}),
    (IntrinsicGasTooLow(1, 21000), "intrinsic gas too low: have 1, want 21000", {"want": 21000}),
    (
        InvalidChainId(1, 1337),
        "invalid chain id: the transaction is signed for chain 1, this chain is 1337",
        {"signed_for": 1, "chain_id": 1337},
    ),
    (ExceedsBlockGasLimit(9, 8), "exceeds block gas limit: gas 9, block limit 8", {"limit": 8}),
    (
        TipAboveFeeCap(3, 2),
        "max priority fee per gas higher than max fee per gas: maxPriorityFeePerGas 3, "
        "maxFeePerGas 2",
        {"tip": 3, "fee_cap": 2},
    ),
    (
        ReplacementUnderpriced(10, 100, 2),
        "replacement transaction underpriced: raise maxFeePerGas and maxPriorityFeePerGas by at "
        "least 10% (now 100 and 2)",
        {"bump_percent": 10},
    ),
    (
        SenderNotEoa(SENDER, 23),
        f"sender not an eoa: address 0x{'ab' * 20}, len(code): 23",
        {"code_length": 23},
    ),
    (AlreadyKnown(b"\x01" * 32), f"already known: transaction 0x{'01' * 32}", {}),
    (
        UnprotectedTransaction(),
        "only replay-protected (EIP-155) transactions allowed over RPC: sign with a chain id, or "
        "start the node with --rpc.allow-unprotected-txs",
        {},
    ),
]


@pytest.mark.parametrize(("error", "text", "numbers"), CASES, ids=lambda case: type(case).__name__)
def test_each_failure_is_a_class_with_its_numbers_and_geths_words(
    error: InvalidTransaction, text: str, numbers: dict[str, int]
) -> None:
    assert isinstance(error, InvalidTransaction)
    assert str(error) == text
    assert text.startswith(error.reason + ": ")
    assert error.reason == type(error).reason
    for name, value in numbers.items():
        assert getattr(error, name) == value
