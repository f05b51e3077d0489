"""A Datanet story told through web3.py with the ABI the explorer ships (`rpc/web/abi.json`):
a Datanet, three contributions (two accepted, one rejected), a version, a model citing it, an
agent, and two inferences; returns what the explorer must then show, computed from the README's
split rule written out again here."""

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import evidence_record
from eth_hash.auto import keccak
from web3 import Web3

ETHER = 10**18
ADDRESSES = {
    "IDatanets": "0x0000000000000000000000000000000000000a01",
    "IModels": "0x0000000000000000000000000000000000000a02",
    "IAgents": "0x0000000000000000000000000000000000000a03",
    "IAttribution": "0x0000000000000000000000000000000000000a04",
}
# The dev genesis' shares (AttributionParams defaults): protocol 10%, model owner 30%, agent 10%.
PROTOCOL_BPS, MODEL_OWNER_BPS, AGENT_BPS = 1000, 3000, 1000
HOSTILE_NAME = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
FEE = 10**15 + 7  # an odd fee, so that every division in the split leaves a remainder


@dataclass(frozen=True, slots=True)
class Inference:
    """One recorded inference and the payouts it must show, to the wei."""

    inference_id: int
    transaction: str
    fee: int
    protocol: int
    model_owner: int
    agent_owner: int
    contributions: dict[int, int]
    """Contribution id -> its share."""
    evidence_root: str


def shipped_abi() -> dict[str, Any]:
    """The ABI JSON the explorer page loads, read from the installed package."""
    path = resources.files("openledger.rpc") / "web" / "abi.json"
    return dict(json.loads(path.read_text()))


def split(fee: int, weights: list[int], *, agent: bool) -> tuple[int, int, int, list[int]]:
    """The documented split: (protocol, model owner, agent owner, each contribution's share)."""
    protocol, owner = fee * PROTOCOL_BPS // 10_000, fee * MODEL_OWNER_BPS // 10_000
    agent_share = fee * AGENT_BPS // 10_000 if agent else 0
    pool = fee - protocol - owner - agent_share
    parts = [pool * weight // sum(weights) for weight in weights]
    parts[weights.index(max(weights))] += pool - sum(parts)
    return protocol, owner, agent_share, parts


def tell(url: str, workdir: Path) -> dict[str, Any]:
    """Run the story against the dev node at `url` (the engine's index in `workdir`); return
    what the page must show."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    owner, alice, bob, carol, model_owner, agent_owner = w3.eth.accounts[:6]
    abi = shipped_abi()
    contract = {
        name: w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi[name])
        for name, address in ADDRESSES.items()
    }

    def send(function: Any, sender: str, value: int = 0) -> Any:
        tx = function.transact({"from": sender, "value": value})
        receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=30)
        assert receipt["status"] == 1, f"{function.fn_name} reverted"
        return receipt

    datanets, models = contract["IDatanets"], contract["IModels"]
    agents, attribution = contract["IAgents"], contract["IAttribution"]
    send(datanets.functions.createDatanet("Medical QA", "ipfs://meta", 0, True), owner)
    # Names are anyone's to choose: the page must show this one as text, never run it.
    send(datanets.functions.createDatanet(HOSTILE_NAME, "javascript:alert(1)", 1, False), carol)
    for contributor, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        content, size = evidence_record.content_hash(name), len(evidence_record.DOCUMENTS[name])
        send(datanets.functions.contribute(1, content, f"ipfs://{name}", size), contributor)
    for contribution, accept, quality in ((1, True, 90), (2, True, 70), (3, False, 10)):
        send(datanets.functions.review(contribution, accept, quality), owner)
    published = send(datanets.functions.publishVersion(1), owner)
    version_log = datanets.events.VersionPublished().process_receipt(published)[0]
    send(
        models.functions.registerModel("med-7b", "hf://med-7b", [1], [1], model_owner, FEE, 0),
        model_owner,
    )
    send(agents.functions.registerAgent(1, "agent://triage"), agent_owner, 100 * ETHER)

    inferences = []
    # Inference 1 carries span evidence, its weights the ones the evidence implies; inference 2
    # names an agent and declares its weights.
    traced = evidence_record.traced(workdir / "index")
    stories = ((1, 0, [traced.weights[1], traced.weights[2]], FEE, traced.evidence_root),
               (2, 1, [1, 1], 2 * FEE + 1, b"\x00" * 32))  # fmt: skip
    for number, agent_id, weights, fee, root in stories:
        receipt = send(
            attribution.functions.recordInference(
                1, agent_id, keccak(f"inference {number}".encode()), [1, 2], weights, root
            ),
            model_owner,
            fee,
        )
        protocol, owner_share, agent_share, parts = split(fee, weights, agent=agent_id != 0)
        inferences.append(
            Inference(
                number,
                receipt["transactionHash"].to_0x_hex(),
                fee,
                protocol,
                owner_share,
                agent_share,
                {1: parts[0], 2: parts[1]},
                "0x" + root.hex(),
            )
        )
    return {
        "hostileName": HOSTILE_NAME,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "modelOwner": model_owner,
        "versionRoot": "0x" + version_log.args.root.hex(),
        "inferences": [
            {
                "id": i.inference_id,
                "transaction": i.transaction,
                "fee": str(i.fee),
                "protocol": str(i.protocol),
                "modelOwner": str(i.model_owner),
                "agentOwner": str(i.agent_owner),
                "contributions": {str(k): str(v) for k, v in i.contributions.items()},
                "evidenceRoot": i.evidence_root,
            }
            for i in inferences
        ],
        "evidence": evidence_record.page_input(traced),
        "aliceEarned": str(sum(i.contributions[1] for i in inferences)),
        "aliceCumulative": [
            str(inferences[0].contributions[1]),
            str(sum(i.contributions[1] for i in inferences)),
        ],
    }
