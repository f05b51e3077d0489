"""Genesis files: every refusal names the field by its dotted path, quantities are read in every
spelling geth accepts, and dump/parse round-trip."""

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openledger.genesis.errors import GenesisError
from openledger.genesis.load import (
    MAX_CHAIN_ID,
    dump_genesis,
    load_genesis,
    parse_genesis,
    with_precompile_code,
    write_genesis,
)
from openledger.genesis.model import (
    ATTRIBUTION_ADDRESS,
    PRECOMPILE_ADDRESSES,
    PRECOMPILE_CODE,
    STAKING_ADDRESS,
    Account,
    AttributionParams,
    ConsensusParams,
    Genesis,
    GenesisValidator,
    OpenLedgerParams,
    StakingParams,
)
from openledger.genesis.types import Address, ChainId, Gas, Timestamp, Wei

A = "0x" + "aa" * 20
V = "0x" + "bb" * 20
W = "0x" + "cc" * 20
STAKING = "0x" + STAKING_ADDRESS.hex()
DELETE = object()
"""Marks a field to remove from the base document."""


def base_document() -> dict[str, Any]:
    """A valid genesis with one account and one validator, so that nested paths exist."""
    return {
        "config": {"chainId": 1337},
        "alloc": {A: {"balance": "0x10"}},
        "openledger": {"validators": [{"address": V, "stake": "1000"}]},
    }


def document_with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """The base document with the field at `path` set to `value` (or removed for DELETE)."""
    document = copy.deepcopy(base_document())
    node: Any = document
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
    if value is DELETE:
        del node[path[-1]]
    elif isinstance(node, list) and path[-1] == len(node):
        node.append(value)
    else:
        node[path[-1]] = value
    return document


def test_the_base_document_is_valid() -> None:
    genesis = parse_genesis(base_document())

    assert genesis.chain_id == 1337
    assert genesis.alloc_dict()[Address(bytes.fromhex(A[2:]))].balance == 16
    assert genesis.openledger.validators == (
        GenesisValidator(Address(bytes.fromhex(V[2:])), Wei(1000)),
    )


