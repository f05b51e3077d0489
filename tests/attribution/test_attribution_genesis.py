"""The `openledger.attribution` section of a genesis file: every parameter read, validated with
errors that name the field, written back, and used by the chain."""

from typing import Any

import pytest
from attribution_helpers import OWNER, PARAMS, AttributionChain

from openledger.genesis.dev import derive_dev_validator_key, make_dev_genesis
from openledger.genesis.errors import GenesisError
from openledger.genesis.load import dump_genesis, parse_genesis
from openledger.genesis.model import AttributionParams
from openledger.genesis.types import Address, ChainId


def _document(attribution: dict[str, Any]) -> dict[str, Any]:
    return {"config": {"chainId": 1337}, "openledger": {"attribution": attribution}}


def test_every_parameter_is_read_from_its_camel_case_key() -> None:
    section = {
        "protocolFeeBps": 500, "modelOwnerFeeBps": "0x7d0", "agentOwnerFeeBps": "1500",
        "protocolAccount": "0x" + "ab" * 20, "maxContributionsPerInference": 16,
        "maxDatanetsPerModel": 2, "dailyContributionBytes": 1 << 20,
        "dailyContributionCount": 50, "flagPenaltyThreshold": 5,
        "minAgentStake": "0x8ac7230489e80000", "agentUnbondingBlocks": 12,
    }  # fmt: skip

    params = parse_genesis(_document(section)).openledger.attribution

    assert params == AttributionParams(
        500, 2000, 1500, Address(b"\xab" * 20), 16, 2, 1 << 20, 50, 5, 10**19, 12
    )


def test_the_section_round_trips_through_dump() -> None:
    genesis = parse_genesis(
        _document({"maxDatanetsPerModel": 7, "protocolAccount": "0x" + "01" * 20})
    )

    assert parse_genesis(dump_genesis(genesis)) == genesis
    assert dump_genesis(genesis)["openledger"]["attribution"]["maxDatanetsPerModel"] == 7


@pytest.mark.parametrize(
    ("section", "field", "problem"),
    [
        ({"protocolFeeBps": 6000, "modelOwnerFeeBps": 3000, "agentOwnerFeeBps": 1001},
         "openledger.attribution", "is 10001, above 10000"),
        ({"modelOwnerFeeBps": 10_001}, "openledger.attribution.modelOwnerFeeBps",
         "outside 0 .. 10000"),
        ({"maxContributionsPerInference": 0}, "openledger.attribution.maxContributionsPerInference",
         "must be positive"),
        ({"maxDatanetsPerModel": 0}, "openledger.attribution.maxDatanetsPerModel",
         "must be positive"),
        ({"dailyContributionBytes": 0}, "openledger.attribution.dailyContributionBytes",
         "must be positive"),
        ({"dailyContributionCount": 0}, "openledger.attribution.dailyContributionCount",
         "must be positive"),
        ({"flagPenaltyThreshold": 0}, "openledger.attribution.flagPenaltyThreshold",
         "must be positive"),
        ({"protocolAccount": "0x1234"}, "openledger.attribution.protocolAccount",
         "not a 20-byte address"),
        ({"minAgentStake": -1}, "openledger.attribution.minAgentStake", "outside"),
        ({"maxContributions": 3}, "openledger.attribution.maxContributions", "not a known field"),
    ],
)  # fmt: skip
def test_invalid_parameters_are_refused_naming_the_field(
    section: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(GenesisError) as raised:
        parse_genesis(_document(section))

    assert raised.value.field == field
    assert problem in raised.value.problem


def test_the_dev_genesis_accrues_the_protocol_share_to_its_validator() -> None:
    validator = derive_dev_validator_key().address

    genesis = make_dev_genesis(ChainId(1337), (), (validator,))

    assert genesis.openledger.attribution.protocol_account == validator


def test_the_chain_runs_with_the_genesis_parameters(chain: AttributionChain) -> None:
    chain.mine()
    chain.send(OWNER, "datanets", "createDatanet", "d", "", 0, True)
    for index in range(PARAMS.daily_contribution_count):
        assert chain.send(OWNER, "datanets", "contribute", 1, bytes([index + 1]) * 32, "", 1).ok

    reason = chain.reason(OWNER.address, "datanets", "contribute", 1, b"\xff" * 32, "", 1)

    assert f"{PARAMS.daily_contribution_count} contributions made today" in reason
