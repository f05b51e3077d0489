"""Impersonation from web3.py: a script acts as an account it has no key for (a whale, a
contract owner) after `anvil_impersonateAccount`, exactly as against Anvil or Hardhat."""

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eth_account import Account
from helpers import CONTRACTS, DEV_ADDRESSES, ThreadedNode, compile_solidity, result, rpc
from web3 import Web3

from openledger.rpc import impersonation
from openledger.rpc.dispatch import Dispatcher, RequestContext

pytestmark = pytest.mark.slow


def _deploy_token(w3: Web3) -> Any:
    artifact = compile_solidity(CONTRACTS / "Token.sol")["Token"]
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx_hash = factory.constructor("Test", "TST", 10**24).transact({"from": DEV_ADDRESSES[0]})
    address = w3.eth.wait_for_transaction_receipt(tx_hash).contractAddress
    return w3.eth.contract(address=address, abi=artifact["abi"])


def _error(url: str, method: str, params: list[Any]) -> dict[str, Any]:
    response = rpc(url, method, params)
    assert "error" in response, f"{method} succeeded"
    return response["error"]  # type: ignore[no-any-return]


def test_an_impersonated_account_without_a_key_moves_its_tokens(tmp_path: Path) -> None:
    whale = Account.create().address  # nobody, the node included, holds its key
    node = ThreadedNode(tmp_path / "node").start()
    try:
        url = node.url
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
        token = _deploy_token(w3)
        funding = token.functions.transfer(whale, 5_000).transact({"from": DEV_ADDRESSES[0]})
        assert w3.eth.wait_for_transaction_receipt(funding).status == 1
        result(url, "anvil_setBalance", [whale, hex(10**18)])

        refused = _error(url, "eth_sendTransaction", [{"from": whale, "to": DEV_ADDRESSES[1]}])
        assert "no key" in refused["message"]

        assert w3.provider.make_request("anvil_impersonateAccount", [whale])["result"] is None
        tx_hash = token.functions.transfer(DEV_ADDRESSES[1], 1_200).transact({"from": whale})
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
        assert receipt.status == 1 and receipt["from"] == whale
        assert token.functions.balanceOf(whale).call() == 3_800
        assert token.functions.balanceOf(DEV_ADDRESSES[1]).call() == 1_200
        assert w3.eth.get_transaction(tx_hash)["from"] == whale
        assert w3.eth.get_transaction_count(whale) == 1
        trace = result(
            url, "debug_traceTransaction", [tx_hash.to_0x_hex(), {"tracer": "callTracer"}]
        )
        assert trace["from"] == whale.lower()

        assert w3.provider.make_request("hardhat_stopImpersonatingAccount", [whale])["result"]
        again = _error(url, "eth_sendTransaction", [{"from": whale, "to": DEV_ADDRESSES[1]}])
        assert "no key" in again["message"]
        result(url, "anvil_autoImpersonateAccount", [True])
        plain = w3.eth.send_transaction({"from": whale, "to": DEV_ADDRESSES[2], "value": 7})
        assert w3.eth.wait_for_transaction_receipt(plain).status == 1
        # A contract can be impersonated too (EIP-3607 does not stop it, as with Anvil).
        result(url, "anvil_setBalance", [token.address, hex(10**18)])
        from_contract = w3.eth.send_transaction(
            {"from": token.address, "to": DEV_ADDRESSES[2], "value": 9}
        )
        assert w3.eth.wait_for_transaction_receipt(from_contract).status == 1
        # A dev account with a key is still signed for, with a real signature.
        signed = w3.eth.send_transaction({"from": DEV_ADDRESSES[0], "to": DEV_ADDRESSES[2]})
        assert w3.eth.wait_for_transaction_receipt(signed).status == 1
        raw = result(url, "eth_getRawTransactionByHash", [signed.to_0x_hex()])
        assert Account.recover_transaction(raw) == DEV_ADDRESSES[0]
    finally:
        node.stop()
    # The sender of an impersonated transaction survives a restart.
    node = ThreadedNode(tmp_path / "node").start()
    try:
        assert (
            result(node.url, "eth_getTransactionByHash", [tx_hash.to_0x_hex()])["from"]
            == whale.lower()
        )
        receipt_json = result(node.url, "eth_getTransactionReceipt", [tx_hash.to_0x_hex()])
        assert receipt_json["from"] == whale.lower()
    finally:
        node.stop()


def test_a_node_without_dev_controls_does_not_know_the_methods() -> None:
    dispatcher = Dispatcher([impersonation.methods])
    context = RequestContext(api=SimpleNamespace(dev=None))
    for method, params in (
        ("anvil_impersonateAccount", ["0x" + "5a" * 20]),
        ("hardhat_impersonateAccount", ["0x" + "5a" * 20]),
        ("anvil_autoImpersonateAccount", [True]),
    ):
        request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        response = asyncio.run(dispatcher.handle_request(request, context))
        assert response is not None and response["error"]["code"] == -32601, method
