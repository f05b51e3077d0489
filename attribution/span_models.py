"""Verbatim-span models on the models precompile: their pinned parameters and their bond.

`registerSpanModel` registers a model like `registerModel` and also:

- pins the genesis span parameters (`PinnedSpanParams`), so a later chain upgrade cannot change
  how the model's records are judged;
- takes `msg.value` as the model's bond, held in the models precompile's balance. A span record
  with fee F needs a bond of at least `required_bond(F) = max(minOperatorBond,
  bondFeeMultiple * F)`; a proven challenge slashes `min(bond, bondFeeMultiple * F)`
  (`attribution.challenges`). `addBond` tops it up (anyone); `withdrawBond` pays it back to the
  owner once every record of the model is past its challenge window.

The method is kept in the owner word (`layout.METHOD_SHIFT`), so today's callers read the same
slots as before.
"""

from dataclasses import dataclass, fields
from typing import Any

from openledger.attribution.events import BOND_DEPOSITED, BOND_WITHDRAWN
from openledger.attribution.layout import (
    METHOD_SHIFT,
    MODEL_BOND,
    MODEL_FEE,
    MODEL_MIN_BOND,
    MODEL_OWNER,
    MODEL_SPAN_MATURES,
    MODEL_SPAN_PARAMS,
    AttributionMethod,
    Records,
    read_model_method,
    rewards_of,
)
from openledger.attribution.split import BPS
from openledger.genesis.model import AttributionParams
from openledger.genesis.types import Address
from openledger.state.precompile import Call, hex_address

PACK_BITS = 32
"""Bits of each pinned parameter in the packed word (genesis bounds them)."""


@dataclass(frozen=True, slots=True)
class PinnedSpanParams:
    """The span parameters of one model, as `getSpanParams` returns them (in this order)."""

    min_span_bytes: int
    max_occurrences: int
    omission_bytes: int
    scoring_rule: int
    challenge_window: int
    min_operator_bond: int
    bond_fee_multiple: int
    challenger_share_bps: int
    max_span_entries: int

    @classmethod
    def from_genesis(cls, params: AttributionParams) -> "PinnedSpanParams":
        return cls(*(getattr(params, spec.name) for spec in fields(cls)))

    def required_bond(self, fee: int) -> int:
        """The least bond a record with this fee needs."""
        return max(self.min_operator_bond, self.bond_fee_multiple * fee)

    def slash(self, fee: int, bond: int) -> int:
        """What a proven challenge of a record with this fee takes from `bond`."""
        return min(bond, self.bond_fee_multiple * fee)

    def challenger_reward(self, slashed: int) -> int:
        return slashed * self.challenger_share_bps // BPS

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(getattr(self, spec.name) for spec in fields(self))

    def pack(self) -> int:
        """Every parameter but the bond in one word, 32 bits each, in field order."""
        word = 0
        for index, value in enumerate(self._packed()):
            word |= value << (PACK_BITS * index)
        return word

    @classmethod
    def load(cls, records: Records, model: int) -> "PinnedSpanParams":
        """The pinned parameters of span model `model` (from the models precompile's records)."""
        word, mask = records.get(MODEL_SPAN_PARAMS, model), (1 << PACK_BITS) - 1
        names = [spec.name for spec in fields(cls) if spec.name != "min_operator_bond"]
        values = {name: word >> (PACK_BITS * i) & mask for i, name in enumerate(names)}
        return cls(**values, min_operator_bond=records.get(MODEL_MIN_BOND, model))

    def _packed(self) -> tuple[int, ...]:
        return tuple(
            getattr(self, spec.name) for spec in fields(self) if spec.name != "min_operator_bond"
        )


class SpanModelMethods:
    """The span-model handlers of the models precompile (mixed into its handler object; its
    `registerSpanModel` is in `models`, beside `registerModel`)."""

    params: AttributionParams

    def addBond(self, call: Call, model: int) -> None:  # noqa: N802
        records = Records(call.storage)
        require_span_model(call, records, model)
        if call.value == 0:
            call.revert("addBond needs a value")
        bond = records.add(MODEL_BOND, model, delta=call.value)
        call.emit(BOND_DEPOSITED, model, call.sender, call.value, bond)

    def withdrawBond(self, call: Call, model: int, amount: int) -> None:  # noqa: N802
        records = Records(call.storage)
        owner = require_span_model(call, records, model)
        if call.sender != owner:
            call.revert(f"only the owner of model {model} ({hex_address(owner)}) may withdraw "
                        "its bond")  # fmt: skip
        until = rewards_of(call.state).get(MODEL_SPAN_MATURES, model)
        if call.block_number < until:
            call.revert(f"model {model} has records in their challenge window until block {until}")
        bond = records.get(MODEL_BOND, model)
        if not 0 < amount <= bond:
            call.revert(f"cannot withdraw {amount} wei of a bond of {bond} wei")
        records.set(MODEL_BOND, model, to=bond - amount)
        call.pay(owner, amount)
        call.emit(BOND_WITHDRAWN, model, owner, amount, bond - amount)

    def getAttributionMethod(self, call: Call, model: int) -> tuple[int, int, int, int]:  # noqa: N802
        records = Records(call.storage)
        word = records.get(MODEL_OWNER, model)
        if word == 0:
            call.revert(f"no model {model}")
        method = read_model_method(word)
        if method != AttributionMethod.SPANS:
            return (method, 0, 0, 0)
        pinned = PinnedSpanParams.load(records, model)
        return (
            method,
            records.get(MODEL_BOND, model),
            pinned.required_bond(records.get(MODEL_FEE, model)),
            rewards_of(call.state).get(MODEL_SPAN_MATURES, model),
        )

    def getSpanParams(self, call: Call, model: int) -> tuple[Any, ...]:  # noqa: N802
        records = Records(call.storage)
        require_span_model(call, records, model)
        return PinnedSpanParams.load(records, model).as_tuple()


def owner_word(owner: Address, method: AttributionMethod) -> int:
    """The `model.owner` word of a model with this owner and method."""
    code = 0 if method == AttributionMethod.DECLARED else int(method)
    return code << METHOD_SHIFT | int.from_bytes(owner, "big")


def require_span_model(call: Call, records: Records, model: int) -> Address:
    """The owner of span model `model`; reverts when there is none."""
    word = records.get(MODEL_OWNER, model)
    if word == 0:
        call.revert(f"no model {model}")
    if read_model_method(word) != AttributionMethod.SPANS:
        call.revert(f"model {model} uses declared weights, not verbatim spans")
    return Address(word.to_bytes(32, "big")[12:])
