"""The root of OpenLedger's error hierarchy.

Every error we raise on purpose derives from `OpenLedgerError`, carries a message a user can act
on, and is caught only at the edges (the node loop, the RPC handler, the CLI). Each folder defines
its own subclasses next to the code that raises them; this module lives in `genesis/` only because
`genesis/` is the one folder every other folder may import.
"""


class OpenLedgerError(Exception):
    """Base class of every error OpenLedger raises on purpose."""


class GenesisError(OpenLedgerError):
    """A genesis file is malformed or inconsistent.

    `field` is the dotted path of the offending field (`config.chainId`, `alloc.0xab...balance`),
    so the user knows exactly what to fix.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"genesis field {field!r}: {problem}")
        self.field = field
        self.problem = problem
