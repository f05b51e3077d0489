"""The Docker path, checked as far as a machine without a Docker engine allows.

- `docker-compose.yml` is what `openledger devnet compose` generates, and the Compose
  specification accepts it (`docker-compose config`, from Debian's package, which CI installs);
- the Dockerfile copies what exists, runs the console script the package installs, with arguments
  our CLI accepts, and its health check is valid Python that asks the node's RPC;
- every compose service's command, run as a local process against a loopback devnet, gives a
  working devnet that commits blocks and serves a transfer through the RPC node: that is what
  compose would run.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from eth_account import Account
from helpers import DEV_ADDRESSES, DEV_KEYS, REPO, result, wait_for

from openledger.node import devnet as devnet_lib
from openledger.node.cli import build_parser

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"


def test_compose_file_is_the_generated_one() -> None:
    assert COMPOSE.read_text() == devnet_lib.render_compose(), (
        "docker-compose.yml is stale: run `openledger devnet compose > docker-compose.yml`"
    )


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (CI installs it)",
)
def test_compose_file_follows_the_compose_specification() -> None:
    completed = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def test_compose_devnet_shape() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    nodes = [name for name in services if name != "devnet-init"]
    assert nodes == ["validator1", "validator2", "validator3", "validator4", "rpc1"]
    for name in nodes:
        service = {**compose["x-node"], **services[name]}
        assert service["restart"] == "unless-stopped"
        assert f"{name}-data:/data" in service["volumes"]
        assert service["depends_on"]["devnet-init"]["condition"] == "service_completed_successfully"
    assert services["rpc1"]["ports"] == ["127.0.0.1:8545:8545"]
    assert all("ports" not in services[name] for name in nodes if name != "rpc1")
    assert set(compose["volumes"]) == {"devnet", *(f"{name}-data" for name in nodes)}


def test_dockerfile_uses_what_exists() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    copies = [
        line.split()[1:-1] for line in lines if line.startswith("COPY ") and "--from" not in line
    ]
    for sources in copies:
        for source in sources:
            assert (REPO / source).exists(), f"the Dockerfile copies {source}, which does not exist"
    entrypoint = next(line for line in lines if line.startswith("ENTRYPOINT"))
    assert entrypoint == 'ENTRYPOINT ["openledger"]'
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "openledger" in scripts
    # The image's CMD (not the HEALTHCHECK's, which continues the line before it).
    command = next(
        line
        for index, line in enumerate(lines)
        if line.startswith("CMD ") and not lines[index - 1].endswith("\\")
    )
    arguments = yaml.safe_load(command[4:])
    build_parser().parse_args(arguments)  # the default command is one our CLI accepts
    health = DOCKERFILE.read_text().split("HEALTHCHECK", 1)[1]
    snippet = health.split('"-c", "', 1)[1].split('"]', 1)[0]
    compile(snippet, "<healthcheck>", "exec")
    assert "127.0.0.1:8545/health" in snippet
    assert any(line.startswith("USER ") and "root" not in line for line in lines), (
        "run as a non-root user"
    )


def test_the_init_service_writes_a_docker_manifest(tmp_path: Path) -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    command = [
        tmp_path.as_posix() if part == "/devnet" else part
        for part in compose["services"]["devnet-init"]["command"]
    ]
    _cli(*command, "--lightkdf")
    manifest = devnet_lib.Devnet.load(tmp_path)
    assert [node.name for node in manifest.nodes] == [
        "validator1",
        "validator2",
        "validator3",
        "validator4",
        "rpc1",
    ]
    for node in manifest.nodes:
        assert node.host == node.name  # reached by service name on the compose network
        assert (node.p2p_port, node.rpc_port, node.datadir) == (30303, 8545, "/data")
        assert all(
            peer.split("@")[1].split(":")[0] in compose["services"]
            for peer in manifest.peers_of(node)
        )
    # Running init again (a container restart) leaves the configuration alone.
    before = (tmp_path / "devnet.json").read_text()
    _cli(*command)
    assert (tmp_path / "devnet.json").read_text() == before


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_compose_commands_run_as_local_processes_make_a_working_devnet(tmp_path: Path) -> None:
    config = tmp_path / "devnet"
    base = devnet_lib.find_free_port_base(10)
    devnet_lib.init_devnet(config, light_kdf=True, p2p_base_port=base, rpc_base_port=base + 5)
    compose = yaml.safe_load(COMPOSE.read_text())
    processes = []
    try:
        for name, service in compose["services"].items():
            if name == "devnet-init":
                continue
            command = [
                config.as_posix() if part == "/devnet" else part for part in service["command"]
            ]
            log = (tmp_path / f"{name}.log").open("w")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "openledger.node.cli", *command],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        network = devnet_lib.Devnet.load(config)
        rpc_url = f"http://127.0.0.1:{network.node('rpc1').rpc_port}"
        wait_for(
            lambda: _height(rpc_url) >= 3, timeout=120, what="blocks from the compose services"
        )
        account = Account.from_key(DEV_KEYS[0])
        signed = account.sign_transaction(
            {"type": 2, "chainId": 4242, "nonce": 0, "to": DEV_ADDRESSES[1], "value": 12345,
             "gas": 21000, "maxFeePerGas": 100 * 10**9, "maxPriorityFeePerGas": 10**9}
        )  # fmt: skip
        tx_hash = result(
            rpc_url, "eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()]
        )
        receipt = wait_for(
            lambda: result(rpc_url, "eth_getTransactionReceipt", [tx_hash]),
            timeout=60,
            what="the receipt",
        )
        assert receipt["status"] == "0x1"
        validator_url = f"http://127.0.0.1:{network.node('validator1').rpc_port}"
        wait_for(
            lambda: result(validator_url, "eth_getTransactionReceipt", [tx_hash]),
            timeout=30,
            what="the receipt on a validator",
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _height(url: str) -> int:
    try:
        return int(result(url, "eth_blockNumber"), 16)
    except OSError:
        return -1


def _cli(*arguments: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "openledger.node.cli", *arguments],
        capture_output=True, text=True, timeout=120, check=False, env={**os.environ},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr + completed.stdout
