"""Span records through the shipped interfaces: the chain computes the weights from the evidence,
locks the contributors' payouts for the challenge window and pays them, to the wei, only after."""

from pathlib import Path

from attribution_helpers import (
    ALICE,
    BOB,
    CAROL,
    MODEL_OWNER,
    OPERATOR,
    OWNER,
)
from span_helpers import (
    BOND,
    CONTENTS,
    COPY_A,
    COPY_B,
    FEE,
    MODEL,
    OUTPUT,
    SPAN_PARAMS,
    SpanStory,
    assert_conserved,
    contributor_shares,
    engine_params,
    events,
    find,
)

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.evidence import Entry, compute_evidence_root, encode_evidence
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import trace


def test_the_engine_credits_exactly_the_two_copied_contributions(story: SpanStory) -> None:
    assert story.honest.entries == (
        Entry(find(OUTPUT, COPY_A), len(COPY_A), 1, find(CONTENTS[1], COPY_A)),
        Entry(find(OUTPUT, COPY_B), len(COPY_B), 2, find(CONTENTS[2], COPY_B)),
    )
    assert story.honest.weights == {1: len(COPY_A), 2: len(COPY_B)}


def test_a_span_model_pins_the_genesis_parameters_and_holds_its_bond(story: SpanStory) -> None:
    chain = story.chain
    method, bond, required, locked_until = chain.view("models", "getAttributionMethod", MODEL)
    pinned = chain.view("models", "getSpanParams", MODEL)

    assert (method, bond, required, locked_until) == (2, BOND, max(SPAN_PARAMS.min_operator_bond,
                                                                     10 * FEE), 0)  # fmt: skip
    assert pinned == (40, 3, 80, 1, 24, SPAN_PARAMS.min_operator_bond, 10, 4000, 64)
    assert chain.balance(chain.targets["models"]) == BOND


def test_record_then_claim_after_the_window_pays_the_two_contributors_to_the_wei(
    story: SpanStory,
) -> None:
    chain = story.chain
    sent = story.record(story.honest.entries)
    assert sent.ok, sent.reason
    inference = sent.result
    shares = contributor_shares(FEE, {1: len(COPY_A), 2: len(COPY_B)})

    recorded = events(sent, "InferenceRecorded")[0]
    assert recorded["contributionIds"] == [1, 2]
    assert recorded["weights"] == [len(COPY_A), len(COPY_B)]
    assert recorded["evidenceRoot"] == compute_evidence_root(story.honest.entries)
    rewarded = {e["contributionId"]: e["amount"] for e in events(sent, "ContributionRewarded")}
    assert rewarded == shares
    span = events(sent, "SpanInferenceRecorded")[0]
    matures = chain.head.block_number + SPAN_PARAMS.challenge_window
    assert (span["outputLength"], span["maturesAtBlock"]) == (len(OUTPUT), matures)
    assert chain.view("attribution", "getSpanInference", inference)[0] == 2  # in the window

    # In the window: pending shows the payout, all of it locked, and claim pays nothing.
    for key, cid in ((ALICE, 1), (BOB, 2)):
        assert chain.pending(key.address) == shares[cid]
        assert chain.view("attribution", "lockedRewards", key.address) == shares[cid]
    early = chain.send(ALICE, "attribution", "claim")
    assert not early.ok and "past their challenge window" in (early.reason or "")
    assert chain.pending(CAROL.address) == 0
    assert_conserved(chain)

    chain.mine_until(matures - 1)  # the next block is the first after the window
    assert chain.view("attribution", "getSpanInference", inference)[0] == 3  # final
    for key, cid in ((ALICE, 1), (BOB, 2)):
        assert chain.view("attribution", "lockedRewards", key.address) == 0
        before = chain.balance(key.address)
        claimed = chain.send(key, "attribution", "claim")
        assert claimed.ok and claimed.result == shares[cid]
        assert chain.balance(key.address) == before + shares[cid] - claimed.fee
        assert chain.view("attribution", "contributionEarnings", cid) == (shares[cid], 1)
        assert chain.pending(key.address) == 0
    assert_conserved(chain)
    again = chain.send(ALICE, "attribution", "claim")
    assert not again.ok and (again.reason or "").endswith("has no pending rewards")


def test_owner_and_protocol_shares_do_not_wait(story: SpanStory) -> None:
    chain = story.chain
    assert story.record(story.honest.entries).ok
    owner_share = FEE * SPAN_PARAMS.model_owner_fee_bps // 10_000

    assert chain.pending(MODEL_OWNER.address) == owner_share
    assert chain.view("attribution", "lockedRewards", MODEL_OWNER.address) == 0
    assert chain.send(MODEL_OWNER, "attribution", "claim").result == owner_share


def test_an_output_copying_nothing_credits_nobody_and_gives_their_share_to_the_protocol(
    story: SpanStory,
) -> None:
    chain = story.chain
    sent = story.record([], output=b"entirely new words here")

    assert sent.ok, sent.reason
    assert events(sent, "ContributionRewarded") == []
    assert events(sent, "InferenceRecorded")[0]["contributionIds"] == []
    split = events(sent, "FeeSplit")[0]
    owner = FEE * SPAN_PARAMS.model_owner_fee_bps // 10_000
    assert (split["protocolShare"], split["contributorsShare"]) == (FEE - owner, 0)
    assert_conserved(chain)
    assert chain.view("attribution", "getSpanInference", sent.result)[3] > 0


