"""Every method we serve that the execution-apis specification defines answers with a result that
validates against the method's `result.schema`, on a chain with a realistic history: EIP-1559,
legacy and access-list transfers, a contract deployment, a token transfer with logs, and a
reverted transaction included in a block.

Each case also checks that the response is the kind the case is about (a hydrated block holds
transaction objects, the reverted receipt has status 0, ...), so that a schema with alternatives
(`oneOf: [notFound, Block]`) cannot pass by matching the wrong one.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import rlp
from eth_utils import keccak
from execution_apis import Spec, find_location, load_spec
from helpers import DEV_ADDRESSES, DEV_KEYS
from rpc_tools import (
    ETHER,
    GWEI,
    TOKEN_SUPPLY,
    TRANSFER_TOPIC,
    UNKNOWN_HASH,
    ConfiguredNode,
    call,
    calldata,
    nonce_of,
    send,
    sign,
    start_node,
    token_deploy_data,
    topic_of,
    transact,
    transfer_data,
    wait_receipt,
)
from trie import HexaryTrie

from openledger.rpc.server import DEFAULT_TABLES

pytestmark = pytest.mark.timeout(60)

BUSY_COUNT = 4


@pytest.fixture(scope="module")
def spec() -> Spec:
    location = find_location()
    if not (location / "schemas").is_dir():
        pytest.skip(
            f"the execution-apis reference is absent (looked in {location}); "
            "set EXECUTION_APIS to a checkout of execution-apis/src to run the schema tests"
        )
    return load_spec(location)


@dataclass
class History:
    """The chain the cases read, and where its interesting parts are."""

    url: str
    token: str
    tx: dict[str, str] = field(default_factory=dict)
    """Transaction hashes by label: eip1559, deploy, legacy, access_list, token_transfer,
    token_transfer_2, reverted."""
    busy_block: dict[str, Any] = field(default_factory=dict)
    """The block holding the legacy, access-list and both token transfers together."""

    @property
    def busy_number(self) -> str:
        return self.busy_block["number"]  # type: ignore[no-any-return]

    @property
    def busy_hash(self) -> str:
        return self.busy_block["hash"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    node = start_node(tmp_path_factory.mktemp("schemas") / "node")
    try:
        yield _make_history(node)
    finally:
        node.stop()


def _make_history(node: ConfiguredNode) -> History:
    url = node.url
    eip1559 = transact(url, DEV_KEYS[0], to=DEV_ADDRESSES[1], value=ETHER)
    deployment = transact(url, DEV_KEYS[0], to=None, data=token_deploy_data(), gas=3_000_000)
    token = deployment["contractAddress"]
    history = History(url, token)
    history.tx.update(eip1559=eip1559["transactionHash"], deploy=deployment["transactionHash"])

    # Legacy, access-list and two token transfers from three senders, mined into one block.
    call(url, "evm_setAutomine", [False])
    history.tx["legacy"] = send(
        url,
        sign(
            DEV_KEYS[1],
            nonce=nonce_of(url, DEV_ADDRESSES[1]),
            to=DEV_ADDRESSES[2],
            value=2 * ETHER,
            gasPrice=10 * GWEI,
        ),
    )
    history.tx["access_list"] = send(
        url,
        sign(
            DEV_KEYS[2],
            type=1,
            nonce=nonce_of(url, DEV_ADDRESSES[2]),
            to=DEV_ADDRESSES[3],
            value=3 * ETHER,
            gas=30_000,
            gasPrice=10 * GWEI,
            accessList=[{"address": token, "storageKeys": ["0x" + "00" * 32]}],
        ),
    )
    for label, recipient, amount in (
        ("token_transfer", DEV_ADDRESSES[1], 1000),
        ("token_transfer_2", DEV_ADDRESSES[2], 500),
    ):
        history.tx[label] = send(
            url,
            sign(
                DEV_KEYS[0],
                nonce=nonce_of(url, DEV_ADDRESSES[0]),
                to=token,
                data=transfer_data(recipient, amount),
                gas=100_000,
            ),
        )
    call(url, "evm_mine")
    call(url, "evm_setAutomine", [True])
    history.busy_block = call(url, "eth_getBlockByNumber", ["latest", False])
    assert len(history.busy_block["transactions"]) == BUSY_COUNT

    # Account 3 holds no tokens: the transfer reverts, but with explicit gas it is still mined.
    reverted = transact(
        url, DEV_KEYS[3], to=token, data=transfer_data(DEV_ADDRESSES[1], 1), gas=100_000
    )
    assert reverted["status"] == "0x0"
    history.tx["reverted"] = reverted["transactionHash"]
    return history


# --- cases -----------------------------------------------------------------------------------------

Params = Callable[[History], list[Any]]
Check = Callable[[Any, History], None]


@dataclass(frozen=True)
class Case:
    """One call whose result must validate against its method's result schema."""

    method: str
    label: str
    params: Params = lambda h: []
    check: Check | None = None
    """Further assertions that the result is what the case is about."""


