"""The report of a network run: its numbers, the human table and the JSON.

The two ratios are computed here, from numbers of the same run: the observed block interval over
the configured block time, and the network's transfer rate over the dev node's with the same
transfers.
"""

from dataclasses import asdict, dataclass
from typing import Any

from machine import Machine
from network_probes import CoresByProcess, FinalitySample
from report import TransferCheck
from rpc_load import SubmitResult, compute_percentile


@dataclass(frozen=True, slots=True)
class NetworkParameters:
    """What the run was asked to do."""

    blocks: int
    """Block intervals measured on the idle network."""
    finality_transfers: int
    """Transfers sent one at a time for the time to finality."""
    transfers: int
    """Transfers sent as fast as possible for the throughput."""
    senders: int
    """Dev accounts sending those, one client each."""
    block_time_ms: int
    """The genesis `openledger.consensus.blockTimeMs`: the pause after each commit."""
    seed: int
    """Seed of the random pauses before the finality transfers."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Mean and nearest-rank percentiles of some durations, in milliseconds."""

    count: int
    """How many durations."""
    mean_ms: float
    """Their mean."""
    p50_ms: float
    """Their median (nearest rank)."""
    p90_ms: float
    """Their 90th percentile (nearest rank)."""
    max_ms: float
    """The longest."""


def compute_summary(seconds: tuple[float, ...]) -> Summary:
    """The summary of durations given in seconds."""
    ordered = sorted(seconds)
    return Summary(
        count=len(ordered),
        mean_ms=sum(ordered) / max(1, len(ordered)) * 1000,
        p50_ms=compute_percentile(ordered, 0.50) * 1000,
        p90_ms=compute_percentile(ordered, 0.90) * 1000,
        max_ms=(ordered[-1] if ordered else 0.0) * 1000,
    )


@dataclass(frozen=True, slots=True)
class BlockTimeResult:
    """The idle network's block interval, as the RPC node announces heads."""

    first_height: int
    """The first height whose interval (from the height before) is measured."""
    intervals: tuple[float, ...]
    """Seconds between the arrivals of consecutive heights."""
    rounds: tuple[int, ...]
    """The round each of those heights was decided in."""
    cores: CoresByProcess
    """CPU use during the window."""


@dataclass(frozen=True, slots=True)
class FinalityResult:
    """Transfers sent one at a time, and when their receipts appeared on each node."""

    samples: tuple[FinalitySample, ...]
    """One per transfer, in submission order."""
    cores: CoresByProcess
    """CPU use during the phase."""


@dataclass(frozen=True, slots=True)
class ThroughputResult:
    """Transfers sent as fast as possible through the RPC node."""

    submit: SubmitResult
    """As the clients saw them (the server CPU is all five nodes')."""
    check: TransferCheck
    """As their receipts on the RPC node tell."""
    intervals: tuple[float, ...]
    """Seconds between the arrivals of consecutive heights while the transfers were mined."""
    rounds: tuple[int, ...]
    """The round each of those heights was decided in."""
    same_block_everywhere: bool
    """Every node holds the same block at the last height that holds transfers."""
    cores: CoresByProcess
    """CPU use during the submission window, per node."""


@dataclass(frozen=True, slots=True)
class DevReference:
    """The same transfers through a single `openledger dev` node (no consensus)."""

    submit: SubmitResult
    """As the clients saw them."""
    check: TransferCheck
    """As their receipts tell."""
    exit_status: int
    """The dev node's exit status after SIGTERM."""


