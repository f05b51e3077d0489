"""`eth_*` methods that execute, submit or sign: calls, gas estimation, fees, raw and dev-signed
transactions, message signing.

Execution runs in a worker thread (py-evm is CPU-bound), on a throwaway overlay of committed
state. A revert is answered as geth does: code 3, "execution reverted: <reason>", and the revert
data in `data`, which is where ethers and web3.py look for it.

Why one file of about 400 lines: these methods share the call-request parsing and the revert
answer; the read-only methods are in `eth_read.py`.
"""

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import to_checksum_address

from openledger.genesis.types import Address, Gas, Wei
from openledger.rpc.codec import (
    UINT64_MAX,
    BlockId,
    data,
    decode_json,
    parse_address,
    parse_block_id,
    parse_data,
    parse_quantity,
    parse_slot,
    quantity,
)
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.errors import EXECUTION_REVERTED, RpcError, invalid_input
from openledger.rpc.eth_read import LATEST, require_header
from openledger.rpc.fees import MAX_PERCENTILES, FeeOracle, next_base_fee
from openledger.rpc.format import format_transaction
from openledger.rpc.impersonation import is_impersonated, send_impersonated
from openledger.rpc.work import offload
from openledger.state.calls import CallRequest, CallResult, describe_revert, estimate_gas, run_call
from openledger.state.execute import AccountOverride, StateOverrides
from openledger.state.proofs import get_proof

methods = MethodTable()

CALL_GAS_CAP = Gas(50_000_000)
"""Most gas an `eth_call` may use (geth's --rpc.gascap default)."""
MAX_CALL_DATA = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TransactionRequest:
    """A transaction object as clients send it (`GenericTransaction`), fields optional."""

    sender: bytes | None = None
    to: bytes | None = None
    gas: int | None = None
    gas_price: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    value: int = 0
    data: bytes = b""
    nonce: int | None = None
    chain_id: int | None = None
    access_list: tuple[tuple[Address, tuple[int, ...]], ...] = ()
    type: int | None = None

    def to_call(self) -> CallRequest:
        """The call this request describes; legacy `gasPrice` sets both fee fields."""
        max_fee = self.gas_price if self.gas_price is not None else self.max_fee_per_gas
        tip = self.gas_price if self.gas_price is not None else self.max_priority_fee_per_gas
        return CallRequest(
            sender=Address(self.sender or b"\x00" * 20),
            to=Address(self.to) if self.to is not None else None,
            data=self.data,
            value=Wei(self.value),
            gas=Gas(self.gas) if self.gas is not None else None,
            max_fee_per_gas=Wei(max_fee) if max_fee else None,
            max_priority_fee_per_gas=Wei(tip) if tip is not None else None,
            access_list=self.access_list,
        )


def parse_transaction_request(value: Any) -> TransactionRequest:
    """Parse a transaction object; unknown fields are ignored, as geth does."""
    if not isinstance(value, dict):
        raise ValueError("expected a transaction object")

    def field(name: str, parse: Any) -> Any:
        raw = value.get(name)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ValueError as error:
            raise ValueError(f"field {name}: {error}") from None

    payload = field("input", lambda v: parse_data(v, max_length=MAX_CALL_DATA))
    legacy_data = field("data", lambda v: parse_data(v, max_length=MAX_CALL_DATA))
    if payload is not None and legacy_data is not None and payload != legacy_data:
        raise ValueError("both input and data are set and differ")
    gas_price = field("gasPrice", parse_quantity)
    max_fee = field("maxFeePerGas", parse_quantity)
    tip = field("maxPriorityFeePerGas", parse_quantity)
    if gas_price is not None and (max_fee is not None or tip is not None):
        raise ValueError("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
    if max_fee is not None and tip is not None and tip > max_fee:
        raise ValueError("maxPriorityFeePerGas higher than maxFeePerGas")
    return TransactionRequest(
        sender=field("from", parse_address),
        to=field("to", parse_address),
        gas=field("gas", lambda v: parse_quantity(v, UINT64_MAX)),
        gas_price=gas_price,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=tip,
        value=field("value", parse_quantity) or 0,
        data=payload if payload is not None else (legacy_data or b""),
        nonce=field("nonce", lambda v: parse_quantity(v, UINT64_MAX)),
        chain_id=field("chainId", parse_quantity),
        access_list=field("accessList", _parse_access_list) or (),
        type=field("type", lambda v: parse_quantity(v, 0xFF)),
    )


def _parse_access_list(value: Any) -> tuple[tuple[Address, tuple[int, ...]], ...]:
    if not isinstance(value, list):
        raise ValueError("expected an array")
    entries = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("storageKeys", []), list):
            raise ValueError("entries must be {address, storageKeys}")
        keys = tuple(parse_slot(key) for key in entry.get("storageKeys", []))
        entries.append((Address(parse_address(entry.get("address"))), keys))
    return tuple(entries)


