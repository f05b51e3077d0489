"""Dev-node methods, with the names Hardhat, Anvil and Ganache users call: mining control, time
travel, snapshots, setting accounts and dropping transactions.

Only a dev node answers them; a validator or RPC node answers -32601 as if they did not exist,
so that nobody can mine or warp time on a real network through its RPC port.
"""

from typing import Any

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.types import Address, Wei
from openledger.rpc.codec import (
    UINT64_MAX,
    data,
    parse_address,
    parse_bool,
    parse_data,
    parse_hash,
    parse_quantity,
    parse_slot,
    quantity,
)
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.errors import METHOD_NOT_FOUND, RpcError
from openledger.state.execute import AccountOverride

methods = MethodTable()

MAX_MINE_AT_ONCE = 10_000
MAX_CODE_SIZE = 0x6000
"""EIP-170's limit: code no deployment could have made is refused."""


def dev(ctx: RequestContext) -> Any:
    """The dev controls, or the error a non-dev node gives."""
    controls = ctx.api.dev
    if controls is None:
        raise RpcError(
            METHOD_NOT_FOUND, "the method does not exist/is not available: this is not a dev node"
        )
    return controls


def _number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= UINT64_MAX:
            raise ValueError(f"must be between 0 and {UINT64_MAX}")
        return value
    return parse_quantity(value, UINT64_MAX)


@methods.method("evm_mine", params=(Param("timestamp", _number, default=None),))
async def evm_mine(ctx: RequestContext, timestamp: int | None) -> str:
    await dev(ctx).mine(1, timestamp)
    return "0x0"


@methods.method("anvil_mine", "hardhat_mine", params=(
    Param("blocks", _number, default=1),
    Param("interval", _number, default=None),
))  # fmt: skip
async def mine_many(ctx: RequestContext, count: int, interval: int | None) -> None:
    if not 1 <= count <= MAX_MINE_AT_ONCE:
        raise RpcError(
            -32602, f"invalid argument 0 (blocks): mine between 1 and {MAX_MINE_AT_ONCE} blocks"
        )
    controls = dev(ctx)
    if interval is None:
        await controls.mine(count, None)
        return
    if ctx.api.store.head.timestamp + count * max(1, interval) > UINT64_MAX:
        raise RpcError(
            -32602, f"invalid argument 1 (interval): blocks would be dated beyond {UINT64_MAX}"
        )
    for _ in range(count):
        timestamp = ctx.api.store.head.timestamp + max(1, interval)
        await controls.mine(1, timestamp)


@methods.method("evm_increaseTime", params=(Param("seconds", _number),))
async def increase_time(ctx: RequestContext, seconds: int) -> str:
    controls = dev(ctx)  # outside the try: RpcError is an OpenLedgerError too
    try:
        return quantity(controls.increase_time(seconds))
    except OpenLedgerError as error:
        raise RpcError(-32602, f"invalid argument 0 (seconds): {error}") from None


@methods.method("evm_setNextBlockTimestamp", params=(Param("timestamp", _number),))
async def set_next_timestamp(ctx: RequestContext, timestamp: int) -> None:
    if timestamp <= ctx.api.store.head.timestamp:
        raise RpcError(
            -32602,
            f"invalid argument 0 (timestamp): {timestamp} is not after the latest block's "
            f"timestamp {ctx.api.store.head.timestamp}",
        )
    dev(ctx).set_next_timestamp(timestamp)


@methods.method("evm_setAutomine", params=(Param("enabled", parse_bool),))
async def set_automine(ctx: RequestContext, enabled: bool) -> bool:
    dev(ctx).set_automine(enabled)
    return True


@methods.method("anvil_getAutomine", "hardhat_getAutomine")
async def get_automine(ctx: RequestContext) -> bool:
    return bool(dev(ctx).is_automine())


@methods.method("evm_setIntervalMining", params=(Param("milliseconds", _number),))
async def set_interval_mining(ctx: RequestContext, milliseconds: int) -> bool:
    dev(ctx).set_interval(milliseconds / 1000)
    return True


ADDRESS = Param("address", parse_address)


@methods.method("anvil_setBalance", "hardhat_setBalance", params=(
    ADDRESS, Param("balance", parse_quantity),
))  # fmt: skip
async def set_balance(ctx: RequestContext, address: bytes, balance: int) -> bool:
    await dev(ctx).set_account(Address(address), AccountOverride(balance=Wei(balance)))
    return True


@methods.method("anvil_setNonce", "hardhat_setNonce", params=(
    ADDRESS, Param("nonce", lambda value: parse_quantity(value, UINT64_MAX - 1)),
))  # fmt: skip
async def set_nonce(ctx: RequestContext, address: bytes, nonce: int) -> bool:
    await dev(ctx).set_account(Address(address), AccountOverride(nonce=nonce))
    return True


@methods.method("anvil_setCode", "hardhat_setCode", params=(
    ADDRESS, Param("code", lambda value: parse_data(value, max_length=MAX_CODE_SIZE)),
))  # fmt: skip
async def set_code(ctx: RequestContext, address: bytes, code: bytes) -> bool:
    await dev(ctx).set_account(Address(address), AccountOverride(code=code))
    return True


@methods.method("anvil_setStorageAt", "hardhat_setStorageAt", params=(
    ADDRESS, Param("slot", parse_slot), Param("value", parse_hash),
))  # fmt: skip
async def set_storage_at(ctx: RequestContext, address: bytes, slot: int, value: bytes) -> bool:
    change = AccountOverride(storage_diff=((slot, int.from_bytes(value, "big")),))
    await dev(ctx).set_account(Address(address), change)
    return True


@methods.method("evm_snapshot", "anvil_snapshot")
async def snapshot(ctx: RequestContext) -> str:
    return quantity(dev(ctx).snapshot())


@methods.method("evm_revert", "anvil_revert", params=(Param("id", _number),))
async def revert(ctx: RequestContext, snapshot_id: int) -> bool:
    return await dev(ctx).revert(snapshot_id)


@methods.method(
    "anvil_dropTransaction", "hardhat_dropTransaction", params=(Param("hash", parse_hash),)
)
async def drop_transaction(ctx: RequestContext, tx_hash: bytes) -> Any:
    return dev(ctx).drop_transaction(tx_hash) or None


@methods.method("anvil_nodeInfo")
async def node_info(ctx: RequestContext) -> dict[str, Any]:
    head = ctx.api.store.head
    return {
        "currentBlockNumber": quantity(head.block_number),
        "currentBlockTimestamp": head.timestamp,
        "currentBlockHash": data(head.hash),
        "chainId": quantity(ctx.api.chain.chain_id),
        "automine": bool(dev(ctx).is_automine()),
    }
