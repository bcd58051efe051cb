"""Whether a call is a batch, and the batch options it was given: what a command decides before it runs, and what a
stopped call's report is decided by (:func:`kernelcli.cli._signals.stopped_report`), with none of the batch's running
imported (no typer, numpy or batch runner at module level).

Example
-------
>>> is_batch([Path("samples/phantom.png")], BatchOptions()), is_batch([Path("samples")], BatchOptions())
(False, True)
"""

from __future__ import annotations

import os
from pathlib import Path

from ..records import record
from .options import OutFormat


@record(frozen=True)
class BatchOptions:
    """The batch options of one command call, as Typer parsed them."""

    out_dir: Path | None = None
    suffix: str | None = None
    format: OutFormat | str | None = None
    recursive: bool = False
    workers: int | None = None
    report: Path | None = None
    #: ``--scheduler``: run the files on a dask.distributed cluster (see kernelcli.tiled.cluster)
    scheduler: str | None = None
    #: the format of an image's output (not a volume's) without ``--format``: a filter bank's ``npy``
    image_format: str | None = None

    @property
    def fmt(self) -> str | None:
        """The ``--format`` value as text (``png``), or None."""
        return getattr(self.format, "value", self.format)


def is_batch(inputs: list[Path], options: BatchOptions) -> bool:
    """True unless there is exactly one input file (or one volume: a folder holding a DICOM series) and no ``--out-dir``."""
    from ..volume_inputs import is_volume_input

    if len(inputs) != 1 or options.out_dir is not None:
        return True
    if os.path.lexists(inputs[0]) and not os.path.isdir(inputs[0]):
        from ..io.naming import has_glob

        if has_glob(os.fspath(inputs[0])):  # a file's name that is a pattern too ([ab].png): the planner's rule
            from ..batch_patterns import refuse_two_readings

            refuse_two_readings(os.fspath(inputs[0]))
        return False  # one file (batch_plan.is_batch_argument's first case, without importing the planner)
    from ..batch_plan import is_batch_argument

    # a folder holding a DICOM series is one volume; a pattern such as 'scans/*.dcm' stays a batch
    return is_batch_argument(inputs[0]) and not (Path(inputs[0]).is_dir() and is_volume_input(inputs[0]))
