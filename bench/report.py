"""The report of a run: its numbers, the human table and the JSON.

The ratios are computed here, from numbers measured in the same run, so that a reader on another
machine compares ratios rather than raw rates.
"""

from dataclasses import asdict, dataclass
from typing import Any

from machine import Machine
from rpc_load import ReadResult, SubmitResult
from transfers import ExecutionResult


@dataclass(frozen=True, slots=True)
class Parameters:
    """What the run was asked to do."""

    transfers: int
    """Transfers sent end to end."""
    senders: int
    """Dev accounts sending them, one client each."""
    clients: int
    """Concurrent clients for the reads."""
    seconds: float
    """Duration of each read measurement."""


@dataclass(frozen=True, slots=True)
class TransferCheck:
    """What the receipts say about the transfers."""

    receipts: int
    """Transfers with a receipt."""
    failed: int
    """Receipts whose status is not 1."""
    block_sizes: tuple[int, ...]
    """Transfers per block, in block order."""
    blocks: tuple[tuple[bytes, ...], ...]
    """The raw transfers of each block, in block order (for the execution reference)."""


@dataclass(frozen=True, slots=True)
class Report:
    """Every number of a run."""

    machine: Machine
    """What it ran on."""
    parameters: Parameters
    """What it was asked to do."""
    background_cores: float
    """Cores other processes kept busy in the second before the run (0 on a quiet machine)."""
    transfers: SubmitResult
    """The end-to-end transfers, as the clients saw them."""
    check: TransferCheck
    """The transfers, as their receipts tell."""
    execution: ExecutionResult
    """The transfer reference: the same blocks executed in-process."""
    reads: tuple[ReadResult, ...]
    """The node's read measurements (`eth_blockNumber`, `eth_call`)."""
    bare: ReadResult
    """The read reference: the bare aiohttp server."""
    node_exit_status: int
    """The node's exit status after SIGTERM (0 when it stopped cleanly)."""

    @property
    def end_to_end_tps(self) -> float:
        """Transfers per second from the first submission to the last inclusion."""
        return self.check.receipts / self.transfers.seconds

    @property
    def node_cpu_ms_per_transfer(self) -> float:
        """Node CPU time (all threads) per transfer during the end-to-end window."""
        return (
            self.transfers.cores.server
            * self.transfers.seconds
            / max(1, self.check.receipts)
            * 1000
        )

    @property
    def execution_cpu_ms_per_transfer(self) -> float:
        """CPU time per transfer of the in-process execution."""
        return self.execution.execute_cpu_seconds / max(1, self.execution.transfers) * 1000

    @property
    def transfers_ratio(self) -> float:
        """End-to-end transfers per second over execution transfers per second."""
        return self.end_to_end_tps / self.execution.execute_tps

    @property
    def transfers_cpu_ratio(self) -> float:
        """Execution CPU per transfer over the node's CPU per transfer: the share of the node's
        work that is execution (less sensitive to other load on the machine than the rates)."""
        return self.execution_cpu_ms_per_transfer / max(1e-9, self.node_cpu_ms_per_transfer)

    @property
    def ok(self) -> bool:
        """True when every transfer succeeded and every read was answered correctly."""
        return (
            self.check.receipts == self.parameters.transfers
            and self.check.failed == 0
            and not self.transfers.refused
            and all(result.errors == 0 for result in (*self.reads, self.bare))
        )


def format_report(report: Report) -> str:
    """The compact human table."""
    transfers, check, execution = report.transfers, report.check, report.execution
    blocks = len(check.block_sizes)
    reads = (*report.reads, report.bare)
    lines = [
        "",
        f"{'transfers':<26}{'per s':>9}{'CPU ms/tx':>11}   detail",
        f"{'  end to end (RPC)':<26}{report.end_to_end_tps:>9.1f}"
        f"{report.node_cpu_ms_per_transfer:>11.2f}   {check.receipts} in "
        f"{transfers.seconds:.2f} s; {blocks} blocks, {check.receipts / max(1, blocks):.1f} "
        f"tx/block (largest {max(check.block_sizes, default=0)}); "
        f"{transfers.pool_full_retries} pool-full retries",
        f"{'  execution (reference)':<26}{execution.execute_tps:>9.1f}"
        f"{report.execution_cpu_ms_per_transfer:>11.2f}   in-process BlockBuilder, same blocks "
        f"(with commit: {execution.execute_commit_tps:.1f}/s)",
        f"{'  ratio':<26}{report.transfers_ratio:>9.2f}"
        f"{report.transfers_cpu_ratio:>11.2f}   end to end / execution",
        "",
        f"{'reads':<26}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'/ bare':>8}"
        f"{'server CPU us/req':>19}{'/ bare':>8}",
    ]
    for result in reads:
        lines.append(
            f"  {result.method:<24}{result.rps:>9.1f}{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
            f"{result.errors:>8}{result.rps / report.bare.rps:>8.2f}{result.server_cpu_us:>19.0f}"
            f"{result.server_cpu_us / report.bare.server_cpu_us:>8.2f}"
        )
    lines += ["", f"{'cores busy (CPU s / s)':<26}{'server':>9}{'client':>9}{'others':>9}"]
    windows = [("transfers", transfers.cores)] + [(result.method, result.cores) for result in reads]
    for label, cores in windows:
        lines.append(f"  {label:<24}{cores.server:>9.2f}{cores.client:>9.2f}{cores.others:>9.2f}")
    lines.append("")
    if not report.ok:
        lines.append(
            "FAILED (the numbers above do not hold): "
            f"{check.receipts}/{report.parameters.transfers} transfers have a receipt, "
            f"{check.failed} failed, {len(transfers.refused)} senders stopped by a refusal"
            + "".join(f"\n  refused: {error}" for error in transfers.refused)
            + f"; read errors: {[result.errors for result in reads]}"
        )
    if report.node_exit_status != 0:
        lines.append(f"note: the node exited with status {report.node_exit_status} on SIGTERM")
    return "\n".join(lines)


def compute_json(report: Report) -> dict[str, Any]:
    """Every number of the report, ratios included, as plain JSON values."""
    check = report.check
    return {
        "machine": asdict(report.machine),
        "parameters": asdict(report.parameters),
        "background_cores": report.background_cores,
        "transfers": {
            **asdict(report.transfers),
            "tps": report.end_to_end_tps,
            "node_cpu_ms_per_transfer": report.node_cpu_ms_per_transfer,
            "receipts": check.receipts,
            "failed": check.failed,
            "blocks": len(check.block_sizes),
            "block_sizes": list(check.block_sizes),
            "mean_tx_per_block": check.receipts / max(1, len(check.block_sizes)),
        },
        "execution_reference": {
            **asdict(report.execution),
            "execute_tps": report.execution.execute_tps,
            "execute_commit_tps": report.execution.execute_commit_tps,
            "cpu_ms_per_transfer": report.execution_cpu_ms_per_transfer,
        },
        "transfers_ratio": report.transfers_ratio,
        "transfers_cpu_ratio": report.transfers_cpu_ratio,
        "reads": [
            {**asdict(result), "rps": result.rps, "server_cpu_us": result.server_cpu_us}
            for result in report.reads
        ],
        "bare_reference": {
            **asdict(report.bare),
            "rps": report.bare.rps,
            "server_cpu_us": report.bare.server_cpu_us,
        },
        "reads_ratio": {result.method: result.rps / report.bare.rps for result in report.reads},
        "reads_server_cpu_ratio": {
            result.method: result.server_cpu_us / report.bare.server_cpu_us
            for result in report.reads
        },
        "node_exit_status": report.node_exit_status,
        "ok": report.ok,
    }
