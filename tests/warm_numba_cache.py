"""Compile, beside the suite, the core's versions the suite needs, from its end backwards.

On a fresh install (CI) about half of the suite's time is Numba compiling the core into its
cache, on one core: 3185 tests took 514 s there (a CI dry run, alone on 2 vCPUs) against 253 s
with the cache already filled; the test process compiled for 220 s itself.  With this script
beside it the dry run took 455 s (the test process's own compiling, counted with Numba's
compile events in a run with an earlier order: 90 s).  conftest starts this script in the background
once the whole suite is collected, at low priority, on the machine's other core, when the suite runs
in one process (``pytest -n 0``).  Under pytest-xdist it runs before the tests instead (``--share FOLDER``: one
process per worker, each call compiled by the first to claim it), and the tests wait for it.  It compiles,
through the public API on tiny arrays, the versions the suite first needs late (:func:`calls`,
in the order the test files need them, taken from the end), while the test process compiles
from the start: the two meet about halfway and neither waits for the other (:data:`FIRST`: what
it compiles before it starts from the end).

It changes no test: a cache entry is written whole (a new file renamed into place), under a lock
that keeps two processes saving at once from taking one entry's number (kernelcli/_core/jit.py:
Numba's own save did not, and a compile beside the suite once left an index naming another
version's file), and a version has the same machine code whichever process compiled it; one
that both compile is written twice.  With the cache already filled, every call here loads and the script ends in a
few seconds.  Run alone, it fills the cache for the suite::

    python tests/warm_numba_cache.py
"""

from __future__ import annotations

import os
import sys

import numpy as np

DENSE = np.array([[1.0, 2, 0], [0, 1, -1], [3, 0, 1]])  # not rank 1: the dense loops
WIDE = np.arange(49.0).reshape(7, 7) % 5 - 2  # with dilation 3 a window wider than in place
SEPARABLE = np.outer([1.0, 2, 1], [1.0, 4, 6, 4, 1])


def _image(dtype: str, shape: tuple[int, ...] = (24, 40)) -> np.ndarray:
    values = np.random.default_rng(0).integers(0, 100, shape)
    return values.astype(dtype)