# (path, value, field named by the error, words of the problem)
REFUSALS: list[tuple[tuple[str | int, ...], object, str, str]] = [
    # top level
    (("config",), DELETE, "config", "is required"),
    (("config",), [], "config", "must be a JSON object"),
    (("fooBar",), 1, "fooBar", "not a known field"),
    (("difficulty",), "0x1", "difficulty", "must be 0"),
    (("nonce",), 1, "nonce", "must be 0"),
    (("number",), "1", "number", "must be 0"),
    (("gasUsed",), 21000, "gasUsed", "must be 0"),
    (("extraData",), "0x" + "00" * 33, "extraData", "33 bytes"),
    (("extraData",), "0x123", "extraData", "whole bytes"),
    (("extraData",), "abcd", "extraData", "0x-prefixed"),
    (("gasLimit",), 4999, "gasLimit", "outside"),
    (("gasLimit",), 2**63, "gasLimit", "outside"),
    (("gasLimit",), "0x", "gasLimit", "not a hex or decimal"),
    (("baseFeePerGas",), -1, "baseFeePerGas", "outside"),
    (("baseFeePerGas",), 2**256, "baseFeePerGas", "outside"),
    (("baseFeePerGas",), 1.5, "baseFeePerGas", "not float"),
    (("timestamp",), 2**64, "timestamp", "outside"),
    (("timestamp",), "soon", "timestamp", "not a hex or decimal"),
    (("mixHash",), "0x" + "00" * 31, "mixHash", "32 bytes"),
    (("coinbase",), "0x" + "00" * 19, "coinbase", "20-byte"),
    (("coinbase",), 1, "coinbase", "0x-prefixed"),
    # config
    (("config", "chainId"), DELETE, "config.chainId", "is required"),
    (("config", "chainId"), 0, "config.chainId", "outside"),
    (("config", "chainId"), MAX_CHAIN_ID + 1, "config.chainId", "outside"),
    (("config", "chainId"), True, "config.chainId", "boolean"),
    (("config", "chainId"), None, "config.chainId", "must be a number"),
    (("config", "chainId"), "0xzz", "config.chainId", "not a hex or decimal"),
    (("config", "londonBlock"), 5, "config.londonBlock", "must be 0"),
    (("config", "pragueTime"), "0x1", "config.pragueTime", "must be 0"),
    (("config", "homesteadBlock"), "x", "config.homesteadBlock", "not a hex or decimal"),
    (("config", "osakaTime"), 0, "config.osakaTime", "not a known field"),
    # alloc
    (("alloc",), [], "alloc", "must be a JSON object"),
    (("alloc", "0x1234"), {}, "alloc.0x1234", "20-byte"),
    (("alloc", "0x" + "a" * 39), {}, "alloc.0x" + "a" * 39, "whole bytes"),
    (("alloc", A), "rich", f"alloc.{A}", "must be a JSON object"),
    (("alloc", A, "balance"), "0xzz", f"alloc.{A}.balance", "not a hex or decimal"),
    (("alloc", A, "balance"), -1, f"alloc.{A}.balance", "outside"),
    (("alloc", A, "nonce"), 2**64 - 1, f"alloc.{A}.nonce", "outside"),
    (("alloc", A, "code"), "0x123", f"alloc.{A}.code", "whole bytes"),
    (("alloc", A, "storage"), [], f"alloc.{A}.storage", "must be a JSON object"),
    (("alloc", A, "storage"), {"0x1": "0x01"}, f"alloc.{A}.storage.0x1", "whole bytes"),
    (("alloc", A, "storage"), {"0x01": "0x" + "00" * 33}, f"alloc.{A}.storage.0x01", "longer than 32"),
    (("alloc", A, "storage"), {"0x01": "0x05", "0x0001": "0x06"}, f"alloc.{A}.storage.0x0001", "appears twice"),
    (("alloc", A, "balanse"), "0x1", f"alloc.{A}.balanse", "not a known field"),
    (("alloc", A.upper().replace("0X", "0x")), {}, f"alloc.{A.upper().replace('0X', '0x')}", "appears twice"),
    (("alloc", A[2:]), {}, f"alloc.{A[2:]}", "appears twice"),
    (("alloc", STAKING), {"code": "0x6000"}, f"alloc.{STAKING}.code", "precompile"),
    # openledger
    (("openledger",), [], "openledger", "must be a JSON object"),
    (("openledger", "governance"), {}, "openledger.governance", "not a known field"),
    (("openledger", "validators"), {}, "openledger.validators", "must be a list"),
    (("openledger", "validators", 0), "x", "openledger.validators.0", "must be a JSON object"),
    (("openledger", "validators", 0, "stake"), DELETE, "openledger.validators.0", "needs both"),
    (("openledger", "validators", 0, "stake"), 0, "openledger.validators.0.stake", "must be positive"),
    (("openledger", "validators", 0, "stake"), "lots", "openledger.validators.0.stake", "not a hex or decimal"),
    (("openledger", "validators", 0, "address"), "0x12", "openledger.validators.0.address", "20-byte"),
    (("openledger", "validators", 0, "commissionBps"), 10_001, "openledger.validators.0.commissionBps", "outside 0 .. 10000"),
    (("openledger", "validators", 0, "power"), 1, "openledger.validators.0.power", "not a known field"),
    (("openledger", "validators", 1), {"address": V, "stake": 1}, "openledger.validators.1.address", "listed twice"),
    (("openledger", "consensus", "timeoutProposeMs"), 0, "openledger.consensus.timeoutProposeMs", "must be positive"),
    (("openledger", "consensus", "timeoutPrevoteMs"), 0, "openledger.consensus.timeoutPrevoteMs", "must be positive"),
    (("openledger", "consensus", "blockTimeMs"), -1, "openledger.consensus.blockTimeMs", "outside"),
    (("openledger", "consensus", "blockTime"), 1, "openledger.consensus.blockTime", "not a known field"),
    (("openledger", "staking", "epochLength"), 0, "openledger.staking.epochLength", "must be positive"),
    (("openledger", "staking", "maxValidators"), 0, "openledger.staking.maxValidators", "must be positive"),
    (("openledger", "staking", "downtimeWindow"), 0, "openledger.staking.downtimeWindow", "must be positive"),
    (("openledger", "staking", "epochLength"), "ten", "openledger.staking.epochLength", "not a hex or decimal"),
    (("openledger", "staking", "minSignedPerWindowBps"), 10_001, "openledger.staking.minSignedPerWindowBps", "outside 0 .. 10000"),
    (("openledger", "staking", "doubleSignSlashBps"), 20_000, "openledger.staking.doubleSignSlashBps", "outside 0 .. 10000"),
    (("openledger", "staking", "epoch_length"), 5, "openledger.staking.epoch_length", "not a known field"),
    (("openledger", "attribution", "protocolFeeBps"), 10_001, "openledger.attribution.protocolFeeBps", "outside 0 .. 10000"),
    (("openledger", "attribution", "protocolAccount"), "0x12", "openledger.attribution.protocolAccount", "20-byte"),
    (("openledger", "attribution", "minAgentStake"), 2**256, "openledger.attribution.minAgentStake", "outside"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"), REFUSALS, ids=[f"{r[2]}: {r[3]}" for r in REFUSALS]
)
def test_a_bad_field_is_refused_by_its_dotted_path(
    path: tuple[str | int, ...], value: object, field: str, problem: str
) -> None:
    with pytest.raises(GenesisError) as raised:
        parse_genesis(document_with(path, value))

    assert raised.value.field == field
    assert problem in raised.value.problem
    assert repr(field) in str(raised.value)


def test_fee_shares_above_10000_bps_in_total_are_refused() -> None:
    shares = {"protocolFeeBps": 5000, "modelOwnerFeeBps": 4000, "agentOwnerFeeBps": 1001}
    document = document_with(("openledger", "attribution"), shares)

    with pytest.raises(GenesisError) as raised:
        parse_genesis(document)

    assert raised.value.field == "openledger.attribution"
    assert "10001, above 10000" in raised.value.problem


def test_fee_shares_of_exactly_10000_bps_are_accepted() -> None:
    shares = {"protocolFeeBps": 5000, "modelOwnerFeeBps": 4000, "agentOwnerFeeBps": 1000}

    genesis = parse_genesis(document_with(("openledger", "attribution"), shares))

    assert genesis.openledger.attribution.agent_owner_fee_bps == 1000


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("config", "shanghaiTime"), 0),
        (("config", "londonBlock"), "0x0"),
        (("config", "daoForkBlock"), None),
        (("config", "terminalTotalDifficulty"), 0),
        (("difficulty",), "0x0"),
        (("parentHash",), "0x" + "00" * 32),
        (("extraData",), "0x" + "ff" * 32),
        (("gasLimit",), 5000),
        (("config", "chainId"), MAX_CHAIN_ID),
        (("alloc", A, "nonce"), 2**64 - 2),
        (("alloc", A, "secretKey"), "0x01"),
        (("alloc", STAKING), {"code": "0x01", "balance": "0x5"}),
        (("openledger", "validators", 0, "commissionBps"), 10_000),
    ],
)
def test_boundary_values_are_accepted(path: tuple[str | int, ...], value: object) -> None:
    parse_genesis(document_with(path, value))