def _that(predicate: Callable[[Any, History], bool]) -> Check:
    def check(result: Any, h: History) -> None:
        assert predicate(result, h), f"unexpected result {result!r:.500}"

    return check


def _fixed(*values: Any) -> Params:
    return lambda h: list(values)


def _tx_param(label: str) -> Params:
    return lambda h: [h.tx[label]]


def _busy_index(index: int) -> Params:
    return lambda h: [h.busy_hash, hex(index)]


def _all(*checks: Check) -> Check:
    def check(result: Any, h: History) -> None:
        for each in checks:
            each(result, h)

    return check


def _index_is(index: int) -> Check:
    return _that(lambda r, h: r["transactionIndex"] == hex(index))


def _is_null(result: Any, _: History) -> None:
    assert result is None


def _full_block(result: Any, _: History) -> None:
    assert isinstance(result, dict)
    assert all(isinstance(tx, dict) for tx in result["transactions"])


def _hashes_only(result: Any, _: History) -> None:
    assert all(isinstance(tx, str) for tx in result["transactions"])


def _busy(result: Any, h: History) -> None:
    assert result["hash"] == h.busy_hash
    assert len(result["transactions"]) == BUSY_COUNT


def _tx_type(type_id: str, label: str) -> Check:
    def check(result: Any, h: History) -> None:
        assert result["type"] == type_id
        assert result["hash"] == h.tx[label]

    return check


def _receipt(label: str, status: str, **expected: Any) -> Check:
    def check(result: Any, h: History) -> None:
        assert result["transactionHash"] == h.tx[label]
        assert result["status"] == status
        for key, value in expected.items():
            assert result[key] == (value(h) if callable(value) else value), key

    return check


def _non_empty_logs(result: Any, h: History) -> None:
    assert result, "expected logs"
    assert all(log["topics"][0] == TRANSFER_TOPIC for log in result)


TAGS = ("latest", "pending", "earliest", "safe", "finalized")


def _keccak_is(label: str) -> Check:
    return _that(lambda r, h: "0x" + keccak(_bytes(r)).hex() == h.tx[label])


def _struct_logs(result: Any, _: History) -> None:
    assert result["structLogs"] and result["failed"] is False


