"""What the RPC conformance suite does to a dev node: sign and send transactions, wait for their
receipts, deploy and call the test token, and start a node with non-default RPC options.

Every wait has a deadline; every transaction is signed locally with `eth_account` and sent as
raw bytes, as a wallet does.
"""

import json
import time
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from helpers import CONTRACTS, DEV_KEYS, ThreadedNode, compile_solidity, rpc

CHAIN_ID = 1337
GWEI = 10**9
ETHER = 10**18
TOKEN_SUPPLY = 1_000_000 * ETHER
TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ERROR_SELECTOR = "0x08c379a0"
UNKNOWN_HASH = "0x" + "ab" * 32


def call(url: str, method: str, params: list[Any] | None = None) -> Any:
    """The result of one call; fails the test on a JSON-RPC error."""
    response = rpc(url, method, params)
    assert "error" not in response, f"{method}{params} failed: {response['error']}"
    return response["result"]


def error_of(url: str, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    """The error object of one call; fails the test if the call succeeds."""
    response = rpc(url, method, params)
    assert "error" in response, f"{method}{params} succeeded with {response.get('result')!r}"
    return response["error"]  # type: ignore[no-any-return]


def sign(key: str, **fields: Any) -> str:
    """Sign a transaction; fields not given get an EIP-1559 transfer's defaults."""
    defaults: dict[str, Any] = {"chainId": CHAIN_ID, "value": 0, "gas": 21_000}
    if "gasPrice" not in fields:
        defaults.update(type=2, maxPriorityFeePerGas=GWEI, maxFeePerGas=10 * GWEI)
    merged = {**defaults, **fields}
    if merged.get("to") is not None:
        merged["to"] = to_checksum_address(merged["to"])
    signed = Account.sign_transaction({k: v for k, v in merged.items() if v is not None}, key)
    return "0x" + bytes(signed.raw_transaction).hex()


def nonce_of(url: str, address: str, block: str = "pending") -> int:
    """The account nonce at `block`."""
    return int(call(url, "eth_getTransactionCount", [address, block]), 16)


def send(url: str, raw: str) -> str:
    """Submit a raw transaction; returns its hash."""
    return call(url, "eth_sendRawTransaction", [raw])  # type: ignore[no-any-return]


def wait_receipt(url: str, tx_hash: str, timeout: float = 20) -> dict[str, Any]:
    """The receipt of `tx_hash`, once it is mined."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        receipt = call(url, "eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            return receipt  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise TimeoutError(f"no receipt for {tx_hash} after {timeout} s")


def transact(url: str, key: str, **fields: Any) -> dict[str, Any]:
    """Sign with the sender's next nonce, send, and wait for the receipt (automine)."""
    sender = Account.from_key(key).address
    fields.setdefault("nonce", nonce_of(url, sender))
    return wait_receipt(url, send(url, sign(key, **fields)))


# --- the test token ------------------------------------------------------------------------------


def token_deploy_data() -> str:
    """Creation code of `tests/contracts/Token.sol` with `TOKEN_SUPPLY` minted to the deployer
    (compiled once per process by `compile_solidity`)."""
    bytecode = compile_solidity(CONTRACTS / "Token.sol")["Token"]["bytecode"]
    bytecode = bytecode if bytecode.startswith("0x") else "0x" + bytecode
    args = abi_encode(["string", "string", "uint256"], ["Test Token", "TST", TOKEN_SUPPLY])
    return bytecode + args.hex()


def deploy_token(url: str, key: str = DEV_KEYS[0]) -> str:
    """Deploy the token from `key`; returns its address."""
    receipt = transact(url, key, to=None, data=token_deploy_data(), gas=3_000_000)
    assert receipt["status"] == "0x1", receipt
    return receipt["contractAddress"]  # type: ignore[no-any-return]


def calldata(signature: str, types: list[str] | None = None, args: list[Any] | None = None) -> str:
    """ABI-encoded call data of `signature` (e.g. "transfer(address,uint256)")."""
    selector = keccak(text=signature)[:4]
    return "0x" + (selector + abi_encode(types or [], args or [])).hex()


def transfer_data(to: str, amount: int) -> str:
    """Call data of `transfer(to, amount)`."""
    return calldata("transfer(address,uint256)", ["address", "uint256"], [to, amount])


def topic_of(address: str) -> str:
    """An address as an indexed event topic."""
    return "0x" + "00" * 12 + address[2:].lower()


# --- nodes with non-default RPC options ----------------------------------------------------------


ConfiguredNode = ThreadedNode
"""A dev node whose `rpc` options override the dev defaults (`cors_domains` included)."""


def start_node(datadir: Path, **rpc_options: Any) -> ConfiguredNode:
    """Start a dev node with these `RpcConfig` options; the caller stops it."""
    node = ConfiguredNode(datadir, rpc=rpc_options)
    node.start()
    return node


def envelope(method: str, params: list[Any] | None = None, request_id: Any = 1) -> dict[str, Any]:
    """A JSON-RPC request object."""
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []}


def dumps(value: Any) -> str:
    """Compact JSON."""
    return json.dumps(value, separators=(",", ":"))
