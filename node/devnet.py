"""A local devnet: validators and RPC nodes generated from one configuration.

`openledger devnet init` writes, into one directory:

- `genesis.json`: the dev accounts of the development mnemonic prefunded, the validators with
  their stakes, and every parameter;
- `keys/<name>.json` and `keys/<name>.password`: each validator's key in an encrypted keystore
  and the password that unlocks it (a throwaway devnet keeps the password beside the key);
- `nodes/<name>/nodekey`: each node's p2p identity;
- `devnet.json`: the manifest — every node's role, ports, data directory and peers.

`openledger devnet up|down|status` runs that devnet as local processes on loopback ports
(`node/devnet_processes.py`), and `docker-compose.yml` runs the same manifest in containers
(`render_compose`, here): both come from `devnet.json`.
"""

import json
import os
import random
import secrets
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_keys import keys

from openledger.genesis.dev import derive_dev_keys, make_dev_genesis
from openledger.genesis.errors import OpenLedgerError
from openledger.genesis.keystore import LIGHT_SCRYPT_N, STANDARD_SCRYPT_N, write_keystore
from openledger.genesis.load import write_genesis
from openledger.genesis.model import ETHER, Account
from openledger.genesis.types import Address, ChainId, Wei
from openledger.node.p2p.identity import PeerId, format_peer_address

MANIFEST = "devnet.json"
DOCKER_P2P_PORT = 30303
DOCKER_RPC_PORT = 8545
DEVNET_CHAIN_ID = ChainId(4242)
VALIDATOR_STAKE = Wei(100_000 * ETHER)
VALIDATOR_GAS_FUNDS = Wei(100 * ETHER)


class DevnetError(OpenLedgerError):
    """The devnet directory is missing, incomplete or in the wrong state."""


@dataclass(frozen=True, slots=True)
class DevnetNode:
    """One node of the devnet, as the manifest records it."""

    name: str
    """Unique name, also the container and data directory name."""
    role: str
    """"validator" or "rpc"."""
    address: str | None
    """The validator's address (None for an RPC node)."""
    peer_id: str
    """The node's p2p public key, hex."""
    p2p_port: int
    """Local p2p port (the process devnet binds 127.0.0.1)."""
    rpc_port: int
    """Local RPC port."""
    datadir: str
    """Data directory, relative to the devnet directory."""
    keystore: str | None
    """Validator keystore, relative to the devnet directory."""
    password_file: str | None
    """File with the keystore's password, relative to the devnet directory."""

    host: str = "127.0.0.1"
    """How the other nodes reach this one: a loopback address for the process devnet, the
    compose service name in Docker."""
    nodekey: str | None = None
    """The node key file, relative to the devnet directory (default: in the data directory)."""

    @property
    def in_docker(self) -> bool:
        """True for a node of a Docker devnet (reached by its service name)."""
        return self.host != "127.0.0.1"

    def arguments(self, base: Path, peers: list[str]) -> list[str]:
        """The `openledger` arguments that run this node."""
        bind = "0.0.0.0" if self.in_docker else self.host
        args = [
            "run", "--datadir", str(base / self.datadir), "--genesis", str(base / "genesis.json"),
            "--p2p.addr", bind, "--p2p.port", str(self.p2p_port),
            "--http.addr", bind, "--http.port", str(self.rpc_port),
            "--http.corsdomain", "*", "--peers", ",".join(peers),
        ]  # fmt: skip
        if self.nodekey:
            args += ["--nodekey", str(base / self.nodekey)]
        if self.keystore and self.password_file:
            args += ["--validator-key", str(base / self.keystore)]
            args += ["--password-file", str(base / self.password_file)]
        return args


