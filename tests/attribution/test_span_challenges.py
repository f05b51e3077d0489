"""Challenges of span records through the shipped interfaces: each kind of wrong record is proven
wrong with the challenge the engine's `audit` builds, which voids it, slashes the bond and pays
the challenger; an honest record survives every proof kind."""

from typing import Any

import pytest
from attribution_helpers import ALICE, CAROL, MALLORY, OWNER, AttributionChain, DevKey, Sent
from span_helpers import (
    BOND,
    CONTENTS,
    COPY_A,
    MALLORY_TEXT,
    MODEL,
    NEW,
    OUTPUT,
    REWARD,
    SLASH,
    SPAN_PARAMS,
    WRONG_RECORDS,
    A,
    B,
    SpanStory,
    assert_conserved,
    engine_params,
    events,
    find,
)

from openledger.attribution.content import build_range_proof
from openledger.attribution.engine.audit import audit
from openledger.attribution.engine.evidence import Entry, encode_evidence
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import trace
from openledger.attribution.span_proofs import challenge_call, encode_range_proof


def record(story: SpanStory, entries: list[Entry], **kwargs: Any) -> int:
    sent = story.record(entries, **kwargs)
    assert sent.ok, sent.reason
    return int(sent.result)


def challenge(story: SpanStory, inference: int, entries: list[Entry], key: DevKey = CAROL) -> Sent:
    """Audit the record with a fresh look at the content and submit the challenge found."""
    verdict = audit(story.index, OUTPUT, entries, CONTENTS, engine_params())
    assert verdict.challenge is not None, verdict.finding
    method, args = challenge_call(verdict.challenge, inference, entries, OUTPUT, CONTENTS)
    return story.chain.send(key, "attribution", method, *args)


def assert_refused(chain: AttributionChain, key: DevKey, method: str, args: tuple[Any, ...],
                   reason: str) -> None:  # fmt: skip
    """The call reverts with `reason` and changes nothing but the sender's gas."""
    before, balance = chain.fingerprint(), chain.balance(key.address)
    sent = chain.send(key, "attribution", method, *args)
    assert not sent.ok and sent.events == []
    assert (sent.reason or "").startswith("attribution: ") and reason in (sent.reason or ""), (
        sent.reason)  # fmt: skip
    assert chain.fingerprint() == before
    assert chain.balance(key.address) == balance - sent.fee


@pytest.mark.parametrize("name", list(WRONG_RECORDS))
def test_a_wrong_record_is_voided_slashed_and_its_challenger_paid(
    story: SpanStory, name: str
) -> None:
    chain = story.chain
    entries, kind, code = WRONG_RECORDS[name]
    inference = record(story, entries)
    credited = {e.contribution_id for e in entries if e.contribution_id != 0}
    owners = {1: ALICE.address, 2: None, 4: MALLORY.address}
    verdict = audit(story.index, OUTPUT, entries, CONTENTS, engine_params())
    assert isinstance(verdict.challenge, kind), verdict.finding
    models_balance = chain.balance(chain.targets["models"])

    sent = challenge(story, inference, entries)

    assert sent.ok, sent.reason
    assert sent.result == REWARD
    voided = events(sent, "InferenceVoided")[0]
    assert (voided["kind"], voided["slashed"], voided["challengerReward"]) == (code, SLASH, REWARD)
    assert voided["challenger"] == CAROL.address
    assert chain.view("attribution", "getSpanInference", inference)[0] == 4
    assert chain.view("models", "getAttributionMethod", MODEL)[1] == BOND - SLASH
    assert chain.balance(chain.targets["models"]) == models_balance - SLASH
    assert chain.pending(CAROL.address) == REWARD
    assert_conserved(chain)
    # The contributors' locked payouts are gone, also after the window.
    chain.mine_until(story.matures(inference))
    for cid in credited:
        if owners.get(cid):
            assert chain.pending(owners[cid]) == 0
        assert chain.view("attribution", "contributionEarnings", cid) == (0, 0)
    before = chain.balance(CAROL.address)
    paid = chain.send(CAROL, "attribution", "claim")
    assert paid.ok and chain.balance(CAROL.address) == before + REWARD - paid.fee
    assert_conserved(chain)


def test_an_honest_record_survives_every_proof_kind(story: SpanStory) -> None:
    """Each attempt is a well-formed proof (right paths) that proves no fault."""
    chain = story.chain
    entries = list(story.honest.entries)
    inference = record(story, entries)
    assert audit(story.index, OUTPUT, entries, CONTENTS, engine_params()).consistent
    evidence, out = encode_evidence(entries), len(OUTPUT)

    def proof(data: bytes, start: int, size: int) -> bytes:
        return encode_range_proof(len(data), build_range_proof(data, start, size))

    attempts = {
        "challengeMismatch": [
            ((inference, evidence, 0, 0, proof(OUTPUT, A.output_start, 1),
              proof(CONTENTS[1], A.contribution_start, 1)), "is the same in output and"),
            ((inference, evidence, 1, B.length - 1, proof(OUTPUT, B.output_start + B.length - 1, 1),
              proof(CONTENTS[2], B.contribution_start + B.length - 1, 1)), "is the same in"),
            ((inference, evidence, 0, A.length, proof(OUTPUT, A.output_start, 1),
              proof(CONTENTS[1], 0, 1)), "is not inside the span"),
        ],
        "challengeBoundaries": [
            ((inference, evidence, index, proof(OUTPUT, e.output_start - 1, 2),
              proof(OUTPUT, e.output_start + e.length - 1, 2)), "starts at a word start")
            for index, e in enumerate(entries)
        ],
        "challengeEarlier": [
            ((inference, evidence, 0, 4, find(MALLORY_TEXT, COPY_A),
              proof(OUTPUT, A.output_start, A.length),
              proof(MALLORY_TEXT, find(MALLORY_TEXT, COPY_A), A.length)), "is not earlier"),
            ((inference, evidence, 1, 1, 0, proof(OUTPUT, B.output_start, B.length),
              proof(CONTENTS[1], 0, B.length)), "does not hold the span there"),
        ],
        "challengeOmission": [
            ((inference, evidence, A.output_start, A.length, 1, A.contribution_start,
              proof(OUTPUT, A.output_start - 1, A.length + 2),
              proof(CONTENTS[1], A.contribution_start, A.length)), "covers those bytes"),
            ((inference, evidence, find(OUTPUT, NEW[1]), len(NEW[1]), 3, 0,
              proof(OUTPUT, find(OUTPUT, NEW[1]) - 1, len(NEW[1]) + 2),
              proof(CONTENTS[3], 0, len(NEW[1]))), "does not hold those bytes"),
        ],
    }  # fmt: skip
    assert len(NEW[1]) >= SPAN_PARAMS.omission_bytes and out > 0
    for method, tries in attempts.items():
        for args, reason in tries:
            assert_refused(chain, CAROL, method, args, reason)
    assert chain.view("attribution", "getSpanInference", inference)[0] == 2


