"""The models precompile at `0x0000000000000000000000000000000000000a02` (`IModels.sol`).

A model names the Datanet versions it was trained on, the operator that serves it (the only
account that may record its inferences) and its price per inference. Rules:

- A model cites from 1 to `maxDatanetsPerModel` Datanets, each once, each at a published
  version. A contribution can earn from the model's inferences when it is in the cited version
  (versions are cumulative, so a contribution accepted before that version was published).
- Citations and the name are fixed at registration; a retrained model is registered anew with
  `parentModelId` pointing at the model it derives from. The owner may change the URI, the
  operator and the fee (`updateModel`).
- Any account may cite any Datanet, public or private: a private Datanet restricts who
  contributes, not who trains on it.
- `registerModel` gives a declared-weights model (unverified); `registerSpanModel` a
  verbatim-span model with pinned parameters and a bond (`span_models`).
"""

from typing import Any

from openledger.attribution.events import (
    MODEL_REGISTERED,
    MODEL_UPDATED,
    MODELS_EVENTS,
    SPAN_MODEL_REGISTERED,
)
from openledger.attribution.gas import MODELS_GAS
from openledger.attribution.layout import (
    DATANET_VERSION,
    MODEL_BOND,
    MODEL_CITES,
    MODEL_COUNT,
    MODEL_DATANET_AT,
    MODEL_DATANET_COUNT,
    MODEL_FEE,
    MODEL_MIN_BOND,
    MODEL_NAME,
    MODEL_OPERATOR,
    MODEL_OWNER,
    MODEL_PARENT,
    MODEL_SPAN_PARAMS,
    MODEL_URI,
    MODEL_VERSION_AT,
    AttributionMethod,
    Records,
    datanets_of,
)
from openledger.attribution.span_gas import SPAN_MODELS_GAS
from openledger.attribution.span_models import PinnedSpanParams, SpanModelMethods, owner_word
from openledger.genesis.model import MODELS_ADDRESS, AttributionParams
from openledger.genesis.types import Address
from openledger.state import precompile
from openledger.state.precompile import Call, hex_address

ZERO_ADDRESS = Address(b"\x00" * 20)

SIGNATURES: tuple[precompile.Signature, ...] = (
    ("registerModel", (("name", "string"), ("uri", "string"), ("datanetIds", "uint256[]"),
                       ("datanetVersions", "uint256[]"), ("operator", "address"),
                       ("feePerInference", "uint256"), ("parentModelId", "uint256")),
     ("uint256",), "nonpayable"),
    ("updateModel", (("modelId", "uint256"), ("uri", "string"), ("operator", "address"),
                     ("feePerInference", "uint256")), (), "nonpayable"),
    ("getModel", (("modelId", "uint256"),),
     ("address", "string", "string", "address", "uint256", "uint256"), "view"),
    ("getModelDatanets", (("modelId", "uint256"),), ("uint256[]", "uint256[]"), "view"),
    ("citedVersion", (("modelId", "uint256"), ("datanetId", "uint256")), ("uint256",), "view"),
    ("registerSpanModel", (("name", "string"), ("uri", "string"), ("datanetIds", "uint256[]"),
                           ("datanetVersions", "uint256[]"), ("operator", "address"),
                           ("feePerInference", "uint256"), ("parentModelId", "uint256")),
     ("uint256",), "payable"),
    ("addBond", (("modelId", "uint256"),), (), "payable"),
    ("withdrawBond", (("modelId", "uint256"), ("amount", "uint256")), (), "nonpayable"),
    ("getAttributionMethod", (("modelId", "uint256"),),
     ("uint8", "uint256", "uint256", "uint256"), "view"),
    ("getSpanParams", (("modelId", "uint256"),), ("uint256",) * 9, "view"),
)  # fmt: skip
"""The ABI of `IModels.sol`, in its order."""


def make_models_precompile(params: AttributionParams) -> precompile.StatefulPrecompile:
    """The models precompile of a chain with these parameters."""
    return precompile.declare_precompile(
        "models", MODELS_ADDRESS, SIGNATURES, _ModelMethods(params),
        {**MODELS_GAS, **SPAN_MODELS_GAS}, MODELS_EVENTS,
    )  # fmt: skip


