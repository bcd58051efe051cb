"""The tiled path and clusters from the command line (``--tiled``, ``--chunks``, ``--scheduler``).

``convolve``, ``pad`` and ``pool`` take these options (declared in :mod:`kernelcli.cli.options`).  One input that :func:`kernelcli.tiled.files.wanted`
sends to the tiled path (a ``.zarr`` input or output, one of these options, an input over the
memory cap) is handled by :func:`run_single`; several inputs with ``--scheduler`` run as a
batch on the cluster (:func:`kernelcli.batch.run`).  Only typer and the standard library
are imported at module level.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Optional

def single_tiled(inputs: list[Path], out_dir: Optional[Path], out: Optional[Path], *, tiled: bool, chunks: Optional[str], scheduler: Optional[str],
                 need: Any = None) -> Optional[Path]:
    """The one input that takes the tiled path, or None (the usual in-memory path, or a batch).

    ``--tiled``/``--chunks`` with several inputs are refused (exit 2): tiles are for one big image.
    """
    from ..tiled import files

    several = len(inputs) != 1 or out_dir is not None
    if several:
        from ._batch_call import refuse_one_input_options, refuse_out_with_out_dir

        refuse_out_with_out_dir(inputs, out, out_dir)  # (the conflict first: one input is no batch's)
        refuse_one_input_options({"--tiled": tiled or None, "--chunks": chunks}, "--scheduler or --workers")
        if scheduler is not None:
            from ..tiled import require

            require("distributed", "--scheduler")  # exit 2 with the pip hint before any planning
        return None
    if str(inputs[0]) == "-":
        return None
    return inputs[0] if files.wanted(inputs[0], out, tiled=tiled, chunks=chunks, scheduler=scheduler, need=need) else None


def check_tiled_before_stdin(out: Optional[Path], *, tiled: bool, chunks: Optional[str], scheduler: Optional[str]) -> None:
    """For the input ``-``, where the options alone choose the tiled path (``--tiled``, ``--chunks``, ``--scheduler``):
    the checks that path makes of a file before it opens it, made before stdin is read (a stream that stays open
    was waited for): ``--chunks`` (:func:`run_single`), then the output's type (:func:`kernelcli.tiled.files.run_tiled`).

    >>> check_tiled_before_stdin(Path("o.npy"), tiled=False, chunks="0", scheduler=None)
    Traceback (most recent call last):
    ...
    kernelcli.whole_numbers.BadValue: Invalid value for '--chunks': '0': expected a tile side such as 1024, or one per axis such as 512,2048
    """
    from ..tiled import tiles_asked

    if not tiles_asked(tiled=tiled, chunks=chunks, scheduler=scheduler):
        return  # (an input over the memory cap takes it too: only what stdin holds can tell)
    from ..tiled import files
    from ..tiled.outputs import check_output_type
    from ..tiled.urls import as_url
    from ._stdio import checked_before_stdin_read

    files.parse_chunks(chunks)
    if checked_before_stdin_read(out) and as_url(out) is None:
        check_output_type(Path(out), files.instead_of_tiles(Path("stdin"), out, chunks, scheduler))


def run_single(input: Path, label: str, build: Callable[[Any, Any], Any], *, out: Optional[Path], force: bool, rescale: Optional[str],
               layout: Optional[str], chunks: Optional[str], scheduler: Optional[str], workers: Optional[int], json_out: bool,
               quiet: bool, volume_build: Callable[[Any, Any], Any] | None = None, name: Optional[str] = None,
               notes: Optional[list[str]] = None, report_file: Optional[Path] = None, fmt: Optional[str] = None,
               encoding: Any = None, kernel: Optional[str] = None, max_pixels: Optional[int] = None,
               same_grid: bool = False, volume_dtype: bool = False) -> None:
    """Run one input through the tiled path with a progress bar counting tiles; print the report
    (and write it to ``report_file``, ``--report``, as for any one input).

    ``notes`` is filled by ``build`` as it builds (and shown with the report's own notes);
    ``encoding``: the command's image encoding options, named in a note when given (a tiled
    output is never an encoded picture), as ``max_pixels`` is (a tiled input is never a decoded
    image); ``kernel``: the record's ``kernel``, as the in-memory job's; ``same_grid``: every output voxel sits where
    its input voxel does (stride 1, 'same' padding): a Zarr input's recorded spacing and affine are kept;
    ``volume_dtype``: a (Z, Y, X) reading reaches ``build`` in a volume's dtype (:func:`kernelcli.tiled.files.run_tiled`).
    """
    from ..tiled import files, stores
    from ..tiled.outputs import default_tiled_output
    from ._batch import chosen_output, run_reported
    from ._report import render_report

    sides = files.parse_chunks(chunks)

    def run() -> Any:
        with _TileBar(enabled=not quiet and sys.stderr.isatty()) as bar:
            report = files.run_tiled(input, label, build, out=out, force=force, rescale=rescale, layout=layout, chunks=sides,
                                     same_grid=same_grid, volume_dtype=volume_dtype,
                                     scheduler=scheduler, workers=workers, progress=bar.update, volume_build=volume_build,
                                     name=name, fmt=fmt, max_pixels=max_pixels)
        report.notes.extend(notes or [])
        report.kernel = kernel
        if encoding is not None and report.output:
            report.notes.extend(encoding.ignored_by(Path(report.output)))
        suffix = Path(report.input).suffix.lower()
        if max_pixels is not None and suffix not in stores.TIFF_SUFFIXES:  # (a TIFF's pixels are counted: stores.open_array)
            from ..io.formats import unused_max_pixels

            report.notes.append(unused_max_pixels(Path(report.input).name, suffix or "store", tiled=True))
        return report

    target = chosen_output(out, lambda: default_tiled_output(input, label if name is None else name, fmt))
    render_report(run_reported(input, run, outputs=[target], report=report_file, force=force), json_out=json_out, quiet=quiet)


class _TileBar:
    """A rich progress bar on stderr: tiles written / total."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.progress, self.task = enabled, None, None

    def __enter__(self) -> "_TileBar":
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from ._common import console

            self.progress = Progress(TextColumn("kernelcli"), BarColumn(), MofNCompleteColumn(), TextColumn("tiles ETA"),
                                     TimeRemainingColumn(), console=console(stderr=True), transient=True)
            self.progress.start()
        return self

    def update(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task("tiles", total=total)
        self.progress.update(self.task, completed=done)

    def __exit__(self, *exc: Any) -> bool:
        if self.progress is not None:
            self.progress.stop()
        return False
