"""The whole story with web3.py and with ethers against a real dev node, using only the ABI
compiled from the shipped interfaces: a Datanet, three contributions (two accepted, one rejected),
a version, a model citing it, an agent, two inferences with fees, every balance and event checked
to the wei, and claims."""

import json
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_hash.auto import keccak
from helpers import ThreadedNode, compile_solidity, run_js_suite
from trie import HexaryTrie
from web3 import Web3
from web3.logs import DISCARD

from openledger.attribution import SOLIDITY_DIR
from openledger.attribution.merkle import compute_leaf, compute_root
from openledger.genesis.dev import DEV_MNEMONIC

pytestmark = pytest.mark.slow

ETHER = 10**18
ADDRESSES = {
    "IDatanets": "0x0000000000000000000000000000000000000a01",
    "IModels": "0x0000000000000000000000000000000000000a02",
    "IAgents": "0x0000000000000000000000000000000000000a03",
    "IAttribution": "0x0000000000000000000000000000000000000a04",
}
# The dev genesis' shares (AttributionParams defaults): protocol 10%, model owner 30%, agent 10%.
PROTOCOL_BPS, MODEL_OWNER_BPS, AGENT_BPS = 1000, 3000, 1000

Account.enable_unaudited_hdwallet_features()


@pytest.fixture(scope="module")
def interfaces() -> dict[str, Any]:
    return compile_solidity(*sorted(SOLIDITY_DIR.glob("*.sol")))


