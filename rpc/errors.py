"""JSON-RPC errors, with the codes of JSON-RPC 2.0 and EIP-1474.

Errors travel to the client with HTTP status 200, as geth answers, because wallets turn a non-2xx
status into a transport failure.
"""

from typing import Any

from openledger.genesis.errors import OpenLedgerError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# EIP-1474
INVALID_INPUT = -32000
RESOURCE_NOT_FOUND = -32001
RESOURCE_UNAVAILABLE = -32002
TRANSACTION_REJECTED = -32003
METHOD_NOT_SUPPORTED = -32004
LIMIT_EXCEEDED = -32005
# geth: a reverted call or estimate carries the revert data
EXECUTION_REVERTED = 3


class RpcError(OpenLedgerError):
    """An error answered to the client as a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """The JSON-RPC `error` member."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class InvalidParams(RpcError):
    """A parameter is missing or malformed; the message names it by position and name."""

    def __init__(self, index: int, name: str, problem: str) -> None:
        super().__init__(INVALID_PARAMS, f"invalid argument {index} ({name}): {problem}")


def invalid_input(message: str) -> RpcError:
    """A request that is well formed but cannot be served (geth answers -32000)."""
    return RpcError(INVALID_INPUT, message)
