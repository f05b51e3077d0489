"""The precompiles answer exactly the ABI of the shipped Solidity interfaces, at their addresses,
and genesis gives each address its one byte of code."""

from typing import Any

import pytest
from attribution_helpers import INTERFACES, PARAMS, AttributionChain, shipped_abis

from openledger.attribution import make_attribution_precompiles
from openledger.genesis.model import (
    AGENTS_ADDRESS,
    ATTRIBUTION_ADDRESS,
    DATANETS_ADDRESS,
    MODELS_ADDRESS,
    PRECOMPILE_CODE,
)

ADDRESSES = {
    "datanets": DATANETS_ADDRESS,
    "models": MODELS_ADDRESS,
    "agents": AGENTS_ADDRESS,
    "attribution": ATTRIBUTION_ADDRESS,
}


def _functions(abi: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        entry["name"]: (
            tuple((item["name"], item["type"]) for item in entry["inputs"]),
            tuple(item["type"] for item in entry["outputs"]),
            entry["stateMutability"],
        )
        for entry in abi
        if entry["type"] == "function"
    }


def _events(abi: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        entry["name"]: tuple(
            (item["name"], item["type"], item["indexed"]) for item in entry["inputs"]
        )
        for entry in abi
        if entry["type"] == "event"
    }


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[dict[str, Any]]]:
    return shipped_abis()


@pytest.mark.parametrize("name", sorted(INTERFACES))
def test_the_precompile_answers_its_interface(
    name: str, shipped: dict[str, list[dict[str, Any]]]
) -> None:
    precompile = make_attribution_precompiles(PARAMS)[ADDRESSES[name]]

    assert precompile.address == ADDRESSES[name]
    assert _functions(precompile.abi()) == _functions(shipped[name])
    assert _events(precompile.abi()) == _events(shipped[name])


def test_every_precompile_address_has_the_sentinel_code(chain: AttributionChain) -> None:
    state = chain.state()

    for address in ADDRESSES.values():
        assert state.get_code(address) == PRECOMPILE_CODE == b"\x01"


def test_the_interfaces_name_the_addresses_the_node_uses() -> None:
    from openledger.attribution import SOLIDITY_DIR

    for name, interface in INTERFACES.items():
        source = (SOLIDITY_DIR / f"{interface}.sol").read_text()
        assert f"= 0x{ADDRESSES[name].hex()};" in source, interface