DEBUG_CASES = [
    Case("debug_traceTransaction", "struct-logs", _tx_param("token_transfer"), _struct_logs),
    Case("debug_traceTransaction", "options",
         lambda h: [h.tx["token_transfer"], {"enableMemory": True, "enableReturnData": True}],
         _struct_logs),
    Case("debug_traceTransaction", "reverted", _tx_param("reverted"),
         _that(lambda r, h: r["failed"] is True)),
    Case("debug_traceTransaction", "call-tracer",
         lambda h: [h.tx["token_transfer"], {"tracer": "callTracer"}],
         _that(lambda r, h: r["to"] == h.token)),
    Case("debug_traceBlockByNumber", "struct-logs", lambda h: [h.busy_number],
         _that(lambda r, h: len(r) == BUSY_COUNT and "structLogs" in r[0]["result"])),
    Case("debug_traceBlockByNumber", "prestate",
         lambda h: [h.busy_number, {"tracer": "prestateTracer"}],
         _that(lambda r, h: len(r) == BUSY_COUNT)),
    Case("debug_traceBlockByHash", "call-tracer",
         lambda h: [h.busy_hash, {"tracer": "callTracer"}],
         _that(lambda r, h: [e["txHash"] for e in r] == h.busy_block["transactions"])),
    Case("debug_getRawHeader", "busy", lambda h: [h.busy_number],
         _that(lambda r, h: "0x" + keccak(_bytes(r)).hex() == h.busy_hash)),
    Case("debug_getRawBlock", "busy", lambda h: [h.busy_hash],
         _that(lambda r, h: len(rlp.decode(_bytes(r))[1]) == BUSY_COUNT)),
    Case("debug_getRawTransaction", "eip1559", _tx_param("eip1559"), _keccak_is("eip1559")),
    Case("debug_getRawTransaction", "legacy", _tx_param("legacy"), _keccak_is("legacy")),
    Case("debug_getRawReceipts", "busy", lambda h: [h.busy_number],
         _that(lambda r, h: len(r) == BUSY_COUNT)),
    Case("debug_getBadBlocks", "none", check=_that(lambda r, h: r == [])),
    Case("eth_createAccessList", "token-transfer",
         lambda h: [{"from": DEV_ADDRESSES[0], "to": h.token,
                     "data": transfer_data(DEV_ADDRESSES[2], 1)}],
         _that(lambda r, h: r["accessList"][0]["address"] == h.token and "error" not in r)),
    Case("eth_createAccessList", "reverting",
         lambda h: [{"from": DEV_ADDRESSES[3], "to": h.token,
                     "data": transfer_data(DEV_ADDRESSES[2], 10**30)}, "latest"],
         _that(lambda r, h: r["error"].startswith("execution reverted"))),
    Case("eth_simulateV1", "transfer-and-revert",
         lambda h: [{"blockStateCalls": [{"calls": [
             {"from": DEV_ADDRESSES[0], "to": h.token, "input": transfer_data(DEV_ADDRESSES[2], 1)},
             {"from": DEV_ADDRESSES[3], "to": h.token, "input": transfer_data(DEV_ADDRESSES[2], 1)},
         ]}, {"blockOverrides": {"time": "0x7fffffff"}, "calls": []}], "traceTransfers": True}],
         _that(lambda r, h: [c["status"] for c in r[0]["calls"]] == ["0x1", "0x0"] and len(r) == 2)),
    Case("eth_simulateV1", "full-transactions",
         lambda h: [{"returnFullTransactions": True, "blockStateCalls": [{"calls": [
             {"from": DEV_ADDRESSES[0], "to": DEV_ADDRESSES[1], "value": "0x1"}]}]}, "latest"],
         _that(lambda r, h: r[0]["transactions"][0]["from"] == DEV_ADDRESSES[0].lower())),
    Case("eth_config", "prague", check=_that(
        lambda r, h: r["current"]["precompiles"]["OPENLEDGER_DATANETS"].endswith("0a01")
        and r["current"]["precompiles"]["ECREC"].endswith("01") and r["next"] is None)),
    Case("eth_getStorageValues", "supply",
         lambda h: [{h.token: ["0x2", "0x63"], DEV_ADDRESSES[0]: []}],
         _that(lambda r, h: int(r[h.token][0], 16) == TOKEN_SUPPLY and r[DEV_ADDRESSES[0]] == [])),
]  # fmt: skip


