"""Where the four attribution precompiles keep their state: named storage fields.

Every record lives in the EVM storage of its precompile's own address, so it is in the state root,
identical on every node and provable with `eth_getProof`. A field is a named family of slots:

    slot(name, k1, k2, ...) = keccak256(name || 0x00 || enc(k1) || 0x00 || enc(k2) ...)

where `enc` of an integer is its 32-byte big-endian form and `enc` of a byte string (an address as
20 raw bytes, a hash as 32) is its Keccak-256 hash (`state.precompile.storage`). For example
the pending reward of `account` is the word at
`keccak256(b"rewards.pending" || 0x00 || keccak256(account))` of `0x...0a04`.

Strings are laid out like Solidity `bytes`: the length at the field's slot and the content in
32-byte chunks from `keccak256(slot)`. Ids count from 1 in each precompile; 0 means "none".

A precompile reads the others' fields directly (a model checks a Datanet's versions, an inference
checks contributions and agents); only the owner of a field writes it. This module says where
things are and how records are coded; the rules live in `datanets`, `models`, `agents` and
`rewards`.
"""

from enum import IntEnum

from eth.abc import StateAPI

from openledger.genesis.model import (
    AGENTS_ADDRESS,
    ATTRIBUTION_ADDRESS,
    DATANETS_ADDRESS,
    MODELS_ADDRESS,
)
from openledger.genesis.types import Address
from openledger.state.precompile import Field, FieldWords, Key, PrecompileRevert, Storage

TALLY_SHIFT = 192
"""Tallies pack a count and an amount in one word: `count << 192 | amount` (amounts stay far
below 2**192 wei)."""
TALLY_AMOUNT_MASK = (1 << TALLY_SHIFT) - 1


class ContributionStatus(IntEnum):
    """A contribution's review state (0: no such contribution)."""

    PENDING = 1
    ACCEPTED = 2
    REJECTED = 3


class Modality(IntEnum):
    """What one Datanet holds; fixed at creation."""

    TEXT = 0
    IMAGE = 1
    AUDIO = 2


class AttributionMethod(IntEnum):
    """How a model's inferences are attributed (`getAttributionMethod`)."""

    DECLARED = 1
    """The operator names contributions and weights; nothing checks them (unverified)."""
    SPANS = 2
    """Verbatim spans: the chain computes weights from the evidence, and records can be
    challenged."""


METHOD_SHIFT = 160
"""Where `model.owner` keeps the attribution method (0 stands for `DECLARED`)."""


def read_model_method(owner_word: int) -> AttributionMethod:
    """The attribution method kept in a `model.owner` word."""
    return AttributionMethod((owner_word >> METHOD_SHIFT) or AttributionMethod.DECLARED)


class AgentStatus(IntEnum):
    """An agent's stake state (0: no such agent)."""

    ACTIVE = 1
    UNBONDING = 2
    WITHDRAWN = 3


# --- Datanets (0x...0a01) -------------------------------------------------------------------------
DATANET_COUNT = Field("datanets.count")
"""The last Datanet id given."""
DATANET_OWNER = Field("datanet.owner")
"""(datanet) -> owner address; zero means no such Datanet."""
DATANET_NAME = Field("datanet.name")
"""(datanet) -> name (string)."""
DATANET_URI = Field("datanet.uri")
"""(datanet) -> metadata URI (string)."""
DATANET_MODALITY = Field("datanet.modality")
"""(datanet) -> `Modality`."""
DATANET_PUBLIC = Field("datanet.public")
"""(datanet) -> 1 when anyone may contribute, 0 when only the owner and curators may."""
DATANET_CURATOR = Field("datanet.curator")
"""(datanet, account) -> 1 when the account may review and flag."""
DATANET_HASH = Field("datanet.hash")
"""(datanet, contentHash) -> the contribution id that submitted this content."""
DATANET_ACCEPTED = Field("datanet.accepted")
"""(datanet) -> number of accepted contributions: the leaves of its Merkle tree."""
DATANET_BRANCH = Field("datanet.branch")
"""(datanet, level) -> the incremental Merkle tree's branch node at that level (`merkle`)."""
DATANET_VERSION = Field("datanet.version")
"""(datanet) -> the latest published version (0: none yet)."""
VERSION_ROOT = Field("version.root")
"""(datanet, version) -> Merkle root of the version's contributions."""
VERSION_SIZE = Field("version.size")
"""(datanet, version) -> how many accepted contributions (leaves) the version includes."""
VERSION_BLOCK = Field("version.block")
"""(datanet, version) -> the block that published it."""
QUOTA_BYTES = Field("quota.bytes")
"""(datanet, contributor, day) -> bytes contributed that day (day = timestamp // 86400)."""
QUOTA_COUNT = Field("quota.count")
"""(datanet, contributor, day) -> contributions made that day."""
PENALTIES = Field("datanet.penalties")
"""(datanet, contributor) -> flags against the contributor's contributions to the Datanet."""
FLAGS = Field("contributor.flags")
"""(contributor) -> flags against the contributor across all Datanets."""

