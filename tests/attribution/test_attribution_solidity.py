"""Solidity contracts (compiled with solc-js against the shipped interfaces) call the precompiles:
owning a Datanet through methods that return nothing, operating a model, reverting after a
record, and checking a version's Merkle proof with OpenZeppelin's algorithm."""

from typing import Any

import pytest
from attribution_helpers import (
    ALICE,
    BOB,
    OPERATOR,
    OWNER,
    AttributionChain,
    content,
    tell_story,
)
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from helpers import CONTRACTS, compile_solidity

from openledger.attribution import SOLIDITY_DIR
from openledger.attribution.merkle import compute_leaf, compute_proof, compute_root
from openledger.genesis.model import ATTRIBUTION_ADDRESS, ETHER


@pytest.fixture(scope="module")
def artifacts() -> dict[str, Any]:
    return compile_solidity(CONTRACTS / "AttributionClients.sol", include=SOLIDITY_DIR)


def _call(
    chain: AttributionChain, key: Any, address: bytes, signature: str, types: list[str],
    args: list[Any], *, value: int = 0, returns: list[str] | None = None,
):  # type: ignore[no-untyped-def]  # fmt: skip
    data = keccak(signature.encode())[:4] + abi_encode(types, args)
    sent = chain.send_data(key, address, data, value=value)
    if returns is not None and sent.simulation.success:
        sent.result = abi_decode(returns, sent.simulation.output)
    return sent


def test_a_contract_owns_and_curates_a_datanet_through_void_methods(
    chain: AttributionChain, artifacts: dict[str, Any]
) -> None:
    chain.mine()
    steward = chain.deploy(OWNER, artifacts["DatanetSteward"]["bytecode"])

    created = _call(chain, OWNER, steward, "create(string)", ["string"], ["Contract data"],
                    returns=["uint256"])  # fmt: skip
    assert created.ok and created.result == (1,)
    assert chain.view("datanets", "getDatanet", 1)[0] == steward
    assert _call(chain, OWNER, steward, "addCurator(address)", ["address"], [BOB.address]).ok
    assert chain.view("datanets", "isCurator", 1, BOB.address) is True

    for label in ("a", "b"):
        chain.send(ALICE, "datanets", "contribute", 1, content(label), "", 1)
    accepted = _call(
        chain, OWNER, steward, "accept(uint256,uint256)", ["uint256", "uint256"], [1, 77]
    )
    assert accepted.ok
    assert accepted.events == [("ContributionReviewed", {
        "contributionId": 1, "datanetId": 1, "reviewer": steward, "accepted": True,
        "qualityScore": 77})]  # fmt: skip
    published = _call(chain, OWNER, steward, "publish()", [], [], returns=["uint256", "bytes32"])
    assert published.result == (1, compute_root([compute_leaf(content("a"))]))
    assert _call(chain, OWNER, steward, "flag(uint256)", ["uint256"], [2]).ok
    assert chain.view("datanets", "getContribution", 2)[7] is True
    count = chain.simulate(OWNER.address, steward, keccak(b"acceptedCount()")[:4])
    assert abi_decode(["uint256"], count.output) == (1,)


def test_a_contract_operates_a_model_and_claims_its_share(
    chain: AttributionChain, artifacts: dict[str, Any]
) -> None:
    story = tell_story(chain)
    operator = chain.deploy(OPERATOR, artifacts["ModelOperator"]["bytecode"])
    registered = _call(chain, OPERATOR, operator, "registerModel(uint256,uint256,uint256)",
                       ["uint256"] * 3, [story.datanet, story.version, 100], returns=["uint256"])  # fmt: skip
    assert registered.result == (2,)
    assert chain.view("models", "getModel", 2)[0] == operator  # owner and operator

    recorded = _call(chain, OPERATOR, operator, "record(uint256,bytes32,uint256[],uint256[])",
                     ["uint256", "bytes32", "uint256[]", "uint256[]"],
                     [2, content("c1"), [1, 2], [1, 1]], value=1000, returns=["uint256"])  # fmt: skip

    assert recorded.ok and recorded.result == (1,)
    assert chain.view("attribution", "getInference", 1)[2] == operator
    assert chain.pending(operator) == 300  # the model owner's 30%
    claimed = _call(chain, OPERATOR, operator, "claim()", [], [], returns=["uint256"])
    assert claimed.result == (300,)
    assert chain.balance(operator) == 300


