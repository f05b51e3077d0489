"""`eth_*` methods for tools rather than wallets: `eth_createAccessList`, `eth_getStorageValues`,
`eth_simulateV1` and `eth_config` (execution-apis), run in the RPC worker pool on committed state."""

import zlib
from dataclasses import dataclass
from typing import Any

from openledger.genesis.model import (
    AGENTS_ADDRESS,
    ATTRIBUTION_ADDRESS,
    DATANETS_ADDRESS,
    MODELS_ADDRESS,
    STAKING_ADDRESS,
)
from openledger.genesis.types import Address, Gas
from openledger.rpc.codec import (
    UINT64_MAX,
    BlockId,
    address,
    data,
    parse_address,
    parse_bool,
    parse_quantity,
    parse_slot,
    quantity,
    word,
)
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.errors import RpcError
from openledger.rpc.eth_exec import (
    BLOCK,
    CALL_GAS_CAP,
    TX,
    TransactionRequest,
    parse_state_overrides,
    parse_transaction_request,
)
from openledger.rpc.eth_read import require_header
from openledger.rpc.format import format_block, format_log, format_transaction
from openledger.rpc.work import offload
from openledger.state.access_list import create_access_list
from openledger.state.calls import describe_revert
from openledger.state.simulate import (
    MAX_BLOCKS,
    BlockOverrides,
    SimBlock,
    SimCall,
    SimulatedBlock,
    SimulationError,
    simulate,
)
from openledger.state.tracers import TraceError

methods = MethodTable()

MAX_STORAGE_KEYS = 1024
"""Most slots one `eth_getStorageValues` may read, over all accounts."""


@methods.method("eth_createAccessList", params=(TX, BLOCK))
async def create_access_list_method(
    ctx: RequestContext, request: TransactionRequest, block: BlockId
) -> Any:
    api = ctx.api
    header = require_header(api.store, block)
    call = request.to_call()
    gas = Gas(min(call.gas or CALL_GAS_CAP, CALL_GAS_CAP))
    found = await offload(create_access_list, api.chain, api.store.db, header, call, gas)
    answer: dict[str, Any] = {
        "accessList": [
            {"address": address(account), "storageKeys": [word(slot) for slot in slots]}
            for account, slots in found.access_list
        ],
        "gasUsed": quantity(found.result.gas_used),
    }
    result = found.result
    if not result.success:
        answer["error"] = describe_revert(result.output) if result.reverted else result.error
    return answer


def _storage_requests(value: Any) -> list[tuple[str, bytes, list[int]]]:
    if not isinstance(value, dict):
        raise ValueError("expected an object of address: [storage keys]")
    requests = []
    total = 0
    for key, slots in value.items():
        if not isinstance(slots, list):
            raise ValueError(f"the keys of {key} must be an array")
        total += len(slots)
        if total > MAX_STORAGE_KEYS:
            raise ValueError(f"at most {MAX_STORAGE_KEYS} storage keys in one request")
        requests.append((key, parse_address(key), [parse_slot(slot) for slot in slots]))
    return requests


@methods.method("eth_getStorageValues", params=(Param("Requests", _storage_requests), BLOCK))
async def get_storage_values(
    ctx: RequestContext, requests: list[tuple[str, bytes, list[int]]], block: BlockId
) -> dict[str, list[str]]:
    store = ctx.api.store
    header = require_header(store, block)

    def read() -> dict[str, list[str]]:
        state = store.state_at(header)
        return {
            key: [word(state.get_storage(Address(account), slot)) for slot in slots]
            for key, account, slots in requests
        }

    return await offload(read)


# --- eth_simulateV1 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimulatePayload:
    """`EthSimulatePayload`, parsed."""

    blocks: tuple[SimBlock, ...]
    validation: bool = False
    trace_transfers: bool = False
    full_transactions: bool = False


