"""The small namespaces: `web3`, `net`, `txpool`, and the `eth_*` status methods."""

from typing import Any

from eth_hash.auto import keccak

from openledger.rpc.codec import address, data, parse_address, parse_data, quantity
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.format import format_transaction

methods = MethodTable()


@methods.method("web3_clientVersion")
async def client_version(ctx: RequestContext) -> str:
    return str(ctx.api.client_version)


@methods.method("web3_sha3", params=(Param("data", parse_data),))
async def sha3(ctx: RequestContext, payload: bytes) -> str:
    return data(keccak(payload))


@methods.method("net_version")
async def net_version(ctx: RequestContext) -> str:
    return str(ctx.api.chain.chain_id)


@methods.method("net_listening")
async def net_listening(ctx: RequestContext) -> bool:
    return True


@methods.method("net_peerCount")
async def net_peer_count(ctx: RequestContext) -> str:
    return quantity(ctx.api.peer_count())


@methods.method("eth_syncing")
async def syncing(ctx: RequestContext) -> Any:
    status = ctx.api.sync_status()
    if status is None:
        return False
    return {
        "startingBlock": quantity(status.starting_block),
        "currentBlock": quantity(status.current_block),
        "highestBlock": quantity(status.highest_block),
    }


@methods.method("eth_mining")
async def mining(ctx: RequestContext) -> bool:
    return ctx.api.consensus_status().get("validator") is not None


@methods.method("eth_hashrate")
async def hashrate(ctx: RequestContext) -> str:
    return "0x0"


# --- txpool ---------------------------------------------------------------------------------------


@methods.method("txpool_status")
async def txpool_status(ctx: RequestContext) -> dict[str, str]:
    pending, queued = ctx.api.pool.pending_and_queued()
    return {
        "pending": quantity(sum(len(txs) for txs in pending.values())),
        "queued": quantity(sum(len(txs) for txs in queued.values())),
    }


@methods.method("txpool_content")
async def txpool_content(ctx: RequestContext) -> dict[str, Any]:
    pending, queued = ctx.api.pool.pending_and_queued()
    return {"pending": _by_sender(pending), "queued": _by_sender(queued)}


@methods.method("txpool_contentFrom", params=(Param("address", parse_address),))
async def txpool_content_from(ctx: RequestContext, sender: bytes) -> dict[str, Any]:
    pending, queued = ctx.api.pool.pending_and_queued()
    return {
        "pending": _by_nonce(pending.get(sender, [])),
        "queued": _by_nonce(queued.get(sender, [])),
    }


@methods.method("txpool_inspect")
async def txpool_inspect(ctx: RequestContext) -> dict[str, Any]:
    pending, queued = ctx.api.pool.pending_and_queued()

    def summary(entries: dict[Any, list[Any]]) -> dict[str, Any]:
        return {
            address(sender): {str(entry.nonce): _inspect_line(entry.transaction) for entry in txs}
            for sender, txs in entries.items()
        }

    return {"pending": summary(pending), "queued": summary(queued)}


def _by_sender(entries: Any) -> dict[str, Any]:
    return {address(sender): _by_nonce(txs) for sender, txs in entries.items()}


def _by_nonce(txs: list[Any]) -> dict[str, Any]:
    return {str(entry.nonce): format_transaction(entry.transaction) for entry in txs}


def _inspect_line(tx: Any) -> str:
    target = address(tx.to) if tx.to else "contract creation"
    return f"{target}: {tx.value} wei + {tx.gas} gas × {tx.max_fee_per_gas} wei"  # noqa: RUF001 - geth's wording