CONTRIBUTION_COUNT = Field("contributions.count")
"""The last contribution id given."""
CONTRIBUTION_DATANET = Field("contribution.datanet")
"""(contribution) -> its Datanet."""
CONTRIBUTION_CONTRIBUTOR = Field("contribution.contributor")
"""(contribution) -> who submitted it (and earns from it)."""
CONTRIBUTION_HASH = Field("contribution.hash")
"""(contribution) -> content hash."""
CONTRIBUTION_URI = Field("contribution.uri")
"""(contribution) -> where the content is stored off chain (string)."""
CONTRIBUTION_SIZE = Field("contribution.size")
"""(contribution) -> declared size of the content in bytes."""
CONTRIBUTION_STATUS = Field("contribution.status")
"""(contribution) -> `ContributionStatus`; zero means no such contribution."""
CONTRIBUTION_QUALITY = Field("contribution.quality")
"""(contribution) -> quality score given at review, 0 to 100."""
CONTRIBUTION_IS_FLAGGED = Field("contribution.flagged")
"""(contribution) -> the block that flagged it (0: not flagged); it earns nothing from then on,
and a span record made before that block is judged as if it were unflagged."""
CONTRIBUTION_LEAF = Field("contribution.leaf")
"""(contribution) -> its 0-based leaf index in the Datanet's tree (set when accepted)."""

# --- Models (0x...0a02) ---------------------------------------------------------------------------
MODEL_COUNT = Field("models.count")
"""The last model id given."""
MODEL_OWNER = Field("model.owner")
"""(model) -> owner address in the low 20 bytes; zero means no such model. Bits 160..167 hold the
attribution method (`METHOD_SHIFT`): 0 declared weights, `AttributionMethod.SPANS`, so that
`recordInference` tells the methods apart with the read it already makes."""
MODEL_NAME = Field("model.name")
"""(model) -> name (string)."""
MODEL_URI = Field("model.uri")
"""(model) -> URI of the model's description or weights (string)."""
MODEL_OPERATOR = Field("model.operator")
"""(model) -> the only account that may record its inferences."""
MODEL_FEE = Field("model.fee")
"""(model) -> least fee per inference, in wei."""
MODEL_PARENT = Field("model.parent")
"""(model) -> the model it derives from (0: none)."""
MODEL_DATANET_COUNT = Field("model.datanets.count")
"""(model) -> how many Datanets it cites."""
MODEL_DATANET_AT = Field("model.datanets.at")
"""(model, index) -> the cited Datanet, in registration order."""
MODEL_VERSION_AT = Field("model.versions.at")
"""(model, index) -> the cited version of that Datanet."""
MODEL_CITES = Field("model.cites")
"""(model, datanet) -> the cited version of the Datanet (0: not cited)."""
MODEL_SPAN_PARAMS = Field("model.span.params")
"""(model) -> the span parameters pinned at registration, packed (`span_models.PinnedSpanParams`)."""
MODEL_MIN_BOND = Field("model.span.minBond")
"""(model) -> the pinned `minOperatorBond`, in wei."""
MODEL_BOND = Field("model.span.bond")
"""(model) -> the span model's bond, in wei, held in the models precompile's balance. The one field
another precompile writes: a proven challenge (`attribution.challenges`) slashes it."""

# --- Agents (0x...0a03) ---------------------------------------------------------------------------
AGENT_COUNT = Field("agents.count")
"""The last agent id given."""
AGENT_OWNER = Field("agent.owner")
"""(agent) -> owner address."""
AGENT_MODEL = Field("agent.model")
"""(agent) -> the model it serves."""
AGENT_URI = Field("agent.uri")
"""(agent) -> URI of the agent's description (string)."""
AGENT_STAKE = Field("agent.stake")
"""(agent) -> wei staked (held in the agents precompile's balance)."""
AGENT_STATUS = Field("agent.status")
"""(agent) -> `AgentStatus`; zero means no such agent."""
AGENT_WITHDRAWABLE = Field("agent.withdrawable")
"""(agent) -> first block at which an unbonding stake may be withdrawn."""

