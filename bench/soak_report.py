"""The soak's report: resources per node over time, their trend, the restarts, the invariants.

**Flat within 10%** is judged per node over the second half of the run, on the samples of the
node's last process (a validator restarted in the second half starts from scratch) taken at
least `warmup` seconds after that process's first sample, when there are at least
`MIN_WINDOW_SAMPLES` of them: a resource is flat when its last sample is within 10% of its first
(|last - first| <= 0.10 x first): growth is what a leak shows, and a count of about 20
descriptors moves by one or two whenever a peer reconnects. The window's min..max is printed
beside it. Disk growth is the data directory's size at the last sample minus the first,
per minute of the run, and the same over the second half.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from soak_checks import ChainCheck, LogScan, LogsCheck
from soak_faults import Restart, Sample

FLAT_FRACTION = 0.10
MIN_WINDOW_SAMPLES = 3


@dataclass(frozen=True, slots=True)
class Trend:
    """One resource of one node over its window."""

    samples: int
    first: int
    last: int
    low: int
    high: int

    @property
    def flat(self) -> bool:
        """The last sample within 10% of the first."""
        return abs(self.last - self.first) <= FLAT_FRACTION * self.first

    @property
    def change(self) -> float:
        """From the first sample to the last, as a fraction of the first."""
        return (self.last - self.first) / self.first if self.first else 0.0


@dataclass(frozen=True, slots=True)
class NodeSummary:
    """The trends and disk growth of one node."""

    node: str
    window_start: float | None
    """Seconds since the start of the run of the window's first sample (None: no window)."""
    rss: Trend | None
    fds: Trend | None
    disk_per_minute: float
    """Bytes per minute over the run."""
    disk_per_minute_second_half: float


def summarise(node: str, samples: Sequence[Sample], duration: float, warmup: float) -> NodeSummary:
    """The trends of `node` from its samples (in time order)."""
    mine = [sample for sample in samples if sample.node == node]
    last_pid = mine[-1].pid if mine else None
    process = [sample for sample in mine if sample.pid == last_pid and sample.pid is not None]
    born = process[0].seconds if process else 0.0
    window = [s for s in process if s.seconds >= max(duration / 2, born + warmup)]
    half = [sample for sample in mine if sample.seconds >= duration / 2]
    return NodeSummary(
        node=node,
        window_start=window[0].seconds if len(window) >= MIN_WINDOW_SAMPLES else None,
        rss=_trend([s.rss_kib for s in window]),
        fds=_trend([s.fds for s in window]),
        disk_per_minute=_growth(mine),
        disk_per_minute_second_half=_growth(half),
    )


def _trend(values: Sequence[int | None]) -> Trend | None:
    known = [value for value in values if value is not None]
    if len(known) < MIN_WINDOW_SAMPLES:
        return None
    return Trend(len(known), known[0], known[-1], min(known), max(known))


def _growth(samples: Sequence[Sample]) -> float:
    if len(samples) < 2 or samples[-1].seconds <= samples[0].seconds:
        return 0.0
    minutes = (samples[-1].seconds - samples[0].seconds) / 60
    return (samples[-1].disk_bytes - samples[0].disk_bytes) / minutes


@dataclass(frozen=True, slots=True)
class SoakReport:
    """Everything the run measured and checked."""

    parameters: dict[str, Any]
    samples: tuple[Sample, ...]
    summaries: tuple[NodeSummary, ...]
    restarts: tuple[Restart, ...]
    longest_gaps: tuple[float, ...]
    """Per restart, the longest interval between consecutive heights announced by the RPC node
    from the signal until the validator signed again (or the bound ran out)."""
    load: dict[str, Any]
    chain: ChainCheck
    lost_receipts: dict[str, int]
    logs: LogsCheck
    log_scans: dict[str, LogScan]
    bound: float
    gap_bound: float

    def failures(self) -> list[str]:
        """The invariants that do not hold, in words."""
        failed = []
        if self.chain.disagreements:
            failed.append(f"nodes disagree at heights {list(self.chain.disagreements)[:10]}")
        for node, lost in self.lost_receipts.items():
            if lost:
                failed.append(f"{node} lost {lost} receipted transactions")
        if not self.logs.ok:
            failed.append(f"logs differ from the receipts: {asdict(self.logs)}")
        for node, scan in self.log_scans.items():
            if scan.double_signs:
                failed.append(f"{node} saw {scan.double_signs} double signs")
        for restart, gap in zip(self.restarts, self.longest_gaps, strict=True):
            if restart.signing is None:
                failed.append(f"{restart.node} did not sign again within {self.bound:g} s")
            if gap > self.gap_bound:
                failed.append(f"a gap of {gap:.1f} s between heights after {restart.node} stopped")
        if not self.load["receipted"]:
            failed.append("the load produced no receipts")
        if self.load["failed_receipts"]:
            failed.append(f"{self.load['failed_receipts']} receipts with status 0")
        return failed


