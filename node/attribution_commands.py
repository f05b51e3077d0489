"""What the `datanet`, `model` and `attribution` subcommands do (their arguments are in
`node/attribution_cli.py`).

Every command prints its result as plain text (one id per line, for scripts) or, with `--json`,
as one JSON object. Transactions wait for their receipts; results (ids, versions) are read from the
events the precompile emitted in that receipt.
"""

import argparse
import json
import secrets
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from openledger.attribution.engine.evidence import SpanParams, encode_evidence
from openledger.attribution.engine.store import ContentDirectory
from openledger.attribution.engine.trace import overlap, trace
from openledger.attribution.events import (
    CONTRIBUTION_SUBMITTED,
    DATANET_CREATED,
    INFERENCE_RECORDED,
    MODEL_REGISTERED,
    REWARDS_CLAIMED,
    SPAN_INFERENCE_RECORDED,
    VERSION_PUBLISHED,
)
from openledger.attribution.layout import AttributionMethod, Modality
from openledger.genesis.errors import OpenLedgerError
from openledger.node.attribution_corpus import (
    ATTRIBUTION,
    DATANETS,
    MODELS,
    accepted_members,
    load_corpus,
    model_index_name,
    model_members,
)
from openledger.node.chain_client import ChainClient, ChainClientError, address_of, load_key


class AttributionCommandError(OpenLedgerError):
    """An attribution command's input is unusable (the message says which and why)."""


# --- datanet ---------------------------------------------------------------------------------------


def datanet_create(args: argparse.Namespace) -> int:
    client, key = client_of(args), key_of(args)
    receipt = client.transact(key, DATANETS, "createDatanet", args.name, args.uri,
                              int(Modality.TEXT), not args.private)  # fmt: skip
    datanet = DATANETS.logs(receipt, DATANET_CREATED)[0]["datanetId"]
    print_result(
        args, {"datanetId": datanet, "transactionHash": receipt["transactionHash"]}, datanet
    )
    return 0


def datanet_contribute(args: argparse.Namespace) -> int:
    client, key = client_of(args), key_of(args)
    client.view(DATANETS, "getDatanet", args.datanet)  # an unknown Datanet fails before any file
    blobs = [(path, read_file(path)) for path in args.files]
    directory = ContentDirectory(args.content)
    done: list[dict[str, Any]] = []
    for path, data in blobs:
        if not data:
            raise AttributionCommandError(f"{path} is empty: a contribution holds at least a byte")
        root = directory.put(data)
        try:
            receipt = client.transact(key, DATANETS, "contribute", args.datanet, root,
                                      args.uri, len(data))  # fmt: skip
        except ChainClientError as error:
            made = ", ".join(str(item["contributionId"]) for item in done) or "none"
            raise ChainClientError(f"{path}: {error} (contributed before it: {made})") from None
        submitted = DATANETS.logs(receipt, CONTRIBUTION_SUBMITTED)[0]
        done.append({"file": str(path), "contributionId": submitted["contributionId"],
                     "contentRoot": "0x" + root.hex(), "size": len(data)})  # fmt: skip
    print_result(args, {"contributions": done}, *(item["contributionId"] for item in done))
    return 0


def datanet_review(args: argparse.Namespace) -> int:
    client, key = client_of(args), key_of(args)
    for contribution in args.ids:
        client.transact(key, DATANETS, "review", contribution, args.accept, args.quality)
    verdict = "accepted" if args.accept else "rejected"
    print_result(args, {verdict: args.ids}, *(f"{cid} {verdict}" for cid in args.ids))
    return 0


def datanet_publish(args: argparse.Namespace) -> int:
    client, key = client_of(args), key_of(args)
    receipt = client.transact(key, DATANETS, "publishVersion", args.datanet)
    published = DATANETS.logs(receipt, VERSION_PUBLISHED)[0]
    print_result(args, {"datanetId": args.datanet, "version": published["version"],
                  "root": "0x" + published["root"].hex(),
                  "contributionCount": published["contributionCount"]},
           published["version"])  # fmt: skip
    return 0


# --- model ----------------------------------------------------------------------------------------


def model_register(args: argparse.Namespace) -> int:
    client, key = client_of(args), key_of(args)
    datanet_ids = [datanet for datanet, _ in args.datanets]
    versions = [version for _, version in args.datanets]
    operator = args.operator or address_of(key)
    if args.method == "declared" and args.bond:
        raise AttributionCommandError("--bond is for --method spans only")
    method = "registerSpanModel" if args.method == "spans" else "registerModel"
    receipt = client.transact(key, MODELS, method, args.name, args.uri, datanet_ids, versions,
                              operator, args.fee, args.parent, value=args.bond)  # fmt: skip
    model = MODELS.logs(receipt, MODEL_REGISTERED)[0]["modelId"]
    print_result(args, {"modelId": model, "method": args.method,
                  "transactionHash": receipt["transactionHash"]}, model)  # fmt: skip
    return 0


# --- attribution ----------------------------------------------------------------------------------