def calls() -> list[tuple[str, object]]:
    """(label, call) in the order the suite first needs what each call compiles."""
    from kernelcli import api, layers, volumes
    from kernelcli._core.policy import Paths

    jit, dense, separable = Paths(force="jit"), Paths(force="dense"), Paths(force="separable")

    def conv(image_dtype, kernel=DENSE, paths=dense, **kw):
        return lambda: api.conv2d(_image(image_dtype, (40, 40)), kernel, paths=paths, **kw)

    def pools(dtype):
        return lambda: [api.pool2d(_image(dtype), f, stride=s, op=op, paths=jit) for f, s, op in ((2, 2, "max"), (3, 1, "max"), (2, 2, "avg"))]

    def layer(dtype, filters):
        return lambda: layers.conv_layer(_image(dtype, (16, 16, 3) if filters > 1 else (16, 16)), np.ones((filters, 3 if filters > 1 else 1, 3, 3)), paths=jit)

    def volume(dtype):
        x = lambda shape=(6, 8, 8): _image(dtype, shape)  # noqa: E731
        return lambda: (volumes.correlate_separable(x(), ([1.0, 2, 1],) * 3, paths=jit), volumes.conv3d(x(), np.ones((3, 3, 3)), paths=jit),
                        volumes.pool3d(x(), 2, paths=jit))

    def native(*calls):
        return lambda: _on_native_helpers(calls)

    gauss = np.outer([1.0, 4, 6, 4, 1], [1.0, 4, 6, 4, 1]) / 256
    return [
        ("dense uint8", conv("uint8", WIDE, dilation=3)),                 # test_banded_jobs
        ("separable uint8 -> uint8 rows", conv("uint8", SEPARABLE, separable)),
        ("dense float32", conv("float32")),                                # test_bands
        ("dense float64", conv("float64")),                                # test_blocked
        ("pools uint8", pools("uint8")),                                   # test_chain
        ("separable uint16", conv("uint16", SEPARABLE, separable)),        # test_conv2d
        ("pad int16", lambda: api.pad2d(_image("int16"), 2, mode="reflect", paths=jit)),
        ("pad float64", lambda: api.pad2d(_image("float64"), 2, mode="reflect", paths=jit)),
        ("pools int64", pools("int64")),                                   # test_docs
        ("average uint8 -> uint8", lambda: api.pool2d(_image("uint8"), 2, stride=2, op="avg", dtype="uint8", paths=jit)),
        ("separable uint8 strided", conv("uint8", SEPARABLE, separable, stride=2)),  # test_exactness
        ("separable uint8 -> float", conv("uint8", SEPARABLE, separable, dtype="float64")),  # test_exactness
        ("pad float32", lambda: api.pad2d(_image("float32"), 2, mode="reflect", paths=jit)),
        ("pools float32", pools("float32")),
        ("one filter float32", layer("float32", 1)),
        ("dense uint16", conv("uint16", DENSE, jit)),
        ("pools uint16", pools("uint16")),
        ("one filter float64", layer("float64", 1)),
        ("pools float64", pools("float64")),
        ("separable float64", conv("float64", SEPARABLE, separable)),
        ("separable float32", conv("float32", SEPARABLE, separable)),     # test_fastpaths
        ("separable float64 strided", conv("float64", SEPARABLE, separable, stride=2)),
        ("pools int16", pools("int16")),
        ("layer float64", layer("float64", 4)),                            # test_layers
        ("layer uint8", layer("uint8", 4)),
        ("layer float32", layer("float32", 4)),
        ("volume int16", volume("int16")),                                 # test_medical
        ("volume float32", volume("float32")),
        ("volume float64", volume("float64")),                             # test_overhead, test_volume_paths
        ("separable float32 strided", conv("float32", SEPARABLE, separable, stride=2)),
        ("max pool bool", lambda: api.pool2d(_image("bool"), 3, stride=1, op="max", paths=jit)),  # test_pool2d
        ("separable uint8 -> uint8", conv("uint8", SEPARABLE, separable, dtype="uint8")),  # test_result_dtype
        ("max pool int32", lambda: api.pool2d(_image("int32"), 3, stride=1, op="max", paths=jit)),
        ("volume uint8", volume("uint8")),                                 # test_volumes
        # test_native: each loop's entry point for the native helpers (a large image, split)
        ("native avg", native(*[lambda t=t, d=d: api.pool2d(_image(t, (64, 256)), 2, op="avg", dtype=d, paths=jit)
                                for t, d in (("uint8", "uint8"), ("uint8", None), ("float32", None), ("float64", None))])),
        ("native dense", native(lambda: api.conv2d(_image("float32", (64, 256)), DENSE, paths=dense))),
        ("native ring", native(*[lambda t=t: api.conv2d(_image(t, (64, 256)), DENSE, pad_mode="replicate", paths=dense)
                                 for t in ("uint8", "float32")])),
        ("native separable", native(*[lambda t=t, d=d: api.conv2d(_image(t, (64, 256)), gauss, dtype=d, paths=separable)
                                      for t, d in (("float32", None), ("uint8", "uint8"), ("uint8", None))])),
    ]


def _on_native_helpers(calls) -> list:
    """Each call with its work split over the native helpers (as test_native's ``split_everything``), then put back."""
    from kernelcli._core import native, threads

    saved = native.MIN_WORK_PER_THREAD, threads.MIN_WORK_PER_THREAD, threads.count
    native.MIN_WORK_PER_THREAD = threads.MIN_WORK_PER_THREAD = 1
    threads.count = lambda: 2
    try:
        native.prepare()
        return [call() for call in calls]
    finally:
        native.MIN_WORK_PER_THREAD, threads.MIN_WORK_PER_THREAD, threads.count = saved


#: Compiled first: what the suite needs second (the test process compiles the first, the uint8
#: dense loop, meanwhile) and the heaviest of its early needs (the float64 dense loop, 46 s).
FIRST = ("separable uint8 -> uint8 rows", "dense float64")


def claimed(folder: str, label: str) -> bool:
    """Whether this process is the first of those sharing ``folder`` to take ``label`` (a file made or found there)."""
    try:
        os.close(os.open(os.path.join(folder, label.replace(" ", "_").replace("/", "_")), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def main(argv: list[str]) -> None:
    """Beside a one-process run: from both ends (:data:`FIRST`).  With ``--share FOLDER`` (before the workers of a
    pytest-xdist run start, one such process per worker): each call once, by whichever process claims it first."""
    sharing = argv[:1] == ["--share"]
    try:
        os.nice(0 if sharing else 10)  # beside a test process, that process comes first; the shared ones it waits for
    except OSError:
        pass
    todo = calls()
    if sharing:
        order = (item for item in todo if claimed(argv[1], item[0]))
    else:
        first = [item for item in todo if item[0] in FIRST]
        order = first + [item for item in reversed(todo) if item not in first]
    for _label, call in order:
        try:
            call()
        except Exception:  # noqa: BLE001 - a call that fails here is the suite's to report
            pass


if __name__ == "__main__":
    main(sys.argv[1:])
