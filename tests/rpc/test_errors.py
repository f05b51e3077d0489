"""Bad input gets the error a client can act on, and changes nothing.

- the JSON-RPC envelope: parse errors, invalid requests, unknown methods, ids echoed exactly,
  notifications unanswered, batches answered item by item in order, always with HTTP 200;
- parameters: -32602 naming the parameter by index and name;
- raw transactions the node must refuse: -32003 saying why, and afterwards nothing is in the
  pool and no balance or nonce moved;
- reverts: code 3, "execution reverted: <reason>", and the revert data in `data`.
"""

import math
import re
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import rlp
from eth_abi import encode as abi_encode
from eth_utils import keccak
from helpers import DEV_ADDRESSES, DEV_KEYS, post, rpc
from rpc_tools import (
    CHAIN_ID,
    ERROR_SELECTOR,
    ETHER,
    GWEI,
    ConfiguredNode,
    call,
    calldata,
    deploy_token,
    dumps,
    envelope,
    error_of,
    nonce_of,
    sign,
    start_node,
    transact,
    transfer_data,
)

from openledger.rpc import misc
from openledger.rpc.codec import encode_json
from openledger.rpc.dispatch import Dispatcher, RequestContext

pytestmark = pytest.mark.timeout(60)

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SENDER_KEY, SENDER = DEV_KEYS[0], DEV_ADDRESSES[0]


@dataclass
class Chain:
    """A node whose sender has used nonce 0, with a token, and automine off: anything the node
    wrongly accepts stays visible in the pool."""

    url: str
    token: str


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    node: ConfiguredNode = start_node(tmp_path_factory.mktemp("errors") / "node")
    try:
        token = deploy_token(node.url, SENDER_KEY)
        transact(node.url, SENDER_KEY, to=DEV_ADDRESSES[1], value=ETHER)
        call(node.url, "evm_setAutomine", [False])
        yield Chain(node.url, token)
    finally:
        node.stop()


# --- the envelope ----------------------------------------------------------------------------------


def test_response_to_an_infinite_id_is_strict_json(chain: Chain) -> None:
    request = urllib.request.Request(
        chain.url, data=b'{"jsonrpc":"2.0","id":1e400,"method":"eth_chainId"}', method="POST"
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as answer:
        response = orjson.loads(answer.read())  # refuses Infinity and NaN, as browsers do
    assert response["id"] is None
    assert response["error"]["code"] in (-32700, -32600)


async def test_an_id_beyond_64_bits_is_echoed_exactly() -> None:
    dispatcher = Dispatcher([misc.methods])
    big, small = 2**64, -(2**63) - 1
    body = (
        f'[{{"jsonrpc":"2.0","id":{big},"method":"web3_clientVersion"}},'
        f'{{"jsonrpc":"2.0","id":{small},"method":"web3_clientVersion"}},'
        '{"jsonrpc":"2.0","id":1.5,"method":"web3_clientVersion"}]'
    )
    responses = await dispatcher.handle_payload(body.encode(), RequestContext(api=None))
    assert [response["id"] for response in responses] == [big, small, 1.5]
    assert f'"id":{big}' in encode_json(responses).replace(" ", "")


async def test_a_non_finite_id_decoded_by_a_caller_is_an_invalid_request() -> None:
    dispatcher = Dispatcher([misc.methods])
    for request_id in (math.inf, -math.inf, math.nan):
        request = {"jsonrpc": "2.0", "id": request_id, "method": "web3_clientVersion"}
        response = await dispatcher.handle_request(request, RequestContext(api=None))
        assert response is not None
        assert response["id"] is None
        assert response["error"]["code"] == -32600


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc": "2.0", "id": 7, "method": "eth_chainId"',
        b'{"jsonrpc": "2.0", "id": NaN, "method": "eth_chainId"}',  # would be echoed as NaN
        b'{"jsonrpc": "2.0", "id": 7, "method": "eth_feeHistory", "params": [1, "latest", [Infinity]]}',
        b"\xff\xfe{}",
        b"",
        b"[1,",
    ],
    ids=["truncated", "nan-id", "infinity-param", "not-utf8", "empty", "truncated-batch"],
)
def test_malformed_json_is_a_parse_error_with_null_id(chain: Chain, body: bytes) -> None:
    status, response = post(chain.url, body)
    assert status == 200
    assert response["id"] is None
    assert response["error"]["code"] == -32700


