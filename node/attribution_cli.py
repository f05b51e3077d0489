"""The argument spec of the `datanet`, `model` and `attribution` subcommands: the command line of
contributors, curators, model operators and auditors (what each does: `attribution_commands`).

openledger datanet create --name N [--private] --key-file F
openledger datanet contribute --datanet ID --content DIR --key-file F FILE...
openledger datanet review --key-file F (--accept|--reject) [--quality Q] ID...
openledger datanet publish --datanet ID --key-file F
openledger model register --name N --datanet ID:VERSION... --method spans|declared --fee WEI
                          [--bond WEI] [--operator ADDRESS] --key-file F
openledger attribution trace --model ID --content DIR --output FILE
openledger attribution record --model ID --content DIR --output FILE --key-file F [--agent ID]
openledger attribution verify --inference ID --content DIR --output FILE [--challenge --key-file F]
openledger attribution overlap --datanet ID --content DIR FILE
openledger attribution claim --key-file F

Every command takes `--rpc URL` (default http://127.0.0.1:8545) and `--json`.
"""

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from openledger.node import attribution_commands as run
from openledger.node.attribution_verify import attribution_verify

DEFAULT_RPC = "http://127.0.0.1:8545"
MAX_UINT256 = (1 << 256) - 1


def add_attribution_commands(commands: Any) -> None:
    """Add `datanet`, `model` and `attribution` to the `openledger` subcommands."""
    datanet = _group(commands, "datanet", "create Datanets, contribute, review and publish")
    create = _command(datanet, "create", "create a Datanet; prints its id", run.datanet_create)
    create.add_argument("--name", required=True)
    create.add_argument("--uri", default="", help="metadata URI (default: none)")
    create.add_argument("--private", action="store_true",
                        help="only the owner and curators may contribute")  # fmt: skip
    _signer(create)
    contribute = _command(datanet, "contribute", "store files in a content directory and "
                          "contribute them; prints one contribution id per file",
                          run.datanet_contribute)  # fmt: skip
    contribute.add_argument("--datanet", type=_uint, required=True, metavar="ID")
    _content(contribute)
    contribute.add_argument("--uri", default="", help="where the content is published (optional)")
    contribute.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _signer(contribute)
    review = _command(datanet, "review", "accept or reject contributions", run.datanet_review)
    verdict = review.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--accept", dest="accept", action="store_true")
    verdict.add_argument("--reject", dest="accept", action="store_false")
    review.add_argument("--quality", type=_uint, default=0, help="0..100 (default 0)")
    review.add_argument("ids", nargs="+", type=_uint, metavar="ID")
    _signer(review)
    publish = _command(datanet, "publish", "publish a version; prints it", run.datanet_publish)
    publish.add_argument("--datanet", type=_uint, required=True, metavar="ID")
    _signer(publish)

    model = _group(commands, "model", "register models")
    register = _command(model, "register", "register a model; prints its id", run.model_register)
    register.add_argument("--name", required=True)
    register.add_argument("--uri", default="", help="model URI (default: none)")
    register.add_argument("--datanet", dest="datanets", action="append", type=_citation,
                          required=True, metavar="ID:VERSION", help="a cited Datanet version "
                          "(repeat for several)")  # fmt: skip
    register.add_argument("--method", choices=("spans", "declared"), required=True,
                          help="spans: weights follow from checkable span evidence; declared: "
                          "the operator's weights (unverified)")  # fmt: skip
    register.add_argument("--fee", type=_uint, required=True, metavar="WEI")
    register.add_argument("--bond", type=_uint, default=0, metavar="WEI",
                          help="the operator's bond (spans; sent with the transaction)")  # fmt: skip
    register.add_argument("--operator", type=_address, metavar="ADDRESS",
                          help="who records inferences (default: the key's account)")  # fmt: skip
    register.add_argument("--parent", type=_uint, default=0, metavar="MODEL",
                          help="the model this one derives from")  # fmt: skip
    _signer(register)

    attribution = _group(commands, "attribution", "trace, record and verify attributions")
    trace = _command(attribution, "trace", "the span evidence and weights of an output",
                     run.attribution_trace)  # fmt: skip
    _model_output(trace)
    record = _command(attribution, "record", "record an inference; prints its id",
                      run.attribution_record)  # fmt: skip
    _model_output(record)
    record.add_argument("--agent", type=_uint, default=0, metavar="ID")
    record.add_argument("--fee", type=_uint, metavar="WEI", help="default: the model's fee")
    _signer(record)
    verify = _command(attribution, "verify", "re-derive a span record; prints consistent (exit 0) "
                      "or the fault (exit 1)", attribution_verify)  # fmt: skip
    verify.add_argument("--inference", type=_uint, required=True, metavar="ID")
    _content(verify)
    verify.add_argument("--output", type=Path, required=True, metavar="FILE",
                        help="the output's bytes")  # fmt: skip
    verify.add_argument("--challenge", action="store_true",
                        help="submit the proof of the fault found (needs --key-file)")  # fmt: skip
    _signer(verify, required=False)
    overlap = _command(attribution, "overlap", "how much of a candidate contribution accepted "
                       "contributions already hold", run.attribution_overlap)  # fmt: skip
    overlap.add_argument("--datanet", type=_uint, required=True, metavar="ID")
    _content(overlap)
    overlap.add_argument("file", type=Path, metavar="FILE")
    claim = _command(attribution, "claim", "claim your pending rewards", run.attribution_claim)
    _signer(claim)


def _group(commands: Any, name: str, help_text: str) -> Any:
    parser = commands.add_parser(name, help=help_text)
    parser.set_defaults(log_level="warn")
    return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)


def _command(
    group: Any, name: str, help_text: str, handler: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text,
                                                       description=help_text)  # fmt: skip
    parser.add_argument("--rpc", default=DEFAULT_RPC, metavar="URL",
                        help=f"the node's JSON-RPC (default {DEFAULT_RPC})")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=handler, log_level="warn")
    return parser


def _signer(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--key-file", dest="key_file", type=Path, required=required,
                        metavar="F", help="a hex private key, or a keystore")  # fmt: skip
    parser.add_argument("--password-file", dest="password_file", type=Path,
                        help="unlocks a keystore --key-file (first line)")  # fmt: skip


def _content(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, required=True, metavar="DIR",
                        help="content directory: blobs named by their content roots")  # fmt: skip
    parser.add_argument("--index", type=Path, metavar="DIR",
                        help="span index directory (default DIR/.index/...)")  # fmt: skip


def _model_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=_uint, required=True, metavar="ID")
    _content(parser)
    parser.add_argument("--output", type=Path, required=True, metavar="FILE",
                        help="the output's bytes (UTF-8)")  # fmt: skip


def _uint(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_UINT256:
        raise argparse.ArgumentTypeError(f"{value} is not a uint256")
    return value


def _citation(text: str) -> tuple[int, int]:
    datanet, _, version = text.partition(":")
    if not version:
        raise argparse.ArgumentTypeError(f"{text!r} is not ID:VERSION")
    return _uint(datanet), _uint(version)


def _address(text: str) -> str:
    if not re.fullmatch(r"0x[0-9a-fA-F]{40}", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a 0x-prefixed 20-byte hex address")
    return str(to_checksum_address(text.lower()))
