"""Hypothesis strategies for JSON-RPC parameters: for each parameter name the node declares
(`rpc.dispatch.Param.name`), values of the right shape, of nearly the right shape (the hex
quantities a lax parser lets through: `0x-1`, `0x+1`, `0x1_0`, `0x 1`, huge numbers) and of any
JSON shape at all."""

import json
from typing import Any

from hypothesis import strategies as st

from openledger.rpc.dispatch import Method

# Values a JSON document can hold, nested a little.
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**300), 2**300)
    | st.text(max_size=40)
    | st.floats(allow_nan=False, allow_infinity=False)
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

EVIL_HEX = st.sampled_from([
    "0x-1", "0x+1", "0x1_0", "0x 1", " 0x1", "0x1 ", "0x", "0X", "0x0x1", "0xg", "1", "-1", "0x٣",
    "0x" + "f" * 65, "0x" + "f" * 200, "0x" + "0" * 100 + "1", "0x-ffffffffffff", "0xffffffffffffffff",
    "0x10000000000000000", "0x1\n", "0x\u00001", "latest", "",
])  # fmt: skip
SMALL_QUANTITY = st.integers(0, 2**16).map(hex)
QUANTITY = (
    SMALL_QUANTITY
    | st.integers(0, 2**256 + 5).map(hex)
    | st.integers(-(2**70), -1).map(hex)
    | EVIL_HEX
    | st.integers(-(2**70), 2**70)
)


def _hex_bytes(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=min_size, max_size=max_size).map(lambda b: "0x" + b.hex())


DATA = _hex_bytes(0, 300) | EVIL_HEX | st.text(alphabet="0123456789abcdefxX", max_size=30)
ADDRESS = _hex_bytes(20, 20) | _hex_bytes(0, 40) | EVIL_HEX | st.sampled_from([
    "0x0000000000000000000000000000000000000a01", "0x0000000000000000000000000000000000000800",
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266",
])  # fmt: skip
HASH = _hex_bytes(32, 32) | _hex_bytes(0, 40) | EVIL_HEX
BLOCK_TAG = st.sampled_from(
    ["latest", "pending", "earliest", "safe", "finalized", "Latest", "newest"]
)
BLOCK = (
    BLOCK_TAG
    | QUANTITY
    | HASH
    | st.fixed_dictionaries(
        {}, optional={"blockHash": HASH, "blockNumber": QUANTITY, "requireCanonical": ANY_JSON}
    )
)
TRANSACTION_KEYS = {
    "from": ADDRESS, "to": ADDRESS | st.none(), "gas": QUANTITY, "gasPrice": QUANTITY,
    "maxFeePerGas": QUANTITY, "maxPriorityFeePerGas": QUANTITY, "value": QUANTITY,
    "data": DATA, "input": DATA, "nonce": QUANTITY, "chainId": QUANTITY,
    "type": st.sampled_from(["0x0", "0x1", "0x2", "0x3", "0x4", "0x5", "0x7f"]) | QUANTITY,
    "accessList": st.lists(st.fixed_dictionaries({"address": ADDRESS, "storageKeys": st.lists(HASH, max_size=3)}), max_size=3) | ANY_JSON,
    "blobVersionedHashes": st.lists(HASH, max_size=2), "authorizationList": ANY_JSON,
}  # fmt: skip
TRANSACTION = st.fixed_dictionaries({}, optional=TRANSACTION_KEYS) | ANY_JSON
TOPIC = st.none() | HASH | st.lists(HASH | st.none(), max_size=4)
LOG_FILTER = st.fixed_dictionaries(
    {},
    optional={"fromBlock": BLOCK, "toBlock": BLOCK, "blockHash": HASH,
              "address": ADDRESS | st.lists(ADDRESS, max_size=4), "topics": st.lists(TOPIC, max_size=5)},
) | ANY_JSON  # fmt: skip
ACCOUNT_OVERRIDE = st.fixed_dictionaries(
    {},
    optional={"balance": QUANTITY, "nonce": QUANTITY, "code": DATA,
              "state": st.dictionaries(HASH, HASH, max_size=2), "stateDiff": st.dictionaries(HASH, HASH, max_size=2),
              "movePrecompileToAddress": ADDRESS},
)  # fmt: skip
STATE_OVERRIDES = st.dictionaries(ADDRESS, ACCOUNT_OVERRIDE | ANY_JSON, max_size=3) | ANY_JSON
TYPED_DATA = st.fixed_dictionaries(
    {"types": st.dictionaries(st.sampled_from(["EIP712Domain", "Mail", "Person", ""]),
                              st.lists(st.fixed_dictionaries({"name": st.text(max_size=8), "type": st.sampled_from(["string", "uint256", "address", "Person", "bytes32", "uint8[]", "Mail", "int999"]) | st.text(max_size=8)}), max_size=3) | ANY_JSON,
                              max_size=3),
     "primaryType": st.sampled_from(["Mail", "Person", "EIP712Domain", "Nope"]) | ANY_JSON,
     "domain": st.fixed_dictionaries({}, optional={"name": ANY_JSON, "chainId": QUANTITY, "verifyingContract": ADDRESS}) | ANY_JSON,
     "message": ANY_JSON},
) | ANY_JSON | st.text(max_size=50)  # fmt: skip
# Mining counts and intervals: small, or malformed; a valid count of 10,000 blocks is allowed by
# the node but would only make the fuzzer slow.
DEV_NUMBER = st.integers(0, 3).map(hex) | EVIL_HEX | st.integers(-5, 5) | ANY_JSON

BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "block": BLOCK, "newestBlock": BLOCK, "blockHash": HASH, "transactionHash": HASH, "hash": HASH,
    "value": HASH, "index": QUANTITY, "address": ADDRESS, "slot": QUANTITY | HASH,
    "storageKeys": st.lists(QUANTITY | HASH, max_size=4) | ANY_JSON, "hydrated": st.booleans() | ANY_JSON,
    "transaction": TRANSACTION, "stateOverrides": STATE_OVERRIDES, "blockOverrides": ANY_JSON,
    "blockCount": QUANTITY, "rewardPercentiles": st.lists(st.floats(-10, 110) | st.integers(-5, 200), max_size=5) | ANY_JSON,
    "message": DATA, "typedData": TYPED_DATA, "filter": LOG_FILTER, "filterId": QUANTITY,
    "subscriptionId": QUANTITY, "subscriptionName": st.sampled_from(["newHeads", "logs", "newPendingTransactions", "syncing"]) | ANY_JSON,
    "data": DATA, "code": DATA, "balance": QUANTITY, "nonce": QUANTITY,
    "seconds": QUANTITY, "timestamp": QUANTITY, "id": QUANTITY, "enabled": st.booleans() | ANY_JSON,
    "blocks": DEV_NUMBER, "interval": DEV_NUMBER, "milliseconds": DEV_NUMBER,
}  # fmt: skip


def params_for(method: Method) -> st.SearchStrategy[Any]:
    """A params value for `method`: its parameters, some left off or with extra ones, mostly of
    the declared shapes; or any JSON."""
    shaped = [BY_NAME.get(param.name, ANY_JSON) | ANY_JSON for param in method.params]
    arity = len(shaped)
    positional = st.integers(0, arity + 1).flatmap(
        lambda count: st.tuples(*[shaped[i] if i < arity else ANY_JSON for i in range(count)]).map(
            list
        )
    )
    return st.one_of(positional, positional, positional, ANY_JSON)


def request_for(methods: dict[str, Method]) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON-RPC request object with one of `methods` (or an unknown name) and its params."""
    names = sorted(methods)
    known = st.sampled_from(names).flatmap(
        lambda name: params_for(methods[name]).map(lambda params: (name, params))
    )
    unknown = st.tuples(st.text(max_size=20) | ANY_JSON, ANY_JSON)
    identifier = st.integers(-(2**64), 2**64) | st.text(max_size=10) | st.none() | ANY_JSON
    return st.tuples(known | unknown, identifier, st.sampled_from(["2.0", "2.0", "1.0", None])).map(
        lambda parts: {k: v for k, v in (("jsonrpc", parts[2]), ("id", parts[1]), ("method", parts[0][0]), ("params", parts[0][1])) if v is not None}
    )  # fmt: skip


# Raw bodies: not JSON, JSON of odd shapes, numbers JSON allows but Python's float cannot hold.
RAW_BODY = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    ANY_JSON.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([
        b'{"jsonrpc":"2.0","id":1e400,"method":"eth_chainId"}', b'{"id":-1e400,"method":"eth_chainId"}',
        b'{"id":NaN,"method":"eth_chainId"}', b"[]", b"[[]]", b"[1,2,3]", b'{"method":1}', b"nul", b"\xff\xfe{}",
        b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":{}}', b'[{"id":1,"method":"eth_chainId"},3]',
        b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000 + b"1" + b"}" * 3000, b'"\\ud800"',
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x' + b"0" * 40 + b'",1e400]}',
    ]),
)  # fmt: skip
