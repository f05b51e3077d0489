"""The span parameters of `openledger.attribution`: read, validated naming the field, written
back, and pinned per model at registration."""

from typing import Any

import pytest

from openledger.genesis.errors import GenesisError
from openledger.genesis.load import dump_genesis, parse_genesis
from openledger.genesis.model import AttributionParams


def _document(attribution: dict[str, Any]) -> dict[str, Any]:
    return {"config": {"chainId": 1337}, "openledger": {"attribution": attribution}}


SECTION = {
    "minSpanBytes": 32, "maxOccurrences": 4, "omissionBytes": 64, "scoringRule": 1,
    "challengeWindow": "0x20", "minOperatorBond": "1000", "bondFeeMultiple": 3,
    "challengerShareBps": 2500, "maxSpanEntries": 100,
}  # fmt: skip


def test_every_span_parameter_is_read_from_its_camel_case_key() -> None:
    params = parse_genesis(_document(SECTION)).openledger.attribution

    spans = (params.min_span_bytes, params.max_occurrences, params.omission_bytes,
             params.scoring_rule, params.challenge_window, params.min_operator_bond,
             params.bond_fee_multiple, params.challenger_share_bps, params.max_span_entries)  # fmt: skip
    assert spans == (32, 4, 64, 1, 32, 1000, 3, 2500, 100)


def test_the_defaults_and_the_span_section_round_trip() -> None:
    defaults = AttributionParams()
    assert (defaults.min_span_bytes, defaults.max_occurrences, defaults.omission_bytes,
            defaults.challenge_window) == (40, 8, 80, 100)  # fmt: skip
    genesis = parse_genesis(_document(SECTION))
    assert parse_genesis(dump_genesis(genesis)) == genesis


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"minSpanBytes": 0}, "minSpanBytes", "must be positive"),
        ({"maxOccurrences": 0}, "maxOccurrences", "must be positive"),
        ({"challengeWindow": 0}, "challengeWindow", "must be positive"),
        ({"bondFeeMultiple": 0}, "bondFeeMultiple", "must be positive"),
        ({"omissionBytes": 31}, "omissionBytes", "must be at least minSpanBytes (32)"),
        ({"scoringRule": 2}, "scoringRule", "not a known rule"),
        ({"challengerShareBps": 10_001}, "challengerShareBps", "outside 0 .. 10000"),
        ({"maxSpanEntries": 4}, "maxSpanEntries", "at least maxOccurrences + 1 (5)"),
        ({"challengeWindow": 1 << 32}, "challengeWindow", "must be at most 4294967295"),
        ({"minOperatorBond": -1}, "minOperatorBond", "outside"),
    ],
)
def test_invalid_span_parameters_are_refused_naming_the_field(
    change: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(GenesisError) as raised:
        parse_genesis(_document({**SECTION, **change}))

    assert raised.value.field == f"openledger.attribution.{field}"
    assert problem in raised.value.problem
