"""The gas schedule of the four attribution precompiles.

Every method is charged, before it writes anything, the framework's `CALL_BASE_GAS` (2,600) plus
its rule here: a base, and for some methods an amount per array item, per 32-byte word of a
string argument (rounded up per string) or per item that stored data decides. Each number is a
count of work priced with named constants:

| work | gas | after |
| --- | --- | --- |
| storage slot read | 2,100 | a cold SLOAD (`SLOT_READ_GAS`) |
| storage slot write | 20,000 | a fresh SSTORE (`SLOT_WRITE_GAS`), whatever the slot held |
| log | 375 + 375 per topic + 8 per data byte | LOG0..LOG4 |
| Keccak-256 of n words | 30 + 6 n | KECCAK256 |
| value payment | 9,000 | a CALL that sends value |

A string argument that is stored and logged costs one write and 256 gas of log data per word.
The README's table "Gas" lists the resulting numbers; the tests check receipts against it.
Counts are upper bounds of what a handler does on its longest path (a rejected review is charged
as an accepted one), and a reverted call pays what it was charged. A slot read both to compute
the gas and by the handler is counted once.
"""

from collections.abc import Mapping
from typing import Any

from openledger.attribution.events import (
    AGENT_REGISTERED,
    CONTRIBUTION_FLAGGED,
    CONTRIBUTION_REVIEWED,
    CONTRIBUTION_REWARDED,
    CONTRIBUTION_SUBMITTED,
    CURATOR_SET,
    DATANET_CREATED,
    FEE_SPLIT,
    INFERENCE_RECORDED,
    MODEL_REGISTERED,
    MODEL_UPDATED,
    REWARDS_CLAIMED,
    STAKE_WITHDRAWN,
    UNSTAKE_REQUESTED,
    VERSION_PUBLISHED,
)
from openledger.attribution.layout import (
    AGENT_URI,
    CONTRIBUTION_DATANET,
    CONTRIBUTION_URI,
    DATANET_ACCEPTED,
    DATANET_NAME,
    DATANET_URI,
    MODEL_DATANET_COUNT,
    MODEL_NAME,
    MODEL_URI,
    Field,
    Records,
)
from openledger.attribution.merkle import TREE_DEPTH, count_insert_reads, count_root_reads
from openledger.state.precompile import (
    LOG_DATA_GAS,
    SLOT_READ_GAS,
    SLOT_WRITE_GAS,
    WORD_BYTES,
    Event,
    GasRule,
    Storage,
    compute_chunk_count,
)

READ = SLOT_READ_GAS
WRITE = SLOT_WRITE_GAS
KECCAK_GAS = 30
"""Keccak-256 of any input, before its words (the KECCAK256 opcode's static cost)."""
KECCAK_WORD_GAS = 6
"""Keccak-256, per 32-byte word of input."""
PAY_GAS = 9_000
"""A payment of value, as a CALL with value costs."""
LOG_WORD_GAS = LOG_DATA_GAS * WORD_BYTES
"""One 32-byte word of log data (256)."""
STORED_WORD_GAS = WRITE + LOG_WORD_GAS
"""One word of a string that is stored and logged (20,256)."""
PAIR_HASH_GAS = KECCAK_GAS + 2 * KECCAK_WORD_GAS
"""One Merkle node: the Keccak-256 of two words (42)."""
LEAF_HASH_GAS = 2 * (KECCAK_GAS + KECCAK_WORD_GAS)
"""One Merkle leaf: two Keccak-256 of one word (72)."""
PROTOCOL_SINK_GAS = READ + WRITE
"""The protocol sink's work in `recordInference` (the default sink's read and write of one
pending reward)."""


def compute_gas(
    *, reads: int = 0, writes: int = 0, logs: tuple[Event, ...] = (), hashing: int = 0,
    payments: int = 0,
) -> int:  # fmt: skip
    """Gas of a method that reads and writes these many slots, emits these logs (with empty
    dynamic values), spends `hashing` gas on Keccak-256 and pays value `payments` times."""
    log_gas = sum(event.compute_log_gas() for event in logs)
    return reads * READ + writes * WRITE + log_gas + hashing + payments * PAY_GAS


