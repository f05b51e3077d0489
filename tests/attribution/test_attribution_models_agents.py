"""The models and agents precompiles: registration rules, owner-only updates, agent stakes and
their unbonding."""

from attribution_helpers import (
    AGENT_OWNER,
    ALICE,
    FEE,
    MALLORY,
    MODEL_OWNER,
    OPERATOR,
    OWNER,
    AttributionChain,
    content,
    tell_story,
)

from openledger.genesis.model import AGENTS_ADDRESS

ZERO_ADDRESS = bytes(20)


def _register(chain: AttributionChain, *args: object) -> str:
    return chain.reason(MODEL_OWNER.address, "models", "registerModel", *args)


# --- models --------------------------------------------------------------------------------------


def test_a_model_records_its_owner_operator_fee_and_cited_versions(chain: AttributionChain) -> None:
    tell_story(chain)
    chain.send(OWNER, "datanets", "createDatanet", "Second", "", 1, True)
    chain.send(ALICE, "datanets", "contribute", 2, content("img"), "", 1)
    chain.send(OWNER, "datanets", "review", 4, True, 50)
    chain.send(OWNER, "datanets", "publishVersion", 2)

    sent = chain.send(MALLORY, "models", "registerModel", "med-8b", "hf://med-8b", [2, 1], [1, 1],
                      ALICE.address, 5, 1)  # fmt: skip

    assert sent.ok and sent.result == 2
    assert sent.events == [("ModelRegistered", {
        "modelId": 2, "owner": MALLORY.address, "operator": ALICE.address, "name": "med-8b",
        "uri": "hf://med-8b", "feePerInference": 5, "parentModelId": 1, "datanetIds": [2, 1],
        "datanetVersions": [1, 1]})]  # fmt: skip
    assert chain.view("models", "getModel", 2) == (
        MALLORY.address,
        "med-8b",
        "hf://med-8b",
        ALICE.address,
        5,
        1,
    )
    assert chain.view("models", "getModelDatanets", 2) == ([2, 1], [1, 1])
    assert chain.view("models", "citedVersion", 2, 2) == 1
    assert chain.view("models", "citedVersion", 1, 2) == 0


def test_a_model_may_cite_only_published_versions_once_each(chain: AttributionChain) -> None:
    tell_story(chain)
    chain.send(OWNER, "datanets", "createDatanet", "Unpublished", "", 0, True)
    operator = OPERATOR.address

    assert "Datanet 1 has no published version 2 (latest: 1)" in _register(
        chain, "m", "", [1], [2], operator, 0, 0
    )
    assert "Datanet 1 has no published version 0" in _register(
        chain, "m", "", [1], [0], operator, 0, 0
    )
    assert "Datanet 2 has no published version 1 (latest: 0)" in _register(
        chain, "m", "", [2], [1], operator, 0, 0
    )
    assert "a Datanet is cited twice" in _register(chain, "m", "", [1, 1], [1, 1], operator, 0, 0)
    assert "1 Datanet ids but 2 versions" in _register(chain, "m", "", [1], [1, 1], operator, 0, 0)
    assert "a model cites from 1 to 4 Datanets, not 0" in _register(
        chain, "m", "", [], [], operator, 0, 0
    )
    assert "not 5" in _register(chain, "m", "", [1, 2, 3, 4, 5], [1] * 5, operator, 0, 0)
    assert "operator is the zero address" in _register(chain, "m", "", [1], [1], ZERO_ADDRESS, 0, 0)
    assert "no parent model 2" in _register(chain, "m", "", [1], [1], operator, 0, 2)
    assert "name is empty" in _register(chain, "", "", [1], [1], operator, 0, 0)


def test_only_the_owner_updates_uri_operator_and_fee(chain: AttributionChain) -> None:
    story = tell_story(chain)

    assert "only the owner of model 1" in chain.reason(
        OPERATOR.address, "models", "updateModel", story.model, "x", OPERATOR.address, 0
    )
    assert "operator is the zero address" in chain.reason(
        MODEL_OWNER.address, "models", "updateModel", story.model, "x", ZERO_ADDRESS, 0
    )
    assert "no model 5" in chain.reason(
        MODEL_OWNER.address, "models", "updateModel", 5, "x", OPERATOR.address, 0
    )
    sent = chain.send(MODEL_OWNER, "models", "updateModel", story.model, "hf://v2", ALICE.address,
                      2 * FEE)  # fmt: skip

    assert sent.events == [("ModelUpdated", {"modelId": 1, "operator": ALICE.address,
                                             "uri": "hf://v2", "feePerInference": 2 * FEE})]  # fmt: skip
    assert chain.view("models", "getModel", 1) == (
        MODEL_OWNER.address,
        "med-7b",
        "hf://v2",
        ALICE.address,
        2 * FEE,
        0,
    )


