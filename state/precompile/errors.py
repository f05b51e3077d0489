"""The one error a precompile handler raises: a revert with a reason."""

from openledger.genesis.errors import OpenLedgerError


class PrecompileRevert(OpenLedgerError):
    """Raised by a handler to revert with an `Error(string)` reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
