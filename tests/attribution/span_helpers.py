"""A verbatim-span story on the chain harness: a Datanet whose contributions are real text with
content roots, a span model citing it, an output copying spans from two contributions amid new
text, and the engine that derives the honest record.

Contributions (Datanet 1, version 1): 1 Alice, 2 Bob, 3 Carol, 4 Mallory (a later copy of
Alice's text with a new head). The output copies `COPY_A` from Alice's and `COPY_B` from Bob's,
between words no contribution holds, so the honest spans are exactly the two copies.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from attribution_helpers import (
    ALICE,
    BOB,
    CAROL,
    KEYS,
    MALLORY,
    MODEL_OWNER,
    OPERATOR,
    OWNER,
    PARAMS,
    PROTOCOL,
    AttributionChain,
    Sent,
    make_genesis,
)
from eth_hash.auto import keccak

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.audit import Boundaries, Earlier, Mismatch, Omission
from openledger.attribution.engine.evidence import Entry, SpanParams, encode_evidence
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import Trace, trace
from openledger.attribution.split import BPS
from openledger.genesis.model import ETHER, AttributionParams, Genesis

SPAN_PARAMS: AttributionParams = replace(
    PARAMS, min_span_bytes=40, max_occurrences=3, omission_bytes=80, challenge_window=24,
    min_operator_bond=ETHER, bond_fee_multiple=10, challenger_share_bps=4000, max_span_entries=64,
)  # fmt: skip
"""Short window, small bond: the tests reach both in a few blocks."""
FEE = 10**16
"""The span model's fee per inference."""
BOND = 2 * ETHER
"""What the model's owner bonds (above max(1 ether, 10 * FEE))."""

_RNG = random.Random(11)
_OLD = [f"w{n}q" for n in range(3000)]
_NEW = [f"n{n}x" for n in range(3000)]
"""Words of contributions and of new output text: disjoint, so spans end where copies end."""


def _prose(words: Sequence[str], count: int) -> str:
    return " ".join(_RNG.choice(words) for _ in range(count))


ALICE_TEXT = _prose(_OLD, 90).encode()
BOB_TEXT = _prose(_OLD, 80).encode()
CAROL_TEXT = _prose(_OLD, 70).encode()
MALLORY_TEXT = _prose(_OLD, 5).encode() + b" " + ALICE_TEXT
CONTENTS = {1: ALICE_TEXT, 2: BOB_TEXT, 3: CAROL_TEXT, 4: MALLORY_TEXT}
OWNERS = {1: ALICE, 2: BOB, 3: CAROL, 4: MALLORY}
COPY_A = b" ".join(ALICE_TEXT.split()[10:30])
COPY_B = b" ".join(BOB_TEXT.split()[40:60])
NEW = [_prose(_NEW, count).encode() for count in (12, 15, 9)]
OUTPUT = b" ".join([NEW[0], COPY_A, NEW[1], COPY_B, NEW[2]])
MODEL = 1


def span_genesis() -> Genesis:
    return make_genesis(SPAN_PARAMS)


def engine_params() -> SpanParams:
    return SpanParams(SPAN_PARAMS.min_span_bytes, SPAN_PARAMS.max_occurrences,
                      SPAN_PARAMS.omission_bytes)  # fmt: skip


@dataclass
class SpanStory:
    """The chain after `tell_span_story`, with the engine's index and honest trace."""

    chain: AttributionChain
    index: SpanIndex
    honest: Trace
    records: int = 0

    def record(
        self, entries: Sequence[Entry], *, output: bytes = OUTPUT, fee: int = FEE,
        length: int | None = None, label: str | None = None,
    ) -> Sent:  # fmt: skip
        """Record `entries` as span evidence of `output` (operator)."""
        self.records += 1
        name = label or f"inference {self.records}"
        return self.chain.send(
            OPERATOR, "attribution", "recordSpanInference", MODEL, 0, keccak(name.encode()),
            compute_content_root(output), len(output) if length is None else length,
            encode_evidence(entries), value=fee,
        )  # fmt: skip

    def matures(self, inference: int) -> int:
        return int(self.chain.view("attribution", "getSpanInference", inference)[3])