_BLOCK_OVERRIDE_FIELDS = {
    "number": ("number", lambda v: parse_quantity(v, UINT64_MAX)),
    "time": ("time", lambda v: parse_quantity(v, UINT64_MAX)),
    "gasLimit": ("gas_limit", lambda v: parse_quantity(v, UINT64_MAX)),
    "feeRecipient": ("fee_recipient", lambda v: Address(parse_address(v))),
    "prevRandao": ("prev_randao", lambda v: parse_slot(v).to_bytes(32, "big")),
    "baseFeePerGas": ("base_fee", parse_quantity),
}


def _block_overrides(value: Any) -> BlockOverrides:
    if not isinstance(value, dict):
        raise ValueError("blockOverrides must be an object")
    fields = {}
    for name, raw in value.items():
        if raw is None:
            continue
        if name not in _BLOCK_OVERRIDE_FIELDS:
            raise ValueError(f"block override {name} is not supported")
        attribute, parse = _BLOCK_OVERRIDE_FIELDS[name]
        fields[attribute] = parse(raw)
    return BlockOverrides(**fields)


def _sim_block(value: Any) -> SimBlock:
    if not isinstance(value, dict):
        raise ValueError("each blockStateCalls entry must be an object")
    calls = value.get("calls") or []
    if not isinstance(calls, list):
        raise ValueError("calls must be an array")
    parsed = []
    for call in calls:
        request = parse_transaction_request(call)
        parsed.append(SimCall(request.to_call(), request.nonce))
    return SimBlock(
        overrides=_block_overrides(value.get("blockOverrides") or {}),
        state_overrides=parse_state_overrides(value.get("stateOverrides") or {}),
        calls=tuple(parsed),
    )


def parse_simulate_payload(value: Any) -> SimulatePayload:
    """`EthSimulatePayload`: {blockStateCalls, validation, traceTransfers, returnFullTransactions}."""
    if not isinstance(value, dict) or not isinstance(value.get("blockStateCalls"), list):
        raise ValueError("expected {blockStateCalls: [...]}")
    blocks = value["blockStateCalls"]
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"at most {MAX_BLOCKS} blockStateCalls")
    flags = {
        name: parse_bool(value[name]) if value.get(name) is not None else False
        for name in ("validation", "traceTransfers", "returnFullTransactions")
    }
    return SimulatePayload(
        tuple(_sim_block(block) for block in blocks),
        validation=flags["validation"],
        trace_transfers=flags["traceTransfers"],
        full_transactions=flags["returnFullTransactions"],
    )


@methods.method("eth_simulateV1", params=(Param("Payload", parse_simulate_payload), BLOCK))
async def simulate_v1(ctx: RequestContext, payload: SimulatePayload, block: BlockId) -> Any:
    api = ctx.api
    base = require_header(api.store, block)
    try:
        simulated = await offload(
            simulate, api.chain, api.store.db, base, payload.blocks,
            validation=payload.validation, trace_transfers=payload.trace_transfers,
        )  # fmt: skip
    except SimulationError as error:
        raise RpcError(error.code, str(error)) from None
    except TraceError as error:
        raise RpcError(-32016, f"timeout: {error}") from None
    return [_simulated_json(item, payload.full_transactions) for item in simulated]


class _AsSentBy:
    """A simulated transaction (empty signature) with its sender, for `format_transaction`."""

    def __init__(self, transaction: Any, sender: bytes) -> None:
        self._transaction = transaction
        self.sender = sender

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transaction, name)


@dataclass(frozen=True, slots=True)
class _Log:
    address: bytes
    topics: tuple[int, ...]
    data: bytes


