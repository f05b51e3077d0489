"""What the `openledger` subcommands do: `dev`, `run`, `keys`, `devnet`; their arguments are
parsed by `node/cli.py`, which calls these with the parsed namespace."""

import argparse
import asyncio
import contextlib
import getpass
import secrets
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.keystore import (
    LIGHT_SCRYPT_N,
    STANDARD_SCRYPT_N,
    compute_address,
    read_keystore,
    read_password_file,
    write_keystore,
)
from openledger.genesis.load import load_genesis
from openledger.node import devnet as devnet_lib
from openledger.node import devnet_processes
from openledger.node.service import (
    NetworkOptions,
    Node,
    open_dev_node,
    open_network_node,
)
from openledger.rpc.server import NAMESPACES, RpcConfig

ETHER = 10**18


# --- dev -----------------------------------------------------------------------------------------


def run_dev(args: argparse.Namespace) -> int:
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
            metrics_address=_metrics_address(args),
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
        *(
            [f"Explorer:          http://{node.rpc_config.host}:{node.rpc.port}/explorer/"]
            if node.rpc_config.explorer
            else []
        ),
        "",
    ]
    print("\n".join(lines), flush=True)


# --- run -----------------------------------------------------------------------------------------


def run_node(args: argparse.Namespace) -> int:
    genesis = load_genesis(args.genesis)
    key = None
    if args.validator_key is not None:
        key = read_keystore(args.validator_key, _password(args.password_file, confirm=False))
    elif args.password_file is not None:
        raise OpenLedgerError("--password-file needs --validator-key")
    options = NetworkOptions(args.p2p_addr, args.p2p_port, tuple(args.peers), args.nodekey)

    def announce(node: Node) -> None:
        role = f"validator {to_checksum_address(node.validator)}" if node.validator else "full node"
        p2p = node.network.listen_address if node.network is not None else "off"
        print(
            f"OpenLedger {role} on chain {node.chain.chain_id}, head {node.store.head.block_number}\n"
            f"  p2p:  {p2p}\n"
            f"  rpc:  http://{node.rpc_config.host}:{node.rpc.port}",
            flush=True,
        )

    node = open_network_node(
        args.datadir, genesis, _rpc_config(args), options,
        validator_key=key, allow_unprotected=args.allow_unprotected, on_ready=announce,
        metrics_address=_metrics_address(args),
    )  # fmt: skip
    return _serve(node.run)


# --- keys ----------------------------------------------------------------------------------------


def keys_new(args: argparse.Namespace) -> int:
    password = _password(args.password_file, confirm=True)
    scrypt_n = LIGHT_SCRYPT_N if args.lightkdf else STANDARD_SCRYPT_N
    address = write_keystore(args.keystore, secrets.token_bytes(32), password, scrypt_n=scrypt_n)
    print(f"Address:  {to_checksum_address(address)}\nKeystore: {args.keystore}")
    return 0


def keys_inspect(args: argparse.Namespace) -> int:
    key = read_keystore(args.keystore, _password(args.password_file, confirm=False))
    print(to_checksum_address(compute_address(key)))
    return 0


def _password(path: Path | None, *, confirm: bool) -> str:
    if path is not None:
        return read_password_file(path)
    if not sys.stdin.isatty():
        raise OpenLedgerError("no --password-file given and no terminal to ask for the password")
    password = getpass.getpass("Keystore password: ")
    if confirm and getpass.getpass("Repeat the password: ") != password:
        raise OpenLedgerError("the passwords do not match")
    return password


# --- devnet --------------------------------------------------------------------------------------


