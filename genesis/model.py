"""The genesis values: what a chain starts from, after parsing and validation.

These are plain frozen values with defaults; `genesis.load` builds them from a geth-style JSON
document and is the only place that knows the JSON spelling of each field. Consensus, staking
and attribution read their parameters from here, so every tunable of the chain lives in one file.
"""

from dataclasses import dataclass, field

from openledger.genesis.types import Address, ChainId, Gas, Timestamp, Wei

GWEI = 10**9
ETHER = 10**18

DEFAULT_GAS_LIMIT = Gas(30_000_000)
DEFAULT_BASE_FEE = Wei(GWEI)


def _precompile(suffix: str) -> Address:
    return Address(bytes.fromhex(suffix.rjust(40, "0")))


STAKING_ADDRESS = _precompile("0800")
DATANETS_ADDRESS = _precompile("0a01")
MODELS_ADDRESS = _precompile("0a02")
AGENTS_ADDRESS = _precompile("0a03")
ATTRIBUTION_ADDRESS = _precompile("0a04")
PRECOMPILE_ADDRESSES = (
    STAKING_ADDRESS,
    DATANETS_ADDRESS,
    MODELS_ADDRESS,
    AGENTS_ADDRESS,
    ATTRIBUTION_ADDRESS,
)
"""Addresses of OpenLedger's native precompiles."""

PRECOMPILE_CODE = b"\x01"
"""The one byte of code genesis places at each precompile address: Solidity refuses to call an
address without code when the called function returns nothing."""


@dataclass(frozen=True, slots=True)
class Account:
    """One prefunded or predeployed account of the genesis `alloc`."""

    balance: Wei = Wei(0)
    """Starting balance."""
    nonce: int = 0
    """Starting nonce."""
    code: bytes = b""
    """Runtime bytecode, empty for an externally owned account."""
    storage: tuple[tuple[int, int], ...] = ()
    """Storage slots as (slot, value) pairs, sorted by slot, zero values left out."""


@dataclass(frozen=True, slots=True)
class GenesisValidator:
    """A validator of the first validator set."""

    address: Address
    """The validator's signing address (the address of its secp256k1 key)."""
    stake: Wei
    """Self-stake bonded at genesis; it is the validator's voting power."""
    commission_bps: int = 1000
    """Share of its delegators' rewards the validator keeps, in basis points."""


@dataclass(frozen=True, slots=True)
class ConsensusParams:
    """Block time and round timeouts; every validator must use the same values."""

    block_time_ms: int = 1000
    """Target time between blocks: the pause after a commit before the next height starts."""
    timeout_propose_ms: int = 3000
    """How long a validator waits for a proposal in round 0."""
    timeout_propose_delta_ms: int = 500
    """Added to the propose timeout for each further round."""
    timeout_prevote_ms: int = 1000
    """How long a validator waits for more prevotes after seeing +2/3 of any."""
    timeout_prevote_delta_ms: int = 500
    """Added to the prevote timeout for each further round."""
    timeout_precommit_ms: int = 1000
    """How long a validator waits for more precommits after seeing +2/3 of any."""
    timeout_precommit_delta_ms: int = 500
    """Added to the precommit timeout for each further round."""


@dataclass(frozen=True, slots=True)
class StakingParams:
    """The staking precompile's rules: who validates, how they are paid and punished.

    Defaults follow the Cosmos SDK (`x/staking`, `x/slashing`) and CometBFT values, with blocks
    counted at the default one-second block time.
    """

    max_validators: int = 100
    """Size of the active set: the top validators by stake (at most 10000, the most precommits a
    commit certificate may carry)."""
    min_validator_stake: Wei = Wei(1000 * ETHER)
    """Least self-stake a validator must bond to register and to be eligible for the active set."""
    min_delegation: Wei = Wei(ETHER)
    """Least amount one delegation may add."""
    epoch_length: int = 100
    """Blocks per epoch; the active set is recomputed at the end of every block whose number is a
    multiple of it, and that set signs from the next block on."""
    unbonding_blocks: int = 1_814_400
    """Blocks an undelegated stake waits before it can be withdrawn (21 days of one-second
    blocks, as Cosmos); must exceed `evidence_max_age_blocks`."""
    block_reward: Wei = Wei(2 * ETHER)
    """New OPEN issued with every block, shared by the validators that signed the parent's commit
    and their delegators."""
    downtime_window: int = 100
    """Number of recent commits over which a validator's missed signatures are counted (at most
    65536)."""
    min_signed_per_window_bps: int = 5000
    """Least share of the window a validator must sign, in basis points, or it is jailed."""
    downtime_jail_blocks: int = 600
    """Blocks a validator jailed for downtime must wait before it may unjail."""
    downtime_slash_bps: int = 100
    """Share of bonded stake slashed (and burned) for downtime, in basis points."""
    double_sign_slash_bps: int = 500
    """Share of stake slashed for signing two conflicting votes, in basis points."""
    evidence_reward_bps: int = 1000
    """Share of the slashed amount paid to whoever submitted the evidence, in basis points; the
    rest is burned."""
    evidence_max_age_blocks: int = 100_000
    """Evidence for a height more than this many blocks before the block that includes it
    expires (CometBFT's `MaxAgeNumBlocks`) if it is also older than `evidence_max_age_seconds`;
    must be below `unbonding_blocks`. Evidence `unbonding_blocks` old or more is refused whatever
    its age in time, as the stake unbonding since the offence may have been withdrawn."""
    evidence_max_age_seconds: int = 172_800
    """Evidence whose offence is more than this many seconds (by block timestamps) before the
    block that includes it expires (CometBFT's `MaxAgeDuration`, 48 hours by default) if it is
    also older than `evidence_max_age_blocks`: it is refused only when older than both."""
    max_delegations_per_account: int = 32
    """Most validators one account may delegate to at once (bounds `claimRewards`)."""
    max_unbonding_entries: int = 32
    """Most unbonding entries one account may have waiting (bounds `withdraw`)."""


