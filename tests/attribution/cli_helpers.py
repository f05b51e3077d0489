"""Helpers of the attribution command-line tests: running `openledger` against a real dev node,
key files, and a small corpus whose copies the tests plant in outputs."""

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from openledger.genesis.dev import derive_dev_keys
from openledger.node.cli import main

DEV = derive_dev_keys(6)
"""Dev accounts 0 (Datanet owner, model operator) to 5, funded by the dev chain."""


def private_key(index: int) -> bytes:
    return DEV[index].private_key


def address(index: int) -> str:
    return str(to_checksum_address(DEV[index].address))


ALICE = (
    "The lighthouse keeper climbed the spiral stairs every evening at dusk, carrying a can of "
    "whale oil and a brass key that had belonged to her grandmother before the war."
)
BOB = (
    "Glaciers carve valleys slowly, grinding bedrock into fine flour that turns the meltwater "
    "rivers a milky turquoise colour visible from high mountain passes in late summer."
)
CAROL = (
    "A sourdough starter needs regular feeding with flour and water, and a warm kitchen helps "
    "the wild yeast and lactic bacteria produce the gas that makes bread rise well."
)
ALICE_COPY = "carrying a can of whale oil and a brass key that had belonged to her grandmother"
BOB_COPY = "grinding bedrock into fine flour that turns the meltwater rivers a milky turquoise"
OUTPUT = (
    "Here is a short story that mixes several things together. She walked up, "
    + ALICE_COPY
    + ", and looked out over the bay, thinking about how glaciers work: "
    + BOB_COPY
    + " in the spring, which is quite unlike anything a kitchen does."
).encode()


@dataclass
class Cli:
    """Runs `openledger ARGS --rpc URL` in this process (its `main`), capturing what it prints."""

    url: str
    keys: Path

    def key_file(self, index: int) -> Path:
        """A hex key file of dev account `index`."""
        path = self.keys / f"key{index}.txt"
        if not path.exists():
            path.write_text("0x" + private_key(index).hex() + "\n")
        return path

    def run(self, *argv: Any, key: int | None = None) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) of one command; `key` adds `--key-file` of that account."""
        args = [str(arg) for arg in argv] + ["--rpc", self.url]
        if key is not None:
            args += ["--key-file", str(self.key_file(key))]
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = main(args)
        return status, out.getvalue(), err.getvalue()

    def ok(self, *argv: Any, key: int | None = None) -> str:
        """stdout of a command that must succeed."""
        status, out, err = self.run(*argv, key=key)
        assert status == 0, f"openledger {' '.join(map(str, argv))} failed: {err}"
        return out

    def json(self, *argv: Any, key: int | None = None) -> Any:
        """The JSON object a command prints with `--json`."""
        return json.loads(self.ok(*argv, "--json", key=key))

    def fails(self, *argv: Any, key: int | None = None) -> str:
        """The one-line error of a command that must fail with status 1."""
        status, out, err = self.run(*argv, key=key)
        assert status == 1, f"expected failure, got {status}: {out}{err}"
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        return lines[0]


def write(directory: Path, name: str, text: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path
