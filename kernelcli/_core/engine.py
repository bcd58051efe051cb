"""The dispatching core: picks a path for each call and prepares what the jitted loops take.

Paths for a convolution (all give the reference result within float rounding, and the
very same exact result where the arithmetic is exact: whole-number data and a kernel of
whole numbers times a power of two, with every partial sum held exactly):

``dense``
    the direct loop over every non-zero tap (:func:`conv.dense_rows`);
``separable``
    when the kernel has rank 1 (Gaussian, box, Sobel, Prewitt...): a vertical then a
    horizontal 1-D pass per output row (:func:`conv.separable_rows`), ``kh + kw`` taps
    instead of ``kh * kw``;
``fft``
    for large dense kernels at stride 1: ``scipy.fft`` real transforms with workers
    (:mod:`kernelcli._core.fft`); in exact cases on the integer kernel in float64, rounded.

Plain numpy (:mod:`.numpy_impl`) serves small inputs and fresh processes; the caller's
:class:`~kernelcli._core.policy.Paths` says which economics apply.
The choice uses crossovers measured on the development machine (see
``python benchmarks/run.py --crossover``); :func:`choose_path` applies them.  Only the
strided outputs are ever computed: rows are picked, columns de-interleaved by phase.

Example
-------
>>> import numpy as np
>>> choose_path(np.outer([1, 2, 1], [1, 0, -1]), (1, 1), (1, 1), np.dtype("float32"))
'dense'
>>> choose_path(np.ones((7, 7)), (1, 1), (1, 1), np.dtype("float32"))
'separable'
"""

from __future__ import annotations

import numpy as np

from . import numpy_impl, threads
from .config import CONSTANT
from .memo import Memo, array_key, frozen
from .policy import WARM, Paths

#: A rank-1 kernel runs as two 1-D passes from this many non-zero 2-D taps up
#: (a 3x3 is faster as one 2-D pass: it is memory-bound either way).
SEPARABLE_MIN_TAPS = 10
#: A dense kernel at stride 1 goes through the FFT from this many non-zero taps up: the
#: direct cost grows with the taps, the tiled FFT's hardly at all.  Process CPU time, 1 thread
#: (``python benchmarks/bench_dense.py --path dense`` / ``--path fft``): 2048^2 float32 15x15 direct
#: 37 ms vs FFT 63, 19x19 54 vs 55, 21x21 64 vs 58, 25x25 89 vs 55; 256^2 15x15 1.0 vs 2.1, 21x21 1.8
#: vs 2.0, 25x25 2.5 vs 2.0.  So 19x19 (361 taps) stays direct, 21x21 (441) takes the FFT.
FFT_MIN_TAPS = 400
#: The same for a 3-D kernel: the jitted 3-D dense loop is cheap per tap and the FFT transforms the
#: whole padded volume (96^3 float32, 2 threads: 7^3 dense 29 ms vs FFT ~150; 11^3 164 vs 100;
#: 15^3 376 vs 121; ``python benchmarks/bench_volume.py --conv3d 96``).
FFT_MIN_TAPS_3D = 1000
#: the 3-D FFT per output value (the whole padded volume, any kernel up to ~19^3)
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


def integer_form(k: np.ndarray, power_of_two: bool = False) -> tuple[np.ndarray, float] | None:
    """``(m, q)`` with ``k == m * q`` exactly, ``m`` integer-valued (below 2**31) and ``q > 0``; else None.

    ``q`` is the smallest magnitude in ``k`` when every value is a whole multiple of it (a
    box of 1/9s: m = ones, q = 1/9), else the smallest power of two that divides every value
    (a binomial kernel over 256: m = the integers, q = 1/256); only the latter with ``power_of_two``.

    >>> integer_form(np.array([[1.0, 2.0], [2.0, 4.0]]) / 16)
    (array([[1., 2.],
           [2., 4.]]), 0.0625)
    """
    nonzero = k[k != 0]
    if nonzero.size == 0:
        return None
    candidates = [] if power_of_two else [float(np.abs(nonzero).min())]
    mant, exp = np.frexp(np.abs(nonzero))
    bits = (mant * 2.0**53).astype(np.int64)
    low = np.log2((bits & -bits).astype(np.float64)).astype(np.int64)  # lowest set bit of each mantissa
    candidates.append(float(np.ldexp(1.0, int((exp - 53 + low).min()))))
    for q in candidates:
        m = np.rint(k / q)
        if np.abs(m).max() < 2**31 and np.array_equal(m * q, k):
            return m, q
    return None


