"""One-register SIMD vectors inside jitted code, for loops that keep their sums in registers.

LLVM vectorises a Numba loop over its innermost index only, and keeps no array element in
a register across an outer loop (it cannot prove that two arrays do not overlap).  A
register-blocked kernel (:mod:`.layer_blocks`) needs both: a block of sums that stays in
registers across a loop over taps.  :class:`Vec` is a Numba type whose value is one LLVM
vector of :func:`lanes` elements (one machine register: 16 float32 with AVX-512), so such
sums are plain local variables; the intrinsics below are the few operations the kernel
needs.  :func:`vmuladd_at` adds a product to a sum as :func:`muladd` does in scalar code, so
every lane computes exactly what the scalar loop computes: a fused multiply-add (one
rounding) in float32, a multiply then an add in float64 (see :data:`.config.FUSED_DTYPES`).

The register width is the compilation target's (Numba's, which is the host unless
``NUMBA_CPU_NAME`` says otherwise), read once at import: 64 bytes with AVX-512, 32 with AVX,
else 16.  Numba's cache is keyed on that same target, so a cached kernel always matches.

Example
-------
>>> import numpy as np
>>> from numba import njit
>>> @njit
... def axpy(w, x, out):
...     vstore(out, 0, vmuladd_at(vzero(w), vload(w, 0), x, 1))
>>> w = np.arange(lanes(np.float32), dtype=np.float32)
>>> out = np.empty_like(w)
>>> axpy(w, np.array([0.0, 2.0], dtype=np.float32), out)
>>> bool((out == 2 * w).all())
True
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic, models, register_model

from .config import FUSED_DTYPES


def _target_features() -> str:
    """The CPU features Numba compiles for (``+avx512f,...``), or "" when unknown.

    Numba keeps them in a private attribute of its code generator.  Without it (or when the
    generator cannot be reached) they are found by Numba's own rule: ``NUMBA_CPU_FEATURES`` if
    set, else the host's features as LLVM reports them (:func:`numba.core.codegen.get_host_cpu_features`).
    Any failure there gives "" (16-byte vectors: correct on every x86-64, only slower).
    """
    try:
        from numba.core.registry import cpu_target

        features = cpu_target.target_context.codegen()._tm_features
    except Exception:  # noqa: BLE001 - a private attribute: any Numba may lay it out otherwise
        features = None
    if isinstance(features, str):
        return features
    try:
        from numba.core import codegen, config

        if config.CPU_FEATURES is not None:
            return str(config.CPU_FEATURES)
        return str(codegen.get_host_cpu_features())  # LLVM's, less AVX under NUMBA_ENABLE_AVX=0
    except Exception:  # noqa: BLE001 - Numba's internals moved too: the smallest registers
        return ""


def register_bytes(features: str) -> int:
    """Bytes in one vector register of a target with these LLVM ``features``.

    >>> register_bytes("+avx512f,+avx2,+avx"), register_bytes("-avx512f,+avx2,+avx"), register_bytes("")
    (64, 32, 16)
    """
    names = features.split(",")
    return 64 if "+avx512f" in names else 32 if "+avx" in names else 16


_FEATURES = _target_features()
#: bytes in one vector register of the compilation target
REGISTER_BYTES = register_bytes(_FEATURES)
#: vector registers of the target (x86-64: 32 with AVX-512, else 16)
REGISTERS = 32 if REGISTER_BYTES == 64 else 16


def lanes(dtype) -> int:
    """Elements of ``dtype`` in one :class:`Vec` (one register).

    >>> lanes(np.float32) * np.dtype(np.float32).itemsize == REGISTER_BYTES
    True
    """
    return REGISTER_BYTES // np.dtype(dtype).itemsize


class Vec(types.Type):
    """One register of ``dtype`` values: an LLVM ``<lanes x dtype>`` vector."""

    def __init__(self, dtype: types.Float) -> None:
        self.dtype = dtype
        self.lanes = REGISTER_BYTES // (dtype.bitwidth // 8)
        super().__init__(name=f"vec{self.lanes}x{dtype}")


@register_model(Vec)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type: Vec) -> None:
        element = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(element, fe_type.lanes))


def _element_pointer(context, builder, arrty, arr, idx):
    """&arr.flat[idx] of a contiguous array: no bounds check, no negative-index wrap (callers stay inside)."""
    data = context.make_array(arrty)(context, builder, arr).data
    return builder.gep(data, [idx])


def _vector_pointer(context, builder, sig, args, vec: Vec):
    ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1])
    return builder.bitcast(ptr, context.get_value_type(vec).as_pointer())


def _is_float_array(arr) -> bool:
    return isinstance(arr, types.Array) and isinstance(arr.dtype, types.Float) and arr.layout == "C"


@intrinsic
def vzero(typingctx, arr):
    """A vector of zeros of ``arr``'s dtype."""
    if not _is_float_array(arr):
        return None
    vec = Vec(arr.dtype)

    def codegen(context, builder, sig, args):
        return ir.Constant(context.get_value_type(vec), None)

    return vec(arr), codegen


