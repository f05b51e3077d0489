"""Consensus: validator sets, votes, commit certificates and the BFT state machine.

- `messages`: votes, proposals and commit certificates, and their RLP encoding.
- `signing`: what validators sign, signing and signer recovery.
- `certificate`: verifying that a commit certificate proves a commit.
- `validators`: validator sets, voting thresholds and proposer selection.
- `tally`: the votes of one height, their power, equivocations.
- `events`: the state machine's events, actions and timeouts.
- `state`: the state machine's state for one height.
- `machine`: the Tendermint state machine, one pure `step(state, event)` function.
- `chain_rules`: what ties a block to consensus (`extraData`, `mixHash`, proposer, timestamps,
  body), for producers (`make_template`) and checkers (`check_block_rules`).
- `staking/`: the staking precompile at 0x...0800 (validators, delegations, rewards, jail,
  double-sign evidence), the epoch rules that choose the active set, and the block hooks; its
  `__init__` lists the entry points the node uses.

The BFT modules do no I/O; the consensus host (`openledger.node.consensus_host`) performs what the
machine asks. The staking subpackage runs inside block execution, on the EVM state.
"""
