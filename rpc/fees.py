"""Fee suggestions: `eth_gasPrice`, `eth_maxPriorityFeePerGas` and `eth_feeHistory`.

The suggested tip is the 60th percentile of the effective tips paid in the last 20 blocks (geth's
oracle defaults), or 1 gwei while recent blocks carry no transactions. `eth_gasPrice` is the next
block's base fee plus that tip, so MetaMask, which uses `eth_gasPrice` as both fee fields on a
custom chain, never underprices.
"""

from dataclasses import dataclass
from typing import Any

from eth.abc import BlockHeaderAPI

from openledger.rpc.codec import quantity
from openledger.rpc.format import effective_gas_price
from openledger.state.execute import compute_next_base_fee as next_base_fee
from openledger.state.store import ChainStore

GWEI = 10**9
DEFAULT_TIP = GWEI
ORACLE_BLOCKS = 20
ORACLE_PERCENTILE = 60
MAX_FEE_HISTORY_BLOCKS = 1024
MAX_PERCENTILES = 100


@dataclass
class FeeOracle:
    """Suggests tips from recent blocks; caches the answer per head."""

    store: ChainStore
    _cached: tuple[bytes, int] | None = None

    def suggest_tip(self) -> int:
        """The priority fee a transaction should offer to be included soon."""
        head = self.store.head
        if self._cached is not None and self._cached[0] == head.hash:
            return self._cached[1]
        tips: list[int] = []
        number = head.block_number
        while number > 0 and head.block_number - number < ORACLE_BLOCKS:
            header = self.store.get_header(number)
            if header is None:
                break
            base_fee = header.base_fee_per_gas
            tips.extend(
                effective_gas_price(tx, base_fee) - base_fee
                for tx in self.store.get_transactions(header)
            )
            number -= 1
        tip = _percentile(sorted(tips), ORACLE_PERCENTILE) if tips else DEFAULT_TIP
        self._cached = (head.hash, tip)
        return tip

    def gas_price(self) -> int:
        """`eth_gasPrice`: next base fee plus the suggested tip."""
        return next_base_fee(self.store.head) + self.suggest_tip()

    def fee_history(
        self, block_count: int, newest: BlockHeaderAPI, percentiles: list[float] | None
    ) -> dict[str, Any]:
        """`eth_feeHistory` over the `block_count` blocks ending at `newest`; `percentiles` are
        checked by the caller (at most `MAX_PERCENTILES`, ascending, within 0..100)."""
        count = min(block_count, MAX_FEE_HISTORY_BLOCKS, newest.block_number + 1)
        oldest = newest.block_number - count + 1
        base_fees: list[str] = []
        ratios: list[float] = []
        rewards: list[list[str]] = []
        header = newest
        for number in range(oldest, newest.block_number + 1):
            header = self.store.get_header(number) or newest
            base_fees.append(quantity(header.base_fee_per_gas))
            ratios.append(header.gas_used / header.gas_limit)
            if percentiles is not None:
                rewards.append([quantity(r) for r in self._block_rewards(header, percentiles)])
        base_fees.append(quantity(next_base_fee(header)))
        result: dict[str, Any] = {
            "oldestBlock": quantity(oldest),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": ["0x1"] * (count + 1),
            "blobGasUsedRatio": [0.0] * count,
        }
        if percentiles is not None:
            result["reward"] = rewards
        return result

    def _block_rewards(self, header: BlockHeaderAPI, percentiles: list[float]) -> list[int]:
        """Tips at the given percentiles of gas used in the block (geth's weighting)."""
        transactions = self.store.get_transactions(header)
        if not transactions:
            return [0 for _ in percentiles]
        receipts = self.store.get_receipts(header)
        base_fee = header.base_fee_per_gas
        used: list[tuple[int, int]] = []
        previous = 0
        for tx, receipt in zip(transactions, receipts, strict=True):
            used.append((effective_gas_price(tx, base_fee) - base_fee, receipt.gas_used - previous))
            previous = receipt.gas_used
        used.sort()
        total = sum(gas for _, gas in used)
        rewards = []
        index, cumulative = 0, used[0][1]
        for percentile in percentiles:
            threshold = total * percentile / 100
            while cumulative < threshold and index < len(used) - 1:
                index += 1
                cumulative += used[index][1]
            rewards.append(used[index][0])
        return rewards


def _percentile(values: list[int], percentile: int) -> int:
    return values[min(len(values) - 1, (len(values) - 1) * percentile // 100)]
