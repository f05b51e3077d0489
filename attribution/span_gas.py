"""The gas of the span methods: span models, span records, locked payouts and challenges.

Priced like the rest of the schedule (`gas`): slot reads and writes, logs, Keccak-256 and value
payments, charged before any write. What the arguments or storage decide is counted here:

- `recordSpanInference`: per 32-byte word of `evidence` (four per entry) a quarter of the seven
  reads that check an entry's contribution, its Keccak word and its log word; per credited
  contribution (derived from the evidence as the handler will) its payout.
- challenges: per word of `evidence` its Keccak word; per Keccak unit of the proofs (a word, or a
  call's 30 gas as five) 6 gas, counted by `content.count_proof_hashing` from the proofs' bytes.
- `claim`, `pendingRewards`, `lockedRewards`: per locked payout looked at.
"""

from collections.abc import Mapping
from typing import Any

from openledger.attribution.engine.evidence import EvidenceError
from openledger.attribution.events import (
    BOND_DEPOSITED,
    BOND_WITHDRAWN,
    CONTRIBUTION_REWARDED,
    FEE_SPLIT,
    INFERENCE_RECORDED,
    INFERENCE_VOIDED,
    MODEL_REGISTERED,
    REWARDS_CLAIMED,
    SPAN_INFERENCE_RECORDED,
    SPAN_MODEL_REGISTERED,
)
from openledger.attribution.gas import (
    KECCAK_GAS,
    KECCAK_WORD_GAS,
    LOG_WORD_GAS,
    READ,
    STORED_WORD_GAS,
    WRITE,
    compute_gas,
)
from openledger.attribution.layout import Records
from openledger.attribution.locks import count_sweep, count_unswept
from openledger.attribution.membership import MEMBER_READS
from openledger.attribution.span_models import PinnedSpanParams
from openledger.attribution.span_proofs import count_proof_units
from openledger.attribution.span_records import derive_weights
from openledger.genesis.model import MODELS_ADDRESS
from openledger.state.precompile import SENDER_ARGUMENT, GasRule, Storage

ENTRY_WORDS = 4
PAYOUT_GAS = (
    READ
    + 3 * WRITE
    + 2 * LOG_WORD_GAS
    + 2 * KECCAK_WORD_GAS
    + CONTRIBUTION_REWARDED.compute_log_gas()
)
"""One credited contribution of a span record: its queue entry (bounds read and written, entry and
amount written), its two words in InferenceRecorded and in the attribution hash, its log."""
SWEEP_ITEM_GAS = 6 * READ + 2 * WRITE
"""One locked payout swept by `claim`: entry, void, window end, amount and the two tallies read;
the tallies written."""
WALK_ITEM_GAS = 4 * READ
"""One locked payout summed by a view: entry, void, window end, amount."""


def count_credited(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`recordSpanInference`: the contributions its evidence credits (0 if it is malformed)."""
    models = Records(Storage(storage.state, MODELS_ADDRESS))
    try:
        pinned = PinnedSpanParams.load(models, arguments["modelId"])
        return len(derive_weights(arguments["evidence"], arguments["outputLength"], pinned))
    except EvidenceError:
        return 0


def _count_units(*names: str) -> Any:
    def count(storage: Storage, arguments: Mapping[str, Any]) -> int:
        return sum(count_proof_units(arguments[name]) for name in names)

    return count


def count_swept(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`claim`: the locked payouts the caller's sweep may look at (`locks.count_sweep`)."""
    return count_sweep(Records(storage), arguments[SENDER_ARGUMENT])


def count_locked(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """The views: the unswept payouts of `account`."""
    return count_unswept(Records(storage), arguments["account"])


SPAN_MODELS_GAS: Mapping[str, GasRule] = {
    "registerSpanModel": GasRule(
        compute_gas(reads=3, writes=11, logs=(MODEL_REGISTERED, SPAN_MODEL_REGISTERED)),
        per_item=READ + 3 * WRITE + 2 * LOG_WORD_GAS, item_arg="datanetIds",
        per_word=STORED_WORD_GAS, byte_args=("name", "uri"),
    ),
    "addBond": GasRule(compute_gas(reads=2, writes=1, logs=(BOND_DEPOSITED,))),
    "withdrawBond": GasRule(compute_gas(reads=3, writes=1, logs=(BOND_WITHDRAWN,), payments=1)),
    "getAttributionMethod": GasRule(compute_gas(reads=6)),
    "getSpanParams": GasRule(compute_gas(reads=3)),
}  # fmt: skip
"""Gas of the models precompile's span methods (on top of `CALL_BASE_GAS`)."""

_RECORD_READS = 13
"""A challenge: the record (model, window end, void, evidence root, block, output root and
length), the model's two pinned words, and the void's locked total, bond, fee and the
challenger's pending reward."""
_KIND_READS = {"challengeMismatch": 1, "challengeBoundaries": 0,
               "challengeEarlier": MEMBER_READS + 1, "challengeOmission": MEMBER_READS + 1}  # fmt: skip
"""Beside the record: the contribution's root, and for a holder its membership."""


def compute_span_gas(sink_gas: int) -> dict[str, GasRule]:
    """Gas of the attribution precompile's span methods, with `sink_gas` for the sink in use."""
    rules = {
        "recordSpanInference": GasRule(
            compute_gas(
                reads=13, writes=17, logs=(INFERENCE_RECORDED, FEE_SPLIT, SPAN_INFERENCE_RECORDED),
                hashing=2 * KECCAK_GAS + 4 * KECCAK_WORD_GAS,
            ) + sink_gas,
            per_word=MEMBER_READS * READ // ENTRY_WORDS + LOG_WORD_GAS + KECCAK_WORD_GAS,
            byte_args=("evidence",),
            per_stored_item=PAYOUT_GAS, stored_items=count_credited,
        ),
        "lockedRewards": GasRule(
            compute_gas(reads=1), per_stored_item=WALK_ITEM_GAS, stored_items=count_locked
        ),
        "getSpanInference": GasRule(compute_gas(reads=5)),
    }  # fmt: skip
    for method, (first, second) in {
        "challengeMismatch": ("outputProof", "contributionProof"),
        "challengeBoundaries": ("startProof", "endProof"),
        "challengeEarlier": ("outputProof", "earlierProof"),
        "challengeOmission": ("outputProof", "holderProof"),
    }.items():
        rules[method] = GasRule(
            compute_gas(reads=_RECORD_READS + _KIND_READS[method], writes=3,
                        logs=(INFERENCE_VOIDED,), hashing=KECCAK_GAS, payments=1) + sink_gas,
            per_word=KECCAK_WORD_GAS, byte_args=("evidence",),
            per_stored_item=KECCAK_WORD_GAS, stored_items=_count_units(first, second),
        )  # fmt: skip
    return rules


LOCKED_CLAIM_GAS = {
    "claim": GasRule(
        compute_gas(reads=2, writes=2, logs=(REWARDS_CLAIMED,), payments=1),
        per_stored_item=SWEEP_ITEM_GAS,
        stored_items=count_swept,
    ),
    "pendingRewards": GasRule(
        compute_gas(reads=2), per_stored_item=WALK_ITEM_GAS, stored_items=count_locked
    ),
}
"""`claim` and `pendingRewards`, which look at locked payouts too (they replace the declared-only
rules of `gas`)."""