@pytest.mark.parametrize(
    ("body", "echoed_id"),
    [
        ('"eth_chainId"', None),
        ("42", None),
        ('{"jsonrpc": "1.0", "id": 3, "method": "eth_chainId"}', 3),
        ('{"id": 4, "method": "eth_chainId"}', 4),
        ('{"jsonrpc": "2.0", "id": 5, "method": 17}', 5),
        ('{"jsonrpc": "2.0", "id": 6}', 6),
        ('{"jsonrpc": "2.0", "id": {"nested": 1}, "method": "eth_chainId"}', None),
        # Without an id, but not a valid request either: not a notification, so answered.
        ('{"foo": "boo"}', None),
        ('{"jsonrpc": "2.0", "method": 1, "params": "bar"}', None),
        ('{"method": "eth_chainId"}', None),
    ],
    ids=[
        "string",
        "number",
        "version-1.0",
        "no-version",
        "method-number",
        "no-method",
        "id-object",
        "no-id-garbage",
        "no-id-method-number",
        "no-id-no-version",
    ],
)
def test_invalid_request(chain: Chain, body: str, echoed_id: Any) -> None:
    status, response = post(chain.url, body)
    assert status == 200
    assert response["error"]["code"] == -32600, response
    assert response["id"] == echoed_id


@pytest.mark.parametrize(
    "method",
    [
        "eth_doesNotExist",
        "eth_fillTransaction",  # viem tries it first and falls back only on -32601
        "ETH_CHAINID",
    ],
)
def test_unknown_method(chain: Chain, method: str) -> None:
    status, response = post(chain.url, dumps(envelope(method, request_id="q")))
    assert status == 200
    assert response["id"] == "q"
    assert response["error"]["code"] == -32601
    assert method in response["error"]["message"]


@pytest.mark.parametrize(
    "request_id",
    ["abc", "", "0x1", 0, 7, -3, 2**53 + 1, 1.5, None],
    ids=repr,
)
def test_id_is_echoed_exactly(chain: Chain, request_id: Any) -> None:
    for method in ("eth_chainId", "eth_noSuchMethod"):
        status, response = post(chain.url, dumps(envelope(method, request_id=request_id)))
        assert status == 200
        assert "id" in response
        assert response["id"] == request_id
        assert type(response["id"]) is type(request_id)


def test_notification_gets_no_response(chain: Chain) -> None:
    for method in ("eth_chainId", "eth_noSuchMethod"):
        status, response = post(chain.url, dumps({"jsonrpc": "2.0", "method": method}))
        assert (status, response) == (200, None)


def test_batch_of_notifications_gets_no_response(chain: Chain) -> None:
    batch = [{"jsonrpc": "2.0", "method": "eth_chainId"}, {"jsonrpc": "2.0", "method": "nope"}]
    assert post(chain.url, dumps(batch)) == (200, None)


def test_invalid_items_of_a_batch_are_answered_even_without_id(chain: Chain) -> None:
    batch = [{"jsonrpc": "2.0", "method": "eth_chainId"}, {"foo": "boo"}, 1]
    status, responses = post(chain.url, dumps(batch))
    assert status == 200
    assert [(r["id"], r["error"]["code"]) for r in responses] == [(None, -32600), (None, -32600)]


def test_empty_batch_is_an_invalid_request(chain: Chain) -> None:
    status, response = post(chain.url, "[]")
    assert status == 200
    assert isinstance(response, dict)
    assert response["error"]["code"] == -32600
    assert response["id"] is None


def test_mixed_batch_answers_each_request_in_order(chain: Chain) -> None:
    slow_call = {"to": chain.token, "data": calldata("name()")}
    batch = [
        envelope("eth_call", [slow_call, "latest"], request_id=1),
        {"jsonrpc": "2.0", "method": "eth_chainId"},  # a notification: no answer
        envelope("eth_noSuchMethod", request_id="two"),
        envelope("eth_getBalance", ["0x1234"], request_id=3),
        7,
        envelope("eth_chainId", request_id=4),
    ]
    status, responses = post(chain.url, dumps(batch))
    assert status == 200
    assert [r.get("id") for r in responses] == [1, "two", 3, None, 4]
    assert responses[0]["result"].startswith("0x")
    assert responses[1]["error"]["code"] == -32601
    assert responses[2]["error"]["code"] == -32602
    assert responses[3]["error"]["code"] == -32600
    assert responses[4]["result"] == hex(CHAIN_ID)


