"""The span methods use exactly the gas of the README's table, counted from what each call does
(entries and credited contributions of its evidence, Keccak work of its proofs by
`count_proof_hashing`, locked payouts looked at), and run out before any write one gas short."""

from typing import Any

import pytest
from attribution_helpers import CAROL, MODEL_OWNER, OPERATOR, expected_gas_used
from gas_table import SPAN_METHODS, TABLE, GasCheck, WorkCounter
from span_helpers import (
    BOND,
    CONTENTS,
    FEE,
    MODEL,
    OUTPUT,
    OWNERS,
    WRONG_RECORDS,
    SpanStory,
    engine_params,
)

from openledger.attribution.content import compute_content_root, count_proof_hashing
from openledger.attribution.engine.audit import audit
from openledger.attribution.engine.evidence import encode_evidence
from openledger.attribution.span_proofs import challenge_call, decode_range_proof

OUTPUT_ROOT = compute_content_root(OUTPUT)


def keccak_units(*proofs: bytes) -> int:
    """Keccak-256 words of verifying the proofs, a call counting as five (30 gas = 5 x 6)."""
    total = 0
    for data in proofs:
        length, proof = decode_range_proof(data)
        calls, words = count_proof_hashing(length, proof)
        total += 5 * calls + words
    return total


def test_every_span_method_uses_the_gas_of_the_table(story: SpanStory) -> None:
    chain, gas = story.chain, GasCheck(story.chain)
    gas.call(MODEL_OWNER, "models", "registerSpanModel", "prose-2b", "hf://prose/" + "x" * 40, [1],
             [1], OPERATOR.address, FEE, MODEL, value=BOND)  # fmt: skip
    gas.call(CAROL, "models", "addBond", MODEL, value=10**18)
    gas.call(CAROL, "models", "getAttributionMethod", MODEL)
    gas.call(CAROL, "models", "getSpanParams", MODEL)

    honest = list(story.honest.entries)
    inference = gas.call(OPERATOR, "attribution", "recordSpanInference", MODEL, 0, b"\x01" * 32,
                         OUTPUT_ROOT, len(OUTPUT), encode_evidence(honest), value=FEE,
                         stored=2)  # fmt: skip
    gas.call(CAROL, "attribution", "getSpanInference", inference)
    gas.call(CAROL, "attribution", "lockedRewards", OWNERS[1].address, stored=1)
    gas.call(CAROL, "attribution", "pendingRewards", OWNERS[1].address, stored=1)

    for number, (name, (entries, _, _)) in enumerate(WRONG_RECORDS.items(), start=2):
        recorded = gas.call(OPERATOR, "attribution", "recordSpanInference", MODEL, 0,
                            bytes([number]) * 32, OUTPUT_ROOT, len(OUTPUT),
                            encode_evidence(entries), value=FEE,
                            stored=len({e.contribution_id for e in entries}))  # fmt: skip
        verdict = audit(story.index, OUTPUT, entries, CONTENTS, engine_params())
        assert verdict.challenge is not None, name
        method, args = challenge_call(verdict.challenge, recorded, entries, OUTPUT, CONTENTS)
        gas.call(CAROL, "attribution", method, *args, stored=keccak_units(*args[-2:]))

    chain.mine_until(story.matures(inference + len(WRONG_RECORDS)))
    # Alice's queue: the honest payout and the voided ones of the wrong records naming her.
    queue = 1 + sum(any(e.contribution_id == 1 for e in entries)
                    for entries, _, _ in WRONG_RECORDS.values())  # fmt: skip
    gas.call(OWNERS[1], "attribution", "claim", stored=queue)
    gas.call(MODEL_OWNER, "models", "withdrawBond", MODEL, 10**17)

    assert gas.mismatches == []
    assert gas.checked == SPAN_METHODS | {"claim", "pendingRewards"}


