"""web3.py against a real dev node over HTTP: what a Python developer does on day one."""

import pytest
from helpers import CONTRACTS, DEV_ADDRESSES, DEV_KEYS, ThreadedNode, compile_solidity
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError

pytestmark = pytest.mark.slow

ETHER = 10**18


@pytest.fixture
def w3(dev_node: ThreadedNode) -> Web3:
    web3 = Web3(Web3.HTTPProvider(dev_node.url, request_kwargs={"timeout": 30}))
    assert web3.is_connected()
    return web3


@pytest.fixture(scope="module")
def token_artifact() -> dict:
    return compile_solidity(CONTRACTS / "Token.sol")["Token"]


def test_dev_accounts_are_prefunded_and_listed(w3: Web3) -> None:
    assert w3.eth.chain_id == 1337
    assert w3.eth.accounts[:4] == list(DEV_ADDRESSES)
    for account in DEV_ADDRESSES:
        assert w3.eth.get_balance(account) == 10_000 * ETHER


def test_eip1559_and_legacy_transfers(w3: Web3) -> None:
    sender = w3.eth.account.from_key(DEV_KEYS[0])
    recipient = DEV_ADDRESSES[1]
    before = w3.eth.get_balance(recipient)

    dynamic = sender.sign_transaction(
        {
            "type": 2,
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
            "to": recipient,
            "value": ETHER,
            "gas": 21_000,
            "maxFeePerGas": 2 * w3.eth.get_block("latest")["baseFeePerGas"]
            + w3.eth.max_priority_fee,
            "maxPriorityFeePerGas": w3.eth.max_priority_fee,
        }
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(dynamic.raw_transaction), timeout=30
    )
    assert receipt["status"] == 1
    assert receipt["type"] == 2
    assert receipt["gasUsed"] == 21_000

    legacy = sender.sign_transaction(
        {
            "chainId": w3.eth.chain_id,
            "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
            "to": recipient,
            "value": 2 * ETHER,
            "gas": 21_000,
            "gasPrice": w3.eth.gas_price,
        }
    )
    legacy_receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(legacy.raw_transaction), timeout=30
    )
    assert legacy_receipt["status"] == 1
    assert legacy_receipt["type"] == 0
    assert w3.eth.get_balance(recipient) == before + 3 * ETHER

    # The sender paid exactly value plus gas at the effective price of each receipt.
    spent = 3 * ETHER + sum(
        r["gasUsed"] * r["effectiveGasPrice"] for r in (receipt, legacy_receipt)
    )
    assert w3.eth.get_balance(sender.address) == 10_000 * ETHER - spent


def test_erc20_deploy_transfer_logs_and_revert_reason(w3: Web3, token_artifact: dict) -> None:
    deployer = w3.eth.account.from_key(DEV_KEYS[0])
    factory = w3.eth.contract(abi=token_artifact["abi"], bytecode=token_artifact["bytecode"])
    deploy = factory.constructor("Open Test", "OTT", 1_000_000 * ETHER).build_transaction(
        {
            "from": deployer.address,
            "nonce": w3.eth.get_transaction_count(deployer.address, "pending"),
        }
    )
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(deployer.sign_transaction(deploy).raw_transaction), timeout=30
    )
    assert receipt["status"] == 1 and receipt["contractAddress"]
    token = w3.eth.contract(address=receipt["contractAddress"], abi=token_artifact["abi"])
    assert token.functions.symbol().call() == "OTT"
    assert token.functions.balanceOf(deployer.address).call() == 1_000_000 * ETHER

    recipient = DEV_ADDRESSES[2]
    transfer = token.functions.transfer(recipient, 250 * ETHER).build_transaction(
        {
            "from": deployer.address,
            "nonce": w3.eth.get_transaction_count(deployer.address, "pending"),
        }
    )
    transfer_receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(deployer.sign_transaction(transfer).raw_transaction), timeout=30
    )
    assert transfer_receipt["status"] == 1
    assert token.functions.balanceOf(recipient).call() == 250 * ETHER

    logs = w3.eth.get_logs(
        {
            "fromBlock": 0,
            "toBlock": "latest",
            "address": token.address,
            "topics": [Web3.keccak(text="Transfer(address,address,uint256)")],
        }
    )
    events = [token.events.Transfer().process_log(log) for log in logs]
    assert [(e.args["from"], e.args["to"], e.args["value"]) for e in events] == [
        ("0x0000000000000000000000000000000000000000", deployer.address, 1_000_000 * ETHER),
        (deployer.address, recipient, 250 * ETHER),
    ]
    assert logs[1]["transactionHash"] == transfer_receipt["transactionHash"]
    assert logs[1]["address"] == token.address

    # Filtering by the indexed recipient finds only the transfer.
    by_recipient = w3.eth.get_logs(
        {
            "fromBlock": 0,
            "address": token.address,
            "topics": [None, None, "0x" + "00" * 12 + recipient[2:].lower()],
        }
    )
    assert len(by_recipient) == 1

    with pytest.raises(ContractLogicError, match="Token: transfer amount exceeds balance"):
        token.functions.transfer(deployer.address, 1).call({"from": DEV_ADDRESSES[3]})
    with pytest.raises(ContractLogicError, match="Token: transfer amount exceeds balance"):
        token.functions.transfer(deployer.address, 1).estimate_gas({"from": DEV_ADDRESSES[3]})
    with pytest.raises(ContractCustomError):
        token.functions.restricted().call({"from": DEV_ADDRESSES[3]})


def test_node_held_accounts_send_transactions(w3: Web3) -> None:
    """Tutorial style: `eth_sendTransaction` from an unlocked dev account, defaults filled in."""
    before = w3.eth.get_balance(DEV_ADDRESSES[3])
    tx_hash = w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": DEV_ADDRESSES[3], "value": 12345}
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    assert w3.eth.get_balance(DEV_ADDRESSES[3]) == before + 12345
    signature = w3.eth.sign(w3.eth.accounts[0], text="hello")
    from eth_account.messages import encode_defunct

    recovered = w3.eth.account.recover_message(encode_defunct(text="hello"), signature=signature)
    assert recovered == w3.eth.accounts[0]