@dataclass(frozen=True, slots=True)
class Devnet:
    """A devnet directory and its manifest."""

    directory: Path
    chain_id: ChainId
    nodes: tuple[DevnetNode, ...]

    @classmethod
    def load(cls, directory: Path) -> "Devnet":
        """Read `devnet.json` of `directory`."""
        path = directory / MANIFEST
        try:
            manifest = json.loads(path.read_text())
        except FileNotFoundError:
            raise DevnetError(
                f"{directory} is not a devnet: no {MANIFEST} (run `openledger devnet init`)"
            ) from None
        except json.JSONDecodeError as error:
            raise DevnetError(f"{path} is damaged: {error}") from error
        return cls(
            directory,
            ChainId(manifest["chainId"]),
            tuple(DevnetNode(**node) for node in manifest["nodes"]),
        )

    def node(self, name: str) -> DevnetNode:
        """The node called `name`."""
        for candidate in self.nodes:
            if candidate.name == name:
                return candidate
        raise DevnetError(
            f"the devnet has no node {name!r} (it has {', '.join(n.name for n in self.nodes)})"
        )

    def peers_of(self, node: DevnetNode | None) -> list[str]:
        """The peer addresses of every node but `node` (of every node, for None)."""
        return [
            format_peer_address(PeerId(bytes.fromhex(other.peer_id)), other.host, other.p2p_port)
            for other in self.nodes
            if node is None or other.name != node.name
        ]


def find_free_port_base(count: int) -> int:
    """A base port with `count` free 127.0.0.1 ports after it, for one more devnet on a machine
    (tests, benchmarks). Below Linux's ephemeral range (32768 and up), so that no outgoing
    connection can take one of them before a node binds it."""
    for _ in range(200):
        base = random.randrange(20_000, 32_000 - count)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise OpenLedgerError(f"no {count} consecutive free ports between 20000 and 32000")


def init_devnet(
    directory: Path,
    *,
    validators: int = 4,
    rpc_nodes: int = 1,
    chain_id: ChainId = DEVNET_CHAIN_ID,
    block_time: float = 1.0,
    p2p_base_port: int = 30303,
    rpc_base_port: int = 8545,
    light_kdf: bool = False,
    epoch_length: int = 20,
    docker: bool = False,
) -> Devnet:
    """Generate a devnet configuration into `directory` (which must not hold one already).

    With `docker`, the nodes reach each other by service name on the standard ports (each
    container has its own network namespace) and keep their chain in `/data`, a volume of their
    own; otherwise they listen on loopback, on ports counted from the base ports.
    """
    if (directory / MANIFEST).exists():
        raise DevnetError(f"{directory} already holds a devnet; remove it or choose another --out")
    if validators < 1:
        raise DevnetError("a devnet needs at least one validator")
    (directory / "keys").mkdir(parents=True, exist_ok=True)
    nodes: list[DevnetNode] = []
    validator_addresses: list[Address] = []
    names = [f"validator{i}" for i in range(1, validators + 1)] + [
        f"rpc{i}" for i in range(1, rpc_nodes + 1)
    ]
    # The RPC nodes take the first RPC ports, so MetaMask's default 8545 reaches an RPC node.
    rpc_ports = {
        name: rpc_base_port + i for i, name in enumerate(names[validators:] + names[:validators])
    }
    for index, name in enumerate(names):
        is_validator = index < validators
        node_key = keys.PrivateKey(secrets.token_bytes(32))
        node_dir = directory / "nodes" / name
        node_dir.mkdir(parents=True, exist_ok=True)
        _write_secret(node_dir / "nodekey", node_key.to_hex()[2:])
        keystore = password_file = address = None
        if is_validator:
            password = secrets.token_urlsafe(24)
            password_file = f"keys/{name}.password"
            _write_secret(directory / password_file, password + "\n")
            keystore = f"keys/{name}.json"
            validator = write_keystore(
                directory / keystore, secrets.token_bytes(32), password,
                scrypt_n=LIGHT_SCRYPT_N if light_kdf else STANDARD_SCRYPT_N,
            )  # fmt: skip
            validator_addresses.append(validator)
            address = "0x" + validator.hex()
        nodes.append(
            DevnetNode(
                name=name,
                role="validator" if is_validator else "rpc",
                address=address,
                peer_id=node_key.public_key.to_compressed_bytes().hex(),
                p2p_port=DOCKER_P2P_PORT if docker else p2p_base_port + index,
                rpc_port=DOCKER_RPC_PORT if docker else rpc_ports[name],
                datadir="/data" if docker else f"nodes/{name}",
                keystore=keystore,
                password_file=password_file,
                host=name if docker else "127.0.0.1",
                nodekey=f"nodes/{name}/nodekey",
            )
        )
    _write_devnet_genesis(directory, chain_id, validator_addresses, block_time, epoch_length)
    manifest = {"chainId": chain_id, "nodes": [asdict(node) for node in nodes]}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return Devnet(directory, chain_id, tuple(nodes))


