"""What a batch shows while it runs: the progress bar on stderr, each input's error in the inputs' order, and its
notes at the end, a note many files share said once (:func:`group_notes`).  Rich only where the bar is drawn.

Example
-------
>>> group_notes([("a.png", "a.png: odd"), ("b.png", "b.png: odd")])
['a.png: odd (and 1 more file like it: b.png)']
"""

from __future__ import annotations

import os

from ._common import console, error, note
from ._lines import single_line


class BatchDisplay:
    """The progress bar (rich, on stderr) and the per-file errors and notes."""

    def __init__(self, total: int, *, bar: bool, quiet: bool, order: list[str] | None = None) -> None:
        self.total, self.bar, self.quiet = total, bar, quiet
        self.order = {path: n for n, path in enumerate(order or [])}  # input -> its place among the inputs
        self.notes: list[tuple[str, str, str]] = []  # (input, file name, note) as the files finish
        self.finished: dict[int, str] = {}  # the errors of inputs that finished before an earlier one, by place
        self.next = 0  # the place of the first input whose error (or success) is not yet said
        self.progress = None
        self.task = None

    def __enter__(self) -> "BatchDisplay":
        if self.bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files"),
                _rate_column(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console(stderr=True),
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.progress.start()
            self.task = self.progress.add_task("kernelcli", total=self.total)
        return self

    def __exit__(self, *exc) -> bool:
        for place in sorted(self.finished):  # an interrupted batch: what finished after an input that never did
            self._error(self.finished[place])
        self.finished.clear()
        if self.progress is not None:
            self.progress.stop()
        return False

    def update(self, record, done: int, total: int) -> None:
        """The ``progress`` callback of :func:`kernelcli.batch.run`: errors as soon as every earlier input has
        finished (in the inputs' order, whichever worker ends first: every run prints the same lines), notes at the end."""
        error = record.error if record.status == "failed" else ""
        if not self.quiet:
            self.notes.extend((record.input, os.path.basename(record.input), n) for n in record.notes)
        place = self.order.get(record.input)
        if place is None:
            self._error(error)
        else:
            self.finished[place] = error
            while self.next in self.finished:
                self._error(self.finished.pop(self.next))
                self.next += 1
        if self.progress is not None:
            self.progress.update(self.task, completed=done)

    def print_notes(self) -> None:
        """Every note once: one that several files share word for word (their names aside) with the count of
        files; in the order of the inputs, not of the files finishing, so that every run prints the same lines."""
        last = len(self.order)
        ordered = sorted(self.notes, key=lambda entry: self.order.get(entry[0], last))  # stable: a file's notes keep their order
        inputs_named = {}  # a base name two inputs share (nd/a/x.png, nd/b/x.png) names neither: the paths as given do
        for given, name, _ in ordered:
            inputs_named.setdefault(name, set()).add(given)
        for text in group_notes([(name if len(inputs_named[name]) == 1 else given, text) for given, name, text in ordered]):
            note(f"note: {text}")

    def _error(self, text: str) -> None:
        """An input's error ("" for none: nothing said)."""
        if text:
            self._print([("error", text)])

    def _print(self, lines: list[tuple[str, str]]) -> None:
        for kind, text in lines:
            if self.progress is not None:
                style = "red" if kind == "error" else ""
                self.progress.console.print(f"{kind}: {single_line(text)}", style=style, markup=False, highlight=False)
            elif kind == "error":
                error(text)
            else:
                note(f"note: {text}")


def group_notes(notes: list[tuple[str, str]]) -> list[str]:
    """``(file name, note)`` pairs as lines: a note that repeats across files (their names and numbers
    aside) is printed once, naming the first file and how many more it concerns; where the others'
    numbers differ (a voxel size, a kernel's size, a share clipped) the line says so, so that the first
    file's numbers are never taken for theirs.

    >>> group_notes([("a.png", "9% clipped"), ("b.png", "12% clipped"), ("c.png", "9% clipped"), ("d.png", "d.png: odd")])
    ['a.png: 9% clipped (and 2 more files like it, some with other numbers: b.png, c.png)', 'd.png: odd']
    """
    import re

    groups: dict[str, list[tuple[str, str]]] = {}
    for name, text in notes:
        own = text.replace(name, "\0") if name else text
        groups.setdefault(re.sub(r"[-+]?\d+(\.\d+)?(e[-+]?\d+)?", "#", own), []).append((name, own))
    lines = []
    for members in groups.values():
        name, own = members[0]
        text = own.replace("\0", name)
        line = text if name in text else f"{name}: {text}"
        if len(members) > 1:
            others = [n for n, _ in members[1:]]
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            same = [o == own for _, o in members[1:]]
            numbers = "" if all(same) else ", with other numbers" if not any(same) else ", some with other numbers"
            line += f" (and {len(others)} more file{'s' if len(others) > 1 else ''} like it{numbers}: {shown})"
        lines.append(line)
    return lines


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Files per second."""

        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- files/s" if speed is None else f"{speed:.1f} files/s")

    return RateColumn()
