"""Bad span records and span-model calls revert with a reason and change nothing."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from attribution_helpers import CAROL, MALLORY, MODEL_OWNER, OPERATOR, OWNER, DevKey
from eth_hash.auto import keccak
from span_helpers import BOND, FEE, MODEL, OUTPUT, A, B, SpanStory

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.evidence import Entry, encode_evidence

ROOT = compute_content_root(OUTPUT)


@dataclass(frozen=True)
class Bad:
    evidence: bytes
    reason: str
    length: int = len(OUTPUT)
    fee: int = FEE
    sender: DevKey = OPERATOR
    inference_hash: bytes = keccak(b"bad")
    prepare: Callable[[SpanStory], None] | None = None


def _unpublished_contribution(story: SpanStory) -> None:
    text = b"a fresh contribution accepted after version 1 was published " * 2
    assert story.chain.send(CAROL, "datanets", "contribute", 1, compute_content_root(text), "",
                            len(text)).ok  # fmt: skip
    assert story.chain.send(OWNER, "datanets", "review", 5, True, 50).ok


def _flag_alice(story: SpanStory) -> None:
    assert story.chain.send(OWNER, "datanets", "flag", 1, "spam").ok


def _record_once(story: SpanStory) -> None:
    assert story.record([A, B], label="bad").ok


def _entries(*entries: Entry) -> bytes:
    return encode_evidence(entries)


BAD = {
    "evidence that is not whole entries": Bad(_entries(A)[:100], "is not a whole number of entries"),
    "entries out of order": Bad(_entries(B, A), "entry 1 is not after entry 0"),
    "a span past the output's end": Bad(_entries(Entry(len(OUTPUT) - 30, 40, 1, 0)),
                                        "are outside the output of"),
    "a span below the minimum": Bad(_entries(Entry(A.output_start, 39, 1, 0)),
                                    "length 39 is below the minimum 40"),
    "a span inside another": Bad(_entries(A, Entry(A.output_start + 2, 50, 1, 0)),
                                 "its span lies inside the span before it"),
    "a boilerplate span with too few witnesses": Bad(
        _entries(A, Entry(A.output_start, A.length, 4, 0)), "4 (boilerplate) are allowed"),
    "too many entries": Bad(_entries(*(Entry(i * 50, 40, 1, 0) for i in range(65))),
                            "more than maxSpanEntries (64)", length=65 * 50),
    "contribution 0": Bad(_entries(Entry(A.output_start, A.length, 0, 0)),
                          "contribution 0 does not exist"),
    "an unknown contribution": Bad(_entries(Entry(A.output_start, A.length, 9, 0)),
                                   "contribution 9 is unknown"),
    "a contribution outside the cited version": Bad(
        _entries(Entry(A.output_start, A.length, 5, 0)), "is not in version 1 of Datanet 1",
        prepare=_unpublished_contribution),
    "a flagged contribution": Bad(_entries(A), "contribution 1 is flagged", prepare=_flag_alice),
    "an empty output": Bad(b"", "the output is empty", length=0),
    "a fee below the price": Bad(_entries(A), "below the model's price", fee=FEE - 1),
    "a fee the bond does not cover": Bad(_entries(A), "bond of 2000000000000000000 wei is below",
                                         fee=BOND),
    "a caller who is not the operator": Bad(_entries(A), "only the operator of model 1",
                                            sender=MALLORY),
    "a zero inference hash": Bad(_entries(A), "inference hash is zero", inference_hash=bytes(32)),
    "a recorded inference hash": Bad(_entries(A), "is already recorded as 1", prepare=_record_once),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_span_record_reverts_with_its_reason_and_changes_nothing(
    story: SpanStory, name: str
) -> None:
    bad, chain = BAD[name], story.chain
    if bad.prepare:
        bad.prepare(story)
    before, balance = chain.fingerprint(), chain.balance(bad.sender.address)

    sent = chain.send(bad.sender, "attribution", "recordSpanInference", MODEL, 0,
                      bad.inference_hash, ROOT, bad.length, bad.evidence, value=bad.fee)  # fmt: skip

    assert not sent.ok and sent.events == []
    assert (sent.reason or "").startswith("attribution: ") and bad.reason in (sent.reason or ""), (
        sent.reason)  # fmt: skip
    assert chain.fingerprint() == before
    assert chain.balance(bad.sender.address) == balance - sent.fee


@pytest.mark.parametrize(
    ("function", "args", "value", "reason"),
    [
        ("addBond", (MODEL,), 0, "addBond needs a value"),
        ("addBond", (7,), 1, "no model 7"),
        ("withdrawBond", (MODEL, BOND + 1), 0, "cannot withdraw"),
        ("withdrawBond", (MODEL, 0), 0, "cannot withdraw 0 wei"),
        ("getSpanParams", (7,), 0, "no model 7"),
    ],
)
def test_bad_bond_calls_revert_and_change_nothing(
    story: SpanStory, function: str, args: tuple[int, ...], value: int, reason: str
) -> None:
    chain = story.chain
    before = chain.fingerprint()
    sent = chain.send(MODEL_OWNER, "models", function, *args, value=value)
    assert not sent.ok and reason in (sent.reason or ""), sent.reason
    assert chain.fingerprint() == before
