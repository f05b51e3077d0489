"""The `ol` namespace: what a validator operator and a block explorer need beyond `eth`.

- `ol_getCommit(block)`: the commit certificate of a block (the precommits that finalised it);
- `ol_getValidators(block)`: the validator set that signs that block, with powers;
- `ol_consensusState`: this node's height, round, step, lock and proposer;
- `ol_nodeInfo`: identity, chain, mode and peers of this node.
"""

from typing import Any

from openledger.rpc.codec import BlockId, address, data, parse_block_id, quantity
from openledger.rpc.dispatch import MethodTable, Param, RequestContext
from openledger.rpc.eth_read import LATEST, require_header

methods = MethodTable()

BLOCK = Param("block", parse_block_id, default=LATEST)


@methods.method("ol_getCommit", params=(BLOCK,))
async def get_commit(ctx: RequestContext, block: BlockId) -> Any:
    header = require_header(ctx.api.store, block)
    commit = ctx.api.commit_certificate(header.block_number)
    if commit is None:
        return None  # genesis has no commit
    return {
        "height": quantity(commit.height),
        "round": quantity(commit.round),
        "blockHash": data(commit.block_hash),
        "hash": data(commit.hash),
        "precommits": [
            {"validator": address(validator), "signature": data(signature)}
            for validator, signature in commit.precommits
        ],
        "encoded": data(commit.encoded),
    }


@methods.method("ol_getValidators", params=(BLOCK,))
async def get_validators(ctx: RequestContext, block: BlockId) -> Any:
    header = require_header(ctx.api.store, block)
    height = max(1, int(header.block_number))
    validator_set = ctx.api.validator_set(height)
    return {
        "height": quantity(height),
        "totalPower": quantity(validator_set.total_power),
        "validators": [
            {"address": address(member.address), "power": quantity(member.power)}
            for member in validator_set.validators
        ],
    }


@methods.method("ol_consensusState")
async def consensus_state(ctx: RequestContext) -> dict[str, Any]:
    return _jsonable(dict(ctx.api.consensus_status()))


@methods.method("ol_nodeInfo")
async def node_info(ctx: RequestContext) -> dict[str, Any]:
    info = _jsonable(dict(ctx.api.node_info()))
    head = ctx.api.store.head
    info["head"] = {"number": quantity(head.block_number), "hash": data(head.hash)}
    return info


def _jsonable(value: Any) -> Any:
    """Bytes as hex and nested containers converted, for status mappings built by the node."""
    if isinstance(value, bytes):
        return data(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
