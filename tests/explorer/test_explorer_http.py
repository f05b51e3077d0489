"""How the node serves the explorer page: where, with which headers, when it is on, and that
JSON-RPC on the same port is unchanged. The shipped third-party files and ABI are checked against
their sources."""

import http.client
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from helpers import JS_DIR, ThreadedNode, compile_solidity

from openledger.attribution import SOLIDITY_DIR
from openledger.node.cli import build_parser
from openledger.node.commands import _rpc_config

WEB = Path(str(resources.files("openledger.rpc") / "web"))
CHAIN_ID = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})


def get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def port_of(node: ThreadedNode) -> int:
    assert node.node is not None
    return node.node.rpc.port


@pytest.fixture(scope="module")
def explorer_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedNode]:
    node = ThreadedNode(
        tmp_path_factory.mktemp("explorer") / "node", rpc={"explorer": True}
    ).start()
    try:
        yield node
    finally:
        node.stop()


def test_the_page_and_its_files_are_served_with_a_strict_policy(
    explorer_node: ThreadedNode,
) -> None:
    port = port_of(explorer_node)
    page = get(port, "/explorer/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and f"ws://127.0.0.1:{port}" in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    for path, kind in (("app.js", "text/javascript"), ("style.css", "text/css"),
                       ("abi.json", "application/json"), ("vendor/ethers.min.js", "text/javascript"),
                       ("vendor/uPlot.iife.min.js", "text/javascript")):  # fmt: skip
        reply = get(port, f"/explorer/{path}")
        assert reply.status == 200, path
        assert reply.headers["Content-Type"].startswith(kind), path
    assert get(port, "/explorer").status == 302


@pytest.mark.parametrize("path", ["/explorer/nothing.js", "/explorer/../server.py",
                                  "/explorer/%2e%2e/explorer.py", "/explorer/vendor/"])  # fmt: skip
def test_nothing_outside_the_page_is_served(explorer_node: ThreadedNode, path: str) -> None:
    assert get(port_of(explorer_node), path).status in (404, 405)


def test_a_browser_opening_the_rpc_url_is_sent_to_the_page(explorer_node: ThreadedNode) -> None:
    reply = get(port_of(explorer_node), "/", {"Accept": "text/html,application/xhtml+xml"})
    assert reply.status == 302
    assert reply.headers["Location"] == "/explorer/"
    assert get(port_of(explorer_node), "/").status == 405  # a plain GET is still told to POST


def test_json_rpc_and_health_are_unchanged(explorer_node: ThreadedNode) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port_of(explorer_node), timeout=20)
    connection.request("POST", "/", CHAIN_ID, {"Content-Type": "application/json"})
    assert json.loads(connection.getresponse().read())["result"] == hex(1337)
    connection.close()
    assert get(port_of(explorer_node), "/health").status == 200


def test_the_host_check_covers_the_page(explorer_node: ThreadedNode) -> None:
    assert get(port_of(explorer_node), "/explorer/", {"Host": "evil.example"}).status == 403


def test_off_means_no_page(dev_node: ThreadedNode) -> None:
    # ThreadedNode's RpcConfig keeps the server default: off.
    assert get(port_of(dev_node), "/explorer/").status in (404, 405)
    assert get(port_of(dev_node), "/", {"Accept": "text/html"}).status == 405


@pytest.mark.parametrize(
    ("argv", "served"),
    [
        (["dev"], True),
        (["dev", "--no-explorer"], False),
        (["run", "--datadir", "d", "--genesis", "g.json"], True),
        (["run", "--datadir", "d", "--genesis", "g.json", "--validator-key", "k.json"], False),
        (["run", "--datadir", "d", "--genesis", "g.json", "--validator-key", "k.json",
          "--explorer"], True),
    ],
)  # fmt: skip
def test_on_in_dev_and_on_rpc_nodes_off_on_validators(argv: list[str], served: bool) -> None:
    assert _rpc_config(build_parser().parse_args(argv)).explorer is served


def test_vendored_files_are_the_locked_packages_files() -> None:
    lock = json.loads((JS_DIR / "package-lock.json").read_text())["packages"]
    sources = {
        "ethers.min.js": ("ethers", "dist/ethers.min.js"),
        "uPlot.iife.min.js": ("uplot", "dist/uPlot.iife.min.js"),
        "uPlot.min.css": ("uplot", "dist/uPlot.min.css"),
    }
    versions = (WEB / "vendor" / "VERSIONS.txt").read_text()
    for name, (package, path) in sources.items():
        installed = JS_DIR / "node_modules" / package
        assert installed.is_dir(), "run `npm ci` in tests/js (tests/run.sh does)"
        assert (WEB / "vendor" / name).read_bytes() == (installed / path).read_bytes(), name
        assert f"{package} {lock[f'node_modules/{package}']['version']}" in versions, package


def test_shipped_abi_is_the_interfaces_compiled() -> None:
    staking = Path(
        str(resources.files("openledger.consensus.staking") / "solidity" / "IStaking.sol")
    )
    compiled = compile_solidity(*sorted(SOLIDITY_DIR.glob("*.sol")), staking)
    shipped = json.loads((WEB / "abi.json").read_text())
    assert shipped == {name: compiled[name]["abi"] for name in sorted(compiled)}
