"""Impersonation, as Anvil and Hardhat name it: `anvil_impersonateAccount`,
`anvil_stopImpersonatingAccount`, `anvil_autoImpersonateAccount` and the `hardhat_` names.

`eth_sendTransaction` from an impersonated account needs no key: the node pools the transaction
with a placeholder signature and executes it as that account (`state.impersonation`). Only a dev
node answers; a validator or RPC node answers -32601, as for every dev method.
"""

from typing import Any

from eth_utils import to_bytes

from openledger.genesis.types import Address, Hash32
from openledger.rpc.codec import parse_address, parse_bool
from openledger.rpc.dev import dev
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.state.impersonation import make_impersonated_transaction

methods = MethodTable()

ADDRESS = Param("address", parse_address)


@methods.method("anvil_impersonateAccount", params=(ADDRESS,))
async def impersonate(ctx: RequestContext, account: bytes) -> None:
    dev(ctx).impersonated.add(Address(account))


@methods.method("hardhat_impersonateAccount", params=(ADDRESS,))
async def hardhat_impersonate(ctx: RequestContext, account: bytes) -> bool:
    dev(ctx).impersonated.add(Address(account))
    return True


@methods.method("anvil_stopImpersonatingAccount", params=(ADDRESS,))
async def stop_impersonating(ctx: RequestContext, account: bytes) -> None:
    dev(ctx).impersonated.discard(Address(account))


@methods.method("hardhat_stopImpersonatingAccount", params=(ADDRESS,))
async def hardhat_stop_impersonating(ctx: RequestContext, account: bytes) -> bool:
    controls = dev(ctx)
    was = Address(account) in controls.impersonated
    controls.impersonated.discard(Address(account))
    return was


@methods.method("anvil_autoImpersonateAccount", params=(Param("enabled", parse_bool),))
async def auto_impersonate(ctx: RequestContext, enabled: bool) -> None:
    dev(ctx).auto_impersonate = enabled


def is_impersonated(ctx: RequestContext, account: bytes) -> bool:
    """Whether `eth_sendTransaction` sends from `account` without a key (a dev account with a
    key is always signed for)."""
    controls = ctx.api.dev
    if controls is None or account in controls.accounts:
        return False
    return bool(controls.auto_impersonate or Address(account) in controls.impersonated)


def send_impersonated(ctx: RequestContext, sender: bytes, fields: dict[str, Any]) -> Hash32:
    """Pool the transaction `fields` describe (as `eth_account` takes them) as sent by `sender`."""
    price = fields.get("gasPrice")
    evm_fields = {
        "chain_id": fields["chainId"],
        "nonce": fields["nonce"],
        "max_priority_fee_per_gas": price if price is not None else fields["maxPriorityFeePerGas"],
        "max_fee_per_gas": price if price is not None else fields["maxFeePerGas"],
        "gas": fields["gas"],
        "to": to_bytes(hexstr=fields["to"]) if fields.get("to") else b"",
        "value": fields["value"],
        "data": fields["data"],
        "access_list": tuple(
            (to_bytes(hexstr=entry["address"]), tuple(int(k, 16) for k in entry["storageKeys"]))
            for entry in fields.get("accessList", ())
        ),
    }
    transaction = make_impersonated_transaction(ctx.api.chain.vm_class, Address(sender), evm_fields)
    return dev(ctx).submit_impersonated(transaction)  # type: ignore[no-any-return]
