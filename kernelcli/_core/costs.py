"""The cost rules: which path a call takes, from the kernel, the call and the path policy.

:func:`choose_path` names the jitted loop (dense, separable, FFT) from crossovers measured on
the development machine (``python benchmarks/run.py --crossover``, ``benchmarks/bench_dense.py``);
:func:`use_numpy`, :func:`use_numpy_volume` and :func:`cold_choice` decide, under the ``cold``
policy (:mod:`.policy`), whether plain numpy or the FFT beats loading the jitted core in a
fresh process.  Every rule is a pure function of the call and the policy, so a batch writes
the bytes that separate calls write.

Example
-------
>>> import numpy as np
>>> choose_path(np.outer([1, 2, 1], [1, 0, -1]), (1, 1), (1, 1), np.dtype("float32"))
'dense'
>>> choose_path(np.ones((7, 7)), (1, 1), (1, 1), np.dtype("float32"))
'separable'
>>> choose_path(np.random.default_rng(0).random((21, 21)), (1, 1), (1, 1), np.dtype("float32"))
'fft'
"""

from __future__ import annotations

import numpy as np

from .forms import FFT_EXACT_BOUND, KernelFacts, exact_terms, largest_magnitude, rank1_factors, separable_factors
from .policy import Paths

#: A rank-1 kernel runs as two 1-D passes from this many non-zero 2-D taps up
#: (a 3x3 is faster as one 2-D pass: it is memory-bound either way).
SEPARABLE_MIN_TAPS = 10
#: A dense kernel at stride 1 goes through the FFT from this many non-zero taps up: the
#: direct cost grows with the taps, the block FFT's hardly at all.  It may not depend on the
#: thread count (a batch worker's one thread and a call's two would give other bytes), so it
#: lies where both agree: ``python benchmarks/bench_dense.py --crossover --images 256,2048
#: --sizes 15,17,18,19,21`` (direct / FFT, float32; 1 thread process CPU time, 2 threads wall;
#: 2026-12-02 09:33 UTC, load 5): 256^2 15x15 0.91, 0.90 (3.57 a noisy outlier), 17x17 1.09, 1.27,
#: 18x18 1.19, 1.39, 19x19 1.22, 1.30, 21x21 1.51; 2048^2 15x15 0.93, 0.90, 17x17 1.09, 0.99, 18x18
#: 1.24, 1.15, 19x19 1.44, 1.21, 21x21 1.73, 1.52.  The float32 FFT would win from 18x18, but in
#: float64 (a float64 image, or the FFT's exact form of whole numbers) it transforms at twice the
#: cost and ties with the direct loop at 19x19 (1024^2, 1 thread: 37.0 vs 37.8 ms), so 19x19 (361
#: taps) stays direct and 21x21 (441) takes the FFT.
FFT_MIN_TAPS = 400
#: The in-place dense loop sweeps three output rows at once (:func:`.taps.apply_blocked`, the same sums)
#: only for rows of at least this many output values (columns times channels): short rows lose more to the
#: sweeps' set-up than sharing the loads saves, and one flat pass over a block of them stays in the L2
#: cache.  Blocked / flat through ``api.conv2d`` (float32, 1 thread, process CPU time, medians of 9-11,
#: 2026-12-02 13:37 UTC, load 3-4; ``python benchmarks/bench_dense.py --blocked --images 256,512,1024,2048
#: --sizes 3,5,7`` repeats it), 3x3, 5x5, 7x7: 256^2 1.19, 1.12, 1.43; 512^2 1.14, 0.92, 1.19; 1024^2 1.10,
#: 0.90, 0.96 (again at 13:39: 1.04 for 3x3, 1.03 for 7x7: a tie); 1536^2 0.93, 0.83, 0.93; 2000^2 0.67,
#: 0.89, 0.84; 2048^2 0.87, 0.86, 0.86; 4096^2 0.84, 0.83, 0.93.  float64 (and the integer images computed in
#: it) gains as much, so it keeps the sweeps although they cost a fresh install ~4 s more of compiling (``--dtype
#: float64``, 2026-12-02 16:20 UTC, load 2.4): 2048^2 0.81, 0.84, 0.83; 4096^2 0.81, 0.83, 0.87; int16 2048^2 0.91,
#: 0.90, 0.88 (the cast included).
BLOCKED_MIN_VALUES = 1536
#: The same for a 3-D kernel: ``volumes.conv3d`` with ``Paths(force="dense")`` / ``"fft"``, random
#: float32 volume and kernel, 1 thread process CPU time (2 threads wall), medians of 3, 2026-12-02
#: 09:35 UTC, load 5: 96^3 7^3 19 vs 32 ms, 9^3 42 vs 32 (96 vs 69), 11^3 77 vs 33; 160^3 8^3 126
#: vs 167, 9^3 183 vs 167 (354 vs 329); 64^3 8^3 12 vs 9, 9^3 16 vs 9.  So 8^3 (512 taps) stays
#: direct and 9^3 (729) takes the FFT (within the memory rule, :func:`.dispatch.fft_bytes`).
FFT_MIN_TAPS_3D = 700
#: the 3-D FFT per output value (numpy.fft, as a cold process runs it; any kernel up to ~19^3)
FFT3D_SECONDS_PER_OUTPUT = 1.2e-7