@dataclass(frozen=True, slots=True)
class NetworkReport:
    """Every number of a run."""

    machine: Machine
    """What it ran on."""
    parameters: NetworkParameters
    """What it was asked to do."""
    background_cores: float
    """Cores other processes kept busy in the second before the run."""
    block_time: BlockTimeResult
    """1. The idle network's block interval."""
    finality: FinalityResult
    """2. Time to finality of single transfers."""
    throughput: ThroughputResult
    """3. Transfers as fast as possible."""
    dev: DevReference
    """The throughput reference: the same transfers through the dev node."""

    @property
    def interval(self) -> Summary:
        """The idle block interval."""
        return compute_summary(self.block_time.intervals)

    @property
    def interval_ratio(self) -> float:
        """Mean observed idle interval over the configured block time."""
        return self.interval.mean_ms / self.parameters.block_time_ms

    @property
    def network_tps(self) -> float:
        """Transfers per second through the network, first submission to last inclusion."""
        return self.throughput.check.receipts / self.throughput.submit.seconds

    @property
    def dev_tps(self) -> float:
        """Transfers per second through the dev node, measured the same way."""
        return self.dev.check.receipts / self.dev.submit.seconds

    @property
    def network_cpu_ms_per_transfer(self) -> float:
        """CPU of all five nodes per transfer during the throughput window."""
        submit = self.throughput.submit
        return submit.cores.server * submit.seconds / max(1, self.throughput.check.receipts) * 1e3

    @property
    def dev_cpu_ms_per_transfer(self) -> float:
        """CPU of the dev node per transfer during its window."""
        submit = self.dev.submit
        return submit.cores.server * submit.seconds / max(1, self.dev.check.receipts) * 1e3

    @property
    def ok(self) -> bool:
        """True when every transfer of both runs succeeded and the nodes agree."""
        expected = self.parameters.transfers
        return all(
            check.receipts == expected and check.failed == 0 and not submit.refused
            for submit, check in (
                (self.throughput.submit, self.throughput.check),
                (self.dev.submit, self.dev.check),
            )
        ) and (self.throughput.same_block_everywhere)


def format_report(report: NetworkReport) -> str:
    """The compact human table."""
    lines = [
        "",
        *_block_time_lines(report),
        "",
        *_finality_lines(report.finality),
        "",
        *_throughput_lines(report),
        "",
        *_cores_lines(report),
        "",
    ]
    if not report.ok:
        throughput, dev, expected = report.throughput, report.dev, report.parameters.transfers
        lines.append(
            "FAILED (the numbers above do not hold): "
            f"network {throughput.check.receipts}/{expected} receipts, "
            f"{throughput.check.failed} failed, refused {list(throughput.submit.refused)}, "
            f"same block everywhere: {throughput.same_block_everywhere}; "
            f"dev {dev.check.receipts}/{expected} receipts, {dev.check.failed} "
            f"failed, refused {list(dev.submit.refused)}"
        )
    if report.dev.exit_status != 0:
        lines.append(f"note: the dev node exited with status {report.dev.exit_status} on SIGTERM")
    return "\n".join(lines)


def compute_json(report: NetworkReport) -> dict[str, Any]:
    """Every number of the report, ratios included, as plain JSON values."""
    finality = report.finality.samples

    def transfers(submit: SubmitResult, check: TransferCheck, tps: float) -> dict[str, Any]:
        return {
            **asdict(submit),
            "tps": tps,
            "receipts": check.receipts,
            "failed": check.failed,
            "block_sizes": list(check.block_sizes),
        }

    return {
        "machine": asdict(report.machine),
        "parameters": asdict(report.parameters),
        "background_cores": report.background_cores,
        "block_time": {
            **asdict(report.block_time),
            "summary": asdict(report.interval),
            "observed_over_configured": report.interval_ratio,
        },
        "finality": {
            "samples": [asdict(sample) for sample in finality],
            "rpc": asdict(compute_summary(tuple(s.rpc_seconds for s in finality))),
            "all_validators": asdict(
                compute_summary(tuple(max(s.validator_seconds) for s in finality))
            ),
            "cores": asdict(report.finality.cores),
        },
        "throughput": {
            **transfers(report.throughput.submit, report.throughput.check, report.network_tps),
            "cpu_ms_per_transfer": report.network_cpu_ms_per_transfer,
            "intervals": list(report.throughput.intervals),
            "rounds": list(report.throughput.rounds),
            "same_block_everywhere": report.throughput.same_block_everywhere,
            "cores": asdict(report.throughput.cores),
        },
        "dev_reference": {
            **transfers(report.dev.submit, report.dev.check, report.dev_tps),
            "cpu_ms_per_transfer": report.dev_cpu_ms_per_transfer,
            "exit_status": report.dev.exit_status,
        },
        "network_over_dev_tps": report.network_tps / report.dev_tps,
        "network_over_dev_cpu_per_transfer": (
            report.network_cpu_ms_per_transfer / report.dev_cpu_ms_per_transfer
        ),
        "ok": report.ok,
    }