@intrinsic
def vload(typingctx, arr, idx):
    """``arr.flat[idx : idx + lanes]`` as a vector (unaligned)."""
    if not _is_float_array(arr) or not isinstance(idx, types.Integer):
        return None
    vec = Vec(arr.dtype)

    def codegen(context, builder, sig, args):
        return builder.load(_vector_pointer(context, builder, sig, args, vec), align=arr.dtype.bitwidth // 8)

    return vec(arr, idx), codegen


@intrinsic
def vstore(typingctx, arr, idx, v):
    """Write ``v`` to ``arr.flat[idx : idx + lanes]``."""
    if not _is_float_array(arr) or not isinstance(idx, types.Integer) or v != Vec(arr.dtype):
        return None

    def codegen(context, builder, sig, args):
        builder.store(args[2], _vector_pointer(context, builder, sig, args, v), align=arr.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(arr, idx, v), codegen


@intrinsic
def vstore_first(typingctx, arr, idx, v, n):
    """Write the first ``n`` lanes of ``v`` to ``arr.flat[idx : idx + n]`` (a block's partly used last vector)."""
    if not _is_float_array(arr) or not isinstance(idx, types.Integer) or v != Vec(arr.dtype):
        return None

    def codegen(context, builder, sig, args):
        base = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        count = context.cast(builder, args[3], sig.args[3], types.intp)
        with cgutils.for_range(builder, count) as loop:
            lane = builder.extract_element(args[2], loop.index)
            builder.store(lane, builder.gep(base, [loop.index]))
        return context.get_dummy_value()

    return types.none(arr, idx, v, n), codegen


@intrinsic
def vadd(typingctx, a, b):
    """``a + b``, lane by lane."""
    if not isinstance(a, Vec) or a != b:
        return None

    def codegen(context, builder, sig, args):
        return builder.fadd(args[0], args[1])

    return a(a, b), codegen


def _muladd(builder, acc, w, x, fused: bool):
    """``acc + w * x`` of float scalars or vectors of one type: one rounding (``llvm.fma``; float32 only)
    when ``fused``, else a multiply then an add."""
    if not fused:
        return builder.fadd(acc, builder.fmul(w, x))
    ty = acc.type
    name = f"llvm.fma.v{ty.count}f32" if isinstance(ty, ir.VectorType) else "llvm.fma.f32"
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty, ty, ty]), name)
    return builder.call(fn, [w, x, acc])


def _fused(dtype) -> bool:
    return str(dtype) in FUSED_DTYPES


@intrinsic
def muladd(typingctx, acc, w, x):
    """``acc + w * x`` of three floats of one type: a fused multiply-add in float32, a multiply then an add in float64.

    The one rule for every loop of the convolution layer (and its plain-numpy path,
    :func:`.fused.muladd_into`), so that all give the same bytes.
    """
    if not isinstance(acc, types.Float) or acc != w or acc != x:
        return None

    def codegen(context, builder, sig, args):
        return _muladd(builder, args[0], args[1], args[2], _fused(sig.args[0]))

    return acc(acc, w, x), codegen


@intrinsic
def vmuladd_at(typingctx, acc, w, arr, idx):
    """``acc + w * arr.flat[idx]``, the element broadcast to every lane: :func:`muladd` in every lane."""
    if not isinstance(acc, Vec) or acc != w or not _is_float_array(arr) or arr.dtype != acc.dtype:
        return None

    def codegen(context, builder, sig, args):
        vty = context.get_value_type(sig.args[0])
        x = builder.load(_element_pointer(context, builder, sig.args[2], args[2], args[3]))
        one = builder.insert_element(ir.Constant(vty, ir.Undefined), x, ir.Constant(ir.IntType(32), 0))
        splat = builder.shuffle_vector(one, ir.Constant(vty, ir.Undefined), ir.Constant(ir.VectorType(ir.IntType(32), vty.count), [0] * vty.count))
        return _muladd(builder, args[0], args[1], splat, _fused(sig.args[0].dtype))

    return acc(acc, w, arr, idx), codegen


@intrinsic
def vstream(typingctx, arr, idx, v):
    """Write ``v`` to ``arr.flat[idx : idx + lanes]`` past the caches (a non-temporal store).

    The address must be a multiple of :data:`REGISTER_BYTES`, and :func:`stream_fence` must
    run before another thread reads what was written.
    """
    if not _is_float_array(arr) or not isinstance(idx, types.Integer) or v != Vec(arr.dtype):
        return None

    def codegen(context, builder, sig, args):
        store = builder.store(args[2], _vector_pointer(context, builder, sig, args, v), align=REGISTER_BYTES)
        store.set_metadata("nontemporal", builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]))
        return context.get_dummy_value()

    return types.none(arr, idx, v), codegen


@intrinsic
def stream_fence(typingctx):
    """Order every :func:`vstream` store before the stores and loads that follow (x86 ``sfence``)."""

    def codegen(context, builder, sig, args):
        if "+sse" in _FEATURES.split(","):
            fence = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse.sfence")
            builder.call(fence, [])
        else:
            builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.none(), codegen