def _write_devnet_genesis(
    directory: Path,
    chain_id: ChainId,
    validators: list[Address],
    block_time: float,
    epoch_length: int,
) -> None:
    from dataclasses import replace

    dev_accounts = tuple(key.address for key in derive_dev_keys(10))
    genesis = make_dev_genesis(
        chain_id, dev_accounts, tuple(validators), stake=VALIDATOR_STAKE,
        block_time_ms=int(block_time * 1000), timestamp=int(time.time()),
    )  # fmt: skip
    # Validators pay gas too (evidence transactions, staking calls): fund their keys.
    alloc = dict(genesis.alloc)
    for address in validators:
        alloc[address] = Account(balance=VALIDATOR_GAS_FUNDS)
    params = genesis.openledger
    genesis = replace(
        genesis,
        alloc=tuple(sorted(alloc.items())),
        openledger=replace(params, staking=replace(params.staking, epoch_length=epoch_length)),
    )
    write_genesis(genesis, directory / "genesis.json")


def _write_secret(path: Path, text: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def node_command(name: str, directory: str) -> list[str]:
    """The `openledger` arguments that run node `name` of the devnet in `directory`."""
    return ["devnet", "node", name, "--dir", directory]


# --- Docker Compose -----------------------------------------------------------------------------------

COMPOSE_IMAGE = "openledger:local"
COMPOSE_CONFIG = "/devnet"


def render_compose(validators: int = 4, rpc_nodes: int = 1, rpc_host_port: int = 8545) -> str:
    """The docker-compose.yml of a Docker devnet of this shape.

    A one-shot `devnet-init` service writes the configuration (`devnet init --docker`) into the
    `devnet` volume on the first `docker compose up`; every node then runs
    `openledger devnet node NAME --dir /devnet`, the same command the process devnet runs, and
    keeps its chain in a volume of its own. Only the first RPC node is published, on the host's
    127.0.0.1.
    """
    names = [f"validator{i}" for i in range(1, validators + 1)] + [
        f"rpc{i}" for i in range(1, rpc_nodes + 1)
    ]
    init = ["devnet", "init", "--docker", "--if-absent", "--out", COMPOSE_CONFIG,
            "--validators", str(validators), "--rpc-nodes", str(rpc_nodes)]  # fmt: skip
    lines = [
        "# OpenLedger local devnet: 4 validators and an RPC node on a private network.",
        "#",
        "#   docker compose up           # then point MetaMask at http://127.0.0.1:8545, chain id 4242",
        "#",
        "# Generated by `openledger devnet compose`; tests/test_compose.py checks it is current.",
        "",
        "x-node: &node",
        "  build: .",
        f"  image: {COMPOSE_IMAGE}",
        "  restart: unless-stopped",
        "  networks: [devnet]",
        "  depends_on:",
        "    devnet-init:",
        "      condition: service_completed_successfully",
        "",
        "services:",
        "  devnet-init:",
        "    build: .",
        f"    image: {COMPOSE_IMAGE}",
        f"    command: {json.dumps(init)}",
        f'    volumes: ["devnet:{COMPOSE_CONFIG}"]',
        "    networks: [devnet]",
        '    restart: "no"',
    ]
    for name in names:
        lines += [
            f"  {name}:",
            "    <<: *node",
            f"    hostname: {name}",
            f"    command: {json.dumps(node_command(name, COMPOSE_CONFIG))}",
            f'    volumes: ["devnet:{COMPOSE_CONFIG}", "{name}-data:/data"]',
        ]
        if name == "rpc1":
            lines.append(f'    ports: ["127.0.0.1:{rpc_host_port}:{DOCKER_RPC_PORT}"]')
    lines += ["", "volumes:", "  devnet: {}"]
    lines += [f"  {name}-data: {{}}" for name in names]
    lines += ["", "networks:", "  devnet: {}", ""]
    return "\n".join(lines)