CASES: list[Case] = [
    Case("eth_chainId", "plain", check=_that(lambda r, h: r == "0x539")),
    Case("eth_blockNumber", "plain"),
    *[
        Case(
            "eth_getBlockByNumber",
            f"{tag}-{full}",
            _fixed(tag, full),
            _full_block if full else _hashes_only,
        )
        for tag in TAGS
        for full in (False, True)
    ],
    Case("eth_getBlockByNumber", "number", lambda h: [h.busy_number, False], _busy),
    Case(
        "eth_getBlockByNumber",
        "number-hydrated",
        lambda h: [h.busy_number, True],
        _all(_busy, _full_block),
    ),
    Case("eth_getBlockByNumber", "above-head", lambda h: ["0x100000", False], _is_null),
    Case("eth_getBlockByHash", "plain", lambda h: [h.busy_hash, False], _busy),
    Case(
        "eth_getBlockByHash",
        "hydrated",
        lambda h: [h.busy_hash, True],
        _all(_busy, _full_block),
    ),
    Case("eth_getBlockByHash", "unknown", lambda h: [UNKNOWN_HASH, False], _is_null),
    Case("eth_getBalance", "latest", lambda h: [DEV_ADDRESSES[0], "latest"]),
    Case("eth_getBalance", "number", lambda h: [DEV_ADDRESSES[0], "0x1"]),
    Case("eth_getBalance", "eip1898", lambda h: [DEV_ADDRESSES[1], {"blockHash": h.busy_hash}]),
    Case("eth_getBalance", "default-block", lambda h: [DEV_ADDRESSES[1]]),
    Case("eth_getTransactionCount", "latest", lambda h: [DEV_ADDRESSES[0], "latest"]),
    Case("eth_getTransactionCount", "pending", lambda h: [DEV_ADDRESSES[0], "pending"]),
    Case(
        "eth_getCode", "contract", lambda h: [h.token, "latest"], _that(lambda r, h: len(r) > 100)
    ),
    Case(
        "eth_getCode",
        "account",
        lambda h: [DEV_ADDRESSES[0], "latest"],
        _that(lambda r, h: r == "0x"),
    ),
    Case("eth_getStorageAt", "total-supply", lambda h: [h.token, "0x2", "latest"]),
    Case("eth_getStorageAt", "empty", lambda h: [h.token, "0x63", "latest"]),
    Case(
        "eth_call",
        "balance-of",
        lambda h: [
            {
                "to": h.token,
                "data": calldata("balanceOf(address)", ["address"], [DEV_ADDRESSES[1]]),
            },
            "latest",
        ],
        _that(lambda r, h: int(r, 16) == 1000),
    ),
    Case("eth_call", "name", lambda h: [{"to": h.token, "input": calldata("name()")}]),
    Case(
        "eth_estimateGas",
        "transfer",
        lambda h: [{"from": DEV_ADDRESSES[0], "to": DEV_ADDRESSES[1], "value": "0x1"}],
        _that(lambda r, h: r == hex(21_000)),
    ),
    Case(
        "eth_estimateGas",
        "token-transfer",
        lambda h: [
            {"from": DEV_ADDRESSES[0], "to": h.token, "data": transfer_data(DEV_ADDRESSES[2], 5)},
            "latest",
        ],
    ),
    Case("eth_gasPrice", "plain"),
    Case("eth_maxPriorityFeePerGas", "plain"),
    Case("eth_blobBaseFee", "plain"),
    Case(
        "eth_feeHistory",
        "rewards-latest",
        lambda h: ["0x4", "latest", [25, 75]],
        _that(lambda r, h: len(r["reward"]) == 4),
    ),
    Case("eth_feeHistory", "no-rewards", lambda h: ["0x4", "latest"]),
    Case("eth_feeHistory", "empty-percentiles", lambda h: ["0x4", h.busy_number, []]),
    Case("eth_feeHistory", "pending", lambda h: ["0xa", "pending", [5.0]]),
    *[
        Case("eth_getTransactionByHash", label, _tx_param(label), _tx_type(t, label))
        for label, t in (
            ("eip1559", "0x2"),
            ("deploy", "0x2"),
            ("legacy", "0x0"),
            ("access_list", "0x1"),
            ("token_transfer", "0x2"),
            ("reverted", "0x2"),
        )
    ],
    Case("eth_getTransactionByHash", "unknown", lambda h: [UNKNOWN_HASH], _is_null),
    *[
        Case(
            "eth_getTransactionByBlockHashAndIndex",
            f"index-{index}",
            _busy_index(index),
            _index_is(index),
        )
        for index in range(BUSY_COUNT)
    ],
    Case(
        "eth_getTransactionByBlockHashAndIndex",
        "out-of-range",
        lambda h: [h.busy_hash, hex(BUSY_COUNT)],
        _is_null,
    ),
    Case(
        "eth_getTransactionByBlockNumberAndIndex",
        "number",
        lambda h: [h.busy_number, "0x2"],
        _that(lambda r, h: r["blockHash"] == h.busy_hash),
    ),
    Case("eth_getTransactionByBlockNumberAndIndex", "latest", lambda h: ["latest", "0x0"]),
    Case(
        "eth_getTransactionByBlockNumberAndIndex",
        "above-head",
        lambda h: ["0x100000", "0x0"],
        _is_null,
    ),
    Case(
        "eth_getBlockTransactionCountByHash",
        "busy",
        lambda h: [h.busy_hash],
        _that(lambda r, h: r == hex(BUSY_COUNT)),
    ),
    Case("eth_getBlockTransactionCountByHash", "unknown", lambda h: [UNKNOWN_HASH], _is_null),
    Case(
        "eth_getBlockTransactionCountByNumber",
        "busy",
        lambda h: [h.busy_number],
        _that(lambda r, h: r == hex(BUSY_COUNT)),
    ),
    Case("eth_getBlockTransactionCountByNumber", "earliest", lambda h: ["earliest"]),
    Case("eth_getBlockTransactionCountByNumber", "above-head", lambda h: ["0x100000"], _is_null),
    Case(
        "eth_getTransactionReceipt",
        "eip1559",
        lambda h: [h.tx["eip1559"]],
        _receipt("eip1559", "0x1", type="0x2", contractAddress=None),
    ),
    Case(
        "eth_getTransactionReceipt",
        "legacy",
        lambda h: [h.tx["legacy"]],
        _receipt("legacy", "0x1", type="0x0"),
    ),
    Case(
        "eth_getTransactionReceipt",
        "access-list",
        lambda h: [h.tx["access_list"]],
        _receipt("access_list", "0x1", type="0x1"),
    ),
    Case(
        "eth_getTransactionReceipt",
        "contract-creation",
        lambda h: [h.tx["deploy"]],
        _receipt("deploy", "0x1", to=None, contractAddress=lambda h: h.token.lower()),
    ),
    Case(
        "eth_getTransactionReceipt",
        "token-transfer",
        lambda h: [h.tx["token_transfer"]],
        _all(_receipt("token_transfer", "0x1"), lambda r, h: _non_empty_logs(r["logs"], h)),
    ),
    Case(
        "eth_getTransactionReceipt",
        "reverted",
        lambda h: [h.tx["reverted"]],
        _receipt("reverted", "0x0", logs=[]),
    ),
    Case("eth_getTransactionReceipt", "unknown", lambda h: [UNKNOWN_HASH], _is_null),
    Case(
        "eth_getBlockReceipts",
        "number",
        lambda h: [h.busy_number],
        _that(lambda r, h: len(r) == BUSY_COUNT),
    ),
    Case(
        "eth_getBlockReceipts",
        "hash",
        lambda h: [h.busy_hash],
        _that(lambda r, h: len(r) == BUSY_COUNT),
    ),
    Case("eth_getBlockReceipts", "latest", lambda h: ["latest"]),
    Case("eth_getBlockReceipts", "earliest", lambda h: ["earliest"], _that(lambda r, h: r == [])),
    Case("eth_getBlockReceipts", "above-head", lambda h: ["0x100000"], _is_null),
    Case(
        "eth_getLogs",
        "range",
        lambda h: [{"fromBlock": "0x0", "toBlock": "latest"}],
        _non_empty_logs,
    ),
    Case(
        "eth_getLogs",
        "block-hash",
        lambda h: [{"blockHash": h.busy_hash}],
        _non_empty_logs,
    ),
    Case(
        "eth_getLogs",
        "address-topics",
        lambda h: [
            {
                "fromBlock": "earliest",
                "address": h.token,
                "topics": [TRANSFER_TOPIC, None, [topic_of(DEV_ADDRESSES[1])]],
            }
        ],
        _that(lambda r, h: len(r) == 1),
    ),
    Case(
        "eth_getLogs",
        "nothing",
        lambda h: [{"address": DEV_ADDRESSES[3]}],
        _that(lambda r, h: r == []),
    ),
    Case("eth_syncing", "plain", check=_that(lambda r, h: r is False)),
    Case("eth_accounts", "plain", check=_that(lambda r, h: r[0] == DEV_ADDRESSES[0].lower())),
    Case("eth_coinbase", "plain"),
    Case("net_version", "plain", check=_that(lambda r, h: r == "1337")),
    Case("eth_getProof", "contract", lambda h: [h.token, ["0x2", "0x3"], "latest"]),
    Case("eth_getProof", "account", lambda h: [DEV_ADDRESSES[0], [], "0x1"]),
    Case("eth_getProof", "absent", lambda h: [DEV_ADDRESSES[0][:-4] + "dead", ["0x0"]]),
    Case("eth_sign", "plain", lambda h: [DEV_ADDRESSES[0], "0xdeadbeef"]),
    Case(
        "eth_signTransaction",
        "eip1559",
        lambda h: [{"from": DEV_ADDRESSES[3], "to": DEV_ADDRESSES[0], "value": "0x1"}],
    ),
    Case(
        "eth_signTransaction",
        "legacy",
        lambda h: [
            {
                "from": DEV_ADDRESSES[3],
                "to": DEV_ADDRESSES[0],
                "gas": "0x5208",
                "gasPrice": hex(10 * GWEI),
            }
        ],
    ),
    Case("txpool_status", "plain"),
    Case("txpool_content", "empty"),
    Case("txpool_contentFrom", "empty", lambda h: [DEV_ADDRESSES[0]]),
    *DEBUG_CASES,
]

