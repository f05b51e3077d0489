"""A small web3-free client of a node's JSON-RPC, for the command line: calls of the attribution
precompiles' views and transactions that wait for their receipts.

The ABI comes from the precompiles' own method tables and events (`attribution.datanets`,
`attribution.models`, `attribution.rewards`, `attribution.events`), the single source of truth
the Solidity interfaces are checked against, so no user writes ABI code. Transactions are EIP-1559,
signed locally with eth-account; gas is estimated first, so a transaction that would revert is
never sent and its reason is reported in one line.
"""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.keystore import read_keystore, read_password_file
from openledger.state.precompile import Event, Signature

RECEIPT_TIMEOUT = 120.0
"""Seconds a transaction may take to be mined before the command gives up."""
TIP = 10**9
"""Priority fee offered per gas (1 gwei)."""
GAS_MARGIN = 1.25
"""Gas limit sent, as a multiple of the node's estimate (a block's state may differ a little)."""


class ChainClientError(OpenLedgerError):
    """The node is unreachable, answered an error, or a transaction reverted."""


@dataclass(frozen=True, slots=True)
class Interface:
    """One precompile's address, method table and events."""

    name: str
    address: bytes
    signatures: Sequence[Signature]
    events: Sequence[Event] = ()

    def _method(self, method: str) -> Signature:
        for signature in self.signatures:
            if signature[0] == method:
                return signature
        raise ChainClientError(f"{self.name} has no method {method}")

    def encode(self, method: str, *args: Any) -> bytes:
        """Calldata of `method(args)`."""
        name, inputs, _, _ = self._method(method)
        types = [kind for _, kind in inputs]
        selector = _selector(f"{name}({','.join(types)})")
        return selector + abi_encode(types, list(args))

    def decode(self, method: str, output: bytes) -> tuple[Any, ...]:
        """The results of `method` from its return data."""
        return tuple(abi_decode(list(self._method(method)[2]), output))

    def logs(self, receipt: dict[str, Any], event: Event) -> list[dict[str, Any]]:
        """The `event`s this precompile emitted in `receipt`, decoded by parameter name."""
        return [
            decode_log(event, log)
            for log in receipt.get("logs", [])
            if int(log["address"], 16) == int.from_bytes(self.address, "big")
            and log["topics"]
            and bytes.fromhex(log["topics"][0][2:]) == event.topic
        ]


def decode_log(event: Event, log: dict[str, Any]) -> dict[str, Any]:
    """One log of `event` (as JSON-RPC returns it), decoded by parameter name."""
    topics = [bytes.fromhex(topic[2:]) for topic in log["topics"][1:]]
    data_types = [kind for _, kind, indexed in event.inputs if not indexed]
    data_values = iter(abi_decode(data_types, bytes.fromhex(log["data"][2:])))
    decoded: dict[str, Any] = {}
    for name, kind, indexed in event.inputs:
        decoded[name] = abi_decode([kind], topics.pop(0))[0] if indexed else next(data_values)
    return decoded