def test_missing_or_null_params_are_accepted(chain: Chain) -> None:
    for body in (
        {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": None},
    ):
        assert post(chain.url, dumps(body))[1]["result"].startswith("0x")


# --- parameters ------------------------------------------------------------------------------------

ADDRESS = DEV_ADDRESSES[0]
HASH = "0x" + "11" * 32


@pytest.mark.parametrize(
    ("method", "params", "named", "problem"),
    [
        ("eth_getBalance", ["0xzz" + "00" * 19, "latest"], "0 (address)", "invalid hex"),
        ("eth_getBalance", ["0x123", "latest"], "0 (address)", "odd length"),
        ("eth_getBalance", ["0x" + "11" * 19, "latest"], "0 (address)", "want 40"),
        ("eth_getBalance", [], "0 (address)", "missing"),
        ("eth_getBalance", [ADDRESS, 5], "1 (block)", "got the number 5"),
        ("eth_getBalance", [ADDRESS, True], "1 (block)", "boolean"),
        ("eth_getBalance", [ADDRESS, "lastest"], "1 (block)", "unknown block tag 'lastest'"),
        ("eth_getCode", [ADDRESS, "0x1g"], "1 (block)", "invalid hex"),
        ("eth_getStorageAt", [ADDRESS], "1 (slot)", "missing"),
        ("eth_getBlockByNumber", [True, False], "0 (block)", "boolean"),
        ("eth_getBlockByNumber", ["latest", "yes"], "1 (hydrated)", "true or false"),
        ("eth_getBlockByNumber", [HASH, False], "0 (block)", ""),
        ("eth_getBlockByHash", ["0x1234", False], "0 (blockHash)", "want 64"),
        ("eth_getTransactionByHash", [HASH[:-1]], "0 (transactionHash)", "odd length"),
        ("eth_getTransactionReceipt", [], "0 (transactionHash)", "missing"),
        ("eth_sendRawTransaction", ["0xabc"], "0 (transaction)", "odd length"),
        ("eth_sendRawTransaction", ["deadbeef"], "0 (transaction)", "0x prefix"),
        ("eth_call", [{"to": "0x12"}], "0 (transaction)", "field to"),
        ("eth_call", [{"to": ADDRESS, "value": "12"}], "0 (transaction)", "field value"),
        ("eth_call", ["0x"], "0 (transaction)", "transaction object"),
        ("eth_getLogs", [{"address": "0x12"}], "0 (filter)", "want 40"),
        ("eth_getLogs", [{"topics": ["0x12"]}], "0 (filter)", "want 64"),
        ("eth_feeHistory", ["0x4"], "1 (newestBlock)", "missing"),
        ("eth_feeHistory", ["0x4", "latest", "50"], "2 (rewardPercentiles)", "array"),
        ("eth_feeHistory", ["0x4", "latest", [50, 10]], "2 (rewardPercentiles)", "ascending"),
        ("eth_feeHistory", ["0x4", "latest", [101]], "2 (rewardPercentiles)", "0..100"),
        ("eth_feeHistory", ["0x4", "latest", [1] * 101], "2 (rewardPercentiles)", "at most 100"),
        ("eth_getTransactionByBlockNumberAndIndex", ["latest", "0x"], "1 (index)", "no digits"),
        # int(digits, 16) took a sign, `_` and spaces: each reached the handler as a number.
        ("eth_getBalance", [ADDRESS, "0x-1"], "1 (block)", "invalid hex"),
        ("eth_getStorageAt", [ADDRESS, "0x-1", "latest"], "1 (slot)", "invalid hex"),
        ("eth_getStorageAt", [ADDRESS, "0x+1", "latest"], "1 (slot)", "invalid hex"),
        ("eth_getProof", [ADDRESS, ["0x-1"], "latest"], "1 (storageKeys)", "invalid hex"),
        ("eth_getTransactionByBlockNumberAndIndex", ["latest", "0x-1"], "1 (index)", "invalid hex"),
        (
            "eth_getTransactionByBlockNumberAndIndex",
            ["latest", "0x1_0"],
            "1 (index)",
            "invalid hex",
        ),
        ("eth_getTransactionByBlockNumberAndIndex", ["latest", "0x 1"], "1 (index)", "invalid hex"),
        (
            "eth_call",
            [{"to": ADDRESS}, "latest", {ADDRESS: {"balance": "0x-1"}}],
            "2 (stateOverrides)",
            "invalid hex",
        ),
        (
            "eth_call",
            [{"to": ADDRESS}, "latest", {ADDRESS: {"nonce": "0x+5"}}],
            "2 (stateOverrides)",
            "invalid hex",
        ),
        (
            "eth_call",
            [{"to": ADDRESS}, "latest", {ADDRESS: {"stateDiff": {"0x-1": HASH}}}],
            "2 (stateOverrides)",
            "invalid hex",
        ),
        (
            "eth_sendTransaction",
            [{"from": ADDRESS, "to": ADDRESS, "nonce": "0x-1"}],
            "0 (transaction)",
            "invalid hex",
        ),
        (
            "eth_signTransaction",
            [{"from": ADDRESS, "to": ADDRESS, "gas": "0x-5208"}],
            "0 (transaction)",
            "invalid hex",
        ),
        ("eth_sendRawTransaction", ["0x 0"], "0 (transaction)", "invalid hex"),
        ("evm_increaseTime", ["0x-ffffffffffff"], "0 (seconds)", "invalid hex"),
        ("eth_signTypedData_v4", [ADDRESS, {"types": 5}], "1 (typedData)", ""),
        ("eth_signTypedData_v4", [ADDRESS, '{"types": {"EIP712Domain": 3}}'], "1 (typedData)", ""),
        (
            "eth_signTypedData_v4",
            [ADDRESS, {"types": {}, "primaryType": "X", "domain": {}, "message": {}}],
            "1 (typedData)",
            "",
        ),
    ],
)
def test_bad_params_name_the_parameter(
    chain: Chain, method: str, params: list[Any], named: str, problem: str
) -> None:
    status, response = post(chain.url, dumps(envelope(method, params)))
    assert status == 200
    error = response["error"]
    assert error["code"] == -32602, error
    assert f"invalid argument {named}" in error["message"]
    assert problem in error["message"]


@pytest.mark.parametrize(
    ("method", "params", "most"),
    [
        ("eth_getBalance", [ADDRESS, "latest", "0x1"], 2),
        ("eth_chainId", ["0x1"], 0),
        ("eth_getBlockByNumber", ["latest", False, 3], 2),
    ],
)
def test_too_many_params(chain: Chain, method: str, params: list[Any], most: int) -> None:
    error = error_of(chain.url, method, params)
    assert error["code"] == -32602
    assert f"too many arguments, want at most {most}, got {len(params)}" in error["message"]


# --- raw transactions the node must refuse ---------------------------------------------------------


def _typed(type_id: int, fields: list[Any]) -> str:
    return "0x" + (bytes([type_id]) + rlp.encode(fields)).hex()


def _resign(raw: str, change: Callable[[list[Any]], None]) -> str:
    """Re-encode a signed EIP-1559 transaction after changing its decoded fields."""
    payload = bytes.fromhex(raw[4:])
    fields = rlp.decode(payload)
    change(fields)
    return _typed(2, fields)


def _high_s(fields: list[Any]) -> None:
    # The same signature, malleated: s -> n - s with the parity flipped still recovers the sender.
    s = int.from_bytes(fields[11], "big")
    fields[11] = (SECP256K1_N - s).to_bytes(32, "big")
    fields[9] = b"" if fields[9] == b"\x01" else b"\x01"


def _legacy_high_s(raw: str) -> str:
    fields = rlp.decode(bytes.fromhex(raw[2:]))
    v, s = int.from_bytes(fields[6], "big"), int.from_bytes(fields[8], "big")
    fields[6] = (v + 1 if v % 2 == 1 else v - 1).to_bytes(2, "big")
    fields[8] = (SECP256K1_N - s).to_bytes(32, "big")
    return "0x" + rlp.encode(fields).hex()


def _blob_transaction() -> str:
    # A type-3 transaction: refused for its type, whatever its blobs.
    fields = [CHAIN_ID, 1, GWEI, 10 * GWEI, 21_000, bytes.fromhex(DEV_ADDRESSES[1][2:]), 1, b""]
    fields += [[], GWEI, [b"\x01" + b"\x00" * 31], 0, 1, 1]
    return _typed(3, fields)


def _next_base_fee(url: str) -> int:
    return int(call(url, "eth_feeHistory", ["0x1", "latest"])["baseFeePerGas"][-1], 16)


def _tx(**fields: Any) -> Callable[[Chain], str]:
    def make(chain: Chain) -> str:
        nonce = nonce_of(chain.url, SENDER, "latest")
        return sign(SENDER_KEY, **{"nonce": nonce, "to": DEV_ADDRESSES[1], "value": 1, **fields})

    return make


HIGH_S = r"signature|Transaction\.s|v, r, s"

REFUSED: list[tuple[str, Callable[[Chain], str], str]] = [
    # (case, the raw transaction, a pattern the error message must contain)
    ("not-rlp", lambda c: "0xdeadbeef", "invalid RLP"),
    ("typed-garbage", lambda c: "0x02c0aabbcc", "invalid RLP"),
    ("empty", lambda c: "0x", "invalid RLP"),
    (
        "signature-unrecoverable",
        lambda c: _resign(_tx()(c), lambda f: f.__setitem__(10, (5).to_bytes(1, "big"))),
        "signature",
    ),
    (
        "signature-r-zero",
        lambda c: _resign(_tx()(c), lambda f: f.__setitem__(10, b"")),
        "signature",
    ),
    ("legacy-high-s", lambda c: _legacy_high_s(_tx(gasPrice=10 * GWEI)(c)), HIGH_S),
    ("wrong-chain-id", _tx(chainId=1), "invalid chain id"),
    ("nonce-too-low", _tx(nonce=0), "nonce too low"),
    ("insufficient-funds", _tx(value=10**9 * ETHER), "insufficient funds"),
    ("intrinsic-gas", _tx(gas=20_999), "intrinsic gas too low"),
    (
        "fee-cap-below-base-fee",
        lambda c: _tx(maxFeePerGas=_next_base_fee(c.url) // 2, maxPriorityFeePerGas=1)(c),
        "max fee per gas less than block base fee",
    ),
    ("unprotected-legacy", _tx(chainId=None, gasPrice=10 * GWEI), "replay-protected"),
    ("blob", lambda c: _blob_transaction(), "type 3"),
    ("oversized", _tx(data="0x" + "01" * (129 * 1024), gas=10_000_000), "oversized"),
    ("typed-high-s", lambda c: _resign(_tx()(c), _high_s), HIGH_S),
]


@pytest.mark.parametrize(
    ("make", "reason"),
    [pytest.param(make, reason, id=label) for label, make, reason in REFUSED],
)
def test_refused_raw_transaction_changes_nothing(
    chain: Chain, make: Callable[[Chain], str], reason: str
) -> None:
    url = chain.url
    raw = make(chain)
    before = _observable(url)

    status, response = post(url, dumps(envelope("eth_sendRawTransaction", [raw])))
    if "result" in response:  # wrongly accepted: take it out so that the next cases start clean
        call(url, "anvil_dropTransaction", [response["result"]])

    assert status == 200
    assert "error" in response, f"accepted: {response}"
    assert response["error"]["code"] == -32003
    assert re.search(reason, response["error"]["message"]), response["error"]["message"]
    assert _observable(url) == before
    assert before["pool"] == {"pending": "0x0", "queued": "0x0"}


def _observable(url: str) -> dict[str, Any]:
    return {
        "pool": call(url, "txpool_status"),
        "head": call(url, "eth_blockNumber"),
        "balance": call(url, "eth_getBalance", [SENDER, "latest"]),
        "nonce": call(url, "eth_getTransactionCount", [SENDER, "latest"]),
        "pending_nonce": nonce_of(url, SENDER, "pending"),
    }


# --- reverts ---------------------------------------------------------------------------------------

BROKE = DEV_ADDRESSES[3]  # holds no tokens


def test_call_revert_reason(chain: Chain) -> None:
    reason = "Token: transfer amount exceeds balance"
    request = {"from": BROKE, "to": chain.token, "data": transfer_data(SENDER, 1)}

    error = error_of(chain.url, "eth_call", [request, "latest"])

    assert error["code"] == 3
    assert error["message"] == f"execution reverted: {reason}"
    assert error["data"] == ERROR_SELECTOR + abi_encode(["string"], [reason]).hex()


def test_call_custom_error(chain: Chain) -> None:
    request = {"from": BROKE, "to": chain.token, "data": calldata("restricted()")}

    error = error_of(chain.url, "eth_call", [request])

    selector = "0x" + keccak(text="Unauthorized(address)")[:4].hex()
    assert error["code"] == 3
    assert error["message"] == "execution reverted"
    assert error["data"] == selector + abi_encode(["address"], [BROKE]).hex()


def test_estimate_gas_of_reverting_call(chain: Chain) -> None:
    request = {"from": BROKE, "to": chain.token, "data": transfer_data(SENDER, 1)}

    error = error_of(chain.url, "eth_estimateGas", [request])

    assert error["code"] == 3
    assert error["message"] == "execution reverted: Token: transfer amount exceeds balance"
    assert error["data"].startswith(ERROR_SELECTOR)


def test_http_status_is_200_for_every_error(chain: Chain) -> None:
    bodies = [
        "{",
        "[]",
        dumps(envelope("nope")),
        dumps(envelope("eth_getBalance", ["0x1"])),
        dumps(envelope("eth_sendRawTransaction", ["0xdeadbeef"])),
        dumps(envelope("eth_call", [{"from": BROKE, "to": chain.token, "data": "0x3b9a2d38"}])),
    ]
    for body in bodies:
        status, response = post(chain.url, body)
        assert status == 200, body
        assert "error" in response, body
    assert rpc(chain.url, "eth_chainId")["result"] == hex(CHAIN_ID)