def _simulated_json(block: SimulatedBlock, full: bool) -> dict[str, Any]:
    header = block.header
    answer = format_block(header, block.transactions, full=False)
    if full:
        answer["transactions"] = [
            format_transaction(_AsSentBy(tx, sender), header, index)  # type: ignore[arg-type]
            for index, (tx, sender) in enumerate(
                zip(block.transactions, block.senders, strict=True)
            )
        ]
    calls = []
    log_index = 0
    for index, (tx, outcome) in enumerate(zip(block.transactions, block.outcomes, strict=True)):
        result: dict[str, Any] = {
            "returnData": data(outcome.output),
            "logs": [],
            "gasUsed": quantity(outcome.gas_used),
            "status": "0x1" if outcome.success else "0x0",
        }
        for address_, topics, payload in outcome.logs:
            result["logs"].append(
                format_log(_Log(address_, topics, payload), header, tx.hash, index, log_index)  # type: ignore[arg-type]
            )
            log_index += 1
        if outcome.reverted:
            result["error"] = {"code": 3, "message": describe_revert(outcome.output),
                               "data": data(outcome.output)}  # fmt: skip
        elif not outcome.success:
            result["error"] = {"code": -32015, "message": f"vm execution error: {outcome.error}"}
        calls.append(result)
    answer["calls"] = calls
    return answer


# --- eth_config -----------------------------------------------------------------------------------

_STANDARD_PRECOMPILES = (
    "ECREC", "SHA256", "RIPEMD160", "ID", "MODEXP", "BN254_ADD", "BN254_MUL", "BN254_PAIRING",
    "BLAKE2F", "KZG_POINT_EVALUATION", "BLS12_G1ADD", "BLS12_G1MSM", "BLS12_G2ADD", "BLS12_G2MSM",
    "BLS12_PAIRING_CHECK", "BLS12_MAP_FP_TO_G1", "BLS12_MAP_FP2_TO_G2",
)  # fmt: skip
"""Prague's precompiles at 0x01..0x11, by their EIP-7910 names."""
_OPENLEDGER_PRECOMPILES = {
    STAKING_ADDRESS: "OPENLEDGER_STAKING",
    DATANETS_ADDRESS: "OPENLEDGER_DATANETS",
    MODELS_ADDRESS: "OPENLEDGER_MODELS",
    AGENTS_ADDRESS: "OPENLEDGER_AGENTS",
    ATTRIBUTION_ADDRESS: "OPENLEDGER_ATTRIBUTION",
}
_SYSTEM_CONTRACTS = {
    "BEACON_ROOTS_ADDRESS": "0x000f3df6d732807ef1319fb7b8bb8522d0beac02",
    "HISTORY_STORAGE_ADDRESS": "0x0000f90827f1c53a10cb7a02335b175320002935",
    "WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS": "0x00000961ef480eb55e80d19ad83579a64c007002",
    "CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS": "0x0000bbddc7ce488642fb579f8b00f3a590007251",
}
_PRAGUE_BLOB_SCHEDULE = {"baseFeeUpdateFraction": 5007716, "max": 9, "target": 6}


@methods.method("eth_config")
async def config(ctx: RequestContext) -> dict[str, Any]:
    """EIP-7910. The chain runs Prague from genesis and schedules no fork: `next` and `last` are
    null, and the fork hash is EIP-2124's checksum of the genesis hash alone."""
    api = ctx.api
    store = api.store
    genesis = store.get_header(0)
    computation: Any = api.chain.vm_class.get_state_class().computation_class
    precompiles = {}
    for raw in sorted(computation._precompiles, key=bytes):
        number = int.from_bytes(raw, "big")
        if raw in _OPENLEDGER_PRECOMPILES:
            precompiles[_OPENLEDGER_PRECOMPILES[raw]] = address(raw)
        elif 1 <= number <= len(_STANDARD_PRECOMPILES):
            precompiles[_STANDARD_PRECOMPILES[number - 1]] = address(raw)
    state = await offload(store.state_at, store.head)
    system = {
        name: where
        for name, where in _SYSTEM_CONTRACTS.items()
        if state.get_code(bytes.fromhex(where[2:]))
    }
    current = {
        "activationTime": 0,
        "blobSchedule": _PRAGUE_BLOB_SCHEDULE,
        "chainId": quantity(api.chain.chain_id),
        "forkId": "0x" + zlib.crc32(genesis.hash).to_bytes(4, "big").hex(),
        "precompiles": precompiles,
        "systemContracts": system,
    }
    return {"current": current, "next": None, "last": None}