def test_one_gas_short_of_the_table_runs_out_and_changes_nothing(story: SpanStory) -> None:
    chain = story.chain
    entries = WRONG_RECORDS["an omitted span"][0]
    data = chain.abi.encode("attribution", "recordSpanInference", MODEL, 0, b"\x09" * 32,
                            OUTPUT_ROOT, len(OUTPUT), encode_evidence(entries))  # fmt: skip
    row = TABLE["recordSpanInference"]
    execution = row.fixed + row.per_word * len(encode_evidence(entries)) // 32 + row.per_stored
    limit = expected_gas_used(data, execution)
    before = chain.fingerprint()
    short = chain.send_data(OPERATOR, chain.targets["attribution"], data, value=FEE,
                            gas=limit - 1)  # fmt: skip
    assert not short.ok and short.gas_used == limit - 1 and chain.fingerprint() == before
    recorded = chain.send_data(OPERATOR, chain.targets["attribution"], data, value=FEE, gas=limit)
    assert recorded.ok and recorded.gas_used == limit

    verdict = audit(story.index, OUTPUT, entries, CONTENTS, engine_params())
    assert verdict.challenge is not None
    method, args = challenge_call(verdict.challenge, 1, entries, OUTPUT, CONTENTS)
    data = chain.abi.encode("attribution", method, *args)
    row = TABLE[method]
    execution = row.fixed + row.per_word * len(args[1]) // 32 + row.per_stored * keccak_units(
        *args[-2:])  # fmt: skip
    limit = expected_gas_used(data, execution)
    before = chain.fingerprint()
    short = chain.send_data(CAROL, chain.targets["attribution"], data, gas=limit - 1)
    assert not short.ok and short.gas_used == limit - 1 and chain.fingerprint() == before
    proven = chain.send_data(CAROL, chain.targets["attribution"], data, gas=limit)
    assert proven.ok and proven.gas_used == limit


def test_the_schedule_charges_at_least_the_work_of_each_span_method(
    story: SpanStory, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = story.chain
    honest = encode_evidence(story.honest.entries)
    entries = WRONG_RECORDS["a later copy credited"][0]
    calls: list[tuple[Any, str, str, tuple[Any, ...], int]] = [
        (MODEL_OWNER, "models", "registerSpanModel",
         ("m", "u", [1], [1], OPERATOR.address, FEE, 0), BOND),
        (CAROL, "models", "addBond", (MODEL,), 1),
        (CAROL, "models", "getAttributionMethod", (MODEL,), 0),
        (OPERATOR, "attribution", "recordSpanInference",
         (MODEL, 0, b"\x01" * 32, OUTPUT_ROOT, len(OUTPUT), honest), FEE),
        (OPERATOR, "attribution", "recordSpanInference",
         (MODEL, 0, b"\x02" * 32, OUTPUT_ROOT, len(OUTPUT), encode_evidence(entries)), FEE),
        (CAROL, "attribution", "pendingRewards", (OWNERS[1].address,), 0),
        (CAROL, "attribution", "lockedRewards", (OWNERS[1].address,), 0),
        (CAROL, "attribution", "getSpanInference", (1,), 0),
    ]  # fmt: skip
    verdict = audit(story.index, OUTPUT, entries, CONTENTS, engine_params())
    assert verdict.challenge is not None
    method, args = challenge_call(verdict.challenge, 2, entries, OUTPUT, CONTENTS)
    calls.append((CAROL, "attribution", method, args, 0))
    counter = WorkCounter(monkeypatch)
    undercharged = []
    for key, target, function, call_args, value in calls:
        undercharged += counter.undercharged(chain, key, target, function, call_args, value)
    chain.mine_until(story.matures(2))
    undercharged += counter.undercharged(chain, OWNERS[1], "attribution", "claim", (), 0)
    undercharged += counter.undercharged(chain, MODEL_OWNER, "models", "withdrawBond", (MODEL, 1),
                                  0)  # fmt: skip
    assert undercharged == []
