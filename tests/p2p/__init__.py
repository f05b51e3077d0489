"""Tests of the peer-to-peer transport (`openledger.node.p2p`)."""