def _split(fee: int, weights: list[int], *, agent: bool) -> tuple[int, int, int, list[int]]:
    """The documented split, written out again: (protocol, model owner, agent owner, each
    contribution's share)."""
    protocol, owner = fee * PROTOCOL_BPS // 10_000, fee * MODEL_OWNER_BPS // 10_000
    agent_share = fee * AGENT_BPS // 10_000 if agent else 0
    pool = fee - protocol - owner - agent_share
    parts = [pool * weight // sum(weights) for weight in weights]
    parts[weights.index(max(weights))] += pool - sum(parts)
    return protocol, owner, agent_share, parts


def test_the_story_with_web3py(dev_node: ThreadedNode, interfaces: dict[str, Any]) -> None:
    w3 = Web3(Web3.HTTPProvider(dev_node.url, request_kwargs={"timeout": 30}))
    accounts = w3.eth.accounts
    owner, alice, bob, carol, model_owner, operator, agent_owner = accounts[:7]
    contract = {name: w3.eth.contract(address=Web3.to_checksum_address(address),
                                      abi=interfaces[name]["abi"])
                for name, address in ADDRESSES.items()}  # fmt: skip
    datanets, models = contract["IDatanets"], contract["IModels"]
    agents, attribution = contract["IAgents"], contract["IAttribution"]

    def send(function: Any, sender: str, value: int = 0) -> Any:
        receipt = w3.eth.wait_for_transaction_receipt(
            function.transact({"from": sender, "value": value}), timeout=30
        )
        assert receipt["status"] == 1
        return receipt

    created = send(datanets.functions.createDatanet("Medical QA", "ipfs://meta", 0, True), owner)
    (event,) = datanets.events.DatanetCreated().process_receipt(created, errors=DISCARD)
    assert (event.args.datanetId, event.args.owner) == (1, owner)
    hashes = [keccak(f"document of {name}".encode()) for name in ("alice", "bob", "carol")]
    for contributor, content_hash in zip((alice, bob, carol), hashes, strict=True):
        send(datanets.functions.contribute(1, content_hash, "ipfs://doc", 2048), contributor)
    for contribution, accept in ((1, True), (2, True), (3, False)):
        send(datanets.functions.review(contribution, accept, 90), owner)
    published = send(datanets.functions.publishVersion(1), owner)
    (version,) = datanets.events.VersionPublished().process_receipt(published, errors=DISCARD)
    root = compute_root([compute_leaf(content_hash) for content_hash in hashes[:2]])
    assert (version.args.version, version.args.root, version.args.contributionCount) == (1, root, 2)

    fee = 10**15
    send(models.functions.registerModel("med-7b", "hf://med-7b", [1], [1], operator, fee, 0),
         model_owner)  # fmt: skip
    stake = 100 * ETHER
    send(agents.functions.registerAgent(1, "agent://triage"), agent_owner, value=stake)
    assert agents.functions.getAgent(1).call()[3:5] == [stake, 1]

    paid = [ETHER + 7, ETHER // 2 + 1]
    operator_before = w3.eth.get_balance(operator)
    first = send(attribution.functions.recordInference(
        1, 1, keccak(b"inference 1"), [1, 2], [2, 1], keccak(b"evidence 1")), operator, paid[0])  # fmt: skip
    second = send(attribution.functions.recordInference(
        1, 0, keccak(b"inference 2"), [2, 1], [1, 3], keccak(b"evidence 2")), operator, paid[1])  # fmt: skip

    gas_costs = sum(r["gasUsed"] * r["effectiveGasPrice"] for r in (first, second))
    assert w3.eth.get_balance(operator) == operator_before - sum(paid) - gas_costs
    expected = {account: 0 for account in (alice, bob, model_owner, agent_owner)}
    protocol_total = 0
    for receipt, value, agent, ids, weights in ((first, paid[0], 1, [1, 2], [2, 1]),
                                                (second, paid[1], 0, [2, 1], [1, 3])):  # fmt: skip
        protocol, owner_share, agent_share, parts = _split(value, weights, agent=bool(agent))
        (recorded,) = attribution.events.InferenceRecorded().process_receipt(
            receipt, errors=DISCARD
        )
        assert (recorded.args.fee, recorded.args.agentId) == (value, agent)
        assert (recorded.args.contributionIds, recorded.args.weights) == (ids, weights)
        (split,) = attribution.events.FeeSplit().process_receipt(receipt, errors=DISCARD)
        assert (split.args.protocolShare, split.args.modelOwnerShare,
                split.args.agentOwnerShare, split.args.contributorsShare) == (
            protocol, owner_share, agent_share, sum(parts))  # fmt: skip
        rewarded = attribution.events.ContributionRewarded().process_receipt(
            receipt, errors=DISCARD
        )
        assert [(r.args.contributionId, r.args.amount) for r in rewarded] == list(
            zip(ids, parts, strict=True)
        )
        assert protocol + owner_share + agent_share + sum(parts) == value
        contributors = {1: alice, 2: bob}
        for contribution, part in zip(ids, parts, strict=True):
            expected[contributors[contribution]] += part
        expected[model_owner] += owner_share
        expected[agent_owner] += agent_share
        protocol_total += protocol
    for account, amount in expected.items():
        assert attribution.functions.pendingRewards(account).call() == amount
    # The precompile holds every wei it owes: the contributors' and owners' shares, and the
    # protocol share, which the dev genesis accrues to its validator (unless a staking sink takes
    # it out of the precompile, leaving the validator nothing pending here).
    validator = Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/1'/0/0").address
    protocol_pending = attribution.functions.pendingRewards(validator).call()
    assert protocol_pending in (protocol_total, 0)
    held = w3.eth.get_balance(ADDRESSES["IAttribution"])
    assert held == sum(expected.values()) + protocol_pending
    assert attribution.functions.contributionEarnings(1).call()[1] == 2

    # eth_getProof proves Alice's pending reward against the block's state root.
    slot = keccak(b"rewards.pending" + b"\x00" + keccak(bytes.fromhex(alice[2:])))
    proof = w3.eth.get_proof(ADDRESSES["IAttribution"], [int.from_bytes(slot, "big")], "latest")
    state_root = w3.eth.get_block("latest")["stateRoot"]
    account = rlp.decode(HexaryTrie.get_from_proof(
        bytes(state_root), keccak(bytes.fromhex(ADDRESSES["IAttribution"][2:])),
        [rlp.decode(bytes(node)) for node in proof["accountProof"]]))  # fmt: skip
    stored = HexaryTrie.get_from_proof(account[2], keccak(slot),
                                       [rlp.decode(bytes(node)) for node in
                                        proof["storageProof"][0]["proof"]])  # fmt: skip
    assert rlp.decode(stored, sedes=rlp.sedes.big_endian_int) == expected[alice]

    for contributor in (alice, bob):
        before = w3.eth.get_balance(contributor)
        receipt = send(attribution.functions.claim(), contributor)
        (claimed,) = attribution.events.RewardsClaimed().process_receipt(receipt, errors=DISCARD)
        assert claimed.args.amount == expected[contributor]
        cost = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert w3.eth.get_balance(contributor) == before + expected[contributor] - cost
        assert attribution.functions.pendingRewards(contributor).call() == 0


def test_the_story_with_ethers(dev_node: ThreadedNode, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts.json"
    interfaces = compile_solidity(*sorted(SOLIDITY_DIR.glob("*.sol")))
    artifacts.write_text(json.dumps({name: entry["abi"] for name, entry in interfaces.items()}))
    run_js_suite("attribution.test.mjs", dev_node.url, ABIS=str(artifacts))
