"""`--http.api`: which method namespaces a node serves. A validator leaves out `debug` unless its
operator lists it; a method outside the served namespaces does not exist, as in geth."""

import pytest

from openledger.node.cli import build_parser
from openledger.node.commands import _rpc_config
from openledger.rpc import debug, misc
from openledger.rpc.dispatch import Dispatcher, RequestContext
from openledger.rpc.server import NAMESPACES

RUN = ["run", "--datadir", "d", "--genesis", "g.json"]
VALIDATOR = [*RUN, "--validator-key", "k.json"]


@pytest.mark.parametrize(
    ("argv", "served"),
    [
        (["dev"], None),
        (RUN, None),
        (VALIDATOR, NAMESPACES - {"debug"}),
        ([*VALIDATOR, "--http.api", "eth,net,debug"], {"eth", "net", "debug"}),
        (["dev", "--http.api", " eth , web3 "], {"eth", "web3"}),
    ],
)
def test_every_namespace_but_debug_on_a_validator(
    argv: list[str], served: frozenset[str] | None
) -> None:
    assert _rpc_config(build_parser().parse_args(argv)).namespaces == served


def test_an_unknown_namespace_is_refused_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args([*RUN, "--http.api", "eth,admin"])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert "--http.api" in message and "unknown namespace admin" in message and "debug" in message


async def test_a_method_outside_the_served_namespaces_does_not_exist() -> None:
    dispatcher = Dispatcher([misc.methods, debug.methods], namespaces=frozenset({"web3"}))
    context = RequestContext(api=None)
    served = await dispatcher.handle_request(
        {"jsonrpc": "2.0", "id": 1, "method": "web3_sha3", "params": ["0x"]}, context
    )
    assert served is not None and served["result"].startswith("0x")
    hidden = await dispatcher.handle_request(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "debug_traceTransaction",
            "params": ["0x" + "00" * 32],
        },
        context,
    )
    assert hidden is not None and hidden["error"]["code"] == -32601