# Start-up economics of a fresh process (measured on the development machine; seconds).
# Loading the jitted core costs far more than small arithmetic, so under the ``cold``
# policy (which always assumes a fresh process) a call uses plain numpy, or the FFT (no
# Numba) for big kernels, while that is cheaper than loading; see :func:`cold_choice`.
NUMBA_IMPORT_SECONDS = 0.13
#: first call of the cached jitted functions in a new process (LLVM start-up, cache load)
JIT_LOAD_SECONDS = 0.32
#: plain-numpy path, per output value and non-zero tap
NUMPY_SECONDS_PER_TAP = 2.2e-9
#: jitted direct loops, per output value and tap
JIT_SECONDS_PER_TAP = 6e-11
#: tiled FFT, per output value (any kernel up to ~64x64), and importing scipy.fft
FFT_SECONDS_PER_OUTPUT = 1.2e-8
SCIPY_FFT_IMPORT_SECONDS = 0.14
#: a cold process uses the FFT instead of loading the jitted core only from this many taps
FFT_COLD_MIN_TAPS = 100


def choose_path(k: np.ndarray, stride: tuple[int, int], dilation: tuple[int, int], dtype: np.dtype, force: str | None = None,
                facts: KernelFacts | None = None) -> str:
    """Name the path for kernel ``k``: ``"dense"``, ``"separable"`` or ``"fft"``.

    ``force`` (a :class:`~kernelcli._core.policy.Paths` force) picks a path when it applies:
    ``separable`` needs rank 1, ``fft`` needs stride 1; otherwise ``dense`` is used.  ``facts``:
    the :class:`.forms.KernelFacts` of ``k`` and ``dtype``, when the caller remembers them.
    """
    facts = facts or KernelFacts(k, dtype)
    if force in ("dense", "separable", "fft"):
        if force == "separable" and facts.rank1():
            return "separable"
        if force == "fft" and stride == (1, 1):
            return "fft"
        return "dense"
    taps = facts.taps
    if taps >= SEPARABLE_MIN_TAPS and facts.rank1():
        return "separable"
    if taps >= FFT_MIN_TAPS and stride == (1, 1):
        return "fft"
    return "dense"


def jit_start_seconds(paths: Paths, same_bytes: bool = False) -> float:
    """What loading the jitted core costs the call: its full price under the ``cold`` policy, else 0.

    The path must be a pure function of the call, never of what the process did before
    (a batch must write the bytes that separate calls write, and paths round differently),
    so the ``cold`` policy always assumes a fresh process.  The CLI passes it: each call
    there is a short process.  The API's default, ``warm``, takes the jitted core for all
    but tiny inputs, as a long-lived program should.

    The price is the machine's measured one (``paths.jit_start``), or nothing where this process
    has the core loaded (``paths.core_loaded``), only when every candidate path gives the same
    bytes (``same_bytes``: see :func:`same_bytes_on_every_path`); elsewhere the built-in
    estimate decides, so that no measurement (another machine, a busier day) and no resident
    worker ever changes a result.

    >>> from .policy import COLD, Paths
    >>> measured = Paths(process="cold", jit_start=1.5)
    >>> jit_start_seconds(measured, same_bytes=True), jit_start_seconds(measured) == jit_start_seconds(COLD)
    (1.5, True)
    """
    if not paths.cold or (same_bytes and paths.core_loaded):
        return 0.0
    if same_bytes and paths.jit_start is not None:
        return float(paths.jit_start)
    return JIT_LOAD_SECONDS + NUMBA_IMPORT_SECONDS


