"""Test doubles shared by the suites (on the test path as `support`): the in-memory network
(`memory`) and fake time (`clock`). They are not part of the product: the node's `node/p2p/` is
the transport only."""
