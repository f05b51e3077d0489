"""The attribution command line on a real dev node: contributors, curators, operators and auditors
use `openledger datanet|model|attribution` and write no ABI code."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import ALICE, BOB, CAROL, OUTPUT, Cli, write
from helpers import DEV_ADDRESSES, DEV_KEYS, ThreadedNode, result, threaded_node

from openledger.attribution.content import compute_content_root
from openledger.attribution.split import compute_fee_split
from openledger.genesis.keystore import write_keystore
from openledger.node.attribution_corpus import ATTRIBUTION
from openledger.node.chain_client import ChainClient

FEE = 10**15
pytestmark = pytest.mark.slow  # a real dev node and dozens of transactions per test


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedNode]:
    with threaded_node(tmp_path_factory.mktemp("chain")) as running:
        yield running


@pytest.fixture
def cli(node: ThreadedNode, tmp_path: Path) -> Cli:
    return Cli(node.url, tmp_path)


def make_datanet(cli: Cli, files: dict[int, list[Path]], content: Path) -> tuple[int, list[int]]:
    """A Datanet of account 0 with the files of each contributor account, all accepted and
    published as version 1; returns its id and the contribution ids in order."""
    datanet = int(cli.ok("datanet", "create", "--name", "corpus", key=0))
    ids: list[int] = []
    for account, paths in files.items():
        out = cli.ok("datanet", "contribute", "--datanet", datanet, "--content", content, *paths,
                     key=account)  # fmt: skip
        ids += [int(line) for line in out.split()]
    cli.ok("datanet", "review", "--accept", "--quality", 80, *ids, key=0)
    assert cli.ok("datanet", "publish", "--datanet", datanet, key=0).strip() == "1"
    return datanet, ids


def register(cli: Cli, datanet: int, fee: int = FEE) -> int:
    return int(cli.ok("model", "register", "--name", "m", "--datanet", f"{datanet}:1",
                      "--method", "declared", "--fee", fee, key=0))  # fmt: skip


def three_contributors(cli: Cli, tmp_path: Path) -> tuple[int, list[int], int, Path]:
    content = tmp_path / "content"
    texts = {1: [write(tmp_path, "alice.txt", ALICE)], 2: [write(tmp_path, "bob.txt", BOB)],
             3: [write(tmp_path, "carol.txt", CAROL)]}  # fmt: skip
    datanet, ids = make_datanet(cli, texts, content)
    return datanet, ids, register(cli, datanet), content


def test_trace_credits_exactly_the_two_copied_contributions_and_record_pays_them(
    cli: Cli, node: ThreadedNode, tmp_path: Path
) -> None:
    _, (alice, bob, _), model, content = three_contributors(cli, tmp_path)
    output = write(tmp_path, "output.txt", OUTPUT)

    traced = cli.json("attribution", "trace", "--model", model, "--content", content,
                      "--output", output)  # fmt: skip
    assert set(traced["weights"]) == {str(alice), str(bob)}
    assert [span["contributionId"] for span in traced["spans"]] == [alice, bob]
    for span in traced["spans"]:
        source = (ALICE if span["contributionId"] == alice else BOB).encode()
        copied = OUTPUT[span["outputStart"] : span["outputStart"] + span["length"]]
        assert source[span["contributionStart"] :].startswith(copied)
    assert traced["weights"][str(alice)] == traced["spans"][0]["length"]

    before = {account: _pending(node, account) for account in (1, 2, 3)}
    inference = int(cli.ok("attribution", "record", "--model", model, "--content", content,
                           "--output", output, key=0))  # fmt: skip
    weights = tuple(traced["weights"][str(cid)] for cid in (alice, bob))
    split = compute_fee_split(
        node.spec.genesis.openledger.attribution, FEE, weights, has_agent=False
    )
    gained = {account: _pending(node, account) - before[account] for account in (1, 2, 3)}
    assert gained == {1: split.contributions[0], 2: split.contributions[1], 3: 0}
    record = _inference(cli, inference)
    assert record["evidenceRoot"] == traced["evidenceRoot"]

    balance = int(result(node.url, "eth_getBalance", [DEV_ADDRESSES[1], "latest"]), 16)
    claimed = cli.json("attribution", "claim", key=1)["claimed"]
    assert claimed == before[1] + split.contributions[0]
    receipt_cost = (
        balance
        + claimed
        - int(result(node.url, "eth_getBalance", [DEV_ADDRESSES[1], "latest"]), 16)
    )
    assert 0 < receipt_cost < 10**16  # only gas was spent besides the claim


def test_a_third_party_with_a_fresh_index_derives_the_same_evidence(
    cli: Cli, tmp_path: Path
) -> None:
    _, _, model, content = three_contributors(cli, tmp_path)
    output = write(tmp_path, "output.txt", OUTPUT)
    ours = cli.ok("attribution", "trace", "--model", model, "--content", content, "--output",
                  output, "--json")  # fmt: skip
    auditor = tmp_path / "auditor-index"
    theirs = cli.ok("attribution", "trace", "--model", model, "--content", content, "--output",
                    output, "--json", "--index", auditor)  # fmt: skip
    assert (auditor / "manifest.json").exists()
    assert theirs == ours
    assert json.loads(ours)["spans"]


def test_boilerplate_shared_by_many_contributions_earns_nothing(cli: Cli, tmp_path: Path) -> None:
    boilerplate = (
        "This document is provided as is without warranty of any kind, express or implied."
    )
    files: dict[int, list[Path]] = {}
    for n in range(9):
        files.setdefault(1 + n % 3, []).append(
            write(tmp_path, f"b{n}.txt", f"Notice number {n} for readers. {boilerplate}")
        )
    datanet, ids = make_datanet(cli, files, tmp_path / "content")
    model = register(cli, datanet)
    output = write(tmp_path, "output.txt", f"As the manual says: {boilerplate} Goodbye.")
    traced = cli.json("attribution", "trace", "--model", model, "--content", tmp_path / "content",
                      "--output", output)  # fmt: skip
    assert traced["weights"] == {}
    assert sorted(span["contributionId"] for span in traced["spans"]) == sorted(ids)  # 9 witnesses


def test_a_copy_of_an_accepted_contribution_earns_nothing_and_overlap_shows_it(
    cli: Cli, tmp_path: Path
) -> None:
    datanet, (alice, *_), _, content = three_contributors(cli, tmp_path)
    copy = write(tmp_path, "copy.txt", ALICE + " Reposted.")
    report = cli.json("attribution", "overlap", "--datanet", datanet, "--content", content, copy)
    assert report["contributions"] == {str(alice): len(ALICE)}
    assert report["coveredBytes"] == len(ALICE) and report["length"] == len(ALICE) + 10
    text = cli.ok("attribution", "overlap", "--datanet", datanet, "--content", content, copy)
    assert f"contribution {alice}: {len(ALICE)} bytes" in text

    (copied,) = map(int, cli.ok("datanet", "contribute", "--datanet", datanet, "--content",
                                content, copy, key=2).split())  # fmt: skip
    cli.ok("datanet", "review", "--accept", copied, key=0)
    cli.ok("datanet", "publish", "--datanet", datanet, key=0)
    model = int(cli.ok("model", "register", "--name", "m2", "--datanet", f"{datanet}:2",
                       "--method", "declared", "--fee", FEE, key=0))  # fmt: skip
    output = write(tmp_path, "output.txt", f"Quoting: {ALICE} The end.")
    traced = cli.json("attribution", "trace", "--model", model, "--content", content, "--output",
                      output)  # fmt: skip
    assert list(traced["weights"]) == [str(alice)]


def test_a_blob_that_does_not_match_its_root_is_refused_naming_the_contribution(
    cli: Cli, tmp_path: Path
) -> None:
    _, (_, bob, _), model, content = three_contributors(cli, tmp_path)
    output = write(tmp_path, "output.txt", OUTPUT)
    blob = content / compute_content_root(BOB.encode()).hex()
    blob.write_text(BOB.replace("Glaciers", "Rivers"))
    error = cli.fails("attribution", "trace", "--model", model, "--content", content, "--output",
                      output)  # fmt: skip
    assert f"contribution {bob}" in error and "does not match its content root" in error
    blob.unlink()
    error = cli.fails("attribution", "trace", "--model", model, "--content", content, "--output",
                      output)  # fmt: skip
    assert f"contribution {bob}" in error and "is not in the content directory" in error


def test_bad_input_gets_one_line_errors(cli: Cli, node: ThreadedNode, tmp_path: Path) -> None:
    datanet, (alice, _, _), model, content = three_contributors(cli, tmp_path)
    output = write(tmp_path, "output.txt", OUTPUT)
    assert cli.fails("attribution", "trace", "--model", 999, "--content", content, "--output",
                     output) == "openledger: models: no model 999"  # fmt: skip
    assert "no Datanet 999" in cli.fails("datanet", "contribute", "--datanet", 999, "--content",
                                         content, output, key=1)  # fmt: skip
    assert "no Datanet 999" in cli.fails("attribution", "overlap", "--datanet", 999, "--content",
                                         content, output)  # fmt: skip
    error = cli.fails("datanet", "review", "--accept", alice, key=0)
    assert (
        error == f"openledger: review refused: datanets: contribution {alice} was already reviewed"
    )
    error = cli.fails("datanet", "publish", "--datanet", datanet, key=1)
    assert "only the owner of Datanet" in error
    assert "cannot read" in cli.fails("attribution", "trace", "--model", model, "--content",
                                      content, "--output", tmp_path / "absent.txt")  # fmt: skip
    bad_key = write(tmp_path, "bad.key", "not a key")
    status, _, err = cli.run("datanet", "create", "--name", "x", "--key-file", bad_key)
    assert status == 1 and "neither a 32-byte hex private key nor a keystore" in err
    unreachable = Cli("http://127.0.0.1:9", tmp_path)
    assert "cannot reach the node" in unreachable.fails("datanet", "create", "--name", "x", key=0)


def test_a_keystore_key_file_signs(cli: Cli, tmp_path: Path) -> None:
    keystore, password = tmp_path / "key.json", write(tmp_path, "password.txt", "secret\n")
    write_keystore(keystore, bytes.fromhex(DEV_KEYS[2][2:]), "secret", scrypt_n=2)
    datanet = int(cli.ok("datanet", "create", "--name", "k", "--key-file", keystore,
                         "--password-file", password))  # fmt: skip
    owner = cli.json("datanet", "create", "--name", "k2", "--key-file", keystore,
                     "--password-file", password)  # fmt: skip
    assert owner["datanetId"] == datanet + 1
    assert "give --password-file" in cli.fails("datanet", "create", "--name", "k",
                                               "--key-file", keystore)  # fmt: skip


def test_the_console_command_runs_as_a_process(node: ThreadedNode, tmp_path: Path) -> None:
    key = write(tmp_path, "key", DEV_KEYS[0])
    completed = subprocess.run(
        [sys.executable, "-m", "openledger.node.cli", "datanet", "create", "--name", "p",
         "--rpc", node.url, "--key-file", str(key), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["datanetId"] >= 1


def _pending(node: ThreadedNode, account: int) -> int:
    return int(ChainClient(node.url).view(ATTRIBUTION, "pendingRewards", DEV_ADDRESSES[account])[0])


def _inference(cli: Cli, inference: int) -> dict[str, Any]:
    values = ChainClient(cli.url).view(ATTRIBUTION, "getInference", inference)
    return {"model": values[0], "evidenceRoot": "0x" + values[4].hex()}
