"""A dev node's pool takes what scripts send: 100 transactions from one dev account, submitted
without waiting for any receipt, are all mined (Anvil and Hardhat have no per-sender limit).
A validator's pool keeps the strict limits (tests/unit/test_node_mempool.py)."""

from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode
from rpc_tools import call, nonce_of, send, sign, wait_receipt

COUNT = 100


def test_a_hundred_transactions_from_one_account_are_all_mined(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    start = nonce_of(url, DEV_ADDRESSES[0])
    recipient = "0x" + "77" * 20
    hashes = [
        send(url, sign(DEV_KEYS[0], to=recipient, value=1, nonce=start + i)) for i in range(COUNT)
    ]
    receipts = [wait_receipt(url, tx_hash, timeout=60) for tx_hash in hashes]
    assert all(receipt["status"] == "0x1" for receipt in receipts)
    assert call(url, "eth_getBalance", [recipient, "latest"]) == hex(COUNT)
    assert nonce_of(url, DEV_ADDRESSES[0], "latest") == start + COUNT


def test_a_hundred_queued_while_automine_is_off_go_into_one_mine(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    call(url, "evm_setAutomine", [False])
    start = nonce_of(url, DEV_ADDRESSES[1])
    hashes = [
        send(url, sign(DEV_KEYS[1], to=DEV_ADDRESSES[2], value=1, nonce=start + i))
        for i in range(COUNT)
    ]
    assert call(url, "txpool_status")["pending"] == hex(COUNT)
    call(url, "evm_mine")
    blocks = {wait_receipt(url, tx_hash)["blockNumber"] for tx_hash in hashes}
    assert len(blocks) == 1