MUTATING_METHODS = {
    # validated by the tests below the cases, which change the chain or the pool
    "eth_sendRawTransaction",
    "eth_sendTransaction",
    "eth_newFilter",
    "eth_newBlockFilter",
    "eth_newPendingTransactionFilter",
    "eth_getFilterChanges",
    "eth_getFilterLogs",
    "eth_uninstallFilter",
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method}-{c.label}")
def test_result_matches_schema(spec: Spec, history: History, case: Case) -> None:
    result = call(history.url, case.method, case.params(history))
    spec.check_result(case.method, result)
    if case.check is not None:
        case.check(result, history)


def test_every_implemented_spec_method_is_validated(spec: Spec) -> None:
    implemented = {name for table in DEFAULT_TABLES for name in table.methods}
    validated = {case.method for case in CASES} | MUTATING_METHODS
    missing = sorted((implemented & set(spec.methods)) - validated)
    assert not missing, f"methods we serve that the spec defines but no test validates: {missing}"


def test_validator_rejects_wrong_shapes(spec: Spec) -> None:
    # The schemas must bite: padded quantities, upper-case data, a block without its hash.
    assert spec.result_errors("eth_chainId", "0x0539")
    assert spec.result_errors("eth_getCode", "0xABCD")
    assert spec.result_errors("eth_getBlockByNumber", {"number": "0x1"})
    assert spec.result_errors("eth_getTransactionReceipt", {"status": "0x1", "extra": 1})
    assert not spec.result_errors("eth_getBlockByNumber", None)


