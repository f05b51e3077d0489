"""The `openledger` command line.

    openledger dev   [--http.addr 127.0.0.1] [--http.port 8545] [--datadir DIR]
                     [--block-time SECONDS] [--chain-id 1337] [--accounts 10] ...

Flags follow geth's spelling. Every flag is checked before anything starts, and a bad value gets
a message that names the flag. Errors the user can act on print one line and exit with status 1;
SIGINT and SIGTERM stop the node cleanly (exit status 0).
"""

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.load import MAX_CHAIN_ID
from openledger.node.logs import LEVELS, setup_logging
from openledger.node.service import Node, client_version, open_dev_node
from openledger.rpc.server import RpcConfig

ETHER = 10**18


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
    dev.set_defaults(handler=_run_dev, corsdomain_default="*")
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
    parser.add_argument("--ws", dest="ws", action=argparse.BooleanOptionalAction, default=True,
                        help="serve WebSocket JSON-RPC on the HTTP port (default on)")  # fmt: skip
    parser.add_argument(
        "--rpc.allow-unprotected-txs", dest="allow_unprotected", action="store_true",
        help="accept legacy transactions without EIP-155 replay protection",
    )  # fmt: skip
    parser.add_argument(
        "--log-level", choices=sorted(LEVELS), default="info", help="log verbosity (default info)"
    )


# --- dev -----------------------------------------------------------------------------------------


def _run_dev(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        datadir: Path = args.datadir or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="openledger-dev-"))
        )
        persistent = args.datadir is not None
        accounts: dict[bytes, bytes] = {}

        def announce(node: Node) -> None:
            _print_dev_banner(node, accounts, datadir if persistent else None, args.block_time)

        node, spec = open_dev_node(
            datadir,
            _rpc_config(args),
            chain_id=args.chain_id,
            accounts=args.accounts,
            block_time=args.block_time,
            allow_unprotected=args.allow_unprotected,
            on_ready=announce,
        )
        accounts.update(spec.accounts)
        return _serve(node.run)


def _print_dev_banner(
    node: Node, accounts: dict[bytes, bytes], datadir: Path | None, block_time: float
) -> None:
    state = node.store.state_at(node.store.head)
    lines = [
        "",
        f"OpenLedger dev chain ({node.client_version})",
        "",
        "Available Accounts",
        "==================",
    ]
    for index, address in enumerate(accounts):
        balance = state.get_balance(address) / ETHER
        lines.append(f"({index}) {to_checksum_address(address)} ({balance:g} OPEN)")
    lines += ["", "Private Keys", "=================="]
    lines += [f"({index}) 0x{key.hex()}" for index, key in enumerate(accounts.values())]
    lines += [
        "",
        "Wallet",
        "==================",
        "Mnemonic:          test test test test test test test test test test test junk",
        "Derivation path:   m/44'/60'/0'/0/",
        "",
        f"Chain ID:          {node.chain.chain_id}",
        f"Block time:        {'on each transaction' if block_time == 0 else f'{block_time:g} s'}",
        f"Data directory:    {datadir if datadir else 'temporary (deleted on exit)'}",
        f"Head:              block {node.store.head.block_number}",
        "",
        f"Listening on http://{node.rpc_config.host}:{node.rpc.port}"
        + (
            f" and ws://{node.rpc_config.host}:{node.rpc.port}" if node.rpc_config.websocket else ""
        ),
        "",
    ]
    print("\n".join(lines), flush=True)


# --- running ---------------------------------------------------------------------------------------


def _serve(run: Callable[[], Any]) -> int:
    """Run a node until SIGINT or SIGTERM, then stop it cleanly."""

    async def supervise() -> None:
        task = asyncio.ensure_future(run())
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(supervise())
    return 0


def _rpc_config(args: argparse.Namespace) -> RpcConfig:
    cors = args.corsdomain if args.corsdomain is not None else (args.corsdomain_default,)
    return RpcConfig(
        host=args.http_addr,
        port=args.http_port,
        cors_domains=tuple(domain for domain in cors if domain),
        vhosts=tuple(host.lower() for host in args.vhosts),
        websocket=args.ws,
    )


# --- argument types --------------------------------------------------------------------------------


def _port(text: str) -> int:
    value = _bounded_int(0, 65535)(text)
    return value


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