def _integer_rank1(m: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer ``(col, row)`` with ``outer(col, row) == m`` for an integer-valued rank-1 ``m``, else None.

    The pivot's row and column, each divided by the gcd of its entries, and the integer
    that is left (Gauss's lemma: the product of two primitive vectors is primitive) on the row.
    """
    mi = m.astype(np.int64)
    pi, pj = np.unravel_index(np.argmax(np.abs(mi)), mi.shape)
    row, col = mi[pi, :], mi[:, pj]
    if not np.array_equal(np.outer(col, row), mi * mi[pi, pj]):
        return None
    col = col // np.gcd.reduce(np.abs(col))
    row = row // np.gcd.reduce(np.abs(row))
    left = mi[pi, pj] // (col[pi] * row[pj])
    row = row * left
    if not np.array_equal(np.outer(col, row), mi):
        return None
    return col.astype(np.float64), row.astype(np.float64)


_RANK1 = Memo()


def rank1_factors(k: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray] | None:
    """``(col, row)`` with ``outer(col, row) == k`` (within the rounding of ``dtype``), or None.

    A kernel that is a whole-number matrix times a scale (Sobel, Prewitt, box, the
    binomial Gaussians over 16 or 256) factors into integer columns and integer rows with
    the scale applied once, on the row: every partial sum of integer data is then a whole
    number (times a power of two), so the separable path is exact wherever the direct
    one is.  Other kernels factor through the singular values: the kernel's largest row,
    and that row's column divided by the pivot.

    >>> rank1_factors(np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]]), np.dtype("float32"))
    (array([1., 2., 1.]), array([ 1.,  0., -1.]))
    >>> rank1_factors(np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256, np.dtype("float32"))[1]
    array([0.00390625, 0.015625  , 0.0234375 , 0.015625  , 0.00390625])

    Remembered per kernel (an SVD each call would cost a small image more than its
    convolution); the factors returned are read-only.
    """

    def build():
        pair = _rank1_factors(k, dtype)
        if pair is not None:
            frozen(*pair)
        return pair

    return _RANK1.get((array_key(k), np.dtype(dtype).str), build)


def _rank1_factors(k: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray] | None:
    if min(k.shape) < 2:
        return None
    form = integer_form(k)
    if form is not None:
        m, q = form
        factors = _integer_rank1(m)
        if factors is not None:
            return factors[0], factors[1] * q
    s = np.linalg.svd(k, compute_uv=False)
    tol = 8 * np.finfo(dtype).eps
    if s[0] == 0 or s[1] > tol * s[0]:
        return None
    pi, pj = np.unravel_index(np.argmax(np.abs(k)), k.shape)
    row = k[pi, :].copy()
    col = k[:, pj] / k[pi, pj]
    if np.abs(np.outer(col, row) - k).max() > tol * np.abs(k).max():
        return None
    return col, row


def separable_factors(k: np.ndarray, dtype: np.dtype) -> list[np.ndarray] | None:
    """One 1-D factor per axis with ``outer(*factors) == k`` (2-D or 3-D), or None when ``k`` is not rank 1.

    Integer kernels times a scale keep integer factors, the scale on the last one
    (:func:`rank1_factors`, applied axis by axis).

    >>> [f.tolist() for f in separable_factors(np.ones((2, 3, 2)) / 4, np.dtype("float32"))]
    [[1.0, 1.0], [1.0, 1.0, 1.0], [0.25, 0.25]]
    """
    if k.ndim == 2:
        pair = rank1_factors(k, dtype)
        return None if pair is None else list(pair)
    if k.ndim != 3 or min(k.shape) < 2:
        return None
    first = rank1_factors(k.reshape(k.shape[0], -1), dtype)
    if first is None:
        return None
    rest = rank1_factors(first[1].reshape(k.shape[1:]), dtype)
    if rest is None:
        return None
    factors = [first[0], rest[0], rest[1]]
    tol = 8 * np.finfo(dtype).eps * max(float(np.abs(k).max()), 1e-300)
    if np.abs(np.einsum("a,b,c->abc", *factors) - k).max() > tol:
        return None
    return factors


def data_stats(x3: np.ndarray) -> tuple[bool, float]:
    """``(whole_numbers, max_abs)`` of an array: what :func:`exact_form` reads from the data."""
    return x3.dtype.kind != "f" or bool(np.array_equal(np.rint(x3), x3)), float(np.abs(x3).max(initial=0))


def exact_form(x3: np.ndarray | None, k: np.ndarray, dtype: np.dtype, fill: float = 0.0,
               stats=None) -> tuple[np.ndarray, float, float, bool] | None:
    """``(m, q, bound, direct_exact)`` for whole-number input and ``k = m * q`` (integer ``m``), else None.

    ``bound = max|x| * sum|m|`` bounds every partial sum (the constant ``fill`` counted with
    x); ``direct_exact``: the direct loops compute this correlation exactly (``q`` a power of
    two and ``bound`` a whole number the compute dtype holds).  ``stats()``: the data's
    :func:`data_stats` when ``x3`` is not at hand (a tiled image's, from all its tiles).
    """
    form = integer_form(k)
    if form is None:
        return None
    m, q = form
    whole, top = stats() if stats is not None else data_stats(x3)
    bound = float(np.abs(m).sum()) * max(top, abs(float(fill)))
    if not whole:
        return None
    direct_exact = np.frexp(q)[0] == 0.5 and bound < 2.0 ** (np.finfo(dtype).nmant + 1)
    return m, q, bound, bool(direct_exact)


#: Below this bound on the partial sums a float64 FFT's error (about 2**-52 * log2(n) * bound)
#: stays far below 1/2, so rounding its result to whole numbers gives the exact sums.
FFT_EXACT_BOUND = 2.0**40


def fft_form(x3: np.ndarray | None, k: np.ndarray, dtype: np.dtype, mode_code: int, fill: float, pinned: str | None = None,
             stats=None):
    """How the FFT path treats this call.

    ``("exact", (m, q))``: whole-number input and a kernel of whole numbers times ``q``: the
    FFT transforms ``m`` in float64, rounds to the exact whole-number sums and applies ``q``
    once (the direct loops' exact result where they are exact; one rounding otherwise).
    ``("avoid", None)``: the direct loops are exact and the sums too large for that (the
    dispatcher then takes a direct path).  ``("plain", None)``: neither is exact; the FFT's
    error is relative to the block (see :mod:`kernelcli._core.fft`).  ``pinned``
    (``Paths.fft_form``): ``"exact"`` or ``"plain"`` decided by the caller from a larger
    image, of which ``x3`` is a tile (:mod:`kernelcli.tiled.pin`); ``stats``: see :func:`exact_form`.
    """
    if pinned == "plain":
        return "plain", None
    if pinned == "exact":
        form = integer_form(k)
        if form is None:
            raise ValueError("the FFT's exact form was pinned for a kernel that has none")
        return "exact", form
    if mode_code == CONSTANT and not float(fill).is_integer():
        return "plain", None
    form = exact_form(x3, k, dtype, fill, stats)
    if form is None:
        return "plain", None
    m, q, bound, direct_exact = form
    if bound < FFT_EXACT_BOUND:
        return "exact", (m, q)
    return ("avoid", None) if direct_exact else ("plain", None)


def choose_path(k: np.ndarray, stride: tuple[int, int], dilation: tuple[int, int], dtype: np.dtype, force: str | None = None) -> str:
    """Name the path for kernel ``k``: ``"dense"``, ``"separable"`` or ``"fft"``.

    ``force`` (a :class:`~kernelcli._core.policy.Paths` force) picks a path when it applies:
    ``separable`` needs rank 1, ``fft`` needs stride 1; otherwise ``dense`` is used.
    """
    if force in ("dense", "separable", "fft"):
        if force == "separable" and rank1_factors(k, dtype) is not None:
            return "separable"
        if force == "fft" and stride == (1, 1):
            return "fft"
        return "dense"
    taps = int(np.count_nonzero(k))
    if taps >= SEPARABLE_MIN_TAPS and rank1_factors(k, dtype) is not None:
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

    The price is the machine's measured one (``paths.jit_start``) only when every candidate
    path gives the same bytes (``same_bytes``: see :func:`same_bytes_on_every_path`); elsewhere
    the built-in estimate decides, so that no measurement (another machine, a busier day)
    ever changes a result.

    >>> from .policy import COLD, Paths
    >>> measured = Paths(process="cold", jit_start=1.5)
    >>> jit_start_seconds(measured, same_bytes=True), jit_start_seconds(measured) == jit_start_seconds(COLD)
    (1.5, True)
    """
    if not paths.cold:
        return 0.0
    if same_bytes and paths.jit_start is not None:
        return float(paths.jit_start)
    return JIT_LOAD_SECONDS + NUMBA_IMPORT_SECONDS


def same_bytes_on_every_path(x_dtype: np.dtype, k: np.ndarray, dtype: np.dtype, constant: bool, fill: float) -> bool:
    """True when plain numpy, every jitted loop and the FFT give this convolution the same bytes.

    That holds where the arithmetic is exact (tests/test_exactness.py forces each path): an
    integer (or bool) input, a kernel of whole numbers times a power of two, a whole-number
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
    False
    """
    x_dtype, dtype = np.dtype(x_dtype), np.dtype(dtype)
    if x_dtype.kind not in "biu" or (constant and not float(fill).is_integer()):
        return False
    if np.count_nonzero(k) >= FFT_COLD_MIN_TAPS:
        return False  # the FFT is a candidate: kept on the built-in estimate, a margin (see the docstring)
    form = integer_form(np.asarray(k, dtype=np.float64))
    if form is None:
        return False
    m, q = form
    if np.frexp(q)[0] != 0.5:
        return False
    # The sign of an exact 0: the direct loops give -0.0 where every product is -0.0 (zeros under
    # negative weights), the FFT decides it from the kernel alone (fft._zero_sign), which is right
    # only for values >= +0.0 under a kernel with no positive weight.
    if constant and np.copysign(1.0, fill) < 0:
        return False
    if not (m > 0).any() and x_dtype.kind == "i":
        return False
    top = 1 if x_dtype.kind == "b" else max(abs(int(np.iinfo(x_dtype).min)), int(np.iinfo(x_dtype).max))
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


def fft_correlate(x3, k, dtype, widths, mode_code, value, dilation, oh, ow, paths: Paths = WARM, form=None):
    """The FFT path (it needs no jitted core): for a cold process as for a warm one.

    Where the direct loops are exact (:func:`fft_form`), the transform runs on the integer
    kernel in float64 and the result is rounded to whole numbers before the scale is
    applied, so the FFT gives the very same result; elsewhere its error is relative to the
    block (see :mod:`kernelcli._core.fft`).  ``form``: :func:`fft_form`'s answer, if known.
    """
    from .fft import correlate_fft

    fill = value if mode_code == CONSTANT else 0.0
    kind, exact = form if form is not None else fft_form(x3, k, dtype, mode_code, fill, paths.fft_form)
    origin = paths.origin_of(2)
    if kind != "exact":
        return correlate_fft(x3, k, dtype, widths, mode_code, fill, dilation, oh, ow, threads.count(), cold=paths.cold,
                             origin=origin)
    m, q = exact
    return correlate_fft(x3, m, np.float64, widths, mode_code, fill, dilation, oh, ow, threads.count(), cold=paths.cold,
                         origin=origin, scale=q, out_dtype=dtype)


def pad_plan(shape: tuple[int, int, int], widths: tuple[int, int, int, int], mode_code: int, stride_w: int = 1):
    """The padding maps the jitted loops take: ``(rows, cols, runs, wq)`` (see :mod:`.pad`).

    ``rows``/``cols`` map padded rows and stored pixels to input rows/columns (-1: fill);
    with ``stride_w = s > 1`` the stored row holds the padded columns by phase.
    """
    h, w, c = shape
    top, bottom, left, right = widths
    s = stride_w
    wq = -(-(w + left + right) // s)
    rows = numpy_impl.source_indices(h, top, bottom, mode_code).astype(np.int64)
    padcols = numpy_impl.source_indices(w, left, right, mode_code)
    cols = np.full(s * wq, -1, dtype=np.int64)
    runs = np.zeros((s, 3), dtype=np.int64)
    for p in range(s):
        phase = padcols[p::s]
        cols[p * wq : p * wq + phase.shape[0]] = phase
        q0 = min(wq, max(0, -(-(left - p) // s)))
        q1 = max(q0, min(wq, -(-(left + w - p) // s)))
        runs[p] = q0, q1, p + q0 * s - left
    return rows, cols, runs, wq


#: The widest dense window (dilation * (kw - 1) + 1 columns) that runs in place (:func:`conv.dense_direct`);
#: wider ones go through the ring of padded rows (:func:`conv.dense_rows`), whose border columns are
#: vectorised like the rest (ring / in place, 1 thread: 3x3 1.15-1.2, 5x5 1.04-1.07, 7x7 0.9 on 256^2,
#: 11x11 0.64 and 15x15 0.49 on 256^2, 0.61 on 2048^2).
INPLACE_MAX_SPAN = 5

#: Input dtypes the convolution loops read directly; others are cast to the compute dtype
#: first (each dtype pair is a separate compiled version, so the set stays small).
NATIVE_INPUTS = ("uint8", "uint16", "float32", "float64")


def _flat_input(x3: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """``x3`` as contiguous (H, W*C) rows; cast to ``dtype`` unless its dtype is read natively."""
    h, w, c = x3.shape
    if dtype is not None and x3.dtype.name not in NATIVE_INPUTS:
        x3 = x3.astype(dtype)
    return np.ascontiguousarray(x3).reshape(h, w * c)


def _noop(*_args) -> None:
    return None


def pad_flat(x3: np.ndarray, widths: tuple[int, int, int, int], mode_code: int, value: float, dtype: np.dtype, announce=_noop) -> np.ndarray:
    """Pad (H, W, C) into a new (Hp, Wp, C) array of ``dtype`` with the jitted loop.

    ``announce(dispatcher, *dtypes)`` is called before the jitted loop runs (the API uses it
    to say "compiling..." when the cache is empty).
    """
    from .pad import pad_rows

    h, w, c = x3.shape
    rows, cols, runs, wq = pad_plan(x3.shape, widths, mode_code)
    out = np.empty((rows.shape[0], wq, c), dtype=dtype)
    fill = value if mode_code == CONSTANT else 0.0
    src = _flat_input(x3)
    announce(pad_rows, src.dtype, out.dtype)
    threads.run_rows(pad_rows, rows.shape[0], src, c, rows, cols, runs, wq, fill, out.reshape(rows.shape[0], -1))
    return out


def _offsets(n: int, dil: int, stride: int, wq: int, channels: int) -> np.ndarray:
    """Flat offsets of horizontal taps ``0..n-1`` in a phase-stored padded row."""
    v = np.arange(n) * dil
    return ((v % stride) * wq + v // stride) * channels


def correlate(x3, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, paths: Paths = WARM, announce=_noop,
              finite_check=None):
    """Cross-correlate (H, W, C) ``x3`` with 2-D ``k`` (float64) into (oh, ow, C) of ``dtype``.

    ``widths`` have been trimmed to what the windows read; ``paths.force`` may name a path;
    ``announce`` as for :func:`pad_flat`.  ``finite_check``: for an input not yet checked for
    NaN/infinity, the caller's check (it raises); called before the FFT path, or when the
    direct loop's screen cannot vouch for the input (see :meth:`DirectPlan.run`).
    """
    fill = value if mode_code == CONSTANT else 0.0
    path = choose_path(k, stride, dilation, dtype, paths.force)
    if path == "fft":
        if finite_check is not None:
            finite_check()
        form = fft_form(x3, k, dtype, mode_code, fill, paths.fft_form)
        if form[0] != "avoid" or paths.force == "fft":
            return fft_correlate(x3, k, dtype, widths, mode_code, value, dilation, oh, ow, paths, form)
        path = "dense"  # the direct loops are exact here and the FFT could not match them
    plan = direct_plan(x3.shape, x3.dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, path, announce)
    return plan.run(x3, finite_check)


def _screened(x3: np.ndarray, flags: np.ndarray, cover, finite_check) -> None:
    """Call ``finite_check`` unless the loop's screen (``flags``, over the ``cover`` rectangle of input
    cells it reads: (r0, r1, c0, c1) or None) and a look at the cells outside vouch for ``x3``."""
    if finite_check is None:
        return
    if cover is None or flags.shape[0] == 0 or flags.any():
        finite_check()
        return
    r0, r1, c0, c1 = cover
    if r0 == 0 and c0 == 0 and r1 >= x3.shape[0] and c1 >= x3.shape[1]:  # every cell read ("same" padding)
        return
    for part in (x3[:r0], x3[r1:], x3[r0:r1, :c0], x3[r0:r1, c1:]):
        if part.size and not np.isfinite(part).all():
            finite_check()
            return


class DirectPlan:
    """A direct path prepared for one geometry: the jitted row loop and every argument but the input and output.

    :func:`direct_plan` builds it (remembered per geometry: see :mod:`.memo`); :meth:`run`
    only flattens the input, allocates the output and runs the rows.  ``cover``: the input
    rows ``r0:r1`` and columns ``c0:c1`` that one non-zero tap reads for some output (stride 1),
    else None: what the loops' finiteness screen vouches for.
    """

    __slots__ = ("fn", "args", "dtype", "cast", "out_shape", "work", "cover")

    def __init__(self, fn, args, dtype, cast, out_shape, work, cover=None):
        self.fn, self.args, self.dtype, self.cast, self.out_shape, self.work = fn, args, dtype, cast, out_shape, work
        self.cover = cover

    def run(self, x3: np.ndarray, finite_check=None) -> np.ndarray:
        """The correlation of ``x3``; with ``finite_check`` (see :func:`correlate`) the loop screens its
        outputs, and the check runs only when the screen cannot vouch for the input."""
        oh, ow, c = self.out_shape
        out = np.empty((oh, ow * c), dtype=self.dtype)
        src = (x3.astype(self.dtype) if self.cast else x3).reshape(x3.shape[0], -1)
        if not src.flags.c_contiguous:
            src = np.ascontiguousarray(src)
        screen = finite_check is not None and self.cover is not None
        flags = np.zeros(oh if screen else 0, dtype=np.bool_)
        threads.run_rows(self.fn, oh, src, *self.args, out, flags, work=self.work)
        _screened(x3, flags, self.cover, finite_check)
        return out.reshape(oh, ow, c)


_PLANS = Memo()


def direct_plan(shape, src_dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, path, announce=_noop) -> DirectPlan:
    """The :class:`DirectPlan` of the ``"dense"`` or ``"separable"`` path for an input of ``shape`` and ``src_dtype``.

    A pure function of its arguments, remembered; ``announce`` is called when a plan is
    built (before its loop first runs).
    """
    key = (tuple(shape), np.dtype(src_dtype).str, array_key(k), np.dtype(dtype).str, tuple(widths), mode_code,
           float(value).hex(), tuple(stride), tuple(dilation), oh, ow, path)

    def build():
        plan = _build_direct(shape, np.dtype(src_dtype), k, np.dtype(dtype), widths, mode_code, value, stride, dilation, oh, ow, path)
        announce(plan.fn, plan.dtype if plan.cast else np.dtype(src_dtype), plan.dtype)
        return plan

    return _PLANS.get(key, build)


def _build_direct(shape, src_dtype, k, dtype, widths, mode_code, value, stride, dilation, oh, ow, path) -> DirectPlan:
    sh, sw = stride
    dh, dw = dilation
    c = shape[2]
    kh, kw = k.shape
    fill = value if mode_code == CONSTANT else 0.0
    span = dh * (kh - 1) + 1
    cast = src_dtype.name not in NATIVE_INPUTS
    # In place when the input is already in the compute dtype and needs no de-interleaving;
    # otherwise through a ring of padded rows (which also casts, e.g. uint8 -> float32).  A
    # dense window wider than INPLACE_MAX_SPAN takes the ring too: in place, its border columns
    # run tap by tap through the padding maps, which costs more than padding each row once.
    direct = ((dtype if cast else src_dtype) == dtype and sw == 1
              and (path == "separable" or dw * (kw - 1) + 1 <= INPLACE_MAX_SPAN))
    rows, cols, runs, wq = pad_plan(shape, widths, mode_code, sw)
    ring = (c, rows, cols, runs, wq, fill, span, sh)
    inplace = (c, rows, cols, fill, widths[2], sh)
    if path == "separable":
        from .conv import separable_direct, separable_rows

        col, row = rank1_factors(k, dtype)
        u, v = np.flatnonzero(col), np.flatnonzero(row)
        vtaps = ((u * dh).astype(np.int64), col[u].astype(dtype))
        htaps = ((_offsets(kw, dw, sw, wq, c)[v]).astype(np.int64), row[v].astype(dtype))
        fn, args = (separable_direct, inplace) if direct else (separable_rows, ring)
        taps = u.size + v.size
    else:
        from .conv import dense_direct, dense_rows

        u, v = np.nonzero(k)
        trow, ws = (u * dh).astype(np.int64), k[u, v].astype(dtype)
        if direct:
            fn, args, vtaps, htaps = dense_direct, inplace, (trow, (v * dw).astype(np.int64)), (ws,)
        else:
            fn, args, vtaps, htaps = dense_rows, ring, (trow, _offsets(kw, dw, sw, wq, c)[v].astype(np.int64)), (ws,)
        taps = u.size
    args = (*args, *vtaps, *htaps)
    frozen(*args)
    cover = None
    if (sh, sw) == (1, 1) and u.size:
        rows_in = _covered(u * dh - widths[0], oh, shape[0])
        cols_in = _covered(v * dw - widths[2], ow, shape[1])
        if path == "separable":  # every (row tap, column tap) pair is a tap
            cover = (*rows_in[np.argmax(rows_in[:, 1] - rows_in[:, 0])], *cols_in[np.argmax(cols_in[:, 1] - cols_in[:, 0])])
        else:
            best = np.argmax((rows_in[:, 1] - rows_in[:, 0]) * (cols_in[:, 1] - cols_in[:, 0]))
            cover = (*rows_in[best], *cols_in[best])
        cover = tuple(int(b) for b in cover)
    return DirectPlan(fn, args, dtype, cast, (oh, ow, c), oh * ow * c * max(1, taps), cover)


def _covered(shift: np.ndarray, n_out: int, n_in: int) -> np.ndarray:
    """Per tap at offset ``shift`` (input index of output 0): the input range [a, b) it reads over ``n_out`` outputs."""
    a = np.clip(shift, 0, n_in)
    b = np.clip(shift + n_out, a, n_in)
    return np.stack([a, b], axis=1)


def pool(x3, size, stride, padding, op_code, include_pad, oh, ow, dtype, announce=_noop, paths: Paths = WARM,
         finite_check=None):
    """Pool (H, W, C) ``x3`` into (oh, ow, C) of ``dtype`` (the input's for max/min, a float for avg).

    2x2 and 3x3 windows at stride 2 without padding, all inside the input, take the
    specialised loop (unless ``paths.force`` is ``"general"``); everything else the general one.

    ``finite_check`` as for :func:`correlate`: the 2x2 average loop screens its outputs (every
    cell it reads reaches one; the cells of an odd last row or column are looked at apart);
    the other loops call it first (a NaN loses or wins a max by where it stands).
    """
    from .pool import AVG, avg2_rows, pool_rows, pool_s2

    h, w, c = x3.shape
    out = np.empty((oh, ow * c), dtype=dtype)
    whole = padding == 0 and (oh - 1) * stride + size <= h and (ow - 1) * stride + size <= w
    if op_code == AVG and stride == 2 and size == 2 and whole and paths.force != "general":
        src = _flat_input(x3, dtype)  # uint8/uint16 read as they are: no float copy of the image
        flags = np.zeros(oh if finite_check is not None else 0, dtype=np.bool_)
        announce(avg2_rows, src.dtype, out.dtype)
        threads.run_rows(avg2_rows, oh, src, c, out, flags, work=out.size * 4)
        _screened(x3, flags, (0, 2 * oh, 0, 2 * ow), finite_check)
        return out.reshape(oh, ow, c)
    if finite_check is not None:
        finite_check()
    src = np.ascontiguousarray(x3.astype(dtype, copy=False) if op_code == AVG else x3).reshape(h, w * c)
    if stride == 2 and size in (2, 3) and whole and paths.force != "general":
        announce(pool_s2, src.dtype, out.dtype)
        threads.run_rows(pool_s2, oh, src, c, size, op_code, out, work=out.size * size * size)
    else:
        announce(pool_rows, src.dtype, out.dtype)
        threads.run_rows(pool_rows, oh, src, c, size, stride, padding, op_code, include_pad, out, work=out.size * size * size)
    return out.reshape(oh, ow, c)
