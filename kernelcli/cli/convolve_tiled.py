"""``kernelcli convolve`` on one big input, tile by tile (:mod:`kernelcli.tiled`): one ``--kernel``, ``--then`` steps, or a
3-D kernel on a (Z, Y, X) volume, named and checked as in memory.  Split from :mod:`kernelcli.cli.convolve`; numpy
and dask are imported where the tiles are built.

Example
-------
>>> _keeps_grid([], type("O", (), {"padding": "same"})(), (3, 3, 3)), _keeps_grid([], type("O", (), {"padding": "valid"})(), (3, 3, 3))
(True, False)
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from ._batch import read_reported
from ._tiled import run_single
from .convolve_asks import load_for, pool_only_note, refuse_off_the_tiled_path


def tiled_volume(run, *, chunks, scheduler, workers, quiet) -> Any:
    """One ``.nii`` volume tile by tile (kernelcli.tiled.nifti), with the in-memory volume path's checks and meaning."""
    import sys

    from ..tiled.files import parse_chunks
    from ..tiled.nifti import convolve_volume_tiled
    from ._tiled import _TileBar

    sides = parse_chunks(chunks)
    with _TileBar(enabled=not quiet and sys.stderr.isatty()) as bar:
        return run(runner=partial(convolve_volume_tiled, chunks=sides, scheduler=scheduler, workers=workers, progress=bar.update))


def tiled_convolve(input, specs, then, scale, options, *, given, out, force, chunks, scheduler, workers, json_out, quiet,
               report_file=None, fmt=None, suffix=None) -> None:
    """One big input, tile by tile (kernelcli.tiled): one --kernel, --then steps, or a 3-D kernel on a (Z, Y, X) volume."""
    from ..chain import chain_label, chain_name, is_pool_step, parse_chain, step_named, step_overflow
    from ..errors import UsageError
    from ..jobs import safe_stem

    from ..io.naming import shown_path
    from ..tiled.files import instead_of_tiles
    from ..tiled.outputs import store_input

    def instead() -> str:  # why this input went tile by tile (its size, or --tiled/--chunks/a Zarr store): what to do
        return instead_of_tiles(input, out, chunks, scheduler)

    refuse_off_the_tiled_path(specs, given, instead())
    conv = {"stride": options.stride, "padding": options.padding, "pad_mode": options.pad_mode,
            "pad_value": options.pad_value, "dilation": options.dilation, "flip": options.flip, "paths": options.paths}
    notes: list[str] = []
    read = partial(read_reported, input, out=out, report=report_file, force=force)  # (a refusal recorded, reported)
    # exit 3 before any tile is read; a chain's first step may be a pooling step, which no kernel loader reads
    first = None if then or is_pool_step(specs[0]) else read(lambda: load_for(input, specs[:1], scale))[0]
    volume_build = None
    if first is not None and len(first.shape) == 3:
        from ..jobs_common import check_volume_kernel

        check_volume_kernel(input, options)  # (stride and dilation were not passed: silently ignored)
        k3 = first.array()

        def volume_build(x, tile):
            from ..tiled import arrays

            return arrays.conv3d(x, k3, padding=options.padding, pad_mode=options.pad_mode, pad_value=options.pad_value,
                                 flip=options.flip, chunks=tile, paths=options.paths, screened=True)
        steps, label = [], first.name
    else:
        from ..jobs_common import check_plane_padding

        check_plane_padding(options.padding)
        steps = read(lambda: parse_chain(specs[0], list(then), scale=scale))
        label = chain_label(steps) if then else steps[0].label
        pool_only_note(steps, options, scale, quiet)
        if any(step.kernel is None for step in steps):
            def volume_build(x, tile):  # (without it a (Z, Y, X) array's pooling would be 2-D, slice by slice)
                raise UsageError(f"{shown_path(input)}: on a (Z, Y, X) array a chain's pooling step pools in 3-D, as pool does, "
                                 f"which the tiled path does not do in a chain: run the pooling as its own call "
                                 "(kernelcli pool --layout zyx)" + ("; " if store_input(input) else ", or ") + instead())

    def build(x, tile):
        from ..tiled import arrays

        if not steps:  # (--layout zyx would make it a 3-D correlation over slices: another computation)
            if hasattr(first, "refused_as_layer"):  # (its file says (z, y, x): refused as in memory, not as a layer's filter)
                raise first.refused_as_layer(shown_path(input))
            raise UsageError(f"{first.name}: a {'x'.join(map(str, first.shape))} kernel sums over the channels of an image "
                             f"(a layer's filter), which the tiled path does not do; {instead()}")
        from ..jobs_common import _named

        def steps_on(x):
            for n, step in enumerate(steps):
                given = x.shape
                with step_named(steps, n, given):
                    if step.kernel is not None:
                        x = arrays.conv2d(x, step.kernel.array(), **conv, chunks=tile, notes=notes, screened=True)
                    else:
                        x = arrays.pool2d(x, step.size, stride=step.stride, op=step.op, chunks=tile, paths=options.paths,
                                          screened=True)
                if n < len(steps) - 1:  # (as in memory: an overflow is named as its step, not by the next one's tiles)
                    x = x.map_blocks(_finite_step, f"{shown_path(input)}: {step_overflow(steps, n, given, x.dtype, input)}", dtype=x.dtype)
            return x

        return _named(Path(str(input)), lambda: steps_on(x))  # a refusal names the input, as in memory

    # named as in memory: one kernel sobel_v_s2, a chain sobel_v_s2 | maxpool2
    shown = chain_label(steps, options.words()) if then else options.label(label)
    name = suffix if suffix is not None else (chain_name(steps, options.words()) if then else safe_stem(shown))
    run_single(input, f"convolve {shown}", build, out=out, force=force, rescale=options.rescale, layout=options.layout,
               chunks=chunks, scheduler=scheduler, workers=workers, json_out=json_out, quiet=quiet,
               volume_build=volume_build, name=name, notes=notes, report_file=report_file, fmt=fmt, encoding=options.encoding,
               kernel=label, max_pixels=options.max_pixels,
               same_grid=_keeps_grid(steps, options, None if steps else first.shape),
               volume_dtype=True)  # (a (Z, Y, X) reading computes as a volume does, as in memory)


def _finite_step(tile: Any, refusal: str) -> Any:
    """A tile of a chain's step result (not the last) as it is, or ``refusal`` raised where it holds NaN or infinity."""
    from ..errors import UsageError
    from ..ndsupport import all_finite

    if not all_finite(tile):
        raise UsageError(refusal)
    return tile


def _keeps_grid(steps: list, options: Any, shape: Any = None) -> bool:
    """Whether the tiled call keeps every voxel where it is: no pooling step, each kernel step at stride 1 padded as
    'same' pads and of odd sides (:func:`kernelcli.chain.keeps_grid`; a 3-D kernel alone, of ``shape``: 'same', odd
    sides), so a Zarr input's recorded spacing and affine still hold: an even side's result sits half a voxel off."""
    from ..chain import keeps_grid as kernel_steps_keep_grid

    if not steps:
        return options.padding == "same" and all(int(n) % 2 for n in shape)
    conv = {"padding": options.padding, "stride": options.stride, "dilation": options.dilation}
    return all(step.kernel is not None for step in steps) and kernel_steps_keep_grid(steps, conv, centred=True)
