"""A one-line progress bar on stderr for long sweeps (no dependency).

On a terminal the line is redrawn in place; in a log (not a TTY) a line is printed at every 10% step.
"""
import sys
import time
from typing import TextIO


class Progress:
    """``with Progress(total, "sweep") as bar: ... bar.advance(note)``; ``total=0`` prints nothing."""

    def __init__(self, total: int, title: str, stream: TextIO | None = None, enabled: bool = True):
        self.total = total
        self.title = title
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled and total > 0
        self.tty = self.enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = 0
        self.start = time.perf_counter()
        self._last_decile = 0

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, note: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        decile = 10 * self.done // self.total
        if not self.tty and decile == self._last_decile and self.done != self.total:
            return
        self._last_decile = decile
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.done * (self.total - self.done)
        filled = 24 * self.done // self.total
        line = (f"{self.title} [{'#' * filled}{'.' * (24 - filled)}] {self.done}/{self.total} "
                f"{elapsed:5.0f} s, ~{left:.0f} s left  {note}")
        self.stream.write(f"\r{line[:150]:<150}" if self.tty else line + "\n")
        self.stream.flush()
