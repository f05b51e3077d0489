"""Every method uses exactly the gas the README's table documents.

The expected gas is computed from the README (fixed amount, per word of named string arguments,
per item of a named array argument, per stored item counted by this test from what it did), never
from the precompiles' own gas rules, and compared with receipts: `gasUsed` is the intrinsic gas
of the transaction plus the call's gas.
"""

import pytest
from attribution_helpers import (
    AGENT_OWNER,
    ALICE,
    BOB,
    MODEL_OWNER,
    OPERATOR,
    OWNER,
    AttributionChain,
    content,
    expected_gas_used,
    tell_story,
)
from gas_table import SPAN_METHODS, TABLE, GasCheck, WorkCounter, _words

from openledger.attribution.merkle import compute_leaf, compute_proof


def test_the_table_lists_every_method_of_the_shipped_interfaces(chain: AttributionChain) -> None:
    functions = {name for _, name in chain.abi.functions}

    assert set(TABLE) == functions


def test_every_method_uses_the_gas_of_the_table(chain: AttributionChain) -> None:
    chain.mine()
    gas = GasCheck(chain)
    name, meta = "Medical question answering, English", "ipfs://" + "m" * 50
    gas.call(OWNER, "datanets", "createDatanet", name, meta, 0, True)
    gas.call(OWNER, "datanets", "setCurator", 1, BOB.address, True)
    labels = ["a", "b", "c", "d", "e"]
    for index, label in enumerate(labels):
        gas.call(ALICE, "datanets", "contribute", 1, content(label), "ipfs://" + label * index, 10)
    accepted = 0
    for contribution in (1, 2, 3):
        # Accepting leaf n merges one tree node per trailing 1 bit of n.
        merges = (accepted ^ (accepted + 1)).bit_length() - 1
        gas.call(OWNER, "datanets", "review", contribution, True, 70, stored=merges)
        accepted += 1
    gas.call(OWNER, "datanets", "review", 5, False, 0)
    gas.call(OWNER, "datanets", "publishVersion", 1, stored=bin(accepted).count("1"))
    gas.call(BOB, "datanets", "review", 4, True, 70, stored=2)  # leaf 3: two trailing 1 bits
    accepted += 1
    gas.call(OWNER, "datanets", "publishVersion", 1, stored=bin(accepted).count("1"))
    gas.call(BOB, "datanets", "flag", 5, "near-duplicate of contribution 2, see the diff")
    gas.call(ALICE, "datanets", "getDatanet", 1, stored=_words(name) + _words(meta))
    gas.call(ALICE, "datanets", "isCurator", 1, BOB.address)
    gas.call(ALICE, "datanets", "getContribution", 3, stored=_words("ipfs://cc"))
    gas.call(ALICE, "datanets", "contributionByHash", 1, content("a"))
    gas.call(ALICE, "datanets", "getVersion", 1, 2)
    leaves = [compute_leaf(content(label)) for label in ("a", "b", "c", "d")]
    gas.call(ALICE, "datanets", "verifyInclusion", 1, 2, content("b"), compute_proof(leaves, 1))
    gas.call(ALICE, "datanets", "verifyInclusion", 1, 2, content("b"), [])
    gas.call(ALICE, "datanets", "penalties", 1, ALICE.address)

    model_name, model_uri = "med-7b", "hf://openledger/" + "w" * 40
    gas.call(MODEL_OWNER, "models", "registerModel", model_name, model_uri, [1], [2],
             OPERATOR.address, 1000, 0)  # fmt: skip
    old_uri = model_uri
    for new_uri in ("short", "x" * 100, ""):
        cleared = max(0, _words(old_uri) - _words(new_uri))
        gas.call(MODEL_OWNER, "models", "updateModel", 1, new_uri, OPERATOR.address, 1000,
                 stored=cleared)  # fmt: skip
        old_uri = new_uri
    gas.call(ALICE, "models", "getModel", 1, stored=_words(model_name) + _words(old_uri))
    gas.call(ALICE, "models", "getModelDatanets", 1, stored=1)
    gas.call(ALICE, "models", "citedVersion", 1, 1)

    stake = chain.params.min_agent_stake
    gas.call(AGENT_OWNER, "agents", "registerAgent", 1, "agent://" + "t" * 30, value=stake)
    gas.call(AGENT_OWNER, "agents", "registerAgent", 1, "", value=stake)
    gas.call(ALICE, "agents", "getAgent", 1, stored=_words("agent://" + "t" * 30))

    gas.call(OPERATOR, "attribution", "recordInference", 1, 1, content("i1"), [1, 2, 3],
             [5, 3, 2], content("e1"), value=10**18)  # fmt: skip
    gas.call(OPERATOR, "attribution", "recordInference", 1, 0, content("i2"), [4], [1],
             bytes(32), value=1000)  # fmt: skip
    gas.call(ALICE, "attribution", "claim")
    gas.call(ALICE, "attribution", "pendingRewards", ALICE.address)
    gas.call(ALICE, "attribution", "getInference", 1)
    gas.call(ALICE, "attribution", "inferenceByHash", content("i1"))
    gas.call(ALICE, "attribution", "contributionEarnings", 1)
    gas.call(ALICE, "attribution", "contributorStats", ALICE.address)

    gas.call(AGENT_OWNER, "agents", "requestUnstake", 2)
    chain.mine_until(chain.head.block_number + chain.params.agent_unbonding_blocks)
    gas.call(AGENT_OWNER, "agents", "withdrawStake", 2)

    assert gas.mismatches == []
    assert gas.checked == set(TABLE) - SPAN_METHODS  # test_span_gas checks the others