# --- what stored data decides (read before the gas is charged) ------------------------------------


def count_review_merges(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`review` accepting a contribution: the tree nodes merged to insert its leaf."""
    if not arguments["accept"]:
        return 0
    records = Records(storage)
    datanet = records.get(CONTRIBUTION_DATANET, arguments["contributionId"])
    return count_insert_reads(records.get(DATANET_ACCEPTED, datanet))


def count_root_nodes(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`publishVersion`: the branch nodes read to compute the root (the one bits of the
    Datanet's accepted count)."""
    return count_root_reads(Records(storage).get(DATANET_ACCEPTED, arguments["datanetId"]))


def count_datanet_chunks(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`getDatanet`: the words of its stored name and metadata URI."""
    records, datanet = Records(storage), arguments["datanetId"]
    return _chunks(records, DATANET_NAME, datanet) + _chunks(records, DATANET_URI, datanet)


def count_contribution_chunks(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`getContribution`: the words of its stored URI."""
    return _chunks(Records(storage), CONTRIBUTION_URI, arguments["contributionId"])


def count_cleared_uri_chunks(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`updateModel`: the words of the old URI beyond the new one's, which are cleared."""
    old = _chunks(Records(storage), MODEL_URI, arguments["modelId"])
    return max(0, old - compute_chunk_count(arguments["uri"]))


def count_model_chunks(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`getModel`: the words of its stored name and URI."""
    records, model = Records(storage), arguments["modelId"]
    return _chunks(records, MODEL_NAME, model) + _chunks(records, MODEL_URI, model)


def count_cited_datanets(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`getModelDatanets`: the Datanets the model cites."""
    return Records(storage).get(MODEL_DATANET_COUNT, arguments["modelId"])


def count_agent_chunks(storage: Storage, arguments: Mapping[str, Any]) -> int:
    """`getAgent`: the words of its stored URI."""
    return _chunks(Records(storage), AGENT_URI, arguments["agentId"])


def _chunks(records: Records, field: Field, key: int) -> int:
    return (records.get_string_length(field, key) + WORD_BYTES - 1) // WORD_BYTES


# --- the schedule ---------------------------------------------------------------------------------

DATANETS_GAS: Mapping[str, GasRule] = {
    "createDatanet": GasRule(
        compute_gas(reads=3, writes=6, logs=(DATANET_CREATED,)),
        per_word=STORED_WORD_GAS, byte_args=("name", "metadataURI"),
    ),
    "setCurator": GasRule(compute_gas(reads=1, writes=1, logs=(CURATOR_SET,))),
    "contribute": GasRule(
        compute_gas(reads=9, writes=10, logs=(CONTRIBUTION_SUBMITTED,)),
        per_word=STORED_WORD_GAS, byte_args=("uri",),
    ),
    "review": GasRule(
        compute_gas(reads=6, writes=5, logs=(CONTRIBUTION_REVIEWED,), hashing=LEAF_HASH_GAS),
        per_stored_item=READ + PAIR_HASH_GAS, stored_items=count_review_merges,
    ),
    "publishVersion": GasRule(
        compute_gas(reads=4, writes=4, logs=(VERSION_PUBLISHED,),
                    hashing=TREE_DEPTH * PAIR_HASH_GAS),
        per_stored_item=READ, stored_items=count_root_nodes,
    ),
    "flag": GasRule(
        compute_gas(reads=8, writes=3, logs=(CONTRIBUTION_FLAGGED,)),
        per_word=LOG_WORD_GAS, byte_args=("reason",),
    ),
    "getDatanet": GasRule(
        compute_gas(reads=7), per_stored_item=READ, stored_items=count_datanet_chunks
    ),
    "isCurator": GasRule(compute_gas(reads=2)),
    "getContribution": GasRule(
        compute_gas(reads=9), per_stored_item=READ, stored_items=count_contribution_chunks
    ),
    "contributionByHash": GasRule(compute_gas(reads=1)),
    "getVersion": GasRule(compute_gas(reads=4)),
    "verifyInclusion": GasRule(
        compute_gas(reads=2, hashing=LEAF_HASH_GAS), per_item=PAIR_HASH_GAS, item_arg="proof"
    ),
    "penalties": GasRule(compute_gas(reads=1)),
}  # fmt: skip
"""Gas of the Datanets precompile's methods (on top of `CALL_BASE_GAS`)."""

MODELS_GAS: Mapping[str, GasRule] = {
    "registerModel": GasRule(
        compute_gas(reads=3, writes=8, logs=(MODEL_REGISTERED,)),
        per_item=READ + 3 * WRITE + 2 * LOG_WORD_GAS, item_arg="datanetIds",
        per_word=STORED_WORD_GAS, byte_args=("name", "uri"),
    ),
    "updateModel": GasRule(
        compute_gas(reads=2, writes=3, logs=(MODEL_UPDATED,)),
        per_word=STORED_WORD_GAS, byte_args=("uri",),
        per_stored_item=WRITE, stored_items=count_cleared_uri_chunks,
    ),
    "getModel": GasRule(
        compute_gas(reads=6), per_stored_item=READ, stored_items=count_model_chunks
    ),
    "getModelDatanets": GasRule(
        compute_gas(reads=2), per_stored_item=2 * READ, stored_items=count_cited_datanets
    ),
    "citedVersion": GasRule(compute_gas(reads=1)),
}  # fmt: skip
"""Gas of the models precompile's methods (on top of `CALL_BASE_GAS`)."""

AGENTS_GAS: Mapping[str, GasRule] = {
    "registerAgent": GasRule(
        compute_gas(reads=3, writes=6, logs=(AGENT_REGISTERED,)),
        per_word=STORED_WORD_GAS, byte_args=("uri",),
    ),
    "requestUnstake": GasRule(compute_gas(reads=3, writes=2, logs=(UNSTAKE_REQUESTED,))),
    "withdrawStake": GasRule(
        compute_gas(reads=4, writes=2, logs=(STAKE_WITHDRAWN,), payments=1)
    ),
    "getAgent": GasRule(
        compute_gas(reads=6), per_stored_item=READ, stored_items=count_agent_chunks
    ),
}  # fmt: skip
"""Gas of the agents precompile's methods (on top of `CALL_BASE_GAS`)."""


def compute_attribution_gas(sink_gas: int = PROTOCOL_SINK_GAS) -> Mapping[str, GasRule]:
    """Gas of the attribution precompile's methods, with `sink_gas` for the protocol sink in use
    (its `gas`: the default account sink's one read and one write, or the staking sink's work).
    """
    return {
        # Base: the model, inference-hash and agent checks, the record (count, eight fields, the
        # hash index), the model and agent owners' rewards, the protocol sink, the two fixed logs,
        # and the attribution hash over the lists' four head words. Per contribution: seven reads to
        # check it, three read-and-writes (its contributor's pending reward, its tally, the
        # contributor's tally), its two words in InferenceRecorded, its ContributionRewarded log and
        # its two words in the attribution hash.
        "recordInference": GasRule(
            compute_gas(
                reads=10,
                writes=12,
                logs=(INFERENCE_RECORDED, FEE_SPLIT),
                hashing=KECCAK_GAS + 4 * KECCAK_WORD_GAS,
            )
            + sink_gas,
            per_item=10 * READ
            + 3 * WRITE
            + 2 * LOG_WORD_GAS
            + CONTRIBUTION_REWARDED.compute_log_gas()
            + 2 * KECCAK_WORD_GAS,
            item_arg="contributionIds",
        ),
        "claim": GasRule(compute_gas(reads=1, writes=1, logs=(REWARDS_CLAIMED,), payments=1)),
        "pendingRewards": GasRule(compute_gas(reads=1)),
        "getInference": GasRule(compute_gas(reads=8)),
        "inferenceByHash": GasRule(compute_gas(reads=1)),
        "contributionEarnings": GasRule(compute_gas(reads=1)),
        "contributorStats": GasRule(compute_gas(reads=2)),
    }


ATTRIBUTION_GAS = compute_attribution_gas()
"""The schedule with the default account sink."""  # fmt: skip
"""Gas of the attribution and rewards precompile's methods (on top of `CALL_BASE_GAS`)."""
