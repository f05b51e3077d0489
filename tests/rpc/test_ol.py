"""The `ol` namespace on a dev node: commits, validators, consensus state, node info."""

from eth_hash.auto import keccak
from helpers import DEV_ADDRESSES, ThreadedNode, result, rpc, wait_for

from openledger.consensus.messages import CommitCertificate
from openledger.consensus.signing import validate_vote_signature
from openledger.genesis.dev import derive_dev_validator_key


def test_ol_methods_describe_the_chain(dev_node: ThreadedNode) -> None:
    url = dev_node.url
    assert result(url, "ol_getCommit", ["earliest"]) is None  # genesis has no commit
    tx = result(
        url,
        "eth_sendTransaction",
        [{"from": DEV_ADDRESSES[0], "to": DEV_ADDRESSES[1], "value": "0x1"}],
    )
    wait_for(lambda: result(url, "eth_getTransactionReceipt", [tx]), what="the receipt")
    block = result(url, "eth_getBlockByNumber", ["0x1", False])
    validator = "0x" + derive_dev_validator_key().address.hex()

    commit = result(url, "ol_getCommit", ["0x1"])
    assert commit["blockHash"] == block["hash"] and commit["height"] == "0x1"
    assert [p["validator"] for p in commit["precommits"]] == [validator]
    certificate = CommitCertificate.decode(bytes.fromhex(commit["encoded"][2:]))
    for vote in certificate.precommits:
        validate_vote_signature(vote)  # a real, verifiable signature
    assert commit["hash"] == "0x" + keccak(certificate.encode()).hex()
    # The next block names this commit in its extraData.
    result(url, "evm_mine", [])
    assert result(url, "eth_getBlockByNumber", ["0x2", False])["extraData"] == commit["hash"]

    validators = result(url, "ol_getValidators", ["latest"])
    assert [v["address"] for v in validators["validators"]] == [validator]
    assert validators["totalPower"] == validators["validators"][0]["power"]

    state = result(url, "ol_consensusState", [])
    assert state["validator"] == validator and state["mode"] == "dev"
    info = result(url, "ol_nodeInfo", [])
    assert info["chainId"] == 1337 and info["mode"] == "dev" and info["head"]["number"] == "0x2"
    assert rpc(url, "ol_getCommit", ["0x99"])["error"]["message"] == "header not found"
