"""Errors of the state layer: transactions and blocks that cannot be applied, data directories
that do not match."""

from openledger.genesis.errors import OpenLedgerError


class InvalidTransaction(OpenLedgerError):
    """A transaction that cannot enter the mempool or a block.

    Each failure is a subclass (as execution-specs does it) that carries its numbers. `reason` is
    the short, stable phrase clients match on (geth's wording, which ethers and web3.py
    recognise: "nonce too low", "insufficient funds for gas * price + value", ...); `str()` is
    the reason followed by the details, exactly as geth words it. Code tells failures apart by
    class, never by the text.
    """

    reason: str = "invalid transaction"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class _Refusal(InvalidTransaction):
    """A failure whose reason is fixed by its class."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(type(self).reason, detail)


class OversizedData(_Refusal):
    """The encoded transaction is larger than the pool accepts."""

    reason = "oversized data"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"transaction size {size}, limit {limit}")
        self.size, self.limit = size, limit


class InvalidRlp(_Refusal):
    """The bytes are not one canonically encoded transaction."""

    reason = "invalid RLP"


class UnsupportedTransactionType(_Refusal):
    """An envelope type this chain does not accept (blobs, unknown types)."""

    reason = "transaction type not supported"


class InvalidSender(_Refusal):
    """The signature recovers no sender, or a malleable (high-s) one."""

    reason = "invalid sender"


class IntrinsicGasTooLow(_Refusal):
    """The gas limit is below the intrinsic gas (or the EIP-7623 calldata floor)."""

    reason = "intrinsic gas too low"

    def __init__(self, have: int, want: int) -> None:
        super().__init__(f"have {have}, want {want}")
        self.have, self.want = have, want


class RefusedByEvm(_Refusal):
    """py-evm's own validation refused the transaction (its message is the detail)."""

    reason = "invalid transaction"


class UnprotectedTransaction(_Refusal):
    """A legacy transaction without EIP-155 replay protection, where those are not allowed."""

    reason = "only replay-protected (EIP-155) transactions allowed over RPC"

    def __init__(self) -> None:
        super().__init__("sign with a chain id, or start the node with --rpc.allow-unprotected-txs")


class InvalidChainId(_Refusal):
    """Signed for another chain."""

    reason = "invalid chain id"

    def __init__(self, signed_for: int, chain_id: int) -> None:
        super().__init__(
            f"the transaction is signed for chain {signed_for}, this chain is {chain_id}"
        )
        self.signed_for, self.chain_id = signed_for, chain_id


class ExceedsBlockGasLimit(_Refusal):
    """The gas limit is above the block gas limit: no block can ever hold it."""

    reason = "exceeds block gas limit"

    def __init__(self, gas: int, limit: int) -> None:
        super().__init__(f"gas {gas}, block limit {limit}")
        self.gas, self.limit = gas, limit


class TipAboveFeeCap(_Refusal):
    """`maxPriorityFeePerGas` is above `maxFeePerGas`."""

    reason = "max priority fee per gas higher than max fee per gas"

    def __init__(self, tip: int, fee_cap: int) -> None:
        super().__init__(f"maxPriorityFeePerGas {tip}, maxFeePerGas {fee_cap}")
        self.tip, self.fee_cap = tip, fee_cap


class InitcodeTooLarge(_Refusal):
    """A contract creation whose initcode is above the EIP-3860 limit."""

    reason = "max initcode size exceeded"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"code size {size}, limit {limit}")
        self.size, self.limit = size, limit


class GasLimitReached(_Refusal):
    """The block has not enough gas left for it; a later block may include it."""

    reason = "gas limit reached"

    def __init__(self, needed: int, remaining: int) -> None:
        super().__init__(f"needs {needed}, block has {remaining}")
        self.needed, self.remaining = needed, remaining


class InsufficientFunds(_Refusal):
    """The sender cannot pay gas * price + value (and its earlier pooled transactions)."""

    reason = "insufficient funds for gas * price + value"

    def __init__(self, detail: str, *, have: int | None = None, want: int | None = None) -> None:
        super().__init__(detail)
        self.have, self.want = have, want

    @classmethod
    def of_account(cls, address: bytes, have: int, want: int) -> "InsufficientFunds":
        """The sender at `address` has `have` wei and needs `want`."""
        return cls(f"address 0x{address.hex()} have {have} want {want}", have=have, want=want)


class NonceTooLow(_Refusal):
    """The nonce is already used."""

    reason = "nonce too low"

    def __init__(self, next_nonce: int, nonce: int) -> None:
        super().__init__(f"next nonce {next_nonce}, tx nonce {nonce}")
        self.next_nonce, self.nonce = next_nonce, nonce


class NonceTooHigh(_Refusal):
    """The nonce is further ahead of the account's than the pool keeps."""

    reason = "nonce too high"

    def __init__(self, next_nonce: int, nonce: int, max_gap: int) -> None:
        super().__init__(f"next nonce {next_nonce}, tx nonce {nonce}, at most {max_gap} ahead")
        self.next_nonce, self.nonce, self.max_gap = next_nonce, nonce, max_gap


class SenderNotEoa(_Refusal):
    """The sender has code (EIP-3607); an EIP-7702 delegation still counts as an EOA."""

    reason = "sender not an eoa"

    def __init__(self, address: bytes, code_length: int) -> None:
        super().__init__(f"address 0x{address.hex()}, len(code): {code_length}")
        self.address, self.code_length = address, code_length


class FeeCapBelowBaseFee(_Refusal):
    """`maxFeePerGas` is below the next block's base fee."""

    reason = "max fee per gas less than block base fee"

    def __init__(self, address: bytes, fee_cap: int, base_fee: int) -> None:
        super().__init__(f"address 0x{address.hex()}, maxFeePerGas: {fee_cap}, baseFee: {base_fee}")
        self.fee_cap, self.base_fee = fee_cap, base_fee


class AlreadyKnown(_Refusal):
    """The transaction is in the pool already."""

    reason = "already known"

    def __init__(self, tx_hash: bytes) -> None:
        super().__init__(f"transaction 0x{tx_hash.hex()}")
        self.tx_hash = tx_hash


class TxPoolFull(_Refusal):
    """The pool (or the sender's share of it) has no room that this transaction may take."""

    reason = "txpool is full"


class ReplacementUnderpriced(_Refusal):
    """A transaction with a pooled nonce that does not outbid the pooled one enough."""

    reason = "replacement transaction underpriced"

    def __init__(self, bump_percent: int, fee_cap: int, tip: int) -> None:
        super().__init__(
            f"raise maxFeePerGas and maxPriorityFeePerGas by at least {bump_percent}% (now "
            f"{fee_cap} and {tip})"
        )
        self.bump_percent, self.fee_cap, self.tip = bump_percent, fee_cap, tip


class InvalidBlock(OpenLedgerError):
    """A block that does not follow the chain rules: bad roots, bad header or bad transactions."""


class GenesisMismatch(OpenLedgerError):
    """The data directory was initialised from another genesis file."""


class UnknownBlock(OpenLedgerError):
    """A block asked for by number or hash that this node does not have."""