def devnet_init(args: argparse.Namespace) -> int:
    if args.if_absent and (args.out / devnet_lib.MANIFEST).exists():
        print(f"{args.out} already holds a devnet; leaving it as it is")
        return 0
    result = devnet_lib.init_devnet(
        args.out, validators=args.validators, rpc_nodes=args.rpc_nodes, chain_id=args.chain_id,
        block_time=args.block_time, p2p_base_port=args.p2p_base_port, rpc_base_port=args.rpc_base_port,
        light_kdf=args.lightkdf, epoch_length=args.epoch_length, docker=args.docker,
    )  # fmt: skip
    print(f"Devnet of chain {result.chain_id} written to {args.out}:")
    for node in result.nodes:
        who = f" {to_checksum_address(node.address)}" if node.address else ""
        print(f"  {node.name:<12} {node.role:<9} rpc :{node.rpc_port}  p2p :{node.p2p_port}{who}")
    print(f"Start it with: openledger devnet up {args.out}")
    return 0


def devnet_node(args: argparse.Namespace) -> int:
    network = devnet_lib.Devnet.load(args.dir)
    node = network.node(args.name)
    arguments = node.arguments(args.dir, network.peers_of(node))
    from openledger.node.cli import main  # the parser's module imports this one

    return main([*arguments, "--log-level", args.log_level])


def devnet_compose(args: argparse.Namespace) -> int:
    sys.stdout.write(devnet_lib.render_compose(args.validators, args.rpc_nodes))
    return 0


def devnet_up(args: argparse.Namespace) -> int:
    network = devnet_lib.Devnet.load(args.directory)
    started = devnet_processes.up(network)
    print(f"started: {', '.join(started) or 'nothing (all running)'}")
    _print_status(network)
    return 0


def devnet_down(args: argparse.Namespace) -> int:
    stopped = devnet_processes.down(devnet_lib.Devnet.load(args.directory))
    print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0


def devnet_status(args: argparse.Namespace) -> int:
    _print_status(devnet_lib.Devnet.load(args.directory))
    return 0


def _print_status(network: "devnet_lib.Devnet") -> None:
    print(
        f"{'node':<12} {'role':<9} {'state':<8} {'height':>7} {'peers':>5} {'round':>5} {'last block':>10}  rpc"
    )
    for row in devnet_processes.status(network):
        age = f"{row['last_block_age']:.1f}s ago" if "last_block_age" in row else "-"
        print(
            f"{row['name']:<12} {row['role']:<9} {row['state']:<8} {row.get('height', '-'):>7} "
            f"{row.get('peers', '-'):>5} {row.get('round') if row.get('round') is not None else '-':>5} "
            f"{age:>10}  {row['rpc']}"
        )


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

    try:
        asyncio.run(supervise())
    except BaseExceptionGroup as group:
        # A service that cannot start (a port in use, a locked database) fails the task group;
        # the user needs its one-line reason, not the group's traceback.
        reasons = [error for error in _leaves(group) if isinstance(error, OpenLedgerError)]
        if reasons:
            raise reasons[0] from group
        raise
    return 0


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    leaves: list[BaseException] = []
    for error in group.exceptions:
        leaves.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return leaves


def _metrics_address(args: argparse.Namespace) -> tuple[str, int] | None:
    return (args.metrics_addr, args.metrics_port) if args.metrics else None


def _rpc_config(args: argparse.Namespace) -> RpcConfig:
    cors = args.corsdomain if args.corsdomain is not None else (args.corsdomain_default,)
    validator = getattr(args, "validator_key", None) is not None
    return RpcConfig(
        host=args.http_addr,
        port=args.http_port,
        cors_domains=tuple(domain for domain in cors if domain),
        vhosts=tuple(host.lower() for host in args.vhosts),
        websocket=args.ws,
        # A validator serves no page unless asked: its RPC port is not meant for the public.
        explorer=args.explorer if args.explorer is not None else not validator,
        # Tracing is the costliest thing a caller can ask for: a validator offers it only when
        # its operator lists `debug` (geth serves it only when asked for, on every node).
        namespaces=args.http_api
        if args.http_api is not None
        else (NAMESPACES - {"debug"} if validator else None),
    )
