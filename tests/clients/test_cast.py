"""Foundry's `cast` (the @foundry-rs/cast binary from tests/js's lockfile) against a dev node:
impersonate an account with `cast rpc anvil_impersonateAccount`, move its tokens and ether with
`cast send --unlocked`, and read back with the commands a Foundry user reaches for."""

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from helpers import CONTRACTS, DEV_ADDRESSES, JS_DIR, ThreadedNode, compile_solidity

pytestmark = pytest.mark.slow

_PLATFORMS = {
    ("Linux", "x86_64"): "linux-amd64",
    ("Linux", "aarch64"): "linux-arm64",
    ("Darwin", "x86_64"): "darwin-amd64",
    ("Darwin", "arm64"): "darwin-arm64",
}


def _cast_binary() -> Path:
    """The binary the npm package ships. Its wrapper (`node_modules/.bin/cast`) exits 0 even
    when cast fails, so the test runs the binary the wrapper would start."""
    suffix = _PLATFORMS[(platform.system(), platform.machine())]
    return JS_DIR / "node_modules" / "@foundry-rs" / f"cast-{suffix}" / "bin" / "cast"


class Cast:
    """`cast ARGS` against the node (`ETH_RPC_URL`, as Foundry users point it), in a folder and
    home of the test's own, offline: without FOUNDRY_OFFLINE, `cast run` asks a public signature
    database to name selectors."""

    def __init__(self, url: str, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.env = {
            **os.environ,
            "ETH_RPC_URL": url,
            "HOME": str(home),
            "FOUNDRY_OFFLINE": "true",
            "NO_COLOR": "1",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(_cast_binary()), *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def __call__(self, *args: str) -> str:
        completed = self.run(*args)
        assert completed.returncode == 0, f"cast {' '.join(args)[:200]}: {completed.stderr}"
        return completed.stdout.strip()

    def send(self, sender: str, *args: str) -> dict[str, Any]:
        receipt = json.loads(self("send", "--json", "--unlocked", "--from", sender, *args))
        assert receipt["status"] == "0x1", receipt
        return receipt  # type: ignore[no-any-return]


def test_cast_impersonates_sends_unlocked_and_reads_back(
    dev_node: ThreadedNode, tmp_path: Path
) -> None:
    cast = Cast(dev_node.url, tmp_path / "home")
    deployer, bob = DEV_ADDRESSES[0], DEV_ADDRESSES[1]
    whale = Account.create().address  # nobody, the node included, holds its key
    artifact = compile_solidity(CONTRACTS / "Token.sol")["Token"]
    assert cast("chain-id") == "1337"

    created = cast.send(
        deployer, "--create", artifact["bytecode"], "constructor(string,string,uint256)",
        "Whale", "WHL", "1000000",
    )  # fmt: skip
    token = created["contractAddress"]
    assert cast("code", token) == artifact["deployedBytecode"]
    cast.send(deployer, token, "transfer(address,uint256)", whale, "5000")

    cast("rpc", "anvil_setBalance", whale, hex(10**18))
    assert cast("balance", whale) == str(10**18)
    refused = cast.run("send", "--unlocked", "--from", whale, bob, "--value", "1")
    assert refused.returncode != 0 and "no key" in refused.stderr, refused.stderr

    assert cast("rpc", "anvil_impersonateAccount", whale) == "null"
    bob_before = int(cast("balance", bob))

    moved = cast.send(whale, token, "transfer(address,uint256)", bob, "1200")
    assert moved["from"] == whale.lower() and moved["to"] == token.lower()
    paid = cast.send(whale, bob, "--value", "1000")
    assert int(cast("balance", bob)) == bob_before + 1000
    fees = sum(int(r["gasUsed"], 16) * int(r["effectiveGasPrice"], 16) for r in (moved, paid))
    assert int(cast("balance", whale)) == 10**18 - 1000 - fees
    assert cast("nonce", whale) == "2"

    assert cast("call", token, "balanceOf(address)(uint256)", whale) == "3800"
    assert cast("call", token, "balanceOf(address)(uint256)", bob) == "1200"
    # Storage as solc lays it out: totalSupply in slot 2, balanceOf a mapping at slot 3.
    assert int(cast("storage", token, "2"), 16) == 1_000_000
    slot = cast("index", "address", whale, "3")
    assert slot == "0x" + keccak(bytes.fromhex(whale[2:].rjust(64, "0")) + (3).to_bytes(32)).hex()
    assert int(cast("storage", token, slot), 16) == 3800

    tx = moved["transactionHash"]
    assert cast("receipt", tx, "status") == "true"
    receipt = json.loads(cast("receipt", tx, "--json"))
    assert receipt["from"] == whale.lower() and receipt["blockHash"] == moved["blockHash"]
    assert receipt["logs"][0]["topics"][1] == "0x" + whale[2:].lower().rjust(64, "0")
    assert cast("tx", tx, "from").lower() == whale.lower()
    latest = json.loads(cast("block", "latest", "--json"))
    assert latest["hash"] == paid["blockHash"] and latest["number"] == paid["blockNumber"]
    assert paid["transactionHash"] in latest["transactions"]
    assert cast("block-number") == str(int(paid["blockNumber"], 16))

    trace = json.loads(cast("rpc", "debug_traceTransaction", tx, '{"tracer":"callTracer"}'))
    assert (trace["type"], trace["from"], trace["to"]) == ("CALL", whale.lower(), token.lower())
    assert int(trace["output"], 16) == 1 and trace["gasUsed"] == moved["gasUsed"]
    # `cast run` replays the transaction in Foundry's own EVM from the node's state.
    replay = cast("run", tx)
    assert "transfer(" in replay and "Transaction successfully executed" in replay, replay
    assert f"Gas used: {int(moved['gasUsed'], 16)}" in replay, replay

    assert cast("rpc", "anvil_stopImpersonatingAccount", whale) == "null"
    again = cast.run("send", "--unlocked", "--from", whale, bob, "--value", "1")
    assert again.returncode != 0 and "no key" in again.stderr, again.stderr
    assert cast("nonce", whale) == "2"