def test_the_declared_weights_path_is_unchanged_and_shown_unverified(story: SpanStory) -> None:
    chain = story.chain
    assert chain.send(MODEL_OWNER, "models", "registerModel", "old", "", [1], [1],
                      OPERATOR.address, 100, 0).ok  # fmt: skip
    assert chain.view("models", "getAttributionMethod", 2) == (1, 0, 0, 0)
    sent = chain.send(OPERATOR, "attribution", "recordInference", 2, 0, b"\x01" * 32, [3], [1],
                      bytes(32), value=100)  # fmt: skip
    assert sent.ok and chain.pending(CAROL.address) == 60  # paid at once, as before
    assert chain.view("attribution", "getSpanInference", sent.result) == (1, bytes(32), 0, 0, 0)

    assert "uses declared weights" in chain.reason(MODEL_OWNER.address, "models", "getSpanParams",
                                                   2)  # fmt: skip
    crossed = chain.send(OPERATOR, "attribution", "recordInference", MODEL, 0, b"\x02" * 32, [1],
                         [1], bytes(32), value=FEE)  # fmt: skip
    assert not crossed.ok and "uses verbatim spans: record with recordSpanInference" in (
        crossed.reason or "")  # fmt: skip
    span_on_declared = chain.send(OPERATOR, "attribution", "recordSpanInference", 2, 0,
                                  b"\x03" * 32, bytes(32), 10, b"", value=100)  # fmt: skip
    assert "uses declared weights: record with recordInference" in (span_on_declared.reason or "")


def test_the_bond_is_topped_up_by_anyone_and_withdrawn_only_after_every_window(
    story: SpanStory,
) -> None:
    chain = story.chain
    added = chain.send(CAROL, "models", "addBond", MODEL, value=10**17)
    assert added.ok and events(added, "BondDeposited")[0]["bond"] == BOND + 10**17
    inference = story.record(story.honest.entries).result
    matures = story.matures(inference)
    assert chain.view("models", "getAttributionMethod", MODEL)[3] == matures

    early = chain.send(MODEL_OWNER, "models", "withdrawBond", MODEL, BOND)
    assert not early.ok and f"until block {matures}" in (early.reason or "")
    chain.mine_until(matures - 1)
    assert "only the owner" in chain.reason(CAROL.address, "models", "withdrawBond", MODEL, 1)
    before = chain.balance(MODEL_OWNER.address)
    sent = chain.send(MODEL_OWNER, "models", "withdrawBond", MODEL, BOND)
    assert sent.ok and events(sent, "BondWithdrawn")[0]["bond"] == 10**17
    assert chain.balance(MODEL_OWNER.address) == before + BOND - sent.fee

    # What is left is below the bond a record needs: the operator must top it up first.
    refused = story.record(story.honest.entries)
    assert not refused.ok and "bond of 100000000000000000 wei is below" in (refused.reason or "")


def test_registering_with_too_small_a_bond_is_refused(story: SpanStory) -> None:
    reason = story.chain.reason(MODEL_OWNER.address, "models", "registerSpanModel", "m", "", [1],
                                [1], OPERATOR.address, FEE, 0, value=SPAN_PARAMS.min_operator_bond
                                - 1)  # fmt: skip
    assert "bond of 999999999999999999 wei is below the required 1000000000000000000" in reason


def test_a_boilerplate_span_is_witnessed_and_earns_nothing(
    story: SpanStory, tmp_path: Path
) -> None:
    chain = story.chain
    boiler = b"all rights reserved by the authors of this shared legal notice text"
    texts = {5 + i: b" ".join([b"n%dq head" % i, boiler, b"tail n%dq" % i]) for i in range(4)}
    for cid, text in texts.items():
        assert chain.send(CAROL, "datanets", "contribute", 1, compute_content_root(text), "",
                          len(text)).result == cid  # fmt: skip
        assert chain.send(OWNER, "datanets", "review", cid, True, 50).ok
    assert chain.send(OWNER, "datanets", "publishVersion", 1).ok
    assert chain.send(MODEL_OWNER, "models", "registerSpanModel", "m2", "", [1], [2],
                      OPERATOR.address, FEE, 0, value=BOND).result == 2  # fmt: skip
    index = SpanIndex(tmp_path / "boiler")
    index.sync([Content(cid, data) for cid, data in {**CONTENTS, **texts}.items()])
    output = b" ".join([b"fresh words", boiler, b"more fresh words", COPY_A])
    honest = trace(index, output, engine_params())
    assert [e.contribution_id for e in honest.entries[:4]] == [5, 6, 7, 8]  # the 4 lowest holders

    sent = chain.send(OPERATOR, "attribution", "recordSpanInference", 2, 0, b"\x07" * 32,
                      compute_content_root(output), len(output), encode_evidence(honest.entries),
                      value=FEE)  # fmt: skip

    assert sent.ok, sent.reason
    assert events(sent, "InferenceRecorded")[0]["contributionIds"] == [1]
    assert {e["contributionId"] for e in events(sent, "ContributionRewarded")} == {1}