# Where a quantity lands in the Genesis value, for each place a quantity may be written.
QUANTITY_FIELDS: list[tuple[tuple[str | int, ...], Any]] = [
    (("config", "chainId"), lambda g: g.chain_id),
    (("gasLimit",), lambda g: g.gas_limit),
    (("baseFeePerGas",), lambda g: g.base_fee),
    (("timestamp",), lambda g: g.timestamp),
    (("alloc", A, "balance"), lambda g: g.alloc_dict()[Address(bytes.fromhex(A[2:]))].balance),
    (("alloc", A, "nonce"), lambda g: g.alloc_dict()[Address(bytes.fromhex(A[2:]))].nonce),
    (("openledger", "validators", 0, "stake"), lambda g: g.openledger.validators[0].stake),
    (("openledger", "staking", "epochLength"), lambda g: g.openledger.staking.epoch_length),
    (("openledger", "attribution", "maxContributionsPerInference"), lambda g: g.openledger.attribution.max_contributions_per_inference),
]  # fmt: skip


@pytest.mark.parametrize(("path", "read"), QUANTITY_FIELDS)
@pytest.mark.parametrize("spelling", ["0x1f40", "0X1F40", "8000", 8000])
def test_quantities_are_read_as_hex_decimal_string_or_integer(
    path: tuple[str | int, ...], read: Any, spelling: object
) -> None:
    assert read(parse_genesis(document_with(path, spelling))) == 8000


def test_storage_keeps_nonzero_slots_sorted_by_slot() -> None:
    storage = {
        "0x02": "0x07",
        "0x01": "0x" + "00" * 32,
        "0x" + "00" * 31 + "03": "0x09",
        "0x00": "0x01",
    }

    genesis = parse_genesis(document_with(("alloc", A, "storage"), storage))

    assert genesis.alloc_dict()[Address(bytes.fromhex(A[2:]))].storage == ((0, 1), (2, 7), (3, 9))


def test_alloc_keys_without_0x_are_addresses() -> None:
    document = base_document()
    document["alloc"] = {W[2:]: {"balance": "5"}}

    genesis = parse_genesis(document)

    assert genesis.alloc_dict()[Address(bytes.fromhex(W[2:]))].balance == 5


def test_the_precompile_sentinel_code_is_at_every_precompile_address() -> None:
    genesis = parse_genesis(base_document())
    alloc = genesis.alloc_dict()

    assert [address.hex()[-4:] for address in PRECOMPILE_ADDRESSES] == [
        "0800",
        "0a01",
        "0a02",
        "0a03",
        "0a04",
    ]
    assert all(address.hex()[:36] == "0" * 36 for address in PRECOMPILE_ADDRESSES)
    for address in PRECOMPILE_ADDRESSES:
        assert alloc[address].code == PRECOMPILE_CODE == b"\x01"
    assert [address for address, _ in genesis.alloc] == sorted(alloc)


