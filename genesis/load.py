"""Reading and writing genesis files.

The format is geth's (`config`, `alloc`, `gasLimit`, `baseFeePerGas`, `timestamp`, `extraData`,
...) plus an `openledger` section. Quantities may be hex strings (`"0x3b9aca00"`), decimal
strings or JSON integers, as geth accepts. Every field is checked, and an error names the field
by its dotted path; unknown keys are refused so that a misspelt parameter cannot silently fall
back to its default.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from openledger.genesis.errors import GenesisError
from openledger.genesis.model import (
    PRECOMPILE_ADDRESSES,
    PRECOMPILE_CODE,
    Account,
    AttributionParams,
    ConsensusParams,
    Genesis,
    GenesisValidator,
    OpenLedgerParams,
    StakingParams,
)
from openledger.genesis.span_rules import camel as _camel
from openledger.genesis.span_rules import check_span_method
from openledger.genesis.types import Address, ChainId, Gas, Timestamp, Wei

# MetaMask refuses chain ids above this (MAX_SAFE_CHAIN_ID in MetaMask/core).
MAX_CHAIN_ID = 4503599627370476
UINT256_MAX = 2**256 - 1
MAX_EXTRA_DATA = 32

# Header fields of a geth genesis that this chain fixes: accepted only with their fixed value.
_FIXED_ZERO_FIELDS = ("difficulty", "number", "gasUsed", "nonce")
_IGNORED_FIELDS = (
    "parentHash",
    "excessBlobGas",
    "blobGasUsed",
    "parentBeaconBlockRoot",
)

# Fork activation keys geth writes into `config`. This chain runs Prague from block 0, so each
# may appear only with the value 0.
_FORK_KEYS = (
    "homesteadBlock", "daoForkBlock", "eip150Block", "eip155Block", "eip158Block",
    "byzantiumBlock", "constantinopleBlock", "petersburgBlock", "istanbulBlock",
    "muirGlacierBlock", "berlinBlock", "londonBlock", "arrowGlacierBlock", "grayGlacierBlock",
    "mergeNetsplitBlock", "shanghaiTime", "cancunTime", "pragueTime",
)  # fmt: skip
_CONFIG_IGNORED = ("daoForkSupport", "terminalTotalDifficulty", "terminalTotalDifficultyPassed",
                   "blobSchedule", "depositContractAddress", "ethash", "clique")  # fmt: skip

T = TypeVar("T")

_HEX_QUANTITY = re.compile(r"0[xX][0-9a-fA-F]+")
_DECIMAL_QUANTITY = re.compile(r"[0-9]+")
_HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


def load_genesis(path: Path) -> Genesis:
    """Read and validate the genesis file at `path`."""
    try:
        text = path.read_text()
    except OSError as error:
        raise GenesisError("<file>", f"cannot read {path}: {error.strerror}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise GenesisError("<file>", f"{path} is not valid JSON: {error}") from error
    return parse_genesis(document)


def parse_genesis(document: object) -> Genesis:
    """Validate a decoded genesis JSON document and build the `Genesis` value."""
    top = _object(document, "<genesis>")
    _refuse_unknown(
        top,
        "",
        {"config", "alloc", "gasLimit", "baseFeePerGas", "timestamp", "extraData", "coinbase",
         "mixHash", "openledger", *_FIXED_ZERO_FIELDS, *_IGNORED_FIELDS},
    )  # fmt: skip
    if "config" not in top:
        raise GenesisError("config", "is required")
    config = _object(top["config"], "config")
    chain_id = _parse_chain_id(config)
    for key in _FIXED_ZERO_FIELDS:
        if key in top and _quantity(top[key], key) != 0:
            raise GenesisError(key, "must be 0: this chain has no proof of work")

    extra_data = _bytes(top.get("extraData", "0x"), "extraData")
    if len(extra_data) > MAX_EXTRA_DATA:
        raise GenesisError("extraData", f"is {len(extra_data)} bytes, at most 32 are allowed")
    gas_limit = _quantity(top.get("gasLimit", "0x1c9c380"), "gasLimit")
    if not 5000 <= gas_limit <= 2**63 - 1:
        raise GenesisError("gasLimit", f"{gas_limit} is outside 5000 .. 2**63-1")
    mix_hash = _bytes(top.get("mixHash", "0x" + "00" * 32), "mixHash")
    if len(mix_hash) != 32:
        raise GenesisError("mixHash", "must be 32 bytes")

    return Genesis(
        chain_id=chain_id,
        alloc=_parse_alloc(top.get("alloc", {})),
        gas_limit=Gas(gas_limit),
        base_fee=Wei(_quantity(top.get("baseFeePerGas", "0x3b9aca00"), "baseFeePerGas")),
        timestamp=Timestamp(_quantity(top.get("timestamp", "0x0"), "timestamp", 2**64 - 1)),
        extra_data=extra_data,
        coinbase=_address(top.get("coinbase", "0x" + "00" * 20), "coinbase"),
        mix_hash=mix_hash,
        openledger=_parse_openledger(top.get("openledger", {})),
    )


def dump_genesis(genesis: Genesis) -> dict[str, Any]:
    """The JSON document of `genesis`, in the spelling `parse_genesis` reads."""
    config: dict[str, Any] = {"chainId": genesis.chain_id}
    config.update({key: 0 for key in _FORK_KEYS if key != "daoForkBlock"})
    alloc: dict[str, Any] = {}
    for address, account in genesis.alloc:
        entry: dict[str, Any] = {"balance": hex(account.balance)}
        if account.nonce:
            entry["nonce"] = hex(account.nonce)
        if account.code:
            entry["code"] = "0x" + account.code.hex()
        if account.storage:
            entry["storage"] = {
                "0x" + slot.to_bytes(32, "big").hex(): "0x" + value.to_bytes(32, "big").hex()
                for slot, value in account.storage
            }
        alloc["0x" + address.hex()] = entry
    params = genesis.openledger
    return {
        "config": config,
        "alloc": alloc,
        "gasLimit": hex(genesis.gas_limit),
        "baseFeePerGas": hex(genesis.base_fee),
        "timestamp": hex(genesis.timestamp),
        "extraData": "0x" + genesis.extra_data.hex(),
        "coinbase": "0x" + genesis.coinbase.hex(),
        "mixHash": "0x" + genesis.mix_hash.hex(),
        "difficulty": "0x0",
        "openledger": {
            "validators": [
                {"address": "0x" + v.address.hex(), "stake": hex(v.stake),
                 "commissionBps": v.commission_bps}
                for v in params.validators
            ],
            "consensus": _dump_params(params.consensus),
            "staking": _dump_params(params.staking),
            "attribution": _dump_params(params.attribution),
        },
    }  # fmt: skip


def write_genesis(genesis: Genesis, path: Path) -> None:
    """Write `genesis` to `path` as indented JSON."""
    path.write_text(json.dumps(dump_genesis(genesis), indent=2) + "\n")


# --- sections -----------------------------------------------------------------------------------


def _parse_chain_id(config: Mapping[str, Any]) -> ChainId:
    _refuse_unknown(config, "config", {"chainId", *_FORK_KEYS, *_CONFIG_IGNORED})
    if "chainId" not in config:
        raise GenesisError("config.chainId", "is required")
    chain_id = _quantity(config["chainId"], "config.chainId")
    if not 1 <= chain_id <= MAX_CHAIN_ID:
        raise GenesisError(
            "config.chainId",
            f"{chain_id} is outside 1 .. {MAX_CHAIN_ID} (MetaMask's limit)",
        )
    for key in _FORK_KEYS:
        present = key in config and config[key] is not None
        if present and _quantity(config[key], f"config.{key}") != 0:
            raise GenesisError(f"config.{key}", "must be 0: this chain runs Prague from genesis")
    return ChainId(chain_id)


def _parse_alloc(value: object) -> tuple[tuple[Address, Account], ...]:
    entries = _object(value, "alloc")
    accounts: dict[Address, Account] = {}
    for key, raw in entries.items():
        path = f"alloc.{key}"
        address = _address(key if key.startswith("0x") else "0x" + key, path)
        if address in accounts:
            raise GenesisError(path, "appears twice")
        entry = _object(raw, path)
        _refuse_unknown(entry, path, {"balance", "nonce", "code", "storage", "secretKey"})
        storage = _object(entry.get("storage", {}), f"{path}.storage")
        slots: dict[int, int] = {}
        for slot, word in storage.items():
            number = _word(slot, f"{path}.storage.{slot}")
            if number in slots:
                # "0x01" and "0x0001" are one slot: refuse rather than pick a value.
                raise GenesisError(f"{path}.storage.{slot}", "names a slot that appears twice")
            slots[number] = _word(word, f"{path}.storage.{slot}")
        accounts[address] = Account(
            balance=Wei(_quantity(entry.get("balance", "0x0"), f"{path}.balance")),
            nonce=_quantity(entry.get("nonce", "0x0"), f"{path}.nonce", 2**64 - 2),
            code=_bytes(entry.get("code", "0x"), f"{path}.code"),
            storage=tuple((slot, word) for slot, word in sorted(slots.items()) if word != 0),
        )
        if address in PRECOMPILE_ADDRESSES and accounts[address].code not in (
            b"",
            PRECOMPILE_CODE,
        ):
            raise GenesisError(f"{path}.code", "is a precompile address; the chain sets its code")
    return with_precompile_code(accounts)


def with_precompile_code(
    accounts: Mapping[Address, Account],
) -> tuple[tuple[Address, Account], ...]:
    """The alloc with the one-byte sentinel code at every precompile address, sorted."""
    complete = dict(accounts)
    for address in PRECOMPILE_ADDRESSES:
        existing = complete.get(address, Account())
        complete[address] = Account(
            existing.balance, existing.nonce, PRECOMPILE_CODE, existing.storage
        )
    return tuple(sorted(complete.items()))


def _parse_openledger(value: object) -> OpenLedgerParams:
    section = _object(value, "openledger")
    _refuse_unknown(section, "openledger", {"validators", "consensus", "staking", "attribution"})
    raw_validators = section.get("validators", [])
    if not isinstance(raw_validators, list):
        raise GenesisError("openledger.validators", "must be a list")
    validators = []
    seen: set[Address] = set()
    for index, raw in enumerate(raw_validators):
        path = f"openledger.validators.{index}"
        entry = _object(raw, path)
        _refuse_unknown(entry, path, {"address", "stake", "commissionBps"})
        if "address" not in entry or "stake" not in entry:
            raise GenesisError(path, "needs both 'address' and 'stake'")
        address = _address(entry["address"], f"{path}.address")
        if address in seen:
            raise GenesisError(f"{path}.address", "is listed twice")
        seen.add(address)
        stake = _quantity(entry["stake"], f"{path}.stake")
        if stake == 0:
            raise GenesisError(f"{path}.stake", "must be positive")
        commission = _quantity(entry.get("commissionBps", 1000), f"{path}.commissionBps", 10_000)
        validators.append(GenesisValidator(address, Wei(stake), commission))

    consensus = _parse_params(ConsensusParams, section.get("consensus", {}), "openledger.consensus")
    for name in ("timeout_propose_ms", "timeout_prevote_ms"):
        if getattr(consensus, name) == 0:
            raise GenesisError(f"openledger.consensus.{_camel(name)}", "must be positive")
    staking = _parse_params(StakingParams, section.get("staking", {}), "openledger.staking")
    _check_staking(staking)
    attribution = _parse_params(
        AttributionParams, section.get("attribution", {}), "openledger.attribution"
    )
    _check_attribution(attribution)
    return OpenLedgerParams(tuple(validators), consensus, staking, attribution)


_STAKING_POSITIVE = ("epoch_length", "max_validators", "downtime_window", "unbonding_blocks",
                     "max_delegations_per_account", "max_unbonding_entries")  # fmt: skip
_STAKING_LIMITS = {"max_validators": 10_000, "downtime_window": 65_536}


def _check_staking(staking: StakingParams) -> None:
    """The staking rules that relate parameters to each other or bound the work of a block."""
    for name in _STAKING_POSITIVE:
        if getattr(staking, name) == 0:
            raise GenesisError(f"openledger.staking.{_camel(name)}", "must be positive")
    for name, limit in _STAKING_LIMITS.items():
        if getattr(staking, name) > limit:
            raise GenesisError(f"openledger.staking.{_camel(name)}", f"must be at most {limit}")
    if staking.evidence_max_age_blocks >= staking.unbonding_blocks:
        raise GenesisError(
            "openledger.staking.evidenceMaxAgeBlocks",
            f"{staking.evidence_max_age_blocks} must be below unbondingBlocks "
            f"({staking.unbonding_blocks}): stake unbonding since an offence must still be there "
            "to slash when its evidence arrives",
        )


_ATTRIBUTION_POSITIVE = ("max_contributions_per_inference", "max_datanets_per_model",
                         "daily_contribution_bytes", "daily_contribution_count",
                         "flag_penalty_threshold", "min_span_bytes", "max_occurrences",
                         "challenge_window", "bond_fee_multiple", "max_span_entries")  # fmt: skip


def _check_attribution(attribution: AttributionParams) -> None:
    """The attribution rules that relate parameters to each other. Lists a call walks need no
    upper bound here: their gas is charged per item, so the block gas limit bounds them."""
    for name in _ATTRIBUTION_POSITIVE:
        if getattr(attribution, name) == 0:
            raise GenesisError(f"openledger.attribution.{_camel(name)}", "must be positive")
    shares = (
        attribution.protocol_fee_bps
        + attribution.model_owner_fee_bps
        + attribution.agent_owner_fee_bps
    )
    if shares > 10_000:
        raise GenesisError(
            "openledger.attribution",
            f"protocolFeeBps + modelOwnerFeeBps + agentOwnerFeeBps is {shares}, above 10000",
        )
    check_span_method(attribution)


def _parse_params(cls: Callable[..., T], value: object, path: str) -> T:
    """Fill a parameter dataclass from camelCase JSON keys; basis points are capped at 10000."""
    section = _object(value, path)
    names = {_camel(f.name): f for f in fields(cls)}  # type: ignore[arg-type]
    _refuse_unknown(section, path, set(names))
    values: dict[str, Any] = {}
    for key, raw in section.items():
        spec = names[key]
        if spec.type in (Address, "Address"):
            values[spec.name] = _address(raw, f"{path}.{key}")
        else:
            limit = 10_000 if spec.name.endswith("_bps") else UINT256_MAX
            values[spec.name] = _quantity(raw, f"{path}.{key}", limit)
    return cls(**values)


def _dump_params(params: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in fields(params):  # type: ignore[arg-type]
        value = getattr(params, spec.name)
        out[_camel(spec.name)] = "0x" + value.hex() if isinstance(value, bytes) else value
    return out


# --- primitive readers --------------------------------------------------------------------------


def _refuse_unknown(section: Mapping[str, Any], path: str, allowed: set[str]) -> None:
    for key in section:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            raise GenesisError(where, f"is not a known field (known: {', '.join(sorted(allowed))})")


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GenesisError(path, f"must be a JSON object, not {type(value).__name__}")
    return value


def _quantity(value: object, path: str, maximum: int = UINT256_MAX) -> int:
    """A non-negative integer written as hex string, decimal string or JSON integer."""
    if isinstance(value, bool):
        raise GenesisError(path, "must be a number, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        # Python's int() also takes "1_000", " 12 " and "+5"; a genesis file is read by other
        # clients too, so only plain digits are accepted.
        if _HEX_QUANTITY.fullmatch(value):
            number = int(value[2:], 16)
        elif _DECIMAL_QUANTITY.fullmatch(value):
            number = int(value, 10)
        else:
            raise GenesisError(path, f"{value!r} is not a hex or decimal number")
    else:
        raise GenesisError(path, f"must be a number, not {type(value).__name__}")
    if not 0 <= number <= maximum:
        raise GenesisError(path, f"{number} is outside 0 .. {maximum}")
    return number


def _bytes(value: object, path: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise GenesisError(path, "must be a 0x-prefixed hex string")
    if not _HEX_BYTES.fullmatch(value):
        raise GenesisError(path, f"{value!r} is not valid hex of whole bytes")
    return bytes.fromhex(value[2:])


def _word(value: object, path: str) -> int:
    raw = _bytes(value, path)
    if len(raw) > 32:
        raise GenesisError(path, f"{value!r} is longer than 32 bytes")
    return int.from_bytes(raw, "big")


def _address(value: object, path: str) -> Address:
    raw = _bytes(value, path)
    if len(raw) != 20:
        raise GenesisError(path, f"{value!r} is not a 20-byte address")
    return Address(raw)