def test_receipts_logs_and_block_agree(history: History) -> None:
    """What the schemas cannot see: per-transaction gas, log indexes and prices are consistent."""
    url, block = history.url, call(history.url, "eth_getBlockByHash", [history.busy_hash, True])
    receipts = call(url, "eth_getBlockReceipts", [history.busy_hash])
    base = int(block["baseFeePerGas"], 16)

    cumulative = 0
    for index, (tx, receipt) in enumerate(zip(block["transactions"], receipts, strict=True)):
        assert receipt["transactionHash"] == tx["hash"]
        assert receipt["transactionIndex"] == tx["transactionIndex"] == hex(index)
        assert call(url, "eth_getTransactionReceipt", [tx["hash"]]) == receipt
        cumulative += int(receipt["gasUsed"], 16)
        assert int(receipt["cumulativeGasUsed"], 16) == cumulative
        if tx["type"] == "0x2":
            tip = min(int(tx["maxPriorityFeePerGas"], 16), int(tx["maxFeePerGas"], 16) - base)
            assert int(receipt["effectiveGasPrice"], 16) == base + tip
        assert receipt["effectiveGasPrice"] == tx["gasPrice"]
    assert hex(cumulative) == block["gasUsed"]

    receipt_logs = [log for receipt in receipts for log in receipt["logs"]]
    assert [log["logIndex"] for log in receipt_logs] == [hex(i) for i in range(2)]
    assert call(url, "eth_getLogs", [{"blockHash": history.busy_hash}]) == receipt_logs
    assert {log["transactionHash"] for log in receipt_logs} == {
        history.tx["token_transfer"],
        history.tx["token_transfer_2"],
    }