def format_report(report: SoakReport) -> str:
    """The human report."""
    nodes = [summary.node for summary in report.summaries]
    lines = ["", "== resources per node (RSS MiB / open fds / datadir MiB) =="]
    lines.append("     t  " + "".join(f"{node:>22}" for node in nodes))
    for seconds in sorted({sample.seconds for sample in report.samples}):
        row = {s.node: s for s in report.samples if s.seconds == seconds}
        cells = "".join(f"{_cell(row.get(node)):>22}" for node in nodes)
        lines.append(f"{seconds:6.0f}s " + cells)
    lines += [
        "",
        "== second half: flat = last sample within 10% of the first (soak_report docstring) ==",
    ]
    for summary in report.summaries:
        lines.append(
            f"{summary.node:>11}: RSS {_describe(summary.rss, 1024)}; fds {_describe(summary.fds)}"
            f"; disk {summary.disk_per_minute / 2**20:.2f} MiB/min over the run, "
            f"{summary.disk_per_minute_second_half / 2**20:.2f} MiB/min over the second half"
        )
    lines += ["", f"== restarts (bound: signing again within {report.bound:g} s of the signal, "
              f"no gap over {report.gap_bound:g} s between heights) =="]  # fmt: skip
    for restart, gap in zip(report.restarts, report.longest_gaps, strict=True):
        lines.append(
            f"{restart.at:6.0f}s {restart.node} {restart.signal} at height {restart.height}: "
            f"exited {restart.exited:.1f} s, answering {restart.answering:.1f} s, caught up "
            f"{_seconds(restart.caught_up)}, signing {_seconds(restart.signing)}, longest gap "
            f"{gap:.1f} s" + (" (SIGTERM timed out: killed)" if restart.escalated else "")
        )
    load = report.load
    lines += ["", "== load ==", ", ".join(f"{key} {value}" for key, value in load.items())]
    lines += ["", "== invariants =="]
    lines.append(f"same hash and state root at heights 0..{report.chain.last} on every node: "
                 f"{'yes' if not report.chain.disagreements else 'NO'}")  # fmt: skip
    lines.append(f"receipted transactions lost, per node: {report.lost_receipts}")
    lines.append(f"contract logs: {asdict(report.logs)}")
    lines.append("double signs seen, error lines, per node: " + ", ".join(
        f"{node} {scan.double_signs}/{scan.error_lines}" for node, scan in report.log_scans.items()
    ))  # fmt: skip
    failures = report.failures()
    lines.append("result: " + ("every invariant holds" if not failures else "; ".join(failures)))
    return "\n".join(lines)


def _cell(sample: Sample | None) -> str:
    if sample is None or sample.rss_kib is None:
        return "down"
    return f"{sample.rss_kib / 1024:.0f} / {sample.fds} / {sample.disk_bytes / 2**20:.1f}"


def _describe(trend: Trend | None, scale: int = 1) -> str:
    if trend is None:
        return "n/a (too few samples of its last process in the second half)"
    verdict = "flat" if trend.flat else "NOT flat"
    return (
        f"{verdict} ({trend.low / scale:.0f}..{trend.high / scale:.0f} over {trend.samples} "
        f"samples, first->last {trend.change:+.1%})"
    )


def _seconds(value: float | None) -> str:
    return "NOT within the bound" if value is None else f"{value:.1f} s"


def compute_json(report: SoakReport) -> dict[str, Any]:
    """Every number, for `--json`."""
    return {
        "parameters": report.parameters,
        "samples": [asdict(sample) for sample in report.samples],
        "summaries": [
            {
                **asdict(summary),
                "rss_flat": summary.rss.flat if summary.rss else None,
                "fds_flat": summary.fds.flat if summary.fds else None,
            }
            for summary in report.summaries
        ],
        "restarts": [
            {**asdict(restart), "longest_gap": gap}
            for restart, gap in zip(report.restarts, report.longest_gaps, strict=True)
        ],
        "load": report.load,
        "chain": asdict(report.chain),
        "lost_receipts": report.lost_receipts,
        "logs": asdict(report.logs),
        "log_scans": {node: asdict(scan) for node, scan in report.log_scans.items()},
        "failures": report.failures(),
    }
