"""The attribution and rewards precompile at `0x0000000000000000000000000000000000000a04`, put
together: declared-weights records and rewards (`rewards`), span records and locked payouts
(`span_records`, `locks`) and challenges (`challenges`), with their gas (`gas`, `span_gas`)."""

from openledger.attribution.challenges import CHALLENGE_SIGNATURES, ChallengeMethods
from openledger.attribution.events import ATTRIBUTION_EVENTS
from openledger.attribution.gas import compute_attribution_gas
from openledger.attribution.rewards import SIGNATURES
from openledger.attribution.sink import ProtocolSink
from openledger.attribution.span_gas import LOCKED_CLAIM_GAS, compute_span_gas
from openledger.attribution.span_records import SPAN_SIGNATURES
from openledger.genesis.model import ATTRIBUTION_ADDRESS, AttributionParams
from openledger.state.precompile import StatefulPrecompile, declare_precompile


def make_rewards_precompile(params: AttributionParams, sink: ProtocolSink) -> StatefulPrecompile:
    """The attribution and rewards precompile; `sink` receives the protocol share of fees (and
    what proven challenges forfeit and slash, beyond the challenger's reward)."""
    gas = {
        **compute_attribution_gas(sink.gas),
        **LOCKED_CLAIM_GAS,
        **compute_span_gas(sink.gas),
    }
    return declare_precompile(
        "attribution",
        ATTRIBUTION_ADDRESS,
        SIGNATURES + SPAN_SIGNATURES + CHALLENGE_SIGNATURES,
        ChallengeMethods(params, sink),
        gas,
        ATTRIBUTION_EVENTS,
    )
