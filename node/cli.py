"""The `openledger` command line: the entry point and the argument spec of every subcommand.

    openledger dev   [--http.addr 127.0.0.1] [--http.port 8545] [--datadir DIR]
                     [--block-time SECONDS] [--chain-id 1337] [--accounts 10] ...

Flags follow geth's spelling. Every flag is checked before anything starts, and a bad value gets
a message that names the flag. Errors the user can act on print one line and exit with status 1;
SIGINT and SIGTERM stop the node cleanly (exit status 0). What each subcommand does is in
`node/commands.py`.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.load import MAX_CHAIN_ID
from openledger.node import commands as handlers
from openledger.node.attribution_cli import add_attribution_commands
from openledger.node.content_cli import add_content_commands
from openledger.node.logs import LEVELS, setup_logging
from openledger.node.service import client_version
from openledger.rpc.server import NAMESPACES


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `openledger` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    setup_logging(args.log_level)
    try:
        return int(args.handler(args) or 0)
    except OpenLedgerError as error:
        print(f"openledger: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="openledger",
        description="OpenLedger node: an EVM-compatible proof-of-stake chain with native "
        "attribution precompiles.",
    )
    parser.add_argument("--version", action="version", version=client_version())
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    dev = commands.add_parser(
        "dev",
        help="run a local development chain with prefunded accounts",
        description="Run a single-validator development chain, as anvil or hardhat node do.",
    )
    _add_common(dev)
    dev.add_argument(
        "--datadir", type=Path, help="keep the chain in DIR (default: a temporary directory)"
    )
    dev.add_argument(
        "--block-time", type=_non_negative_float, default=0.0, metavar="SECONDS",
        help="mine a block every SECONDS; 0 (default) mines one as soon as a transaction arrives",
    )  # fmt: skip
    dev.add_argument(
        "--chain-id", type=_chain_id, default=1337, help="EIP-155 chain id (default 1337)"
    )
    dev.add_argument(
        "--accounts", type=_bounded_int(1, 1000), default=10,
        help="number of prefunded dev accounts (default 10)",
    )  # fmt: skip
    dev.set_defaults(handler=handlers.run_dev, corsdomain_default="*")

    run = commands.add_parser(
        "run",
        help="run a validator or full (RPC) node of a network",
        description="Run a node of the network described by a genesis file. With --validator-key it "
        "signs blocks as a validator; without, it is a full node that follows, verifies and serves RPC.",
    )
    _add_common(run)
    run.add_argument(
        "--datadir",
        type=Path,
        required=True,
        help="data directory (chain, node key, consensus records)",
    )
    run.add_argument("--genesis", type=Path, required=True, help="the network's genesis file")
    run.add_argument(
        "--validator-key",
        dest="validator_key",
        type=Path,
        help="encrypted keystore of the validator key",
    )
    run.add_argument(
        "--password-file",
        dest="password_file",
        type=Path,
        help="file whose first line unlocks --validator-key",
    )
    run.add_argument(
        "--p2p.addr",
        dest="p2p_addr",
        default="0.0.0.0",
        help="p2p listen address (default 0.0.0.0)",
    )
    run.add_argument(
        "--p2p.port", dest="p2p_port", type=_port, default=30303, help="p2p port (default 30303)"
    )
    run.add_argument(
        "--peers",
        type=_csv,
        default=(),
        help="comma-separated peers: <node public key hex>@host:port",
    )
    run.add_argument(
        "--nodekey",
        type=Path,
        help="p2p node key file (default DATADIR/nodekey, created if missing)",
    )
    run.set_defaults(handler=handlers.run_node, corsdomain_default="")

    keys_parser = commands.add_parser(
        "keys", help="create and inspect encrypted validator keystores"
    )
    keys_commands = keys_parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    new = keys_commands.add_parser("new", help="create a new key in an encrypted keystore file")
    new.add_argument(
        "--keystore", type=Path, required=True, help="where to write the keystore (must not exist)"
    )
    new.add_argument(
        "--password-file", dest="password_file", type=Path, help="password file (default: prompt)"
    )
    new.add_argument(
        "--lightkdf",
        action="store_true",
        help="weak scrypt parameters, for throwaway test keys only",
    )
    new.set_defaults(handler=handlers.keys_new)
    inspect = keys_commands.add_parser("inspect", help="print the address of a keystore")
    inspect.add_argument("--keystore", type=Path, required=True)
    inspect.add_argument(
        "--password-file", dest="password_file", type=Path, help="password file (default: prompt)"
    )
    inspect.set_defaults(handler=handlers.keys_inspect)
    for sub in (keys_parser, new, inspect):
        sub.set_defaults(log_level="warn")

    devnet = commands.add_parser("devnet", help="generate and run a local multi-validator devnet")
    devnet_commands = devnet.add_subparsers(dest="devnet_command", metavar="ACTION", required=True)
    init = devnet_commands.add_parser("init", help="generate genesis, keys and the node manifest")
    init.add_argument(
        "--out", type=Path, default=Path("devnet"), help="directory to create (default ./devnet)"
    )
    init.add_argument(
        "--validators", type=_bounded_int(1, 100), default=4, help="validators (default 4)"
    )
    init.add_argument(
        "--rpc-nodes",
        dest="rpc_nodes",
        type=_bounded_int(0, 16),
        default=1,
        help="RPC nodes (default 1)",
    )
    init.add_argument(
        "--chain-id", dest="chain_id", type=_chain_id, default=4242, help="chain id (default 4242)"
    )
    init.add_argument(
        "--block-time",
        dest="block_time",
        type=_non_negative_float,
        default=1.0,
        help="seconds (default 1)",
    )
    init.add_argument("--epoch-length", dest="epoch_length", type=_bounded_int(1, 10**9), default=20,
                      help="blocks per staking epoch (default 20)")  # fmt: skip
    init.add_argument("--p2p-base-port", dest="p2p_base_port", type=_port, default=30303)
    init.add_argument("--rpc-base-port", dest="rpc_base_port", type=_port, default=8545)
    init.add_argument(
        "--lightkdf", action="store_true", help="weak keystore encryption (faster; throwaway keys)"
    )
    init.add_argument(
        "--docker", action="store_true", help="for docker compose: service names and standard ports"
    )
    init.add_argument(
        "--if-absent", dest="if_absent", action="store_true", help="do nothing if the devnet exists"
    )
    init.set_defaults(handler=handlers.devnet_init)
    node_parser = devnet_commands.add_parser(
        "node", help="run one node of a devnet (what each compose service runs)"
    )
    node_parser.add_argument("name", help="the node's name in devnet.json, e.g. validator1")
    node_parser.add_argument("--dir", type=Path, default=Path("devnet"), help="devnet directory")
    node_parser.add_argument("--log-level", choices=sorted(LEVELS), default="info")
    node_parser.set_defaults(handler=handlers.devnet_node)
    compose = devnet_commands.add_parser("compose", help="print the docker-compose.yml of a devnet")
    compose.add_argument("--validators", type=_bounded_int(1, 100), default=4)
    compose.add_argument("--rpc-nodes", dest="rpc_nodes", type=_bounded_int(1, 16), default=1)
    compose.set_defaults(handler=handlers.devnet_compose)
    for action, handler in (
        ("up", handlers.devnet_up),
        ("down", handlers.devnet_down),
        ("status", handlers.devnet_status),
    ):
        command = devnet_commands.add_parser(action, help=f"{action} the devnet's local processes")
        command.add_argument(
            "directory", type=Path, nargs="?", default=Path("devnet"), help="devnet directory"
        )
        command.set_defaults(handler=handler)
    for sub in (devnet, init, *devnet_commands.choices.values()):
        if sub is not node_parser:
            sub.set_defaults(log_level="warn")
    add_content_commands(commands)
    add_attribution_commands(commands)
    return parser


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--http.addr",
        dest="http_addr",
        default="127.0.0.1",
        help="RPC listen address (default 127.0.0.1)",
    )
    parser.add_argument(
        "--http.port", dest="http_port", type=_port, default=8545, help="RPC port (default 8545)"
    )
    parser.add_argument(
        "--http.corsdomain", dest="corsdomain", type=_csv, default=None,
        help="comma-separated origins allowed to call the RPC from a browser ('*' for any)",
    )  # fmt: skip
    parser.add_argument(
        "--http.vhosts", dest="vhosts", type=_csv, default=("localhost",),
        help="comma-separated host names accepted in the Host header ('*' for any; IPs always)",
    )  # fmt: skip
    parser.add_argument(
        "--http.api", dest="http_api", type=_namespaces, default=None, metavar="NAMESPACES",
        help="comma-separated method namespaces to serve, e.g. eth,net,web3,ol "
        "(default all; a validator leaves out debug)",
    )  # fmt: skip
    parser.add_argument("--ws", dest="ws", action=argparse.BooleanOptionalAction, default=True,
                        help="serve WebSocket JSON-RPC on the HTTP port (default on)")  # fmt: skip
    parser.add_argument(
        "--explorer", dest="explorer", action=argparse.BooleanOptionalAction, default=None,
        help="serve the explorer page at /explorer/ on the HTTP port "
        "(default on, off on a validator)",
    )  # fmt: skip
    parser.add_argument(
        "--rpc.allow-unprotected-txs", dest="allow_unprotected", action="store_true",
        help="accept legacy transactions without EIP-155 replay protection",
    )  # fmt: skip
    parser.add_argument(
        "--log-level", choices=sorted(LEVELS), default="info", help="log verbosity (default info)"
    )
    parser.add_argument(
        "--metrics", action="store_true", help="serve Prometheus metrics at /metrics"
    )
    parser.add_argument(
        "--metrics.addr", dest="metrics_addr", default="127.0.0.1",
        help="metrics listen address (default 127.0.0.1)",
    )  # fmt: skip
    parser.add_argument(
        "--metrics.port",
        dest="metrics_port",
        type=_port,
        default=6060,
        help="metrics port (default 6060)",
    )


# --- argument types --------------------------------------------------------------------------------


def _port(text: str) -> int:
    value = _bounded_int(0, 65535)(text)
    return value


def _namespaces(text: str) -> frozenset[str]:
    chosen = frozenset(name.strip() for name in text.split(",") if name.strip())
    unknown = chosen - NAMESPACES
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown namespace {', '.join(sorted(unknown))} (known: {', '.join(sorted(NAMESPACES))})"
        )
    return chosen


def _chain_id(text: str) -> int:
    return _bounded_int(1, MAX_CHAIN_ID)(text)


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 86400:  # also false for NaN
        raise argparse.ArgumentTypeError(f"{text} is outside 0..86400 seconds")
    return value


def _csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


if __name__ == "__main__":
    sys.exit(main())