def parse_state_overrides(value: Any) -> StateOverrides:
    """geth's state override set: {address: {balance, nonce, code, state | stateDiff}}."""
    if not isinstance(value, dict):
        raise ValueError("expected an object of account overrides")
    overrides = []
    for key, change in value.items():
        account = Address(parse_address(key))
        if not isinstance(change, dict):
            raise ValueError(f"override of {key} must be an object")
        if "state" in change and "stateDiff" in change:
            raise ValueError(f"override of {key} has both state and stateDiff")
        storage = change.get("state")
        overrides.append(
            (
                account,
                AccountOverride(
                    balance=_optional(change, "balance", parse_quantity),
                    nonce=_optional(change, "nonce", lambda v: parse_quantity(v, UINT64_MAX)),
                    code=_optional(change, "code", parse_data),
                    storage=_slots(storage) if storage is not None else None,
                    storage_diff=_slots(change.get("stateDiff") or {}),
                ),
            )
        )
    return tuple(overrides)


def _optional(source: dict[str, Any], name: str, parse: Any) -> Any:
    return parse(source[name]) if source.get(name) is not None else None


def _slots(value: Any) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, dict):
        raise ValueError("storage overrides must be an object of slot: value")
    return tuple((parse_slot(slot), parse_slot(word)) for slot, word in value.items())


def _no_block_overrides(value: Any) -> None:
    if value:
        raise ValueError("block overrides are not supported")


