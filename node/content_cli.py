"""The `openledger content` commands: content roots and content directories.

openledger content root FILE        prints the content root of FILE
openledger content put DIR FILE     stores FILE in the content directory DIR, prints its root
"""

import argparse
from pathlib import Path
from typing import Any

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.store import ContentDirectory
from openledger.genesis.errors import OpenLedgerError


class ContentCommandError(OpenLedgerError):
    """A `content` command could not read its input."""


def add_content_commands(commands: Any) -> None:
    """Add `content root` and `content put` to the `openledger` subcommands."""
    content = commands.add_parser("content", help="content roots and content directories")
    actions = content.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    root = actions.add_parser("root", help="print the content root of a file")
    root.add_argument("file", type=Path)
    root.set_defaults(handler=_content_root)
    put = actions.add_parser("put", help="store a file in a content directory under its root")
    put.add_argument("directory", type=Path)
    put.add_argument("file", type=Path)
    put.set_defaults(handler=_content_put)
    for sub in (content, root, put):
        sub.set_defaults(log_level="warn")


def _content_root(args: argparse.Namespace) -> int:
    print("0x" + compute_content_root(_read(args.file)).hex())
    return 0


def _content_put(args: argparse.Namespace) -> int:
    print("0x" + ContentDirectory(args.directory).put(_read(args.file)).hex())
    return 0


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ContentCommandError(f"cannot read {path}: {error.strerror}") from None
