"""Errors of the state layer: transactions and blocks that cannot be applied, data directories
that do not match."""

from openledger.genesis.errors import OpenLedgerError


class InvalidTransaction(OpenLedgerError):
    """A transaction that cannot enter the mempool or a block.

    `reason` is the short, stable phrase clients match on (geth's wording, which ethers and
    web3.py recognise: "nonce too low", "insufficient funds for gas * price + value", ...);
    the message adds the numbers.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class InvalidBlock(OpenLedgerError):
    """A block that does not follow the chain rules: bad roots, bad header or bad transactions."""


class GenesisMismatch(OpenLedgerError):
    """The data directory was initialised from another genesis file."""


class UnknownBlock(OpenLedgerError):
    """A block asked for by number or hash that this node does not have."""