def test_proof_verifies_against_the_state_root(history: History) -> None:
    url, token = history.url, history.token
    block = call(url, "eth_getBlockByNumber", [history.busy_number, False])
    proof = call(url, "eth_getProof", [token, ["0x2", "0x63"], history.busy_number])

    account = HexaryTrie.get_from_proof(
        _bytes(block["stateRoot"]), keccak(_bytes(token)), _nodes(proof["accountProof"])
    )
    nonce, balance, storage_root, code_hash = rlp.decode(account)
    assert int.from_bytes(nonce, "big") == int(proof["nonce"], 16) == 1
    assert int.from_bytes(balance, "big") == int(proof["balance"], 16) == 0
    assert storage_root == _bytes(proof["storageHash"])
    assert code_hash == _bytes(proof["codeHash"])
    assert code_hash == keccak(_bytes(call(url, "eth_getCode", [token, history.busy_number])))

    supply, empty = proof["storageProof"]
    for slot in (supply, empty):
        key = keccak(_bytes(slot["key"]))
        value = HexaryTrie.get_from_proof(storage_root, key, _nodes(slot["proof"]))
        stored = int.from_bytes(rlp.decode(value), "big") if value else 0
        assert stored == int(slot["value"], 16)
    assert int(supply["value"], 16) == TOKEN_SUPPLY
    assert empty["value"] == "0x0"


def _bytes(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string[2:])


def _nodes(proof: list[str]) -> list[Any]:
    return [rlp.decode(_bytes(node)) for node in proof]


# --- methods that change the chain or the pool -----------------------------------------------------


def test_send_raw_transaction_result(spec: Spec, history: History) -> None:
    url = history.url
    tx_hash = call(
        url,
        "eth_sendRawTransaction",
        [sign(DEV_KEYS[3], nonce=nonce_of(url, DEV_ADDRESSES[3]), to=DEV_ADDRESSES[0], value=1)],
    )
    spec.check_result("eth_sendRawTransaction", tx_hash)
    assert wait_receipt(url, tx_hash)["status"] == "0x1"


def test_send_transaction_result(spec: Spec, history: History) -> None:
    url = history.url
    unlocked = call(url, "eth_accounts")[-1]  # held by the node, not used elsewhere
    tx_hash = call(
        url, "eth_sendTransaction", [{"from": unlocked, "to": DEV_ADDRESSES[0], "value": "0x1"}]
    )
    spec.check_result("eth_sendTransaction", tx_hash)
    assert wait_receipt(url, tx_hash)["from"] == unlocked