def same_bytes_on_every_path(x_dtype: np.dtype, k: np.ndarray, dtype: np.dtype, constant: bool, fill: float) -> bool:
    """True when plain numpy, every jitted loop and the FFT give this convolution the same bytes.

    That holds where the arithmetic is exact (tests/test_exactness.py forces each path): an
    integer (or bool) input, a kernel of whole numbers times a power of two or divided by a whole
    number (each path divides the exact sum once: :func:`.forms.exact_terms`), a whole-number
    constant fill, and every partial sum, bounded here by the input dtype's range, held exactly
    by the compute ``dtype``; and fewer taps than make the FFT a candidate (its exact, rounded
    sums once held -0.0 where the direct loops write 0.0 -- equal numbers, other bytes in a
    float output; the exact form now gives the loops' zeros, and these kernels keep the
    built-in estimate as a margin).  Decided from dtypes and the kernel alone: no pass over
    the image.

    >>> sobel = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])
    >>> same_bytes_on_every_path(np.dtype("uint8"), sobel, np.dtype("float32"), True, 0.0)
    True
    >>> same_bytes_on_every_path(np.dtype("float32"), sobel, np.dtype("float32"), True, 0.0)
    False
    >>> same_bytes_on_every_path(np.dtype("uint8"), np.ones((3, 3)) / 9, np.dtype("float32"), True, 0.0)
    True
    >>> same_bytes_on_every_path(np.dtype("uint8"), np.full((3, 3), np.pi), np.dtype("float32"), True, 0.0)
    False
    """
    x_dtype, dtype = np.dtype(x_dtype), np.dtype(dtype)
    if x_dtype.kind not in "biu" or (constant and not float(fill).is_integer()):
        return False
    if np.count_nonzero(k) >= FFT_COLD_MIN_TAPS:
        return False  # the FFT is a candidate: kept on the built-in estimate, a margin (see the docstring)
    terms = exact_terms(np.asarray(k, dtype=np.float64))
    if terms is None:
        return False
    m, q, d = terms
    if d is None and np.frexp(q)[0] != 0.5:
        return False
    # The sign of an exact 0: the direct loops give -0.0 where every product is -0.0 (zeros under
    # negative weights; the FFT restores that sign, .zero_signs). The separable passes give it too,
    # but for values below 0 where the first (column) factor has no positive weight and the second a
    # negative one: a column's cancelled +0.0 times that weight is -0.0, and a column of zeros -0.0,
    # where the window's own products sum to +0.0 (-sobel_v on int16).
    if constant and np.copysign(1.0, fill) < 0:
        return False
    factors = rank1_factors(np.asarray(k, dtype=np.float64), dtype) if x_dtype.kind == "i" else None
    if factors is not None and not (factors[0] > 0).any() and (factors[1] < 0).any():
        return False
    top = largest_magnitude(x_dtype)
    bound = float(np.abs(m).sum()) * max(float(top), abs(float(fill)) if constant else 0.0)
    return bound < min(2.0 ** (np.finfo(dtype).nmant + 1), FFT_EXACT_BOUND)


def cold_prefers(paths: Paths, cheap_seconds: float, jit_seconds: float, same_bytes: bool = False) -> bool:
    """True when a path that needs no jitted core (``cheap_seconds``) beats loading it plus ``jit_seconds``."""
    start = jit_start_seconds(paths, same_bytes)
    return start > 0.0 and cheap_seconds < start + jit_seconds


