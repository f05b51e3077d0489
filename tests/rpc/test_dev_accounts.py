"""`anvil_setBalance`, `anvil_setNonce`, `anvil_setCode` and `anvil_setStorageAt` (and their
`hardhat_` names), as Foundry scripts and Hardhat's network helpers call them. Each change lands
in a block of its own, mined at once without pool transactions."""

from eth_account import Account
from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode
from rpc_tools import call, error_of, nonce_of, send, sign, transact

from openledger.rpc.dev import MAX_CODE_SIZE

STRANGER = "0x" + "5a" * 20
RETURN_42 = "0x602a60005260206000f3"
"""PUSH1 42, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN."""
READ_SLOT_7 = "0x60075460005260206000f3"
"""PUSH1 7, SLOAD, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN."""


def _head(url: str) -> int:
    return int(call(url, "eth_blockNumber"), 16)


def test_set_balance_funds_an_account_that_can_then_send(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    stranger = Account.create()
    start = _head(url)
    assert call(url, "anvil_setBalance", [stranger.address, hex(5 * 10**18)]) is True
    assert _head(url) == start + 1
    assert call(url, "eth_getBalance", [stranger.address, "latest"]) == hex(5 * 10**18)
    # The funds are real: the account pays for a transfer.
    receipt = transact(url, "0x" + bytes(stranger.key).hex(), to=DEV_ADDRESSES[1], value=10**18)
    assert receipt["status"] == "0x1"
    assert call(url, "hardhat_setBalance", [STRANGER, "0x0"]) is True
    assert call(url, "eth_getBalance", [STRANGER, "latest"]) == "0x0"


def test_set_code_and_storage_make_a_working_contract(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    call(url, "anvil_setCode", [STRANGER, RETURN_42])
    assert call(url, "eth_getCode", [STRANGER, "latest"]) == RETURN_42
    assert int(call(url, "eth_call", [{"to": STRANGER}, "latest"]), 16) == 42
    call(url, "hardhat_setCode", [STRANGER, READ_SLOT_7])
    value = "0x" + "00" * 31 + "99"
    call(url, "anvil_setStorageAt", [STRANGER, "0x7", value])
    assert call(url, "eth_getStorageAt", [STRANGER, "0x7", "latest"]) == value
    assert int(call(url, "eth_call", [{"to": STRANGER}, "latest"]), 16) == 0x99


def test_set_nonce_moves_the_next_transaction(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    sender = DEV_ADDRESSES[2]
    call(url, "anvil_setNonce", [sender, "0x10"])
    assert nonce_of(url, sender, "latest") == nonce_of(url, sender) == 16
    receipt = transact(url, DEV_KEYS[2], to=DEV_ADDRESSES[3], value=1)
    assert receipt["status"] == "0x1"
    assert call(url, "eth_getTransactionByHash", [receipt["transactionHash"]])["nonce"] == "0x10"


def test_an_account_change_leaves_pending_transactions_pending(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    call(url, "evm_setAutomine", [False])
    pending = send(
        url, sign(DEV_KEYS[0], to=DEV_ADDRESSES[1], value=1, nonce=nonce_of(url, DEV_ADDRESSES[0]))
    )
    start = _head(url)
    call(url, "anvil_setBalance", [STRANGER, "0x1"])
    block = call(url, "eth_getBlockByNumber", [hex(start + 1), False])
    assert block["transactions"] == []
    assert call(url, "eth_getTransactionByHash", [pending])["blockHash"] is None
    call(url, "evm_mine")
    assert call(url, "eth_getTransactionReceipt", [pending])["status"] == "0x1"


def test_bad_arguments_name_the_parameter(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    start = _head(url)
    cases = {
        ("anvil_setBalance", ("0x12", "0x1")): "address",
        ("anvil_setBalance", (STRANGER, "-1")): "balance",
        ("anvil_setNonce", (STRANGER, hex(2**64))): "nonce",
        ("anvil_setCode", (STRANGER, "0x" + "00" * (MAX_CODE_SIZE + 1))): "code",
        ("anvil_setStorageAt", (STRANGER, "0x1", "0x01")): "value",
        ("anvil_setStorageAt", (STRANGER, "0x" + "1" * 65, "0x" + "00" * 32)): "slot",
    }
    for (method, params), name in cases.items():
        error = error_of(url, method, list(params))
        assert error["code"] == -32602 and f"({name})" in error["message"], (method, error)
    assert _head(url) == start  # nothing was mined
