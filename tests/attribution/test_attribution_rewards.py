"""The attribution and rewards precompile: recording inferences, the fee split to the wei, claims,
the protocol sink, and proofs of pending rewards."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import rlp
from attribution_helpers import (
    AGENT_OWNER,
    ALICE,
    BOB,
    FEE,
    MODEL_OWNER,
    OPERATOR,
    OWNER,
    PARAMS,
    PROTOCOL,
    Abi,
    AttributionChain,
    Story,
    content,
    make_genesis,
    tell_story,
)
from eth.abc import StateAPI
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from trie import HexaryTrie

from openledger.attribution import compute_fee_split, make_attribution_precompiles
from openledger.genesis.model import ATTRIBUTION_ADDRESS, ETHER, STAKING_ADDRESS, StakingParams
from openledger.genesis.types import Address
from openledger.state.fork import make_vm_class
from openledger.state.precompile import PrecompileRevert

EVIDENCE = keccak(b"evidence bundle")


def _record(
    chain: AttributionChain, story: Story, label: str, *, agent: int = 0,
    contributions: tuple[int, ...] = (1, 2), weights: tuple[int, ...] = (3, 1), value: int = FEE,
):  # type: ignore[no-untyped-def]  # fmt: skip
    return chain.send(OPERATOR, "attribution", "recordInference", story.model, agent,
                      content(label), list(contributions), list(weights), EVIDENCE, value=value)  # fmt: skip


def test_an_inference_splits_its_fee_to_the_wei(chain: AttributionChain) -> None:
    story = tell_story(chain)
    fee = 10**18 + 7  # odd, so every division rounds
    before = chain.balance(ATTRIBUTION_ADDRESS)
    staked = chain.balance(STAKING_ADDRESS)

    sent = _record(chain, story, "first", agent=story.agent, weights=(2, 1), value=fee)

    protocol, owner, agent = fee // 10, fee * 3 // 10, fee // 10
    pool = fee - protocol - owner - agent
    alice = pool * 2 // 3 + (pool - pool * 2 // 3 - pool // 3)  # the remainder: heaviest
    bob = pool // 3
    assert sent.ok and sent.result == 1
    assert sent.events == [
        ("InferenceRecorded", {
            "inferenceId": 1, "modelId": 1, "agentId": 1, "operator": OPERATOR.address,
            "inferenceHash": content("first"), "evidenceRoot": EVIDENCE, "fee": fee,
            "contributionIds": [1, 2], "weights": [2, 1]}),
        ("FeeSplit", {
            "inferenceId": 1, "protocolShare": protocol, "modelOwner": MODEL_OWNER.address,
            "modelOwnerShare": owner, "agentOwner": AGENT_OWNER.address, "agentOwnerShare": agent,
            "contributorsShare": pool}),
        ("ContributionRewarded", {"inferenceId": 1, "contributionId": 1,
                                  "contributor": ALICE.address, "amount": alice}),
        ("ContributionRewarded", {"inferenceId": 1, "contributionId": 2,
                                  "contributor": BOB.address, "amount": bob}),
    ]  # fmt: skip
    assert protocol + owner + agent + alice + bob == fee
    # The node's sink hands the protocol share to the staking precompile, for validators and
    # their delegators; the other shares stay owed by the attribution precompile.
    assert chain.pending(PROTOCOL) == 0
    # (the block that recorded it also minted one block reward into the staking precompile)
    assert chain.balance(STAKING_ADDRESS) == staked + protocol + StakingParams().block_reward
    assert chain.pending(MODEL_OWNER.address) == owner
    assert chain.pending(AGENT_OWNER.address) == agent
    assert (chain.pending(ALICE.address), chain.pending(BOB.address)) == (alice, bob)
    assert chain.balance(ATTRIBUTION_ADDRESS) == before + fee - protocol


def test_without_an_agent_the_contributors_take_the_agent_share(chain: AttributionChain) -> None:
    story = tell_story(chain)

    sent = _record(chain, story, "no agent", weights=(1, 1), value=10 * FEE)

    split = dict(sent.events[1][1])
    assert split["agentOwner"] == bytes(20) and split["agentOwnerShare"] == 0
    assert split["contributorsShare"] == 6 * FEE
    assert chain.pending(ALICE.address) == chain.pending(BOB.address) == 3 * FEE
    assert chain.pending(AGENT_OWNER.address) == 0


def test_records_views_and_tallies(chain: AttributionChain) -> None:
    story = tell_story(chain)
    _record(chain, story, "one", agent=story.agent)
    block = chain.head.block_number
    _record(chain, story, "two", contributions=(2,), weights=(5,), value=2 * FEE)

    attribution_hash = keccak(abi_encode(["uint256[]", "uint256[]"], [[1, 2], [3, 1]]))
    assert chain.view("attribution", "getInference", 1) == (
        1,
        1,
        OPERATOR.address,
        content("one"),
        EVIDENCE,
        FEE,
        block,
        attribution_hash,
    )
    assert chain.view("attribution", "inferenceByHash", content("two")) == 2
    assert chain.view("attribution", "inferenceByHash", content("three")) == 0
    first = compute_fee_split(PARAMS, FEE, [3, 1], has_agent=True)
    second = compute_fee_split(PARAMS, 2 * FEE, [5], has_agent=False)
    assert chain.view("attribution", "contributionEarnings", 1) == (first.contributions[0], 1)
    assert chain.view("attribution", "contributionEarnings", 2) == (
        first.contributions[1] + second.contributions[0],
        2,
    )
    assert chain.view("attribution", "contributorStats", BOB.address) == (
        2,
        first.contributions[1] + second.contributions[0],
        0,
    )
    assert "no inference 3" in chain.reason(ALICE.address, "attribution", "getInference", 3)


def test_the_whole_value_is_the_fee_even_above_the_price(chain: AttributionChain) -> None:
    story = tell_story(chain)

    sent = _record(chain, story, "tip", value=FEE * 5)

    assert sent.events[0][1]["fee"] == FEE * 5
    assert sent.events[1][1]["protocolShare"] == FEE // 2


def test_claim_pays_the_pending_rewards_once(chain: AttributionChain) -> None:
    story = tell_story(chain)
    _record(chain, story, "one", agent=story.agent)
    owed = chain.pending(ALICE.address)
    before = chain.balance(ALICE.address), chain.balance(ATTRIBUTION_ADDRESS)

    sent = chain.send(ALICE, "attribution", "claim")

    assert sent.ok and sent.result == owed > 0
    assert sent.events == [("RewardsClaimed", {"account": ALICE.address, "amount": owed})]
    assert chain.balance(ALICE.address) == before[0] + owed - sent.fee
    assert chain.balance(ATTRIBUTION_ADDRESS) == before[1] - owed
    assert chain.pending(ALICE.address) == 0
    assert "has no pending rewards" in chain.reason(ALICE.address, "attribution", "claim")


def test_the_precompile_holds_exactly_what_it_owes(chain: AttributionChain) -> None:
    story = tell_story(chain)
    for index in range(3):
        _record(chain, story, f"i{index}", agent=story.agent if index % 2 else 0,
                weights=(index + 1, 7), value=FEE + index)  # fmt: skip
    chain.send(BOB, "attribution", "claim")
    accounts = [PROTOCOL, MODEL_OWNER.address, AGENT_OWNER.address, ALICE.address, BOB.address]

    assert chain.balance(ATTRIBUTION_ADDRESS) == sum(chain.pending(a) for a in accounts)


def test_only_contributions_in_the_cited_version_earn(chain: AttributionChain) -> None:
    story = tell_story(chain)
    chain.send(ALICE, "datanets", "contribute", story.datanet, content("late"), "", 1)
    chain.send(OWNER, "datanets", "review", 4, True, 50)

    assert "contribution 4 is not in version 1 of Datanet 1, which model 1 cites" in chain.reason(
        OPERATOR.address, "attribution", "recordInference", story.model, 0, content("x"), [4],
        [1], EVIDENCE, value=FEE,
    )  # fmt: skip
    chain.send(OWNER, "datanets", "publishVersion", story.datanet)
    chain.send(MODEL_OWNER, "models", "registerModel", "med-7b-v2", "", [1], [2],
               OPERATOR.address, FEE, story.model)  # fmt: skip
    sent = chain.send(OPERATOR, "attribution", "recordInference", 2, 0, content("x"), [4, 1],
                      [1, 1], EVIDENCE, value=FEE)  # fmt: skip
    assert sent.ok, sent.reason


def test_the_pending_reward_is_provable_against_the_state_root(chain: AttributionChain) -> None:
    story = tell_story(chain)
    _record(chain, story, "one")
    slot = int.from_bytes(keccak(b"rewards.pending" + b"\x00" + keccak(ALICE.address)), "big")

    proof = chain.proof(ATTRIBUTION_ADDRESS, [slot])

    owed = chain.pending(ALICE.address)
    assert int(proof["storageProof"][0]["value"], 16) == owed > 0
    nodes = [rlp.decode(bytes.fromhex(node[2:])) for node in proof["accountProof"]]
    account = rlp.decode(HexaryTrie.get_from_proof(chain.head.state_root,
                                                   keccak(ATTRIBUTION_ADDRESS), nodes))  # fmt: skip
    storage_root = account[2]
    assert "0x" + storage_root.hex() == proof["storageHash"]
    nodes = [rlp.decode(bytes.fromhex(node[2:])) for node in proof["storageProof"][0]["proof"]]
    value = HexaryTrie.get_from_proof(storage_root, keccak(slot.to_bytes(32, "big")), nodes)
    assert rlp.decode(value, sedes=rlp.sedes.big_endian_int) == owed


# --- the protocol sink ---------------------------------------------------------------------------

TREASURY = Address(b"\x7e" * 20)


class TreasurySink:
    """Moves the protocol share out of the attribution precompile to a treasury."""

    gas = 0

    def __call__(self, state: StateAPI, amount: int) -> None:
        state.delta_balance(ATTRIBUTION_ADDRESS, -amount)
        state.delta_balance(TREASURY, amount)


class RefusingSink:
    gas = 0

    def __call__(self, state: StateAPI, amount: int) -> None:
        raise PrecompileRevert("no validator can receive the protocol share")


def _chain_with_sink(path: Path, abi: Abi, sink: object) -> AttributionChain:
    vm_class = make_vm_class(make_attribution_precompiles(PARAMS, sink))  # type: ignore[arg-type]
    return AttributionChain.open(path, abi, make_genesis(), vm_class)


@pytest.fixture
def treasury_chain(tmp_path: Path, abi: Abi) -> Iterator[AttributionChain]:
    chain = _chain_with_sink(tmp_path / "treasury", abi, TreasurySink())
    yield chain
    chain.close()


def test_a_sink_receives_the_protocol_share_instead_of_the_protocol_account(
    treasury_chain: AttributionChain,
) -> None:
    story = tell_story(treasury_chain)

    sent = _record(treasury_chain, story, "one", value=ETHER)

    assert sent.ok
    assert treasury_chain.balance(TREASURY) == ETHER // 10
    assert treasury_chain.pending(PROTOCOL) == 0
    assert treasury_chain.balance(ATTRIBUTION_ADDRESS) == ETHER - ETHER // 10


def test_a_refusing_sink_reverts_the_inference(tmp_path: Path, abi: Abi) -> None:
    chain = _chain_with_sink(tmp_path / "refusing", abi, RefusingSink())
    try:
        story = tell_story(chain)
        assert "attribution: no validator can receive the protocol share" in chain.reason(
            OPERATOR.address, "attribution", "recordInference", story.model, 0, content("x"),
            [1], [1], EVIDENCE, value=FEE,
        )  # fmt: skip
    finally:
        chain.close()