@dataclass(frozen=True, slots=True)
class AttributionParams:
    """Parameters of the Datanet, model, agent and attribution precompiles (`attribution/`)."""

    protocol_fee_bps: int = 1000
    """Share of each inference fee paid to the protocol (validators and stakers), in basis
    points."""
    model_owner_fee_bps: int = 3000
    """Share of each inference fee paid to the model's owner, in basis points."""
    agent_owner_fee_bps: int = 1000
    """Share paid to the agent's owner when an inference names an agent, in basis points;
    otherwise it goes to the contributors. The contributors get the rest of the fee."""
    protocol_account: Address = Address(b"\x00" * 20)
    """Account whose pending rewards receive the protocol share while the chain hands it to no
    staking sink (claimable with `claim()`). The zero address leaves it unclaimable."""
    max_contributions_per_inference: int = 64
    """Most contributions one inference may credit (at least 1)."""
    max_datanets_per_model: int = 32
    """Most Datanets one model may cite (at least 1)."""
    daily_contribution_bytes: int = 1 << 30
    """Declared bytes one contributor may add to one Datanet per day (UTC day of the block
    timestamp)."""
    daily_contribution_count: int = 1000
    """Contributions one contributor may add to one Datanet per day."""
    flag_penalty_threshold: int = 3
    """Flags after which a contributor may no longer contribute to that Datanet."""
    min_agent_stake: Wei = Wei(100 * ETHER)
    """Least stake an agent must bond to register."""
    agent_unbonding_blocks: int = 1000
    """Blocks an agent's stake waits between `requestUnstake` and `withdrawStake`."""
    min_span_bytes: int = 40
    """Verbatim spans: the shortest output span that counts, in bytes."""
    max_occurrences: int = 8
    """Verbatim spans: a span held by more contributions than this is boilerplate (earns nothing)."""
    omission_bytes: int = 80
    """Verbatim spans: an uncovered output span at least this long that a cited contribution
    holds proves a record incomplete (at least `min_span_bytes`)."""
    scoring_rule: int = 1
    """Verbatim spans: the rule turning spans into weights (1: new bytes, the only one)."""
    challenge_window: int = 100
    """Blocks after a span record during which it may be challenged; its contributor payouts
    are claimable from block `record + challengeWindow` on."""
    min_operator_bond: Wei = Wei(10 * ETHER)
    """Least bond of a verbatim-span model, in wei."""
    bond_fee_multiple: int = 10
    """A span record with fee F needs a bond of at least `bondFeeMultiple * F` (and
    `minOperatorBond`); a proven challenge slashes `min(bond, bondFeeMultiple * F)`."""
    challenger_share_bps: int = 5000
    """Share of a slashed bond paid to the challenger, in basis points (the rest to the
    protocol)."""
    max_span_entries: int = 1024
    """Most evidence entries one span record may carry."""


@dataclass(frozen=True, slots=True)
class OpenLedgerParams:
    """The `openledger` section of a genesis file."""

    validators: tuple[GenesisValidator, ...] = ()
    """The first validator set."""
    consensus: ConsensusParams = field(default_factory=ConsensusParams)
    """Block time and round timeouts."""
    staking: StakingParams = field(default_factory=StakingParams)
    """Staking, reward and slashing rules."""
    attribution: AttributionParams = field(default_factory=AttributionParams)
    """Datanet, model, agent and attribution rules."""


@dataclass(frozen=True, slots=True)
class Genesis:
    """A validated genesis: the chain id, the first block's header fields and the first state."""

    chain_id: ChainId
    """EIP-155 chain id; wallets compare it with `eth_chainId`."""
    alloc: tuple[tuple[Address, Account], ...]
    """Accounts present at genesis, sorted by address."""
    gas_limit: Gas = DEFAULT_GAS_LIMIT
    """Gas limit of every block (this chain keeps it constant)."""
    base_fee: Wei = DEFAULT_BASE_FEE
    """Base fee of the genesis block; later base fees follow EIP-1559."""
    timestamp: Timestamp = Timestamp(0)
    """Timestamp of the genesis block."""
    extra_data: bytes = b""
    """Extra data of the genesis block, at most 32 bytes."""
    coinbase: Address = Address(b"\x00" * 20)
    """Coinbase of the genesis block."""
    mix_hash: bytes = b"\x00" * 32
    """Mix hash of the genesis block."""
    openledger: OpenLedgerParams = field(default_factory=OpenLedgerParams)
    """Validators and the chain's own parameters."""

    def alloc_dict(self) -> dict[Address, Account]:
        """The alloc as a mapping, for lookups."""
        return dict(self.alloc)