def _wrong(story: SpanStory) -> tuple[int, list[Entry], str, tuple[Any, ...]]:
    entries = WRONG_RECORDS["a later copy credited"][0]
    inference = record(story, entries)
    verdict = audit(story.index, OUTPUT, entries, CONTENTS, engine_params())
    assert verdict.challenge is not None
    method, args = challenge_call(verdict.challenge, inference, entries, OUTPUT, CONTENTS)
    return inference, entries, method, args


def test_a_challenge_after_the_window_reverts_and_changes_nothing(story: SpanStory) -> None:
    inference, _, method, args = _wrong(story)
    story.chain.mine_until(story.matures(inference) - 1)

    assert_refused(story.chain, CAROL, method, args,
                   f"challenge window of inference {inference} ended at block")  # fmt: skip


def test_a_voided_record_cannot_be_challenged_again(story: SpanStory) -> None:
    _, _, method, args = _wrong(story)
    assert story.chain.send(CAROL, "attribution", method, *args).ok

    assert_refused(story.chain, OWNER, method, args, "was voided in block")


def test_a_wrong_path_or_malformed_challenge_reverts_and_changes_nothing(story: SpanStory) -> None:
    inference, entries, method, args = _wrong(story)
    chain = story.chain
    output_proof, held_proof = args[5], args[6]
    flipped = bytearray(held_proof)
    flipped[96] ^= 1  # the first sibling
    chunk = bytearray(output_proof)
    chunk[-1] ^= 1  # a byte of the output's chunk

    cases = [
        ((*args[:6], bytes(flipped)), "challenge rejected: bad range proof"),
        ((*args[:5], bytes(chunk), held_proof), "challenge rejected: bad range proof"),
        ((*args[:6], held_proof[:-1]), "earlierProof: chunk"),
        ((*args[:5], b"\x00" * 40, held_proof), "outputProof: 40 bytes are shorter"),
        ((inference, encode_evidence(entries[:1]), *args[2:]), "does not hash to the evidenceRoot"),
        ((inference, args[1], 7, *args[3:]), "entry 7 is not among the record's 2 entries"),
        ((99, *args[1:]), "no inference 99"),
        (
            (inference, args[1], 0, 4, *args[4:]),
            "contribution 4 is not earlier than contribution 4",
        ),
        ((inference, args[1], 0, 2, *args[4:]), "the proof does not lead to root"),  # not Bob's
        ((inference, args[1], 0, 5, *args[4:]), "contribution 5 is unknown"),
    ]
    for call_args, reason in cases:
        assert_refused(chain, CAROL, method, call_args, reason)
    assert chain.send(CAROL, "attribution", method, *args).ok  # the right one still works


def test_records_are_judged_as_of_their_block_whatever_is_flagged_later(story: SpanStory) -> None:
    chain = story.chain
    # A dishonest record (crediting the later copy) stays provable when the earlier holder is
    # flagged after it ...
    inference, _, method, args = _wrong(story)
    assert chain.send(OWNER, "datanets", "flag", 1, "dispute").ok
    # ... while an honest record made after the flag (the engine no longer indexes Alice's
    # contribution, so it credits the copy) cannot be challenged with the flagged one.
    fresh = SpanIndex(story.index.path.parent / "after-flag")
    fresh.sync([Content(cid, data) for cid, data in CONTENTS.items() if cid != 1])
    honest = list(trace(fresh, OUTPUT, engine_params()).entries)
    assert honest[0].contribution_id == 4
    later = record(story, honest, label="after the flag")

    assert_refused(chain, CAROL, method, (later, encode_evidence(honest), *args[2:]),
                   "contribution 1 is flagged (since block")  # fmt: skip
    assert chain.send(CAROL, "attribution", method, *args).ok
    assert chain.view("attribution", "getSpanInference", inference)[0] == 4


def test_an_output_length_that_does_not_match_the_root_is_proven_wrong(story: SpanStory) -> None:
    chain = story.chain
    entries = list(story.honest.entries)
    inference = record(story, entries, length=len(OUTPUT) + 300)
    true_proof = encode_range_proof(len(OUTPUT), build_range_proof(OUTPUT, A.output_start, 2))

    sent = chain.send(CAROL, "attribution", "challengeBoundaries", inference,
                      encode_evidence(entries), 0, true_proof, true_proof)  # fmt: skip

    assert sent.ok, sent.reason
    assert events(sent, "InferenceVoided")[0]["kind"] == 2
