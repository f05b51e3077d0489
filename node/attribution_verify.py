"""`openledger attribution verify`: re-derive a span record from scratch and, when it is wrong,
submit the proof.

The record is read from the chain (`getInference`, `getSpanInference` and the evidence bytes of
its `SpanInferenceRecorded` event); the corpus is the model's as of the record's block (the chain
judges a challenge against that block, `attribution.membership`); the audit and the challenge's
calldata are the engine's (`engine.audit.audit`, `span_proofs.challenge_call`).
"""

import argparse

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.audit import audit
from openledger.attribution.engine.evidence import decode_evidence
from openledger.attribution.events import INFERENCE_VOIDED, SPAN_INFERENCE_RECORDED
from openledger.attribution.span_proofs import challenge_call
from openledger.attribution.span_records import FINAL, UNVERIFIED, VOIDED
from openledger.node.attribution_commands import (
    AttributionCommandError,
    client_of,
    key_of,
    print_result,
    read_file,
    span_params,
)
from openledger.node.attribution_corpus import ATTRIBUTION, load_corpus, model_index_name
from openledger.node.attribution_corpus import model_members as members_of

PROOF_KINDS = {1: "mismatch", 2: "boundaries", 3: "earlier", 4: "omission"}


def attribution_verify(args: argparse.Namespace) -> int:
    client, inference = client_of(args), args.inference
    if args.challenge and args.key_file is None:
        raise AttributionCommandError("--challenge needs --key-file (the challenger's account)")
    key = key_of(args) if args.challenge else None
    output = read_file(args.output)
    model, *_, block, _ = client.view(ATTRIBUTION, "getInference", inference)
    status, output_root, output_length, matures, voided_at = client.view(
        ATTRIBUTION, "getSpanInference", inference
    )
    if status == UNVERIFIED:
        raise AttributionCommandError(
            f"inference {inference} is a declared-weights record: the chain cannot check it"
        )
    if (compute_content_root(output), len(output)) != (output_root, output_length):
        raise AttributionCommandError(
            f"{args.output} is not the output of inference {inference} (its content root "
            f"0x{compute_content_root(output).hex()} is not the recorded 0x{output_root.hex()})"
        )
    (recorded,) = client.get_logs(ATTRIBUTION, SPAN_INFERENCE_RECORDED, inference)
    entries = decode_evidence(recorded["evidence"])
    params = span_params(client, model)
    corpus = load_corpus(members_of(client, model, block=block), args.content, args.index,
                         model_index_name(client, model))  # fmt: skip
    verdict = audit(corpus.index, output, entries, corpus.contents, params)
    kind = type(verdict.challenge).__name__.lower() if verdict.challenge else None
    document: dict[str, object] = {"inferenceId": inference, "consistent": verdict.consistent,
                                   "finding": verdict.finding, "proof": kind}  # fmt: skip
    if verdict.consistent or not args.challenge:
        print_result(args, document, verdict.finding)
        return 0 if verdict.consistent else 1
    if verdict.challenge is None:
        raise AttributionCommandError(f"inference {inference}: {verdict.finding}")
    if status == VOIDED:
        raise AttributionCommandError(f"inference {inference} was voided at block {voided_at}")
    if status == FINAL:
        raise AttributionCommandError(
            f"inference {inference}: {verdict.finding}; but its challenge window closed at "
            f"block {matures}"
        )
    assert key is not None
    method, call_args = challenge_call(verdict.challenge, inference, entries, output,
                                       corpus.contents)  # fmt: skip
    receipt = client.transact(key, ATTRIBUTION, method, *call_args)
    event = ATTRIBUTION.logs(receipt, INFERENCE_VOIDED)[0]
    document.update(voided=True, slashed=event["slashed"], forfeited=event["forfeited"],
                    challengerReward=event["challengerReward"],
                    transactionHash=receipt["transactionHash"])  # fmt: skip
    print_result(args, document, verdict.finding,
           f"challenge accepted ({PROOF_KINDS.get(event['kind'], event['kind'])}): inference "
           f"{inference} voided, {event['slashed']} wei of bond slashed, {event['forfeited']} "
           f"wei of rewards forfeited, {event['challengerReward']} wei to the challenger")  # fmt: skip
    return 0