# --- Attribution and rewards (0x...0a04) ----------------------------------------------------------
INFERENCE_COUNT = Field("inferences.count")
"""The last inference id given."""
INFERENCE_MODEL = Field("inference.model")
"""(inference) -> model id; zero means no such inference."""
INFERENCE_AGENT = Field("inference.agent")
"""(inference) -> agent id (0: none)."""
INFERENCE_OPERATOR = Field("inference.operator")
"""(inference) -> the operator that recorded it."""
INFERENCE_HASH = Field("inference.hash")
"""(inference) -> the operator's hash of the inference (unique)."""
INFERENCE_EVIDENCE = Field("inference.evidence")
"""(inference) -> the commitment to the attribution evidence."""
INFERENCE_FEE = Field("inference.fee")
"""(inference) -> the fee paid (the whole `msg.value`)."""
INFERENCE_BLOCK = Field("inference.block")
"""(inference) -> the block that recorded it."""
INFERENCE_ATTRIBUTION = Field("inference.attribution")
"""(inference) -> keccak256(abi.encode(contributionIds, weights))."""
INFERENCE_BY_HASH = Field("inference.byHash")
"""(inferenceHash) -> inference id."""
PENDING = Field("rewards.pending")
"""(account) -> wei accrued, claimable and not yet claimed (span payouts join it when `claim`
sweeps them after their window)."""
SPAN_OUTPUT_ROOT = Field("inference.span.outputRoot")
"""(inference) -> the content root of a span record's output."""
SPAN_OUTPUT_LENGTH = Field("inference.span.outputLength")
"""(inference) -> the output's length in bytes."""
SPAN_MATURES = Field("inference.span.matures")
"""(inference) -> the first block after a span record's challenge window (0: declared weights)."""
SPAN_VOIDED = Field("inference.span.voided")
"""(inference) -> the block a challenge voided the record in (0: not voided)."""
SPAN_LOCKED = Field("inference.span.locked")
"""(inference) -> the contributors' share of the fee, locked in the window."""
MODEL_SPAN_MATURES = Field("model.span.matures")
"""(model) -> the latest `SPAN_MATURES` of the model's records: the bond is locked until then."""
LOCK_BOUNDS = Field("rewards.locks")
"""(account) -> `head | tail << 128`: the account's span payouts `head .. tail-1` are unswept."""
LOCK_ENTRY = Field("rewards.lock.entry")
"""(account, index) -> `inference | contribution << 128` of one locked span payout."""
LOCK_AMOUNT = Field("rewards.lock.amount")
"""(account, index) -> its wei."""
CONTRIBUTION_EARNINGS = Field("rewards.contribution")
"""(contribution) -> tally: inferences that credited it, wei it earned."""
CONTRIBUTOR_STATS = Field("rewards.contributor")
"""(contributor) -> tally: contributions credited, wei earned as a contributor."""


class Records(FieldWords):
    """Typed reads and writes of the fields of one precompile's storage."""

    __slots__ = ("storage",)

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage)
        self.storage = storage

    @classmethod
    def of(cls, state: StateAPI, address: Address) -> "Records":
        """The records of the precompile at `address` in `state`."""
        return cls(Storage(state, address))

    def add(self, field: Field, *keys: Key, delta: int) -> int:
        """Add `delta` to the word; returns the new value."""
        return self.storage.add(field.slot(*keys), delta)

    def get_string(self, field: Field, *keys: Key) -> str:
        """A string field."""
        return self.storage.get_string(field.slot(*keys))

    def set_string(self, field: Field, *keys: Key, to: str) -> None:
        """Write a string field (clearing the chunks of a longer old value)."""
        self.storage.set_string(field.slot(*keys), to)

    def get_string_length(self, field: Field, *keys: Key) -> int:
        """Length in bytes of a stored string, without reading its chunks."""
        return self.get(field, *keys)

    def add_tally(self, field: Field, *keys: Key, amount: int) -> None:
        """Count one more and add `amount` to a packed tally."""
        count, total = self.get_tally(field, *keys)
        if total + amount > TALLY_AMOUNT_MASK:
            raise PrecompileRevert("tally amount out of range")
        self.set(field, *keys, to=(count + 1) << TALLY_SHIFT | (total + amount))

    def get_tally(self, field: Field, *keys: Key) -> tuple[int, int]:
        """(count, amount) of a packed tally."""
        word = self.get(field, *keys)
        return word >> TALLY_SHIFT, word & TALLY_AMOUNT_MASK


def datanets_of(state: StateAPI) -> Records:
    """The Datanets precompile's records."""
    return Records.of(state, DATANETS_ADDRESS)


def models_of(state: StateAPI) -> Records:
    """The models precompile's records."""
    return Records.of(state, MODELS_ADDRESS)


def agents_of(state: StateAPI) -> Records:
    """The agents precompile's records."""
    return Records.of(state, AGENTS_ADDRESS)


def rewards_of(state: StateAPI) -> Records:
    """The attribution and rewards precompile's records."""
    return Records.of(state, ATTRIBUTION_ADDRESS)