def _slot_list(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise ValueError("expected an array of storage keys")
    if len(value) > 1024:
        raise ValueError("at most 1024 storage keys")
    return [parse_slot(key) for key in value]


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected a hex quantity or a non-negative integer")
    return value


def _percentiles(value: Any) -> list[float]:
    if not isinstance(value, list) or not all(
        isinstance(p, int | float) and not isinstance(p, bool) for p in value
    ):
        raise ValueError("expected an array of numbers")
    if len(value) > MAX_PERCENTILES:
        raise ValueError(f"at most {MAX_PERCENTILES} reward percentiles")
    if any(not 0 <= p <= 100 for p in value) or value != sorted(value):
        raise ValueError("reward percentiles must be ascending values in 0..100")
    return [float(p) for p in value]


TX = Param("transaction", parse_transaction_request)
BLOCK = Param("block", parse_block_id, default=LATEST)
OVERRIDES = Param("stateOverrides", parse_state_overrides, default=())
BLOCK_OVERRIDES = Param("blockOverrides", _no_block_overrides, default=None)


# --- execution -----------------------------------------------------------------------------------


@methods.method("eth_call", params=(TX, BLOCK, OVERRIDES, BLOCK_OVERRIDES))
async def call(
    ctx: RequestContext,
    request: TransactionRequest,
    block: BlockId,
    overrides: StateOverrides,
    _: None,
) -> str:
    api = ctx.api
    header = require_header(api.store, block)
    result = await offload(
        run_call, api.chain, api.store.db, header, request.to_call(), CALL_GAS_CAP, overrides
    )
    raise_for_failure(result)
    return data(result.output)


@methods.method("eth_estimateGas", params=(TX, BLOCK, OVERRIDES))
async def estimate(
    ctx: RequestContext, request: TransactionRequest, block: BlockId, overrides: StateOverrides
) -> str:
    api = ctx.api
    header = require_header(api.store, block)
    cap = Gas(header.gas_limit)
    gas, top = await offload(
        estimate_gas, api.chain, api.store.db, header, request.to_call(), cap, overrides
    )
    if not top.success:
        if not top.reverted and top.error == "out of gas":
            raise invalid_input(f"gas required exceeds allowance ({gas})")
        raise_for_failure(top)
    return quantity(gas)


def raise_for_failure(result: CallResult) -> None:
    """Turn a failed call into the JSON-RPC error clients expect."""
    if result.success:
        return
    if result.reverted:
        raise RpcError(EXECUTION_REVERTED, describe_revert(result.output), data(result.output))
    raise invalid_input(result.error)


@methods.method("eth_getProof", params=(
    Param("address", parse_address),
    Param("storageKeys", _slot_list),
    BLOCK,
))  # fmt: skip
async def proof(ctx: RequestContext, account: bytes, keys: list[int], block: BlockId) -> Any:
    store = ctx.api.store
    header = require_header(store, block)
    return await offload(get_proof, store.db, header.state_root, account, keys)


# --- fees -----------------------------------------------------------------------------------------


def oracle(ctx: RequestContext) -> FeeOracle:
    """The fee oracle shared by the server's connections."""
    found = ctx.services.get("fees")
    if found is None:
        found = ctx.services["fees"] = FeeOracle(ctx.api.store)
    return found  # type: ignore[no-any-return]


@methods.method("eth_gasPrice")
async def gas_price(ctx: RequestContext) -> str:
    return quantity(oracle(ctx).gas_price())


@methods.method("eth_maxPriorityFeePerGas")
async def max_priority_fee(ctx: RequestContext) -> str:
    return quantity(oracle(ctx).suggest_tip())


@methods.method("eth_blobBaseFee")
async def blob_base_fee(ctx: RequestContext) -> str:
    return quantity(1)


@methods.method("eth_feeHistory", params=(
    Param("blockCount", lambda v: parse_quantity(v if isinstance(v, str) else hex(_int(v)))),
    Param("newestBlock", lambda v: parse_block_id(v, allow_hash=False)),
    Param("rewardPercentiles", _percentiles, default=None),
))  # fmt: skip
async def fee_history(
    ctx: RequestContext, count: int, newest: BlockId, percentiles: list[float] | None
) -> Any:
    if count == 0:
        return {"oldestBlock": "0x0", "baseFeePerGas": [], "gasUsedRatio": []}
    header = require_header(ctx.api.store, newest)
    return await offload(oracle(ctx).fee_history, count, header, percentiles)


# --- submitting -----------------------------------------------------------------------------------


@methods.method("eth_sendRawTransaction", params=(Param("transaction", parse_data),))
async def send_raw_transaction(ctx: RequestContext, raw: bytes) -> str:
    return await _submit(ctx, raw)


@methods.method("eth_sendTransaction", params=(TX,))
async def send_transaction(ctx: RequestContext, request: TransactionRequest) -> str:
    if request.sender is not None and is_impersonated(ctx, request.sender):
        fields = await _fill_request(ctx, request, request.sender)
        return data(send_impersonated(ctx, request.sender, fields))
    raw, _ = await _sign_request(ctx, request)
    return await _submit(ctx, raw)


async def _submit(ctx: RequestContext, raw: bytes) -> str:
    """Submit; a dev node with automine answers once the transaction's block is committed."""
    tx_hash = ctx.api.submit_transaction(raw)
    if ctx.api.dev is not None:
        await ctx.api.dev.wait_until_mined(tx_hash)
    return data(tx_hash)


@methods.method("eth_signTransaction", params=(TX,))
async def sign_transaction(ctx: RequestContext, request: TransactionRequest) -> Any:
    raw, _ = await _sign_request(ctx, request)
    transaction = ctx.api.chain.vm_class.get_transaction_builder().decode(raw)
    return {"raw": data(raw), "tx": format_transaction(transaction)}


async def _sign_request(ctx: RequestContext, request: TransactionRequest) -> tuple[bytes, int]:
    """Fill in the missing fields of a dev account's transaction and sign it."""
    if request.sender is None:
        raise RpcError(-32602, "invalid argument 0 (transaction): field from is required")
    key = _dev_key(ctx, request.sender)
    fields = await _fill_request(ctx, request, request.sender)
    signed = Account.sign_transaction(fields, key)
    return bytes(signed.raw_transaction), int(fields["nonce"])


async def _fill_request(
    ctx: RequestContext, request: TransactionRequest, sender: bytes
) -> dict[str, Any]:
    """The request from `sender` with its missing fields filled in, as `eth_account` signs them."""
    api = ctx.api
    chain_id = api.chain.chain_id
    if request.chain_id is not None and request.chain_id != chain_id:
        raise invalid_input(f"chainId {request.chain_id} does not match this chain ({chain_id})")
    fields: dict[str, Any] = {
        "chainId": chain_id,
        "nonce": request.nonce if request.nonce is not None else api.pending_nonce(sender),
        "value": request.value,
        "data": request.data,
    }
    if request.to is not None:
        fields["to"] = to_checksum_address(request.to)
    if request.gas_price is not None or request.type in (0, 1):
        fields["gasPrice"] = (
            request.gas_price if request.gas_price is not None else oracle(ctx).gas_price()
        )
        if request.type == 1 or request.access_list:
            fields["type"] = 1
    else:
        tip = request.max_priority_fee_per_gas
        if tip is None:
            tip = oracle(ctx).suggest_tip()
        max_fee = request.max_fee_per_gas
        if max_fee is None:
            max_fee = 2 * next_base_fee(api.store.head) + tip
        fields.update(type=2, maxFeePerGas=max_fee, maxPriorityFeePerGas=min(tip, max_fee))
    if request.access_list:
        fields["accessList"] = [
            {
                "address": to_checksum_address(a),
                "storageKeys": ["0x" + k.to_bytes(32, "big").hex() for k in keys],
            }
            for a, keys in request.access_list
        ]
    if request.gas is not None:
        fields["gas"] = request.gas
    else:
        header = api.store.head
        gas, top = await offload(
            estimate_gas, api.chain, api.store.db, header, request.to_call(), Gas(header.gas_limit)
        )
        raise_for_failure(top)
        fields["gas"] = gas
    return fields


def _dev_key(ctx: RequestContext, account: bytes) -> bytes:
    dev = ctx.api.dev
    if dev is None or account not in dev.accounts:
        raise invalid_input(f"unknown account 0x{account.hex()}: this node holds no key for it")
    return dev.accounts[account]  # type: ignore[no-any-return]


@methods.method("eth_sign", params=(Param("address", parse_address), Param("message", parse_data)))
async def sign(ctx: RequestContext, account: bytes, message: bytes) -> str:
    signed = Account.sign_message(encode_defunct(primitive=message), _dev_key(ctx, account))
    return data(bytes(signed.signature))


@methods.method(
    "personal_sign", params=(Param("message", parse_data), Param("address", parse_address))
)
async def personal_sign(ctx: RequestContext, message: bytes, account: bytes) -> str:
    signed = Account.sign_message(encode_defunct(primitive=message), _dev_key(ctx, account))
    return data(bytes(signed.signature))


def _typed_data(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = decode_json(value)
        except ValueError as error:
            raise ValueError(f"typed data is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ValueError("expected an EIP-712 typed data object")
    # eth_account trusts the shape and fails deep inside (AttributeError, IndexError) otherwise.
    types = value.get("types")
    if not isinstance(types, dict) or not all(
        isinstance(fields, list)
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("type"), str)
            for entry in fields
        )
        for fields in types.values()
    ):
        raise ValueError("types must be an object of arrays of {name, type} strings")
    if not isinstance(value.get("primaryType"), str):
        raise ValueError("primaryType must be a string")
    for part in ("domain", "message"):
        if not isinstance(value.get(part), dict):
            raise ValueError(f"{part} must be an object")
    return value


@methods.method("eth_signTypedData_v4", "eth_signTypedData", params=(
    Param("address", parse_address), Param("typedData", _typed_data),
))  # fmt: skip
async def sign_typed_data(ctx: RequestContext, account: bytes, typed: dict[str, Any]) -> str:
    key = _dev_key(ctx, account)
    try:
        message = encode_typed_data(full_message=typed)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
        raise RpcError(-32602, f"invalid argument 1 (typedData): {error}") from None
    return data(bytes(Account.sign_message(message, key).signature))
