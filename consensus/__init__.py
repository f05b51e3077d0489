"""Consensus: validator sets, votes, commit certificates and the BFT state machine.

- `messages`: votes, proposals and commit certificates, and their RLP encoding.
- `signing`: what validators sign, signing and signer recovery.
- `certificate`: verifying that a commit certificate proves a commit.
- `validators`: validator sets, voting thresholds and proposer selection.
- `tally`: the votes of one height, their power, equivocations.
- `events`: the state machine's events, actions and timeouts.
- `state`: the state machine's state for one height.
- `machine`: the Tendermint state machine, one pure `step(state, event)` function.

Nothing here does I/O; the node loop (`openledger.node`) performs what the machine asks.
"""
