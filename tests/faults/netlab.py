"""A private network for fault tests: one Linux network namespace per node on a bridge the test
creates, and the faults a kernel can make on it.

Each node gets a namespace `ol<tag>-<index>` with one veth interface `eth0` on a bridge
`olb<tag>` in the root namespace, and the address `10.77.<subnet>.<index>/24`; the test process
keeps `10.77.<subnet>.254` on the bridge, so it reaches every node's RPC port whatever the faults
between nodes are. Faults:

- partitions and flapping links: blackhole routes inside the namespaces (both directions);
- packet loss: iptables `statistic` DROP rules on packets from the other nodes (never from the
  test's own address);
- packet delay: this kernel may have no `netem` qdisc (Firecracker kernels do not), so delay is a
  userspace relay (`DelayRelay`) in the test process that the nodes dial instead of each other.

Needs root and iproute2 (iptables only for loss). Everything is removed in `close()`.
"""

import asyncio
import os
import random
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

HOST_INDEX = 254


def lab_unavailable() -> str | None:
    """Why a network lab cannot be built here, or None when it can."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    return None


def ensure_debian_tool(path: str, package: str) -> str:
    """`path` (a program name or a file), installed from Debian's `package` when missing (the
    lab runs as root, as CI does)."""

    def found() -> str | None:
        return path if os.path.isabs(path) and os.path.exists(path) else shutil.which(path)

    if found() is None and shutil.which("apt-get") is not None:
        with open(f"/tmp/apt-{package}.log", "w") as log:
            for command in (
                ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", package],
            ):
                subprocess.run(
                    command, stdout=log, stderr=subprocess.STDOUT, timeout=300, check=False
                )
    located = found()
    if located is None:
        raise RuntimeError(
            f"{path} is missing and {package} did not install (see /tmp/apt-{package}.log)"
        )
    return located


def ensure_iptables() -> str:
    """The iptables binary."""
    return ensure_debian_tool("iptables", "iptables")


def run(*command: str) -> None:
    """Run one ip/iptables command; fail with its message."""
    completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {completed.stderr.strip()}")


@dataclass
class NetLab:
    """Namespaces on a bridge, one per node index (1..253)."""

    size: int
    tag: str = field(default_factory=lambda: secrets.token_hex(2))
    subnet: int = field(default_factory=lambda: random.randrange(1, 250))
    _blackholes: set[tuple[int, int]] = field(default_factory=set)

    @property
    def bridge(self) -> str:
        return f"olb{self.tag}"

    @property
    def host_address(self) -> str:
        return self.address(HOST_INDEX)

    def namespace(self, index: int) -> str:
        return f"ol{self.tag}-{index}"

    def address(self, index: int) -> str:
        return f"10.77.{self.subnet}.{index}"

    def exec_prefix(self, index: int) -> list[str]:
        """The command prefix that runs a program inside node `index`'s namespace."""
        return ["ip", "netns", "exec", self.namespace(index)]

    def open(self) -> "NetLab":
        try:
            run("ip", "link", "add", self.bridge, "type", "bridge")
            run("ip", "addr", "add", f"{self.host_address}/24", "dev", self.bridge)
            run("ip", "link", "set", self.bridge, "up")
            for index in range(1, self.size + 1):
                namespace, veth = self.namespace(index), f"olv{self.tag}{index}"
                run("ip", "netns", "add", namespace)
                run(
                    "ip",
                    "link",
                    "add",
                    veth,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0",
                    "netns",
                    namespace,
                )
                run("ip", "link", "set", veth, "master", self.bridge, "up")
                inside = self.exec_prefix(index)
                run(*inside, "ip", "link", "set", "lo", "up")
                run(*inside, "ip", "addr", "add", f"{self.address(index)}/24", "dev", "eth0")
                run(*inside, "ip", "link", "set", "eth0", "up")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for index in range(1, self.size + 1):
            subprocess.run(
                ["ip", "netns", "del", self.namespace(index)], capture_output=True, check=False
            )
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)

    # --- partitions ---------------------------------------------------------------------------

    def cut(self, a: int, b: int) -> None:
        """Drop all traffic between nodes `a` and `b` (both directions)."""
        for here, there in ((a, b), (b, a)):
            if (here, there) not in self._blackholes:
                run(
                    *self.exec_prefix(here),
                    "ip",
                    "route",
                    "add",
                    "blackhole",
                    f"{self.address(there)}/32",
                )
                self._blackholes.add((here, there))

    def mend(self, a: int, b: int) -> None:
        for here, there in ((a, b), (b, a)):
            if (here, there) in self._blackholes:
                run(
                    *self.exec_prefix(here),
                    "ip",
                    "route",
                    "del",
                    "blackhole",
                    f"{self.address(there)}/32",
                )
                self._blackholes.discard((here, there))

    def partition(self, *groups: Iterable[int]) -> None:
        """Split the nodes into `groups`: no traffic between nodes of different groups."""
        sides = [set(group) for group in groups]
        for i, side in enumerate(sides):
            for other in sides[i + 1 :]:
                for a in side:
                    for b in other:
                        self.cut(a, b)

    def heal(self) -> None:
        """Remove every cut."""
        for a, b in list(self._blackholes):
            self.mend(a, b)

    # --- loss ---------------------------------------------------------------------------------

    def set_loss(self, index: int, probability: float, peers: Iterable[int]) -> None:
        """Drop incoming packets from `peers` at node `index` with `probability` each."""
        iptables = ensure_iptables()
        for peer in peers:
            run(*self.exec_prefix(index), iptables, "-A", "INPUT", "-s", self.address(peer),
                "-m", "statistic", "--mode", "random", "--probability", str(probability), "-j", "DROP")  # fmt: skip

    def clear_loss(self, index: int) -> None:
        run(*self.exec_prefix(index), ensure_iptables(), "-F", "INPUT")


class DelayRelay:
    """TCP relays in the test process, one per target, that hold every chunk for a delay.

    Nodes dial `(host, listen_port)` instead of the target; each chunk read from one side is
    written to the other `delay ± jitter` seconds later, in order (a later chunk never overtakes
    an earlier one, as on a TCP path).
    """

    def __init__(self, host: str, delay: float, jitter: float = 0.0) -> None:
        self.host = host
        self.delay = delay
        self.jitter = jitter
        self.chunks = 0
        self._loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def add(self, target: tuple[str, int]) -> int:
        """Start a relay to `target`; returns the port it listens on."""

        async def start() -> int:
            server = await asyncio.start_server(
                lambda r, w: self._connect(r, w, target), self.host, 0
            )
            self._servers.append(server)
            return int(server.sockets[0].getsockname()[1])

        return asyncio.run_coroutine_threadsafe(start(), self._loop).result(10)

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _connect(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: tuple[str, int]
    ) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(
                asyncio.open_connection(*target), 5
            )
        except (OSError, TimeoutError):
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer),
            return_exceptions=True,
        )  # fmt: skip

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        last_due = 0.0
        try:
            while chunk := await reader.read(65536):
                self.chunks += 1
                spread = random.uniform(-self.jitter, self.jitter)
                last_due = max(last_due, time.monotonic() + self.delay + spread)
                queue.put_nowait((last_due, chunk))
            queue.put_nowait((last_due, b""))
            await sender
        except OSError:
            pass
        finally:
            sender.cancel()
            writer.close()