def test_log_filter_results(spec: Spec, history: History) -> None:
    url = history.url
    everything = call(url, "eth_newFilter", [{"fromBlock": "0x0", "address": history.token}])
    future = call(url, "eth_newFilter", [{"address": history.token}])
    for filter_id in (everything, future):
        spec.check_result("eth_newFilter", filter_id)

    logs = call(url, "eth_getFilterLogs", [everything])
    spec.check_result("eth_getFilterLogs", logs)
    assert len(logs) == 3  # the mint and two transfers; the reverted transfer logged nothing
    changes = call(url, "eth_getFilterChanges", [everything])
    spec.check_result("eth_getFilterChanges", changes)
    assert changes == logs
    assert call(url, "eth_getFilterChanges", [future]) == []

    receipt = transact(
        url, DEV_KEYS[0], to=history.token, data=transfer_data(DEV_ADDRESSES[2], 7), gas=100_000
    )
    changes = call(url, "eth_getFilterChanges", [future])
    spec.check_result("eth_getFilterChanges", changes)
    assert [log["transactionHash"] for log in changes] == [receipt["transactionHash"]]

    for filter_id in (everything, future):
        removed = call(url, "eth_uninstallFilter", [filter_id])
        spec.check_result("eth_uninstallFilter", removed)
        assert removed is True
    assert call(url, "eth_uninstallFilter", [future]) is False


def test_block_and_pending_filter_results(spec: Spec, history: History) -> None:
    url = history.url
    blocks = call(url, "eth_newBlockFilter")
    pending = call(url, "eth_newPendingTransactionFilter")
    spec.check_result("eth_newBlockFilter", blocks)
    spec.check_result("eth_newPendingTransactionFilter", pending)

    receipt = transact(url, DEV_KEYS[3], to=DEV_ADDRESSES[0], value=1)

    block_hashes = call(url, "eth_getFilterChanges", [blocks])
    spec.check_result("eth_getFilterChanges", block_hashes)
    assert receipt["blockHash"] in block_hashes
    tx_hashes = call(url, "eth_getFilterChanges", [pending])
    spec.check_result("eth_getFilterChanges", tx_hashes)
    assert tx_hashes == [receipt["transactionHash"]]
    assert call(url, "eth_getFilterChanges", [pending]) == []


def test_pending_transaction_shapes(spec: Spec, history: History) -> None:
    """A pooled transaction has no block: its block fields are null.

    The spec's `eth_getTransactionByHash` result is `TransactionInfo`, whose block fields are
    required hashes and numbers, so a pending transaction cannot validate against it (geth,
    Nethermind and Reth all answer these nulls). It is checked against the spec's own
    `PendingTransactionInfo` (the txpool schema) instead.
    """
    url = history.url
    call(url, "evm_setAutomine", [False])
    try:
        nonce = nonce_of(url, DEV_ADDRESSES[3])
        tx_hash = send(url, sign(DEV_KEYS[3], nonce=nonce, to=DEV_ADDRESSES[0]))
        pending = call(url, "eth_getTransactionByHash", [tx_hash])
        spec.check_component("PendingTransactionInfo", pending)
        assert pending["blockHash"] is None and pending["transactionIndex"] is None
        assert spec.result_errors("eth_getTransactionByHash", pending), "the spec changed"

        content = call(url, "txpool_content")
        spec.check_result("txpool_content", content)
        assert content["pending"][DEV_ADDRESSES[3].lower()][str(nonce)]["hash"] == tx_hash
        content_from = call(url, "txpool_contentFrom", [DEV_ADDRESSES[3]])
        spec.check_result("txpool_contentFrom", content_from)
        assert list(content_from["pending"]) == [str(nonce)]
        status = call(url, "txpool_status")
        spec.check_result("txpool_status", status)
        assert status == {"pending": "0x1", "queued": "0x0"}
    finally:
        call(url, "evm_mine")
        call(url, "evm_setAutomine", [True])
    assert wait_receipt(url, tx_hash)["status"] == "0x1"