def test_a_shorter_uri_replaces_a_longer_one_entirely(chain: AttributionChain) -> None:
    story = tell_story(chain)
    chain.send(MODEL_OWNER, "models", "updateModel", story.model, "u" * 100, OPERATOR.address, 0)

    chain.send(MODEL_OWNER, "models", "updateModel", story.model, "short", OPERATOR.address, 0)

    assert chain.view("models", "getModel", 1)[2] == "short"
    chain.send(MODEL_OWNER, "models", "updateModel", story.model, "", OPERATOR.address, 0)
    assert chain.view("models", "getModel", 1)[2] == ""


# --- agents --------------------------------------------------------------------------------------


def test_an_agent_is_registered_with_its_stake(chain: AttributionChain) -> None:
    story = tell_story(chain)
    stake = chain.params.min_agent_stake
    before = chain.balance(AGENTS_ADDRESS)

    sent = chain.send(ALICE, "agents", "registerAgent", story.model, "agent://two", value=3 * stake)

    assert sent.ok and sent.result == 2
    assert sent.events == [("AgentRegistered", {"agentId": 2, "owner": ALICE.address, "modelId": 1,
                                                "uri": "agent://two", "stake": 3 * stake})]  # fmt: skip
    assert chain.view("agents", "getAgent", 2) == (ALICE.address, 1, "agent://two", 3 * stake, 1, 0)
    assert chain.balance(AGENTS_ADDRESS) == before + 3 * stake


def test_registration_needs_a_model_and_the_minimum_stake(chain: AttributionChain) -> None:
    story = tell_story(chain)
    stake = chain.params.min_agent_stake

    assert f"stake of {stake - 1} wei is below the minimum {stake}" in chain.reason(
        ALICE.address, "agents", "registerAgent", story.model, "", value=stake - 1
    )
    assert "no model 7" in chain.reason(
        ALICE.address, "agents", "registerAgent", 7, "", value=stake
    )
    assert "no agent 9" in chain.reason(ALICE.address, "agents", "getAgent", 9)


def test_the_stake_is_withdrawn_after_the_unbonding_period(chain: AttributionChain) -> None:
    story = tell_story(chain)
    stake = chain.params.min_agent_stake
    assert "only the owner of agent 1" in chain.reason(
        MALLORY.address, "agents", "requestUnstake", story.agent
    )
    assert "agent 1 is still active: request to unstake first" in chain.reason(
        AGENT_OWNER.address, "agents", "withdrawStake", story.agent
    )

    requested = chain.send(AGENT_OWNER, "agents", "requestUnstake", story.agent)

    until = chain.head.block_number + chain.params.agent_unbonding_blocks
    assert requested.events == [("UnstakeRequested", {"agentId": 1, "owner": AGENT_OWNER.address,
                                                      "stake": stake, "withdrawableAtBlock": until})]  # fmt: skip
    assert chain.view("agents", "getAgent", 1)[3:] == (stake, 2, until)
    assert "agent 1 is already unstaking or withdrawn" in chain.reason(
        AGENT_OWNER.address, "agents", "requestUnstake", story.agent
    )
    chain.mine_until(until - 2)
    assert f"unbonds until block {until}" in chain.reason(
        AGENT_OWNER.address, "agents", "withdrawStake", story.agent
    )
    chain.mine_until(until - 1)  # the withdrawal below is in block `until`
    before = chain.balance(AGENT_OWNER.address), chain.balance(AGENTS_ADDRESS)

    withdrawn = chain.send(AGENT_OWNER, "agents", "withdrawStake", story.agent)

    assert withdrawn.ok and withdrawn.result == stake
    assert withdrawn.events == [("StakeWithdrawn", {"agentId": 1, "owner": AGENT_OWNER.address,
                                                    "amount": stake})]  # fmt: skip
    assert chain.balance(AGENT_OWNER.address) == before[0] + stake - withdrawn.fee
    assert chain.balance(AGENTS_ADDRESS) == before[1] - stake
    assert chain.view("agents", "getAgent", 1)[3:5] == (0, 3)
    assert "the stake of agent 1 was already withdrawn" in chain.reason(
        AGENT_OWNER.address, "agents", "withdrawStake", story.agent
    )
