"""Verbatim-span attribution with web3.py against a real dev node (the dev genesis' defaults: a
100-block window, a 10 ether minimum bond), using only the ABI compiled from the shipped
interfaces: three contributors' real texts, a span model, an honest record paid to the wei after
the window and not before, and a record omitting a long copied span challenged by a third party
with the proof the engine's audit builds."""

from pathlib import Path
from typing import Any

import pytest
from helpers import ThreadedNode, compile_solidity
from span_helpers import CONTENTS, OUTPUT
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from openledger.attribution import SOLIDITY_DIR
from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.audit import audit
from openledger.attribution.engine.evidence import SpanParams, encode_evidence
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import trace
from openledger.attribution.span_proofs import challenge_call

pytestmark = pytest.mark.slow

ETHER = 10**18
ADDRESSES = {"IDatanets": "0x0000000000000000000000000000000000000a01",
             "IModels": "0x0000000000000000000000000000000000000a02",
             "IAttribution": "0x0000000000000000000000000000000000000a04"}  # fmt: skip


def test_a_span_record_is_paid_after_its_window_and_a_wrong_one_is_slashed(
    dev_node: ThreadedNode, tmp_path: Path
) -> None:
    interfaces = compile_solidity(*sorted(SOLIDITY_DIR.glob("*.sol")))
    w3 = Web3(Web3.HTTPProvider(dev_node.url, request_kwargs={"timeout": 30}))
    owner, alice, bob, carol, mallory, model_owner, operator, auditor = w3.eth.accounts[:8]
    contract = {name: w3.eth.contract(address=Web3.to_checksum_address(address),
                                      abi=interfaces[name]["abi"])
                for name, address in ADDRESSES.items()}  # fmt: skip
    datanets, models, attribution = (contract[n] for n in ("IDatanets", "IModels", "IAttribution"))

    def send(function: Any, sender: str, value: int = 0) -> Any:
        receipt = w3.eth.wait_for_transaction_receipt(
            function.transact({"from": sender, "value": value}), timeout=30
        )
        assert receipt["status"] == 1
        return receipt

    send(datanets.functions.createDatanet("Prose", "ipfs://p", 0, True), owner)
    for cid, contributor in zip(CONTENTS, (alice, bob, carol, mallory), strict=True):
        data = CONTENTS[cid]
        send(datanets.functions.contribute(1, compute_content_root(data), "", len(data)),
             contributor)  # fmt: skip
        send(datanets.functions.review(cid, True, 80), owner)
    send(datanets.functions.publishVersion(1), owner)
    fee, bond = 10**16, 10 * ETHER
    send(models.functions.registerSpanModel("prose", "", [1], [1], operator, fee, 0), model_owner,
         bond)  # fmt: skip
    pinned = models.functions.getSpanParams(1).call()
    params, window = SpanParams(*pinned[:3]), pinned[4]
    index = SpanIndex(tmp_path / "index")
    index.sync([Content(cid, data) for cid, data in CONTENTS.items()])
    honest = trace(index, OUTPUT, params)
    assert honest.weights.keys() == {1, 2}

    def record(entries: Any, label: bytes) -> Any:
        return send(attribution.functions.recordSpanInference(
            1, 0, Web3.keccak(label), compute_content_root(OUTPUT), len(OUTPUT),
            encode_evidence(entries)), operator, fee)  # fmt: skip

    receipt = record(honest.entries, b"honest")
    rewarded = attribution.events.ContributionRewarded().process_receipt(receipt, errors=DISCARD)
    shares = {r.args.contributionId: r.args.amount for r in rewarded}
    pool = fee - fee * 1000 // 10_000 - fee * 3000 // 10_000
    assert sum(shares.values()) == pool and shares.keys() == {1, 2}
    assert attribution.functions.lockedRewards(alice).call() == shares[1]
    with pytest.raises(ContractLogicError, match="past their challenge window"):
        attribution.functions.claim().call({"from": alice})

    wrong = [e for e in honest.entries if e.contribution_id == 1]  # leaves Bob's span out
    wrong_receipt = record(wrong, b"wrong")
    (recorded,) = attribution.events.SpanInferenceRecorded().process_receipt(wrong_receipt,
                                                                             errors=DISCARD)  # fmt: skip
    inference = recorded.args.inferenceId
    verdict = audit(index, OUTPUT, wrong, CONTENTS, params)
    assert verdict.challenge is not None
    method, args = challenge_call(verdict.challenge, inference, wrong, OUTPUT, CONTENTS)
    voided = send(getattr(attribution.functions, method)(*args), auditor)
    (event,) = attribution.events.InferenceVoided().process_receipt(voided, errors=DISCARD)
    assert (event.args.kind, event.args.slashed) == (4, 10 * fee)
    assert attribution.functions.pendingRewards(auditor).call() == 10 * fee // 2
    assert models.functions.getAttributionMethod(1).call()[1] == bond - 10 * fee

    w3.provider.make_request("anvil_mine", [window])
    for account, cid in ((alice, 1), (bob, 2)):
        assert attribution.functions.lockedRewards(account).call() == 0
        before = w3.eth.get_balance(account)
        claimed = send(attribution.functions.claim(), account)
        cost = claimed["gasUsed"] * claimed["effectiveGasPrice"]
        assert w3.eth.get_balance(account) == before + shares[cid] - cost
