"""Every guard of the attribution precompiles: each refused call reverts with its reason and
changes nothing (the precompiles' storage and balances are as before; the sender only pays gas).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from attribution_helpers import (
    AGENT_OWNER,
    ALICE,
    BOB,
    FEE,
    MALLORY,
    MODEL_OWNER,
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

from openledger.genesis.dev import DevKey
from openledger.genesis.model import ATTRIBUTION_ADDRESS, DATANETS_ADDRESS, ETHER
from openledger.state.calls import decode_revert_reason

EVIDENCE = keccak(b"evidence")
MODEL, AGENT = 1, 1


def _inference(
    contributions: list[int], weights: list[int], *, agent: int = 0, label: str = "x",
    model: int = MODEL,
) -> tuple[Any, ...]:  # fmt: skip
    return (model, agent, content(label), contributions, weights, EVIDENCE)


def _flag_bob(chain: AttributionChain) -> None:
    assert chain.send(OWNER, "datanets", "flag", 2, "spam").ok


def _second_datanet(chain: AttributionChain) -> None:
    chain.send(OWNER, "datanets", "createDatanet", "Other", "", 0, True)
    chain.send(ALICE, "datanets", "contribute", 2, content("other"), "", 1)
    chain.send(OWNER, "datanets", "review", 4, True, 50)
    chain.send(OWNER, "datanets", "publishVersion", 2)


def _record_once(chain: AttributionChain) -> None:
    assert chain.send(OPERATOR, "attribution", "recordInference", *_inference([1], [1]),
                      value=FEE).ok  # fmt: skip


def _unstake_agent(chain: AttributionChain) -> None:
    assert chain.send(AGENT_OWNER, "agents", "requestUnstake", AGENT).ok


def _second_model_agent(chain: AttributionChain) -> None:
    chain.send(MODEL_OWNER, "models", "registerModel", "other", "", [1], [1], OPERATOR.address,
               FEE, 0)  # fmt: skip
    chain.send(AGENT_OWNER, "agents", "registerAgent", 2, "", value=chain.params.min_agent_stake)


def _pending_contribution(chain: AttributionChain) -> None:
    chain.send(ALICE, "datanets", "contribute", 1, content("pending"), "", 1)


@dataclass(frozen=True)
class Guard:
    """A refused call: who sends it, to which method, and the reason it must revert with."""

    sender: DevKey
    target: str
    function: str
    args: tuple[Any, ...]
    reason: str
    value: int = 0
    prepare: Callable[[AttributionChain], None] | None = None


GUARDS = {
    # wrong caller
    "record by a non-operator": Guard(
        MALLORY, "attribution", "recordInference", _inference([1], [1]),
        "only the operator of model 1", FEE),
    "record by the model owner": Guard(
        MODEL_OWNER, "attribution", "recordInference", _inference([1], [1]),
        "only the operator of model 1", FEE),
    "review by a stranger": Guard(MALLORY, "datanets", "review", (3, True, 1),
                                  "only the owner or a curator of Datanet 1"),
    "flag by a contributor": Guard(ALICE, "datanets", "flag", (2, "rival"),
                                   "only the owner or a curator of Datanet 1"),
    "curator named by a stranger": Guard(MALLORY, "datanets", "setCurator",
                                         (1, MALLORY.address, True), "only the owner of Datanet 1"),
    "publish by a stranger": Guard(MALLORY, "datanets", "publishVersion", (1,),
                                   "only the owner of Datanet 1"),
    "update by the operator": Guard(OPERATOR, "models", "updateModel",
                                    (1, "", OPERATOR.address, 0), "only the owner of model 1"),
    "unstake by a stranger": Guard(MALLORY, "agents", "requestUnstake", (1,),
                                   "only the owner of agent 1"),
    "withdraw by a stranger": Guard(MALLORY, "agents", "withdrawStake", (1,),
                                    "only the owner of agent 1"),
    # weights and lists
    "a zero weight": Guard(OPERATOR, "attribution", "recordInference",
                           _inference([1, 2], [1, 0]), "contribution 2 has weight zero", FEE),
    "fewer weights": Guard(OPERATOR, "attribution", "recordInference",
                           _inference([1, 2], [1]), "2 contributions but 1 weights", FEE),
    "more weights": Guard(OPERATOR, "attribution", "recordInference",
                          _inference([1], [1, 1]), "1 contributions but 2 weights", FEE),
    "no contribution": Guard(OPERATOR, "attribution", "recordInference", _inference([], []),
                             "an inference credits from 1 to 8 contributions, not 0", FEE),
    "too many contributions": Guard(
        OPERATOR, "attribution", "recordInference", _inference(list(range(1, 10)), [1] * 9),
        "an inference credits from 1 to 8 contributions, not 9", FEE),
    "a contribution twice": Guard(OPERATOR, "attribution", "recordInference",
                                  _inference([1, 1], [1, 1]), "a contribution is listed twice", FEE),
    # contributions that may not earn
    "a rejected contribution": Guard(OPERATOR, "attribution", "recordInference",
                                     _inference([1, 3], [1, 1]), "contribution 3 is not accepted",
                                     FEE),
    "a pending contribution": Guard(OPERATOR, "attribution", "recordInference",
                                    _inference([4], [1]), "contribution 4 is not accepted", FEE,
                                    _pending_contribution),
    "an unknown contribution": Guard(OPERATOR, "attribution", "recordInference",
                                     _inference([77], [1]), "contribution 77 is unknown", FEE),
    "a flagged contribution": Guard(OPERATOR, "attribution", "recordInference",
                                    _inference([1, 2], [1, 1]), "contribution 2 is flagged", FEE,
                                    _flag_bob),
    "an uncited contribution": Guard(OPERATOR, "attribution", "recordInference",
                                     _inference([1, 4], [1, 1]),
                                     "model 1 does not cite Datanet 2 of contribution 4", FEE,
                                     _second_datanet),
    # fee, model, agent, hash
    "a fee below the price": Guard(OPERATOR, "attribution", "recordInference",
                                   _inference([1], [1]),
                                   f"fee of {FEE - 1} wei is below the model's price of {FEE} wei",
                                   FEE - 1),
    "an unknown model": Guard(OPERATOR, "attribution", "recordInference",
                              _inference([1], [1], model=5), "no model 5", FEE),
    "an unknown agent": Guard(OPERATOR, "attribution", "recordInference",
                              _inference([1], [1], agent=4), "no agent 4", FEE),
    "an unstaking agent": Guard(OPERATOR, "attribution", "recordInference",
                                _inference([1], [1], agent=AGENT),
                                "agent 1 is unstaking and may not be named", FEE, _unstake_agent),
    "another model's agent": Guard(OPERATOR, "attribution", "recordInference",
                                   _inference([1], [1], agent=2),
                                   "agent 2 serves model 2, not model 1", FEE,
                                   _second_model_agent),
    "a recorded inference hash": Guard(OPERATOR, "attribution", "recordInference",
                                       _inference([1], [1]), "is already recorded as 1", FEE,
                                       _record_once),
    "a zero inference hash": Guard(OPERATOR, "attribution", "recordInference",
                                   (MODEL, 0, bytes(32), [1], [1], EVIDENCE),
                                   "inference hash is zero", FEE),
    # value
    "value to claim": Guard(ALICE, "attribution", "claim", (), "claim is not payable", 1),
    "value to a view": Guard(ALICE, "attribution", "pendingRewards", (ALICE.address,),
                             "pendingRewards is not payable", 1),
    "nothing to claim": Guard(BOB, "attribution", "claim", (), "has no pending rewards"),
    "agent stake below the minimum": Guard(
        ALICE, "agents", "registerAgent", (MODEL, ""), "is below the minimum", ETHER),
}  # fmt: skip


def _assert_changes_nothing(chain: AttributionChain, sender: DevKey, send: Callable[[], Any]):  # type: ignore[no-untyped-def]
    before, balance = chain.fingerprint(), chain.balance(sender.address)
    sent = send()
    assert not sent.ok
    assert sent.events == []
    assert chain.fingerprint() == before
    assert chain.balance(sender.address) == balance - sent.fee
    return sent


@pytest.mark.parametrize("name", list(GUARDS))
def test_a_refused_call_reverts_with_its_reason_and_changes_nothing(
    chain: AttributionChain, name: str
) -> None:
    guard = GUARDS[name]
    tell_story(chain)
    if guard.prepare:
        guard.prepare(chain)

    sent = _assert_changes_nothing(chain, guard.sender, lambda: chain.send(
        guard.sender, guard.target, guard.function, *guard.args, value=guard.value))  # fmt: skip

    assert sent.reason is not None and sent.reason.startswith(f"{guard.target}: ")
    assert guard.reason in sent.reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "attribution: calldata is shorter than a function selector"),
        (b"\x4e\x71\xd9", "attribution: calldata is shorter than a function selector"),
        (b"\x12\x34\x56\x78", "attribution: unknown function selector 0x12345678"),
    ],
)
def test_short_calldata_and_unknown_selectors_are_refused(
    chain: AttributionChain, data: bytes, reason: str
) -> None:
    tell_story(chain)

    sent = _assert_changes_nothing(
        chain, OPERATOR, lambda: chain.send_data(OPERATOR, ATTRIBUTION_ADDRESS, data, value=FEE)
    )

    assert sent.reason == reason


def test_malformed_calldata_is_refused(chain: AttributionChain) -> None:
    tell_story(chain)
    good = chain.abi.encode("attribution", "recordInference", *_inference([1], [1]))
    # The weights array claims a length far beyond the calldata.
    lying = bytearray(good)
    weights_offset = int.from_bytes(good[4 + 4 * 32 : 4 + 5 * 32], "big")
    lying[4 + weights_offset : 4 + weights_offset + 32] = (10**6).to_bytes(32, "big")

    for data in (good[:-1], good[:40], bytes(lying)):
        sent = _assert_changes_nothing(chain, OPERATOR, lambda data=data: chain.send_data(
            OPERATOR, ATTRIBUTION_ADDRESS, data, value=FEE))  # fmt: skip
        assert sent.reason is not None
        assert "attribution: malformed calldata for recordInference(" in sent.reason


def test_running_out_of_gas_changes_nothing(chain: AttributionChain) -> None:
    tell_story(chain)
    data = chain.abi.encode("attribution", "recordInference", *_inference([1, 2], [1, 1]))
    enough = chain.simulate(OPERATOR.address, ATTRIBUTION_ADDRESS, data, value=FEE).gas_used

    sent = _assert_changes_nothing(chain, OPERATOR, lambda: chain.send_data(
        OPERATOR, ATTRIBUTION_ADDRESS, data, value=FEE, gas=enough - 1))  # fmt: skip

    assert sent.gas_used == enough - 1
    assert chain.send_data(OPERATOR, ATTRIBUTION_ADDRESS, data, value=FEE, gas=enough).ok


# --- call kinds from a contract ------------------------------------------------------------------


@pytest.fixture(scope="module")
def probe_artifact() -> dict[str, Any]:
    return compile_solidity(CONTRACTS / "PrecompileProbe.sol")["PrecompileProbe"]


def _probe(
    chain: AttributionChain, artifact: dict[str, Any], target: bytes, data: bytes, kind: int,
    value: int = 0,
) -> tuple[bool, bytes]:  # fmt: skip
    address = chain.contracts.get("probe") or chain.deploy(OWNER, artifact["bytecode"])
    chain.contracts["probe"] = address
    calldata = keccak(b"probe(address,bytes,uint8)")[:4] + abi_encode(
        ["address", "bytes", "uint8"], [target, data, kind]
    )
    before = chain.fingerprint()
    sent = chain.send_data(OWNER, address, calldata, value=value)
    assert sent.ok
    ok, output = abi_decode(["bool", "bytes"], sent.simulation.output)
    if not ok:
        assert chain.fingerprint() == before
        assert sent.events == []
    return ok, output


@pytest.mark.parametrize(
    ("target", "function", "args"),
    [
        ("datanets", "createDatanet", ("n", "", 0, True)),
        ("datanets", "contribute", (1, content("z"), "", 1)),
        ("attribution", "claim", ()),
    ],
)
def test_staticcall_of_a_writing_method_is_refused(
    chain: AttributionChain, probe_artifact: dict[str, Any], target: str, function: str,
    args: tuple[Any, ...],
) -> None:  # fmt: skip
    tell_story(chain)
    data = chain.abi.encode(target, function, *args)

    ok, output = _probe(chain, probe_artifact, chain.targets[target], data, kind=1)

    assert not ok
    assert decode_revert_reason(output) == (
        f"{target}: {function} changes state and cannot run in a static call"
    )


def test_staticcall_of_a_view_answers(chain: AttributionChain, probe_artifact: dict) -> None:
    tell_story(chain)
    data = chain.abi.encode("datanets", "getVersion", 1, 1)

    ok, output = _probe(chain, probe_artifact, DATANETS_ADDRESS, data, kind=1)

    assert ok and chain.abi.decode("datanets", "getVersion", output)[1] == 2


@pytest.mark.parametrize("kind", [2, 3], ids=["DELEGATECALL", "CALLCODE"])
def test_delegatecall_and_callcode_are_refused(
    chain: AttributionChain, probe_artifact: dict[str, Any], kind: int
) -> None:
    tell_story(chain)
    record = chain.abi.encode("attribution", "recordInference", *_inference([1], [1]))
    view = chain.abi.encode("attribution", "pendingRewards", ALICE.address)

    for data in (record, view):
        ok, output = _probe(chain, probe_artifact, ATTRIBUTION_ADDRESS, data, kind=kind)

        assert not ok
        assert decode_revert_reason(output) == "attribution: DELEGATECALL and CALLCODE are refused"
