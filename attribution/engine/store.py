"""Content directories: blobs stored under their content root (`attribution.content`).

A content directory is a flat folder; the file holding content whose root is `R` is named by
`R` in lowercase hex without `0x`. Every read checks the blob against the root it was asked for,
so a tool never uses bytes its chain record does not commit to.
"""

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.index import Content
from openledger.genesis.errors import OpenLedgerError


class ContentError(OpenLedgerError):
    """A contribution's content is missing from a content directory or does not match its root."""


class ContentDirectory:
    """A folder of blobs named by their content roots."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def put(self, data: bytes) -> bytes:
        """Store `data` under its root (atomically; an existing blob is kept) and return the root."""
        root = compute_content_root(data)
        target = self.path / root.hex()
        if target.exists():
            return root
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path, prefix=".put-")
        except OSError as error:
            raise ContentError(f"cannot store content in {self.path}: {error.strerror}") from None
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return root

    def get(self, root: bytes, what: str) -> bytes:
        """The blob of `root`, checked against it; `what` names it in errors ("contribution 7")."""
        target = self.path / root.hex()
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise ContentError(
                f"{what}: content 0x{root.hex()} is not in the content directory {self.path}"
            ) from None
        if compute_content_root(data) != root:
            raise ContentError(
                f"{what}: the blob {target} does not match its content root 0x{root.hex()}"
            )
        return data


def read_contributions(
    directory: ContentDirectory, contributions: Iterable[tuple[int, bytes]]
) -> list[Content]:
    """The checked bytes of each `(contribution id, content root)`, for `SpanIndex.sync`."""
    return [Content(cid, directory.get(root, f"contribution {cid}")) for cid, root in contributions]
