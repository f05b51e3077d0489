"""The three nodes `compare.py` measures, each started with the same parameters.

Every node gets chain id 1337, the development mnemonic's first `ACCOUNTS` accounts, a block gas
limit of 1e9 (so that no node is capped by gas), listens on a free 127.0.0.1 port, and either
mines a block as soon as a transaction arrives (automine) or one every `block_time` seconds.
Hardhat and Anvil come from npm, pinned by `bench/js/package-lock.json` and installed with
`npm ci` in `bench/js` (`ensure_references` runs it when `node_modules` is missing).
"""

import dataclasses
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from processes import BENCH, ServerProcess, start_dev_node, start_server

from openledger.genesis.dev import derive_dev_keys, derive_dev_validator_key, make_dev_genesis
from openledger.genesis.load import write_genesis
from openledger.genesis.types import ChainId, Gas
from openledger.node import devnet as devnet_lib

CHAIN_ID = ChainId(1337)
ACCOUNTS = 110
"""Funded accounts: the deployer, the sequential sender and the 100 bulk senders, and spares."""
GAS_LIMIT = Gas(10**9)
JS = BENCH / "js"
MNEMONIC = "test test test test test test test test test test test junk"
NPM_CI_SECONDS = 600


@dataclass(frozen=True, slots=True)
class NodeKind:
    """One of the compared nodes: its name and how to start it."""

    name: str
    start: Callable[[Path, float], ServerProcess]
    """Starts it in a fresh work directory with a block time (0 = automine)."""


def start_openledger(workdir: Path, block_time: float) -> ServerProcess:
    """`openledger dev`, its data directory prepared with a genesis whose gas limit is 1e9.

    The dev node reads the genesis of an existing data directory back on start, so writing it
    first is how the gas limit is raised (the other parameters are the dev node's own).
    """
    datadir = workdir / "datadir"
    datadir.mkdir(parents=True)
    genesis = make_dev_genesis(
        CHAIN_ID,
        tuple(key.address for key in derive_dev_keys(ACCOUNTS)),
        (derive_dev_validator_key().address,),
        timestamp=int(time.time()),
    )
    write_genesis(dataclasses.replace(genesis, gas_limit=GAS_LIMIT), datadir / "genesis.json")
    return start_dev_node(
        datadir, workdir / "node.log", accounts=ACCOUNTS, chain_id=CHAIN_ID, block_time=block_time
    )


def start_hardhat(workdir: Path, block_time: float) -> ServerProcess:
    """`hardhat node` with `bench/js/hardhat.config.js` (chain id, accounts, gas limit, mining)."""
    port = devnet_lib.find_free_port_base(1)
    command = ["node", str(JS / "node_modules/hardhat/internal/cli/cli.js"), "node"]
    command += ["--hostname", "127.0.0.1", "--port", str(port)]
    env = {
        "BENCH_BLOCK_TIME_MS": str(round(block_time * 1000)),
        "BENCH_ACCOUNTS": str(ACCOUNTS),
        "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
    }
    ready = re.compile(r"Started HTTP and WebSocket JSON-RPC server at")
    return start_server(
        command, workdir / "hardhat.log", ready, f"http://127.0.0.1:{port}", cwd=JS, env=env
    )


def start_anvil(workdir: Path, block_time: float) -> ServerProcess:
    """The `anvil` binary of the `@foundry-rs/anvil` npm package (not its JS wrapper, so that
    the process measured is the node itself)."""
    binaries = sorted(JS.glob("node_modules/@foundry-rs/anvil-linux-*/bin/anvil"))
    if not binaries:
        raise RuntimeError(f"no anvil binary under {JS}/node_modules: run npm ci in {JS}")
    port = devnet_lib.find_free_port_base(1)
    command = [str(binaries[0]), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--chain-id", str(CHAIN_ID), "--accounts", str(ACCOUNTS), "--mnemonic", MNEMONIC]
    command += ["--gas-limit", str(GAS_LIMIT)]
    if block_time > 0:
        command += ["--block-time", f"{block_time:g}"]
    ready = re.compile(r"Listening on 127\.0\.0\.1:\d+")
    return start_server(command, workdir / "anvil.log", ready, f"http://127.0.0.1:{port}")


NODES = (
    NodeKind("openledger", start_openledger),
    NodeKind("Hardhat 2", start_hardhat),
    NodeKind("Anvil", start_anvil),
)


def ensure_references() -> None:
    """`npm ci` in `bench/js` unless its packages are installed."""
    if (JS / "node_modules/hardhat").is_dir() and any(JS.glob("node_modules/@foundry-rs/anvil-*")):
        return
    print(f"installing Hardhat and Anvil: npm ci in {JS}", flush=True)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=JS,
        check=True,
        timeout=NPM_CI_SECONDS,
    )


def describe_versions() -> str:
    """The reference nodes' versions, as their packages give them."""
    import json

    versions = []
    for package in ("hardhat", "@foundry-rs/anvil"):
        manifest = JS / "node_modules" / package / "package.json"
        version = json.loads(manifest.read_text())["version"] if manifest.exists() else "?"
        versions.append(f"{package} {version}")
    return ", ".join(versions)
