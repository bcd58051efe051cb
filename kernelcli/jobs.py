"""File-level jobs: read an input, compute, write the result, and report what happened.

This is the layer between the CLI (which parses and prints) and the array API (which
knows nothing of files).  Each job checks everything it can before reading any pixel:
the kernel first (exit 3), then the output path (exit 4), then the input.

Example
-------
>>> from kernelcli.jobs import ConvolveOptions, convolve_file       # doctest: +SKIP
>>> report = convolve_file("samples/phantom.png", "sobel_v", ConvolveOptions(), out="edges.png")  # doctest: +SKIP
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError
from .modes import canonical_pad_mode, canonical_rescale


@dataclass(frozen=True)
class ConvolveOptions:
    """Options of a convolution job, validated once."""

    stride: int = 1
    padding: Any = "same"
    pad_mode: str = "constant"
    pad_value: float = 0.0
    dilation: int = 1
    flip: bool = False
    rescale: str | None = None
    max_pixels: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pad_mode", canonical_pad_mode(self.pad_mode))
        if self.rescale is not None:
            object.__setattr__(self, "rescale", canonical_rescale(self.rescale))


@dataclass
class Report:
    """What one job did, for the summary line and ``--json``."""

    input: str
    operation: str
    input_shape: list[int]
    output_shape: list[int]
    output: str | None
    minimum: float
    maximum: float
    seconds: float
    dtype: str
    clipped_low: int = 0
    clipped_high: int = 0
    total: int = 0
    notes: list[str] = field(default_factory=list)
    matrix: list[list[float]] | None = None
    kernel: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``matrix`` only for matrix inputs)."""
        d = asdict(self)
        for key in ("matrix", "kernel"):
            if d[key] is None:
                d.pop(key)
        return d


#: Share of values below 0 that earns a "--rescale abs" hint when clipping.
CLIP_NOTE_SHARE = 0.05


def safe_stem(text: str) -> str:
    """A file-name-safe version of a kernel name or spec: ``gaussian:1.5`` -> ``gaussian_1.5``.

    >>> safe_stem("gaussian:1.5")
    'gaussian_1.5'
    """
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "kernel"


def default_output(input_path: Path, kernel_name: str, directory: Path = Path(".")) -> Path:
    """``<stem>_<kernel>.<ext>`` in ``directory`` (the current one by default).

    >>> default_output(Path("scans/ct.png"), "sobel_v")
    PosixPath('ct_sobel_v.png')
    """
    return directory / f"{input_path.stem}_{safe_stem(kernel_name)}{input_path.suffix.lower()}"


def is_matrix_path(path: str | Path) -> bool:
    """True for text-matrix inputs (``.csv``/``.txt``), whose results print on stdout by default."""
    from .images import MATRIX_SUFFIXES

    return Path(path).suffix.lower() in MATRIX_SUFFIXES


def run_file_job(
    input_path: str | Path,
    label: str,
    compute: Callable[[Any], Any],
    *,
    out: str | Path | None,
    force: bool = False,
    rescale: str | None = None,
    max_pixels: int | None = None,
) -> Report:
    """Read one input, apply ``compute`` to its array, write the result (or keep the matrix).

    The output path is checked (exit 4) before the input is read.  ``out=None`` is only
    for matrix inputs, whose result is returned in ``Report.matrix``.
    """
    from . import images

    src = images.check_input_path(input_path)
    out_path = images.check_output_path(out, [src], force=force) if out is not None else None
    loaded = images.read_input(src, max_pixels=max_pixels)
    start = time.perf_counter()
    result = compute(loaded.data)
    seconds = time.perf_counter() - start
    report = Report(
        input=str(src),
        operation=label,
        input_shape=list(loaded.data.shape),
        output_shape=list(result.shape),
        output=str(out_path) if out_path else None,
        minimum=float(result.min()),
        maximum=float(result.max()),
        seconds=seconds,
        dtype=str(result.dtype),
        total=int(result.size),
        notes=list(loaded.notes),
    )
    if loaded.alpha is not None and result.shape[:2] != loaded.alpha.shape:
        report.notes.append(f"{src.name}: the output size differs from the input's, so the alpha channel is dropped")
    if out_path is None:
        if loaded.kind != "matrix":
            raise UsageError(f"{src}: an image result needs an output path (--out)")
        report.matrix = result.tolist()
        return report
    written = images.write_output(out_path, result, like=loaded, rescale=rescale, force=force)
    report.clipped_low, report.clipped_high = written.low_clipped, written.high_clipped
    if written.low_clipped > CLIP_NOTE_SHARE * max(written.total, 1):
        share = 100.0 * written.low_clipped / written.total
        report.notes.append(
            f"{share:.0f}% of the values ({written.low_clipped}) were negative and clipped to 0, "
            "so edges of one sign vanish; --rescale abs shows both signs, --rescale minmax stretches the full range"
        )
    return report


def convolve_file(input_path: str | Path, kernel_spec: Any, options: ConvolveOptions, *, out: str | Path | None, force: bool = False) -> Report:
    """Convolve one input file with one kernel; write to ``out`` (or return the matrix when None).

    ``kernel_spec`` is a catalogue name, a path, a parametric spec or a ``Kernel``; it is
    loaded and validated before anything else (exit 3).
    """
    from . import api
    from .catalog import load_kernel

    kernel = kernel_spec if hasattr(kernel_spec, "array") else load_kernel(str(kernel_spec))
    k = kernel.array()

    def compute(data):
        return api.conv2d(
            data, k, stride=options.stride, padding=options.padding, pad_mode=options.pad_mode,
            pad_value=options.pad_value, dilation=options.dilation, flip=options.flip,
        )

    report = run_file_job(input_path, f"convolve {kernel.name}", compute, out=out, force=force, rescale=options.rescale, max_pixels=options.max_pixels)
    report.kernel = kernel.name
    return report


def pad_file(input_path: str | Path, widths: Any, *, mode: str, value: float, out: str | Path | None, force: bool = False, max_pixels: int | None = None) -> Report:
    """Pad one input file (every channel); the result keeps the input's dtype and bit depth."""
    from . import api

    mode = canonical_pad_mode(mode)
    return run_file_job(
        input_path, f"pad_{mode}", lambda data: api.pad2d(data, widths, mode=mode, value=value),
        out=out, force=force, max_pixels=max_pixels,
    )


def pool_file(
    input_path: str | Path, size: int, *, op: str, stride: int | None, padding: int, ceil_mode: bool,
    count_include_pad: bool, out: str | Path | None, force: bool = False, rescale: str | None = None,
    max_pixels: int | None = None,
) -> Report:
    """Pool one input file, each channel separately."""
    from . import api

    def compute(data):
        return api.pool2d(data, size, stride=stride, op=op, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    return run_file_job(input_path, f"{op}pool{size}", compute, out=out, force=force, rescale=rescale, max_pixels=max_pixels)