class _ModelMethods(SpanModelMethods, precompile.MethodHandlers[AttributionParams]):
    """The handlers; each is called with the `Call` and the decoded arguments."""

    def registerModel(  # noqa: N802
        self,
        call: Call,
        name: str,
        uri: str,
        datanets: tuple[int, ...],
        versions: tuple[int, ...],
        operator: Address,
        fee: int,
        parent: int,
    ) -> int:
        return self._register(
            call, name, uri, datanets, versions, operator, fee, parent, AttributionMethod.DECLARED
        )

    def registerSpanModel(  # noqa: N802
        self,
        call: Call,
        name: str,
        uri: str,
        datanets: tuple[int, ...],
        versions: tuple[int, ...],
        operator: Address,
        fee: int,
        parent: int,
    ) -> int:
        pinned = PinnedSpanParams.from_genesis(self.params)
        required = pinned.required_bond(fee)
        if call.value < required:
            call.revert(f"bond of {call.value} wei is below the required {required} wei "
                        "(max of minOperatorBond and bondFeeMultiple * feePerInference)")  # fmt: skip
        model = self._register(
            call, name, uri, datanets, versions, operator, fee, parent, AttributionMethod.SPANS
        )
        records = Records(call.storage)
        records.set(MODEL_SPAN_PARAMS, model, to=pinned.pack())
        records.set(MODEL_MIN_BOND, model, to=pinned.min_operator_bond)
        records.set(MODEL_BOND, model, to=call.value)
        call.emit(SPAN_MODEL_REGISTERED, model, call.value, *pinned.as_tuple())
        return model

    def _register(
        self,
        call: Call,
        name: str,
        uri: str,
        datanets: tuple[int, ...],
        versions: tuple[int, ...],
        operator: Address,
        fee: int,
        parent: int,
        method: AttributionMethod,
    ) -> int:
        """Check and store a model (the rules of the module docstring); returns its id."""
        records = Records(call.storage)
        if not name:
            call.revert("name is empty")
        if len(datanets) != len(versions):
            call.revert(f"{len(datanets)} Datanet ids but {len(versions)} versions")
        limit = self.params.max_datanets_per_model
        if not 1 <= len(datanets) <= limit:
            call.revert(f"a model cites from 1 to {limit} Datanets, not {len(datanets)}")
        if len(set(datanets)) != len(datanets):
            call.revert("a Datanet is cited twice")
        if operator == ZERO_ADDRESS:
            call.revert("operator is the zero address")
        count = records.get(MODEL_COUNT)
        if parent > count:
            call.revert(f"no parent model {parent}")
        published = datanets_of(call.state)
        for datanet, version in zip(datanets, versions, strict=True):
            latest = published.get(DATANET_VERSION, datanet)
            if not 1 <= version <= latest:
                call.revert(f"Datanet {datanet} has no published version {version} (latest: "
                            f"{latest})")  # fmt: skip
        model = count + 1
        records.set(MODEL_COUNT, to=model)
        records.set(MODEL_OWNER, model, to=owner_word(call.sender, method))
        records.set_string(MODEL_NAME, model, to=name)
        records.set_string(MODEL_URI, model, to=uri)
        records.set_address(MODEL_OPERATOR, model, to=operator)
        records.set(MODEL_FEE, model, to=fee)
        records.set(MODEL_PARENT, model, to=parent)
        records.set(MODEL_DATANET_COUNT, model, to=len(datanets))
        for index, (datanet, version) in enumerate(zip(datanets, versions, strict=True)):
            records.set(MODEL_DATANET_AT, model, index, to=datanet)
            records.set(MODEL_VERSION_AT, model, index, to=version)
            records.set(MODEL_CITES, model, datanet, to=version)
        call.emit(MODEL_REGISTERED, model, call.sender, operator, name, uri, fee, parent,
                  list(datanets), list(versions))  # fmt: skip
        return model

    def updateModel(  # noqa: N802
        self, call: Call, model: int, uri: str, operator: Address, fee: int
    ) -> None:
        records = Records(call.storage)
        owner = _require_model(call, records, model)
        if call.sender != owner:
            call.revert(f"only the owner of model {model} ({hex_address(owner)}) may update it")
        if operator == ZERO_ADDRESS:
            call.revert("operator is the zero address")
        records.set_string(MODEL_URI, model, to=uri)
        records.set_address(MODEL_OPERATOR, model, to=operator)
        records.set(MODEL_FEE, model, to=fee)
        call.emit(MODEL_UPDATED, model, operator, uri, fee)

    # --- views ----------------------------------------------------------------------------------

    def getModel(self, call: Call, model: int) -> tuple[Any, ...]:  # noqa: N802
        records = Records(call.storage)
        owner = _require_model(call, records, model)
        return (
            owner,
            records.get_string(MODEL_NAME, model),
            records.get_string(MODEL_URI, model),
            records.get_address(MODEL_OPERATOR, model),
            records.get(MODEL_FEE, model),
            records.get(MODEL_PARENT, model),
        )

    def getModelDatanets(self, call: Call, model: int) -> tuple[list[int], list[int]]:  # noqa: N802
        records = Records(call.storage)
        _require_model(call, records, model)
        count = records.get(MODEL_DATANET_COUNT, model)
        return (
            [records.get(MODEL_DATANET_AT, model, index) for index in range(count)],
            [records.get(MODEL_VERSION_AT, model, index) for index in range(count)],
        )

    def citedVersion(self, call: Call, model: int, datanet: int) -> int:  # noqa: N802
        return Records(call.storage).get(MODEL_CITES, model, datanet)


def _require_model(call: Call, records: Records, model: int) -> Address:
    """The model's owner; reverts when there is no such model."""
    owner = records.get_address(MODEL_OWNER, model)
    if owner == ZERO_ADDRESS:
        call.revert(f"no model {model}")
    return owner