def tell_span_story(chain: AttributionChain, tmp: Path) -> SpanStory:
    """Datanet 1 with contributions 1-4 accepted, version 1, span model 1 bonded with `BOND`."""
    chain.mine()
    assert chain.send(OWNER, "datanets", "createDatanet", "Prose", "ipfs://p", 0, True).ok
    for cid, data in CONTENTS.items():
        sent = chain.send(OWNERS[cid], "datanets", "contribute", 1, compute_content_root(data),
                          f"ipfs://{cid}", len(data))  # fmt: skip
        assert sent.ok and sent.result == cid, sent.reason
        assert chain.send(OWNER, "datanets", "review", cid, True, 80).ok
    assert chain.send(OWNER, "datanets", "publishVersion", 1).ok
    sent = chain.send(MODEL_OWNER, "models", "registerSpanModel", "prose-1b", "hf://p", [1], [1],
                      OPERATOR.address, FEE, 0, value=BOND)  # fmt: skip
    assert sent.ok and sent.result == MODEL, sent.reason
    index = SpanIndex(tmp / "index")
    index.sync([Content(cid, data) for cid, data in CONTENTS.items()])
    return SpanStory(chain, index, trace(index, OUTPUT, engine_params()))


def contributor_shares(fee: int, weights: dict[int, int], *, agent: bool = False) -> dict[int, int]:
    """The README's fee split, for the contributors: pool P = F - protocol - model owner (- agent)
    shares, P * w / W each, the remainder to the heaviest (the lowest id among equals)."""
    params = SPAN_PARAMS
    pool = fee - fee * params.protocol_fee_bps // BPS - fee * params.model_owner_fee_bps // BPS
    if agent:
        pool -= fee * params.agent_owner_fee_bps // BPS
    total = sum(weights.values())
    shares = {cid: pool * weight // total for cid, weight in weights.items()}
    heaviest = max(weights, key=lambda cid: (weights[cid], -cid))
    shares[heaviest] += pool - sum(shares.values())
    return shares


def find(haystack: bytes, needle: bytes) -> int:
    at = haystack.find(needle)
    assert at >= 0
    return at


def events(sent: Sent, name: str) -> list[dict[str, Any]]:
    return [values for event, values in sent.events if event == name]


def assert_conserved(chain: AttributionChain, models: int = 1) -> None:
    """No wei created or destroyed, and the precompiles hold exactly what they owe: the
    attribution precompile every account's pending rewards (locked payouts included), the models
    precompile the span models' bonds."""
    assert chain.total_supply() == chain.genesis_supply() + chain.issued - chain.burned
    owed = sum(chain.pending(key.address) for key in KEYS) + chain.pending(PROTOCOL)
    assert chain.balance(chain.targets["attribution"]) == owed
    bonds = sum(chain.view("models", "getAttributionMethod", model)[1]
                for model in range(1, models + 1))  # fmt: skip
    assert chain.balance(chain.targets["models"]) == bonds


# --- wrong records and what a challenge of one moves -----------------------------------------

A = Entry(find(OUTPUT, COPY_A), len(COPY_A), 1, find(CONTENTS[1], COPY_A))
B = Entry(find(OUTPUT, COPY_B), len(COPY_B), 2, find(CONTENTS[2], COPY_B))
SLASH = min(BOND, SPAN_PARAMS.bond_fee_multiple * FEE)
REWARD = SLASH * SPAN_PARAMS.challenger_share_bps // 10_000

WRONG_RECORDS = {
    # credits Mallory's later copy of Alice's text: the earlier holder proves it
    "a later copy credited": ([Entry(A.output_start, A.length, 4, find(MALLORY_TEXT, COPY_A)), B],
                              Earlier, 3),
    # new output text credited to Bob: its bytes differ from Bob's
    "a forged span": ([A, Entry(find(OUTPUT, NEW[1]), len(NEW[1]), 2, 0), B], Mismatch, 1),
    # Bob's long copy left out: Bob's text proves it
    "an omitted span": ([A], Omission, 4),
    # Alice's span started one byte into a word
    "a span cut inside a word": ([Entry(A.output_start + 1, A.length - 1, 1,
                                        A.contribution_start + 1), B], Boundaries, 2),
}  # fmt: skip