class ChainClient:
    """JSON-RPC over HTTP to one node."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self.timeout = timeout
        self._id = 0
        self._chain_id: int | None = None

    def request(self, method: str, params: list[Any]) -> Any:
        """The result of one JSON-RPC call; an error answer raises `ChainClientError`."""
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        request = urllib.request.Request(self.url, data=body.encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ChainClientError(f"the node at {self.url} answered HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ChainClientError(f"cannot reach the node at {self.url}: {reason}") from None
        except ValueError:
            raise ChainClientError(f"the node at {self.url} answered something not JSON") from None
        if "error" in answer:
            raise ChainClientError(str(answer["error"].get("message", answer["error"])))
        return answer.get("result")

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.request("eth_chainId", []), 16)
        return self._chain_id

    def view(
        self, interface: Interface, method: str, *args: Any, block: int | None = None
    ) -> tuple[Any, ...]:
        """The results of a view, at `block` (default: the latest); a revert raises its reason."""
        call = {"to": _hex(interface.address), "data": _hex(interface.encode(method, *args))}
        tag = "latest" if block is None else hex(block)
        try:
            output = self.request("eth_call", [call, tag])
        except ChainClientError as error:
            raise ChainClientError(_reason(error)) from None
        return interface.decode(method, bytes.fromhex(output[2:]))

    def transact(
        self, key: bytes, interface: Interface, method: str, *args: Any, value: int = 0
    ) -> dict[str, Any]:
        """Send `method(args)` from `key`'s account, wait for its receipt and return it; a
        revert (estimated or mined) raises `ChainClientError` with the precompile's reason."""
        sender = Account.from_key(key).address
        call = {
            "from": sender,
            "to": to_checksum_address(interface.address),
            "data": _hex(interface.encode(method, *args)),
            "value": hex(value),
        }
        try:
            gas = int(self.request("eth_estimateGas", [call, "pending"]), 16)
        except ChainClientError as error:
            raise ChainClientError(f"{method} refused: {_reason(error)}") from None
        base_fee = int(self.request("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
        fields = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": int(self.request("eth_getTransactionCount", [sender, "pending"]), 16),
            "to": call["to"],
            "value": value,
            "data": call["data"],
            "gas": int(gas * GAS_MARGIN),
            "maxFeePerGas": 2 * base_fee + TIP,
            "maxPriorityFeePerGas": TIP,
        }
        raw = bytes(Account.sign_transaction(fields, key).raw_transaction)
        tx_hash = self.request("eth_sendRawTransaction", [_hex(raw)])
        receipt = self._wait_for_receipt(tx_hash)
        if int(receipt["status"], 16) != 1:
            raise ChainClientError(f"{method} reverted in {tx_hash}: {self._replay(call, receipt)}")
        return receipt

    def get_logs(
        self, interface: Interface, event: Event, *topics: int | None, to_block: int | None = None
    ) -> list[Any]:
        """Every `event` of `interface` from genesis to `to_block` (default: the latest) whose
        indexed parameters (in order) equal `topics` (None: any), decoded, in chain order."""
        filter_topics: list[str | None] = [_hex(event.topic)]
        filter_topics += [None if t is None else _hex(t.to_bytes(32, "big")) for t in topics]
        query = {"address": _hex(interface.address), "fromBlock": "0x0", "toBlock": "latest" if to_block is None else hex(to_block),
                 "topics": filter_topics}  # fmt: skip
        return [decode_log(event, log) for log in self.request("eth_getLogs", [query])]

    def _wait_for_receipt(self, tx_hash: str) -> dict[str, Any]:
        deadline = time.monotonic() + RECEIPT_TIMEOUT
        delay = 0.02
        while time.monotonic() < deadline:
            receipt = self.request("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return dict(receipt)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise ChainClientError(
            f"transaction {tx_hash} was not mined within {RECEIPT_TIMEOUT:.0f} s"
        )

    def _replay(self, call: dict[str, Any], receipt: dict[str, Any]) -> str:
        """The revert reason of a mined transaction: its call replayed on its block's parent."""
        parent = hex(int(receipt["blockNumber"], 16) - 1)
        try:
            self.request("eth_call", [call, parent])
        except ChainClientError as error:
            return _reason(error)
        return "reverted (out of gas or the state changed since the estimate)"


def load_key(key_file: Path, password_file: Path | None = None) -> bytes:
    """The private key in `key_file`: a hex private key, or a keystore unlocked by the first line
    of `password_file`."""
    try:
        text = key_file.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ChainClientError(f"cannot read the key file {key_file}: {error}") from None
    if text.startswith("{"):
        if password_file is None:
            raise ChainClientError(f"{key_file} is a keystore: give --password-file")
        return read_keystore(key_file, read_password_file(password_file))
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    try:
        key = bytes.fromhex(digits)
        Account.from_key(key)
    except ValueError:
        raise ChainClientError(
            f"{key_file} holds neither a 32-byte hex private key nor a keystore"
        ) from None
    return key


def address_of(key: bytes) -> str:
    """The checksummed address of a private key."""
    return str(Account.from_key(key).address)


def _reason(error: ChainClientError) -> str:
    message = str(error)
    return message.removeprefix("execution reverted: ")


def _selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def _hex(data: bytes) -> str:
    return "0x" + data.hex()