def test_a_record_followed_by_a_revert_leaves_nothing(
    chain: AttributionChain, artifacts: dict[str, Any]
) -> None:
    story = tell_story(chain)
    operator = chain.deploy(OPERATOR, artifacts["ModelOperator"]["bytecode"])
    _call(chain, OPERATOR, operator, "registerModel(uint256,uint256,uint256)", ["uint256"] * 3,
          [story.datanet, story.version, 100])  # fmt: skip
    before = chain.fingerprint(), chain.balance(operator)
    balance = chain.balance(OPERATOR.address)

    sent = _call(chain, OPERATOR, operator, "recordThenRevert(uint256,bytes32,uint256[],uint256[])",
                 ["uint256", "bytes32", "uint256[]", "uint256[]"],
                 [2, content("c1"), [1, 2], [1, 1]], value=ETHER)  # fmt: skip

    assert not sent.ok and sent.reason == "the operator changed its mind"
    assert sent.events == []
    assert (chain.fingerprint(), chain.balance(operator)) == before
    assert chain.balance(OPERATOR.address) == balance - sent.fee
    assert chain.view("attribution", "inferenceByHash", content("c1")) == 0
    assert chain.pending(ALICE.address) == 0


def test_a_caught_refusal_inside_a_contract_keeps_the_first_record(
    chain: AttributionChain, artifacts: dict[str, Any]
) -> None:
    story = tell_story(chain)
    operator = chain.deploy(OPERATOR, artifacts["ModelOperator"]["bytecode"])
    _call(chain, OPERATOR, operator, "registerModel(uint256,uint256,uint256)", ["uint256"] * 3,
          [story.datanet, story.version, 100])  # fmt: skip

    sent = _call(chain, OPERATOR, operator, "recordTwice(uint256,bytes32,uint256[],uint256[])",
                 ["uint256", "bytes32", "uint256[]", "uint256[]"],
                 [2, content("c1"), [1], [1]], value=2000, returns=["string"])  # fmt: skip

    assert sent.ok
    assert sent.result[0].startswith(f"attribution: inference 0x{content('c1').hex()} is already")
    assert [name for name, _ in sent.events] == ["InferenceRecorded", "FeeSplit",
                                                "ContributionRewarded"]  # fmt: skip
    # The recorded inference's fee stayed, but its protocol share (10%) went to the stakers.
    assert chain.balance(ATTRIBUTION_ADDRESS) == 1000 - 100
    assert chain.balance(operator) == 1000  # the refused half came back to the contract


def test_a_contract_verifies_a_version_proof_with_openzeppelins_algorithm(
    chain: AttributionChain, artifacts: dict[str, Any]
) -> None:
    chain.mine()
    chain.send(OWNER, "datanets", "createDatanet", "d", "", 0, True)
    labels = [f"doc{index}" for index in range(5)]
    for index, label in enumerate(labels):
        chain.send(ALICE, "datanets", "contribute", 1, content(label), "", 1)
        chain.send(OWNER, "datanets", "review", index + 1, True, 1)
    _, root = chain.send(OWNER, "datanets", "publishVersion", 1).result
    verifier = chain.deploy(OWNER, artifacts["InclusionVerifier"]["bytecode"])
    leaves = [compute_leaf(content(label)) for label in labels]
    selector = keccak(b"verify(bytes32[],bytes32,bytes32)")[:4]

    def verify(proof: list[bytes], contract_root: bytes, content_hash: bytes) -> bool:
        data = selector + abi_encode(["bytes32[]", "bytes32", "bytes32"],
                                     [proof, contract_root, content_hash])  # fmt: skip
        return bool(abi_decode(["bool"], chain.simulate(OWNER.address, verifier, data).output)[0])

    for index, label in enumerate(labels):
        proof = compute_proof(leaves, index)
        assert verify(proof, root, content(label))
        assert chain.view("datanets", "verifyInclusion", 1, 1, content(label), proof)
    assert not verify(compute_proof(leaves, 0), root, content("doc1"))
