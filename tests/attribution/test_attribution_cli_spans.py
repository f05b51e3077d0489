"""Span models through the command line on a real dev node: an honest record pays its contributors
after the challenge window; wrong records are proven wrong with `verify --challenge`, voided and
slashed, and the challenger is paid; an honest record survives every proof kind.

Dishonest records are built by the test and sent through the shipped ABI (`ChainClient` with the
precompile's method table): the command line only ever sends the record `trace` derives.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_helpers import ALICE, BOB, CAROL, OUTPUT, Cli, address, private_key, write
from eth_hash.auto import keccak
from helpers import ThreadedNode, result, threaded_node

from openledger.attribution.content import build_range_proof, compute_content_root
from openledger.attribution.engine.evidence import Entry, encode_evidence
from openledger.attribution.span_proofs import encode_range_proof
from openledger.attribution.span_records import FINAL, IN_WINDOW, VOIDED
from openledger.attribution.split import compute_fee_split
from openledger.node.attribution_commands import new_inference_hash
from openledger.node.attribution_corpus import ATTRIBUTION, MODELS
from openledger.node.chain_client import ChainClient, ChainClientError

FEE = 10**15
pytestmark = pytest.mark.slow  # a real dev node and dozens of transactions per test
BOND = 20 * 10**18
OPERATOR, CHALLENGER = 0, 4


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedNode]:
    with threaded_node(tmp_path_factory.mktemp("chain")) as running:
        yield running


@dataclass
class SpanSetup:
    cli: Cli
    client: ChainClient
    model: int
    content: Path
    output: Path
    alice: int
    bob: int
    carol: int
    copy: int
    honest: list[Entry]

    def send_record(self, entries: list[Entry]) -> int:
        """A record with these entries, sent by the operator through the ABI."""
        receipt = self.client.transact(
            private_key(OPERATOR), ATTRIBUTION, "recordSpanInference", self.model,
            0, new_inference_hash(compute_content_root(OUTPUT)), compute_content_root(OUTPUT),
            len(OUTPUT), encode_evidence(entries), value=FEE,
        )  # fmt: skip
        return int(ATTRIBUTION.logs(receipt, _event("InferenceRecorded"))[0]["inferenceId"])

    def verify(self, inference: int, *extra: object) -> tuple[int, str, str]:
        return self.cli.run("attribution", "verify", "--inference", inference, "--content",
                            self.content, "--output", self.output, *extra)  # fmt: skip


@pytest.fixture
def setup(node: ThreadedNode, tmp_path: Path) -> SpanSetup:
    cli, content = Cli(node.url, tmp_path), tmp_path / "content"
    datanet = int(cli.ok("datanet", "create", "--name", "spans", key=0))
    ids = []
    for account, name, text in ((1, "alice", ALICE), (2, "bob", BOB), (3, "carol", CAROL),
                                (5, "copy", ALICE + " Reposted.")):  # fmt: skip
        path = write(tmp_path, f"{name}.txt", text)
        ids.append(int(cli.ok("datanet", "contribute", "--datanet", datanet, "--content", content,
                              path, key=account)))  # fmt: skip
    cli.ok("datanet", "review", "--accept", *ids, key=0)
    cli.ok("datanet", "publish", "--datanet", datanet, key=0)
    model = int(cli.ok("model", "register", "--name", "spans", "--datanet", f"{datanet}:1",
                       "--method", "spans", "--fee", FEE, "--bond", BOND, key=OPERATOR))  # fmt: skip
    output = write(tmp_path, "output.txt", OUTPUT)
    traced = cli.json("attribution", "trace", "--model", model, "--content", content, "--output",
                      output)  # fmt: skip
    honest = [Entry(s["outputStart"], s["length"], s["contributionId"], s["contributionStart"])
              for s in traced["spans"]]  # fmt: skip
    return SpanSetup(cli, ChainClient(node.url), model, content, output, *ids, honest)


def test_trace_credits_the_two_copied_contributions_and_claim_after_the_window_pays_them(
    setup: SpanSetup, node: ThreadedNode
) -> None:
    assert [entry.contribution_id for entry in setup.honest] == [setup.alice, setup.bob]
    before = {account: _pending(setup, account) for account in (1, 2, 3, 5)}
    record = setup.cli.json("attribution", "record", "--model", setup.model, "--content",
                            setup.content, "--output", setup.output, key=OPERATOR)  # fmt: skip
    inference = record["inferenceId"]
    head = int(result(node.url, "eth_blockNumber"), 16)
    assert (
        record["maturesAtBlock"] == head + node.spec.genesis.openledger.attribution.challenge_window
    )
    assert record["evidenceRoot"] == "0x" + keccak(encode_evidence(setup.honest)).hex()
    weights = tuple(record["weights"][str(cid)] for cid in (setup.alice, setup.bob))
    params = node.spec.genesis.openledger.attribution
    split = compute_fee_split(params, FEE, weights, has_agent=False)
    locked = {account: _locked(setup, account) for account in (1, 2, 3, 5)}
    assert locked == {1: split.contributions[0], 2: split.contributions[1], 3: 0, 5: 0}

    status, out, _ = setup.verify(inference)
    assert (status, out.strip()) == (0, "consistent")
    assert setup.client.view(ATTRIBUTION, "getSpanInference", inference)[0] == IN_WINDOW
    result(node.url, "anvil_mine", [hex(params.challenge_window + 1)])
    assert setup.client.view(ATTRIBUTION, "getSpanInference", inference)[0] == FINAL
    for account, share in ((1, split.contributions[0]), (2, split.contributions[1])):
        claimed = int(setup.cli.ok("attribution", "claim", key=account))
        assert claimed == before[account] + share
    status, out, _ = setup.verify(inference)
    assert (status, out.strip()) == (0, "consistent")


def test_a_wrong_record_past_its_window_can_no_longer_be_challenged(
    setup: SpanSetup, node: ThreadedNode
) -> None:
    inference = setup.send_record(setup.honest[:1])  # omits Bob's span
    result(
        node.url, "anvil_mine", [hex(node.spec.genesis.openledger.attribution.challenge_window + 1)]
    )
    error = setup.cli.fails("attribution", "verify", "--inference", inference, "--content",
                            setup.content, "--output", setup.output, "--challenge",
                            key=CHALLENGER)  # fmt: skip
    assert "challenge window closed" in error


@pytest.mark.parametrize("fault", ["wrong contribution", "forged span", "omitted span"])
def test_a_wrong_record_is_challenged_voided_and_slashed_and_the_challenger_paid(
    setup: SpanSetup, fault: str
) -> None:
    alice_span, bob_span = setup.honest
    entries = {
        "wrong contribution": [  # the copy holds Alice's span too, but later
            Entry(
                alice_span.output_start,
                alice_span.length,
                setup.copy,
                alice_span.contribution_start,
            ),
            bob_span,
        ],
        "forged span": [alice_span, Entry(bob_span.output_start, bob_span.length, setup.carol, 0)],
        "omitted span": [alice_span],
    }[fault]
    expected_proof = {"wrong contribution": "earlier", "forged span": "mismatch",
                      "omitted span": "omission"}[fault]  # fmt: skip
    credited = (5, 2) if fault == "wrong contribution" else (1,)
    locked_before = {account: _locked(setup, account) for account in credited}
    inference = setup.send_record(entries)
    assert all(_locked(setup, account) > locked_before[account] for account in credited)
    bond_before = setup.client.view(MODELS, "getAttributionMethod", setup.model)[1]
    challenger_before = _pending(setup, CHALLENGER)

    status, out, _ = setup.verify(inference, "--json")
    verdict = json.loads(out)
    assert status == 1 and verdict["consistent"] is False and verdict["proof"] == expected_proof

    status, out, err = setup.verify(inference, "--challenge", "--json", "--key-file",
                                    setup.cli.key_file(CHALLENGER))  # fmt: skip
    assert status == 0, err
    voided = json.loads(out)
    assert voided["voided"] and voided["slashed"] > 0 and voided["challengerReward"] > 0
    assert setup.client.view(ATTRIBUTION, "getSpanInference", inference)[0] == VOIDED
    bond_after = setup.client.view(MODELS, "getAttributionMethod", setup.model)[1]
    assert bond_after == bond_before - voided["slashed"]
    assert _pending(setup, CHALLENGER) == challenger_before + voided["challengerReward"]
    assert {account: _locked(setup, account) for account in credited} == locked_before
    again = setup.verify(inference, "--challenge", "--key-file", setup.cli.key_file(CHALLENGER))
    assert again[0] == 1 and "voided" in again[2]


def test_an_honest_record_survives_every_proof_kind(setup: SpanSetup) -> None:
    record = setup.cli.json("attribution", "record", "--model", setup.model, "--content",
                            setup.content, "--output", setup.output, key=OPERATOR)  # fmt: skip
    inference = record["inferenceId"]
    status, out, _ = setup.verify(inference, "--challenge", "--key-file",
                                  setup.cli.key_file(CHALLENGER))  # fmt: skip
    assert (status, out.strip()) == (0, "consistent")
    entry = setup.honest[0]
    alice, copy = ALICE.encode(), (ALICE + " Reposted.").encode()
    evidence = encode_evidence(setup.honest)

    def out_proof(start: int, size: int) -> bytes:
        return encode_range_proof(len(OUTPUT), build_range_proof(OUTPUT, start, size))

    def held_proof(data: bytes, start: int, size: int) -> bytes:
        return encode_range_proof(len(data), build_range_proof(data, start, size))

    start, end = entry.output_start, entry.output_start + entry.length
    attempts = {
        "challengeMismatch": (inference, evidence, 0, 0, out_proof(start, 1),
                              held_proof(alice, entry.contribution_start, 1)),
        "challengeBoundaries": (inference, evidence, 0, out_proof(start - 1, 2),
                                out_proof(end - 1, 2)),
        "challengeEarlier": (inference, evidence, 0, setup.copy, entry.contribution_start,
                             out_proof(start, entry.length),
                             held_proof(copy, entry.contribution_start, entry.length)),
        "challengeOmission": (inference, evidence, start, entry.length, setup.alice,
                              entry.contribution_start, out_proof(start - 1, entry.length + 2),
                              held_proof(alice, entry.contribution_start, entry.length)),
    }  # fmt: skip
    key = private_key(CHALLENGER)
    for method, args in attempts.items():
        with pytest.raises(ChainClientError, match="refused"):
            setup.client.transact(key, ATTRIBUTION, method, *args)
    assert setup.client.view(ATTRIBUTION, "getSpanInference", inference)[0] == IN_WINDOW


def test_verify_names_an_output_that_is_not_the_recorded_one(setup: SpanSetup) -> None:
    inference = setup.send_record(setup.honest)
    other = write(setup.content.parent, "other.txt", OUTPUT + b" (edited)")
    error = setup.cli.fails("attribution", "verify", "--inference", inference, "--content",
                            setup.content, "--output", other)  # fmt: skip
    assert f"is not the output of inference {inference}" in error


def _pending(setup: SpanSetup, account: int) -> int:
    return int(setup.client.view(ATTRIBUTION, "pendingRewards", address(account))[0])


def _locked(setup: SpanSetup, account: int) -> int:
    return int(setup.client.view(ATTRIBUTION, "lockedRewards", address(account))[0])


def _event(name: str) -> object:
    return next(event for event in ATTRIBUTION.events if event.name == name)


def test_span_model_bad_input_gets_one_line_errors(setup: SpanSetup, node: ThreadedNode) -> None:
    datanet = setup.client.view(MODELS, "getModelDatanets", setup.model)[0][0]
    register = ("model", "register", "--name", "m", "--datanet", f"{datanet}:1", "--fee", FEE)
    error = setup.cli.fails(*register, "--method", "spans", "--bond", 1, key=OPERATOR)
    assert "registerSpanModel refused" in error and "below the required" in error
    error = setup.cli.fails(*register, "--method", "declared", "--bond", 1, key=OPERATOR)
    assert "--bond is for --method spans only" in error
    declared = int(setup.cli.ok(*register, "--method", "declared", key=OPERATOR))
    inference = int(setup.cli.ok("attribution", "record", "--model", declared, "--content",
                                 setup.content, "--output", setup.output, key=OPERATOR))  # fmt: skip
    error = setup.cli.fails("attribution", "verify", "--inference", inference, "--content",
                            setup.content, "--output", setup.output)  # fmt: skip
    assert "declared-weights record" in error
    error = setup.cli.fails("attribution", "verify", "--inference", 10**6, "--content",
                            setup.content, "--output", setup.output)  # fmt: skip
    assert "no inference 1000000" in error
    error = setup.cli.fails("attribution", "verify", "--inference", inference, "--content",
                            setup.content, "--output", setup.output, "--challenge")  # fmt: skip
    assert "--challenge needs --key-file" in error