def _block_time_lines(report: NetworkReport) -> list[str]:
    block_time, interval = report.block_time, report.interval
    configured = report.parameters.block_time_ms
    idle_cpu_ms = block_time.cores.nodes_total * sum(block_time.intervals) * 1e3
    return [
        f"{'block time, idle':<44}{'mean':>8}{'p50':>8}{'p90':>8}{'max':>8}",
        _summary_row(f"  interval at rpc1, ms ({interval.count} blocks)", interval),
        f"{'  configured blockTimeMs':<44}{configured:>8}",
        f"{'  observed / configured':<44}{report.interval_ratio:>8.2f}"
        f"   (consensus per height: {interval.mean_ms - configured:.0f} ms)",
        f"{'  decided in round 0':<44}{_round_zero(block_time.rounds):>8}",
        f"{'  CPU per empty block, all nodes, ms':<44}"
        f"{idle_cpu_ms / max(1, len(block_time.intervals)):>8.1f}",
    ]


def _finality_lines(finality: FinalityResult) -> list[str]:
    samples = finality.samples
    return [
        f"{'time to finality, ms':<44}{'mean':>8}{'p50':>8}{'p90':>8}{'max':>8}",
        _summary_row(
            f"  receipt on rpc1 ({len(samples)} transfers)",
            compute_summary(tuple(sample.rpc_seconds for sample in samples)),
        ),
        _summary_row(
            "  receipt on all 4 validators",
            compute_summary(tuple(max(sample.validator_seconds) for sample in samples)),
        ),
    ]


def _throughput_lines(report: NetworkReport) -> list[str]:
    throughput, dev = report.throughput, report.dev
    loaded = compute_summary(throughput.intervals)
    return [
        f"{'throughput':<32}{'per s':>8}{'CPU ms/tx':>11}   detail",
        f"{'  network, through rpc1':<32}{report.network_tps:>8.1f}"
        f"{report.network_cpu_ms_per_transfer:>11.2f}   "
        + _transfers_detail(throughput.submit, throughput.check),
        f"{'    blocks while loaded':<32}{'':>19}   interval mean {loaded.mean_ms:.0f} ms, "
        f"p90 {loaded.p90_ms:.0f} ms; round 0: {_round_zero(throughput.rounds)}; "
        f"same block on every node: {'yes' if throughput.same_block_everywhere else 'NO'}",
        f"{'  dev node (reference)':<32}{report.dev_tps:>8.1f}"
        f"{report.dev_cpu_ms_per_transfer:>11.2f}   " + _transfers_detail(dev.submit, dev.check),
        f"{'  network / dev':<32}{report.network_tps / report.dev_tps:>8.2f}"
        f"{report.network_cpu_ms_per_transfer / report.dev_cpu_ms_per_transfer:>11.2f}",
    ]


def _cores_lines(report: NetworkReport) -> list[str]:
    names = [name for name, _ in report.block_time.cores.nodes]
    lines = [
        f"{'cores busy (CPU s / s)':<24}"
        + "".join(f"{name:>12}" for name in names)
        + f"{'client':>9}{'others':>9}"
    ]
    for label, cores in (
        ("  block time", report.block_time.cores),
        ("  finality", report.finality.cores),
        ("  throughput", report.throughput.cores),
    ):
        lines.append(
            f"{label:<24}"
            + "".join(f"{used:>12.2f}" for _, used in cores.nodes)
            + f"{cores.client:>9.2f}{cores.others:>9.2f}"
        )
    dev = report.dev.submit.cores
    lines.append(
        f"{'  dev node (reference)':<24}{dev.server:>12.2f}{'':>{12 * (len(names) - 1)}}"
        f"{dev.client:>9.2f}{dev.others:>9.2f}"
    )
    return lines


def _summary_row(label: str, summary: Summary) -> str:
    return (
        f"{label:<44}{summary.mean_ms:>8.0f}{summary.p50_ms:>8.0f}{summary.p90_ms:>8.0f}"
        f"{summary.max_ms:>8.0f}"
    )


def _round_zero(rounds: tuple[int, ...]) -> str:
    return f"{sum(1 for r in rounds if r == 0)}/{len(rounds)}"


def _transfers_detail(submit: SubmitResult, check: TransferCheck) -> str:
    blocks = len(check.block_sizes)
    return (
        f"{check.receipts} in {submit.seconds:.2f} s; {blocks} blocks, "
        f"{check.receipts / max(1, blocks):.1f} tx/block (largest "
        f"{max(check.block_sizes, default=0)}); {submit.pool_full_retries} pool-full retries"
    )