def attribution_trace(args: argparse.Namespace) -> int:
    client = client_of(args)
    output = read_file(args.output)
    corpus = load_corpus(model_members(client, args.model), args.content, args.index,
                         model_index_name(client, args.model))  # fmt: skip
    found = trace(corpus.index, output, span_params(client, args.model))
    lines = [f"output root   {found.to_json()['outputRoot']}",
             f"evidence root {found.to_json()['evidenceRoot']}"]  # fmt: skip
    lines += [f"bytes {e.output_start}..{e.output_start + e.length - 1} = contribution "
              f"{e.contribution_id} from byte {e.contribution_start}" for e in found.entries]  # fmt: skip
    lines += [f"contribution {cid}: weight {weight}" for cid, weight in found.weights.items()]
    print_result(args, found.to_json(), *lines)
    return 0


def attribution_record(args: argparse.Namespace) -> int:
    client, key = client_of(args), key_of(args)
    output = read_file(args.output)
    corpus = load_corpus(model_members(client, args.model), args.content, args.index,
                         model_index_name(client, args.model))  # fmt: skip
    spans = is_span_model(client, args.model)
    found = trace(corpus.index, output, span_params(client, args.model))
    fee = args.fee if args.fee is not None else client.view(MODELS, "getModel", args.model)[4]
    inference_hash = new_inference_hash(found.output_root)
    if spans:
        receipt = client.transact(key, ATTRIBUTION, "recordSpanInference", args.model, args.agent,
                                  inference_hash, found.output_root, len(output),
                                  encode_evidence(found.entries), value=fee)  # fmt: skip
    elif found.weights:
        receipt = client.transact(key, ATTRIBUTION, "recordInference", args.model, args.agent,
                                  inference_hash, list(found.weights), list(found.weights.values()),
                                  found.evidence_root, value=fee)  # fmt: skip
    else:
        raise AttributionCommandError(
            f"the output credits no contribution of model {args.model}: a declared-weights "
            "record needs at least one"
        )
    inference = ATTRIBUTION.logs(receipt, INFERENCE_RECORDED)[0]["inferenceId"]
    window = [e["maturesAtBlock"] for e in ATTRIBUTION.logs(receipt, SPAN_INFERENCE_RECORDED)]
    print_result(args, {"inferenceId": inference, **found.to_json(),
                        "maturesAtBlock": window[0] if window else None,
                        "transactionHash": receipt["transactionHash"]}, inference)  # fmt: skip
    return 0


def attribution_claim(args: argparse.Namespace) -> int:
    client, key = client_of(args), key_of(args)
    receipt = client.transact(key, ATTRIBUTION, "claim")
    amount = ATTRIBUTION.logs(receipt, REWARDS_CLAIMED)[0]["amount"]
    print_result(args, {"account": address_of(key), "claimed": amount}, amount)
    return 0


def attribution_overlap(args: argparse.Namespace) -> int:
    client = client_of(args)
    candidate = read_file(args.file)
    members = accepted_members(client, args.datanet)
    corpus = load_corpus(members, args.content, args.index,
                         f"chain{client.chain_id}-overlap-{args.datanet}")  # fmt: skip
    found = overlap(corpus.index, candidate, SpanParams())
    share = round(found.share, 6)
    lines = [f"{share:.1%} of {args.file} ({found.covered_bytes} of {found.length} bytes) is in "
             f"accepted contributions of Datanet {args.datanet}"]  # fmt: skip
    lines += [f"contribution {cid}: {held} bytes" for cid, held in found.by_contribution.items()]
    print_result(args, {"length": found.length, "coveredBytes": found.covered_bytes, "share": share,
                  "contributions": {str(c): b for c, b in found.by_contribution.items()}},
           *lines)  # fmt: skip
    return 0


def new_inference_hash(output_root: bytes) -> bytes:
    """A fresh inference hash for an output: the same output may be recorded twice."""
    return keccak(output_root + secrets.token_bytes(32))


def is_span_model(client: ChainClient, model: int) -> bool:
    """Whether `model` is a verbatim-span model; an unknown model fails here, by name."""
    return int(client.view(MODELS, "getAttributionMethod", model)[0]) == AttributionMethod.SPANS


def span_params(client: ChainClient, model: int) -> SpanParams:
    """The span parameters pinned for `model`; the engine's defaults for a declared model."""
    if not is_span_model(client, model):
        return SpanParams()
    min_span_bytes, max_occurrences, omission_bytes, *_ = client.view(
        MODELS, "getSpanParams", model
    )
    return SpanParams(min_span_bytes, max_occurrences, omission_bytes)


# --- helpers ---------------------------------------------------------------------------------------


def client_of(args: argparse.Namespace) -> ChainClient:
    return ChainClient(args.rpc)


def key_of(args: argparse.Namespace) -> bytes:
    return load_key(args.key_file, getattr(args, "password_file", None))


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise AttributionCommandError(f"cannot read {path}: {error.strerror}") from None


def print_result(args: argparse.Namespace, document: dict[str, Any], *lines: Any) -> None:
    if args.json:
        print(json.dumps(document, default=_json_default))
    else:
        for line in lines:
            print(line)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    raise TypeError(f"{type(value).__name__} is not JSON")
