"""EIP-3607 over JSON-RPC: a raw transaction from an account with code is refused with geth's
"sender not an eoa" (-32003); after an EIP-7702 delegation the account sends again."""

import pytest
from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode
from rpc_tools import call, error_of, nonce_of, sign, transact

pytestmark = pytest.mark.timeout(60)

CONTRACT_CODE = "0x602a60005260206000f3"
DELEGATION = "0xef0100" + DEV_ADDRESSES[1][2:].lower()


def test_the_rpc_refuses_a_sender_with_code(dev_node: ThreadedNode) -> None:
    url, key, sender = dev_node.url, DEV_KEYS[2], DEV_ADDRESSES[2]
    assert call(url, "anvil_setCode", [sender, CONTRACT_CODE]) is True
    raw = sign(key, to=DEV_ADDRESSES[3], value=1, nonce=nonce_of(url, sender))

    error = error_of(url, "eth_sendRawTransaction", [raw])

    assert error["code"] == -32003, error
    assert error["message"].startswith("sender not an eoa")
    assert call(url, "anvil_setCode", [sender, DELEGATION]) is True
    assert transact(url, key, to=DEV_ADDRESSES[3], value=1)["status"] == "0x1"