def use_numpy(paths: Paths, work: int, cells: int | None = None, same_bytes: bool = False) -> bool:
    """Whether ``work`` multiply-adds (over ``cells`` outputs, default ``work``) take plain numpy.

    ``same_bytes``: both paths give this call the same bytes (padding, a max/min pool), so the
    measured start-up cost may decide (see :func:`jit_start_seconds`)."""
    decided = paths.numpy_for(work)
    if decided is not None:
        return decided
    return cold_prefers(paths, NUMPY_SECONDS_PER_TAP * work, JIT_SECONDS_PER_TAP * work, same_bytes)


#: The memory rule for volumes: outside the small-work rule, the ``cold`` policy takes the
#: plain-numpy path for a volume only while its padded copies and temporaries need at most this
#: many bytes more than the jitted path (a 3-D numpy pass holds a padded copy, the result and a
#: product at once; the jitted passes write in place): a 256**3 CT must not triple its memory
#: to save the jitted core's start-up.
VOLUME_NUMPY_EXTRA_BYTES = 32 * 2**20


def use_numpy_volume(paths: Paths, work: int, numpy_bytes: int, jit_bytes: int) -> bool:
    """:func:`use_numpy` for a volume, with the memory rule (:data:`VOLUME_NUMPY_EXTRA_BYTES`).

    ``numpy_bytes``/``jit_bytes``: what each path allocates besides the input.  A forced path
    and the small-work rule decide first, as in 2-D.

    >>> from .policy import COLD
    >>> use_numpy_volume(COLD, 10**7, 10**6, 10**6), use_numpy_volume(COLD, 10**7, 2 * 10**8, 10**8)
    (True, False)
    """
    decided = paths.numpy_for(work)
    if decided is not None:
        return decided
    if numpy_bytes > jit_bytes + VOLUME_NUMPY_EXTRA_BYTES:
        return False
    return cold_prefers(paths, NUMPY_SECONDS_PER_TAP * work, JIT_SECONDS_PER_TAP * work)


def cold_choice(paths: Paths, outputs: int, k: np.ndarray, stride, dtype: np.dtype,
                numpy_bytes: int = 0, jit_bytes: int = 0, fft_bytes: int = 0, same_bytes: bool = False) -> str | None:
    """``"numpy"`` or ``"fft"`` when that beats loading the jitted core in a fresh process, else None.

    Always None under the ``warm`` policy (see :func:`jit_start_seconds`); ``outputs``
    counts output values (oh * ow * C, or a volume's voxels); ``k`` is 2-D or 3-D; ``stride`` an
    int or one per axis.  ``numpy_bytes``/``jit_bytes``/``fft_bytes``: what each path allocates
    besides the input (volumes): numpy and the FFT only within :data:`VOLUME_NUMPY_EXTRA_BYTES`
    of the jitted path.  ``same_bytes``: every path gives this call the same bytes
    (:func:`same_bytes_on_every_path`), so the measured start-up cost may decide.  The one cost
    rule of :func:`kernelcli._core.dispatch.front`.
    """
    if jit_start_seconds(paths, same_bytes) == 0.0:
        return None
    taps = int(np.count_nonzero(k))
    factors = separable_factors(k, dtype) if taps >= SEPARABLE_MIN_TAPS else None
    jit_taps = taps if factors is None else sum(int(np.count_nonzero(f)) for f in factors)
    options = {}
    if numpy_bytes <= jit_bytes + VOLUME_NUMPY_EXTRA_BYTES:
        options["numpy"] = NUMPY_SECONDS_PER_TAP * outputs * taps
    unit = all(int(v) == 1 for v in np.atleast_1d(stride))
    min_taps, per_output = (FFT_COLD_MIN_TAPS, FFT_SECONDS_PER_OUTPUT) if k.ndim == 2 else (FFT_MIN_TAPS_3D, FFT3D_SECONDS_PER_OUTPUT)
    if unit and taps >= min_taps and fft_bytes <= jit_bytes + VOLUME_NUMPY_EXTRA_BYTES:
        options["fft"] = per_output * outputs + SCIPY_FFT_IMPORT_SECONDS
    if not options:
        return None
    best = min(options, key=options.get)
    return best if cold_prefers(paths, options[best], JIT_SECONDS_PER_TAP * outputs * jit_taps, same_bytes) else None
