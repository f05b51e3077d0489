"""A span-evidence record made by the attribution engine (`openledger.attribution.engine`): the
contributions of the story's Datanet indexed, an output traced against them, the record as
`trace` gives it. The chain holds only the record's evidence root (through `recordInference`);
the record and the output reach the page from whoever traced them."""

from pathlib import Path
from typing import Any

from openledger.attribution.content import compute_content_root
from openledger.attribution.engine.evidence import SpanParams
from openledger.attribution.engine.index import Content, SpanIndex
from openledger.attribution.engine.trace import Trace, trace

PARAMS = SpanParams(min_span_bytes=20, max_occurrences=1, omission_bytes=30)
"""Small spans count, and a span two contributions hold is boilerplate."""

COMMON = "Always read the label before you take any medicine."
DOCUMENTS = {
    "alice": f"For a mild fever, rest and drink plenty of fluids at night. {COMMON}",
    "bob": f"Keep taking plenty of fluids every day until it passes. {COMMON}",
    "carol": "Cough syrup is not for children under four.",
}
"""Each contributor's document; alice's and bob's are accepted, carol's rejected."""

OUTPUT = (
    "If you have a fever: rest and drink plenty of fluids every day until it passes. "
    f"See a doctor if breathing is hard. {COMMON} "
    + "This answer was written for the test and copies nothing else, word for word. "
    * 7
).strip()
"""Copies a span of alice's, an overlapping span of bob's, and the phrase both hold; over 512
bytes, so that its content root is a tree of three chunks (one padded with an empty subtree)."""


def content_hash(name: str) -> bytes:
    """What a contribution commits to: the content root of its document."""
    return compute_content_root(DOCUMENTS[name].encode())


def traced(directory: Path) -> Trace:
    """The engine's trace of `OUTPUT` against contributions 1 (alice) and 2 (bob)."""
    index = SpanIndex(directory)
    index.sync([Content(1, DOCUMENTS["alice"].encode()), Content(2, DOCUMENTS["bob"].encode())])
    return trace(index, OUTPUT.encode(), PARAMS)


def page_input(result: Trace) -> dict[str, Any]:
    """What a reader pastes into the page: the record and the output."""
    return {"record": result.to_json(), "output": OUTPUT}