@pytest.mark.parametrize("function", ["recordInference", "createDatanet", "claim"])
def test_one_gas_less_than_the_table_runs_out(chain: AttributionChain, function: str) -> None:
    chain.mine()
    chain.send(OWNER, "datanets", "createDatanet", "d", "", 0, True)
    chain.send(ALICE, "datanets", "contribute", 1, content("a"), "", 1)
    chain.send(OWNER, "datanets", "review", 1, True, 1)
    chain.send(OWNER, "datanets", "publishVersion", 1)
    chain.send(MODEL_OWNER, "models", "registerModel", "m", "", [1], [1], OPERATOR.address, 0, 0)
    chain.send(OPERATOR, "attribution", "recordInference", 1, 0, content("i0"), [1], [1],
               bytes(32), value=100)  # fmt: skip
    calls = {
        "recordInference": (OPERATOR, "attribution", (1, 0, content("i"), [1], [1], bytes(32)),
                            TABLE["recordInference"].fixed + TABLE["recordInference"].per_item),
        "createDatanet": (OWNER, "datanets", ("name", "", 0, True),
                          TABLE["createDatanet"].fixed + TABLE["createDatanet"].per_word),
        "claim": (ALICE, "attribution", (), TABLE["claim"].fixed),
    }  # fmt: skip
    key, target, args, execution = calls[function]
    data = chain.abi.encode(target, function, *args)
    limit = expected_gas_used(data, execution)
    before = chain.fingerprint()

    short = chain.send_data(key, chain.targets[target], data, gas=limit - 1)

    assert not short.ok and short.gas_used == limit - 1
    assert chain.fingerprint() == before
    enough = chain.send_data(key, chain.targets[target], data, gas=limit)
    assert enough.ok and enough.gas_used == limit


# --- the schedule covers the work ----------------------------------------------------------------


WORK = [
    (OWNER, "datanets", "createDatanet", ("Second", "ipfs://" + "m" * 40, 1, False), 0),
    (OWNER, "datanets", "setCurator", (1, BOB.address, True), 0),
    (ALICE, "datanets", "contribute", (1, content("new"), "ipfs://" + "n" * 70, 5), 0),
    (OWNER, "datanets", "review", (4, True, 10), 0),
    (OWNER, "datanets", "publishVersion", (1,), 0),
    (OWNER, "datanets", "flag", (3, "spam"), 0),
    (ALICE, "datanets", "getDatanet", (1,), 0),
    (ALICE, "datanets", "getContribution", (1,), 0),
    (ALICE, "datanets", "getVersion", (1, 1), 0),
    (MODEL_OWNER, "models", "registerModel", ("m2", "u", [1], [1], OPERATOR.address, 1, 1), 0),
    (MODEL_OWNER, "models", "updateModel", (1, "", OPERATOR.address, 5), 0),
    (ALICE, "models", "getModel", (1,), 0),
    (ALICE, "models", "getModelDatanets", (1,), 0),
    (AGENT_OWNER, "agents", "registerAgent", (1, "agent://b"), 10**19),
    (AGENT_OWNER, "agents", "requestUnstake", (2,), 0),
    (ALICE, "agents", "getAgent", (1,), 0),
    (OPERATOR, "attribution", "recordInference",
     (1, 1, content("w"), [1, 2], [1, 2], bytes(32)), 10**18),
    (ALICE, "attribution", "getInference", (1,), 0),
    (ALICE, "attribution", "contributorStats", (ALICE.address,), 0),
]  # fmt: skip


def test_the_schedule_charges_at_least_the_work_each_method_does(
    chain: AttributionChain, monkeypatch: pytest.MonkeyPatch
) -> None:
    tell_story(chain)
    chain.send(OPERATOR, "attribution", "recordInference", 1, 0, content("first"), [1], [1],
               bytes(32), value=10**15)  # fmt: skip
    counter = WorkCounter(monkeypatch)
    undercharged = []
    for key, target, function, args, value in WORK:
        undercharged += counter.undercharged(chain, key, target, function, args, value)
    assert undercharged == []