def test_a_precompile_account_keeps_its_balance_and_gets_the_sentinel_code() -> None:
    attribution = "0x" + ATTRIBUTION_ADDRESS.hex()
    document = document_with(("alloc", attribution), {"balance": "0x64"})

    account = parse_genesis(document).alloc_dict()[ATTRIBUTION_ADDRESS]

    assert account == Account(balance=Wei(100), code=PRECOMPILE_CODE)


def test_with_precompile_code_overrides_other_code_it_is_given() -> None:
    alloc = dict(with_precompile_code({STAKING_ADDRESS: Account(Wei(3), 1, b"\x60\x00")}))

    assert alloc[STAKING_ADDRESS] == Account(Wei(3), 1, PRECOMPILE_CODE)


# --- files ---------------------------------------------------------------------------------------


def test_load_genesis_reads_a_file_written_by_write_genesis(tmp_path: Path) -> None:
    genesis = parse_genesis(base_document())
    path = tmp_path / "genesis.json"

    write_genesis(genesis, path)

    assert load_genesis(path) == genesis


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "cannot read"), ("{not json", "not valid JSON"), ("[]", "must be a JSON object")],
)
def test_unreadable_files_are_refused(tmp_path: Path, content: str | None, problem: str) -> None:
    path = tmp_path / "genesis.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(GenesisError, match=problem):
        load_genesis(path)


# --- round trip ----------------------------------------------------------------------------------

addresses = st.binary(min_size=20, max_size=20).map(Address)
words = st.integers(min_value=0, max_value=2**256 - 1)
accounts = st.builds(
    Account,
    balance=words.map(Wei),
    nonce=st.integers(min_value=0, max_value=2**64 - 2),
    code=st.binary(max_size=40),
    storage=st.dictionaries(words, words.filter(bool), max_size=4).map(
        lambda slots: tuple(sorted(slots.items()))
    ),
)
bps = st.integers(min_value=0, max_value=10_000)
validators = st.lists(
    st.builds(GenesisValidator, addresses, st.integers(1, 2**256 - 1).map(Wei), bps),
    max_size=4,
    unique_by=lambda validator: validator.address,
)
genesis_values = st.builds(
    Genesis,
    chain_id=st.integers(1, MAX_CHAIN_ID).map(ChainId),
    alloc=st.dictionaries(
        addresses.filter(lambda address: address not in PRECOMPILE_ADDRESSES), accounts, max_size=5
    ).map(with_precompile_code),
    gas_limit=st.integers(5000, 2**63 - 1).map(Gas),
    base_fee=words.map(Wei),
    timestamp=st.integers(0, 2**64 - 1).map(Timestamp),
    extra_data=st.binary(max_size=32),
    coinbase=addresses,
    mix_hash=st.binary(min_size=32, max_size=32),
    openledger=st.builds(
        OpenLedgerParams,
        validators=validators.map(tuple),
        consensus=st.builds(
            ConsensusParams,
            block_time_ms=st.integers(0, 10**6),
            timeout_propose_ms=st.integers(1, 10**6),
            timeout_prevote_ms=st.integers(1, 10**6),
        ),
        staking=st.builds(
            StakingParams,
            epoch_length=st.integers(1, 10**6),
            min_validator_stake=words.map(Wei),
            double_sign_slash_bps=bps,
        ),
        attribution=st.builds(
            AttributionParams,
            protocol_fee_bps=st.integers(0, 3000),
            model_owner_fee_bps=st.integers(0, 3000),
            protocol_account=addresses,
        ),
    ),
)


@settings(max_examples=60, deadline=None)
@given(genesis_values)
def test_dump_then_parse_gives_the_same_genesis(genesis: Genesis) -> None:
    document = json.loads(json.dumps(dump_genesis(genesis)))

    assert parse_genesis(document) == genesis


def test_dump_writes_prague_from_genesis_and_parse_accepts_it() -> None:
    genesis = replace(parse_genesis(base_document()), timestamp=Timestamp(1_700_000_000))
    document = dump_genesis(genesis)

    assert document["config"]["pragueTime"] == 0
    assert document["config"]["londonBlock"] == 0
    assert parse_genesis(document) == genesis


@pytest.mark.parametrize("spelling", ["1_000", " 12 ", "+5", "0x", "0x1_0", "1e3", "١٢"])
def test_quantities_accept_only_plain_digits(spelling: str) -> None:
    with pytest.raises(GenesisError) as raised:
        parse_genesis({"config": {"chainId": 1}, "gasLimit": spelling})
    assert raised.value.field == "gasLimit"


@pytest.mark.parametrize("spelling", ["0x01 02", "0x0g", "0x 01"])
def test_hex_data_accepts_only_hex_digits(spelling: str) -> None:
    with pytest.raises(GenesisError) as raised:
        parse_genesis({"config": {"chainId": 1}, "extraData": spelling})
    assert raised.value.field == "extraData"
