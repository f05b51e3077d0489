"""Log output: one structured line per event, with time, level and source.

Lines look like `2026-11-25T10:00:00.123Z INFO  openledger.dev  mined block 5 ...`: greppable
by level and source, readable without a log viewer.
"""

import logging
import sys
import time

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}


class LineFormatter(logging.Formatter):
    """UTC timestamp, level, logger name, message."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = f"{stamp}.{int(record.msecs):03d}Z {record.levelname:<5} {record.name:<20} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str) -> None:
    """Send the node's logs to stderr at `level` (debug, info, warn, error)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("openledger").setLevel(LEVELS[level])
