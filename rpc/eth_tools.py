"""`eth_*` methods for tools rather than wallets: `eth_createAccessList` and
`eth_getStorageValues` (execution-apis), run in the RPC worker pool on committed state."""

from typing import Any

from openledger.genesis.types import Address, Gas
from openledger.rpc.codec import BlockId, address, parse_address, parse_slot, quantity, word
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.eth_exec import BLOCK, CALL_GAS_CAP, TX, TransactionRequest
from openledger.rpc.eth_read import require_header
from openledger.rpc.work import offload
from openledger.state.access_list import create_access_list
from openledger.state.calls import describe_revert

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
