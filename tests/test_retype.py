"""kernelcli._core.retype: arrays retyped or borrowed inside jitted code.

``borrowed`` drops an array's owner (its memory-info pointer) so that the row loops' views of it
count no references; ``alive`` keeps an allocation's owner until the loop is done with what it
borrowed from it.  These tests look at the pointer itself and at what happens to borrowed memory
when its owner is kept, or (a control) not kept.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from kernelcli._core.retype import alive, borrowed, read_only


@intrinsic
def _meminfo_address(typingctx, a):
    """The address of ``a``'s memory-info (0 for none), as an int64."""
    if not isinstance(a, types.Array):
        return None

    def codegen(context, builder, signature, args):
        arr = context.make_array(signature.args[0])(context, builder, value=args[0])
        return builder.ptrtoint(arr.meminfo, context.get_value_type(types.int64))

    return types.int64(a), codegen


@njit
def _owners(a):
    b = borrowed(a)
    return _meminfo_address(a), _meminfo_address(b), _meminfo_address(b[1:]), _meminfo_address(b.reshape(-1))


def test_a_borrowed_array_and_its_views_have_no_owner_and_the_same_contents():
    a = np.arange(12.0).reshape(3, 4)
    owned, lent, view, flat = _owners(a)
    assert owned != 0
    assert lent == view == flat == 0

    @njit
    def same(x):
        b = borrowed(x)
        return b.shape == x.shape and b.strides == x.strides and b.ctypes.data == x.ctypes.data and (b == x).all()

    assert same(a) and same(a[:, ::2]) and same(read_only_view(a))


def read_only_view(a):
    v = a.view()
    v.flags.writeable = False
    return v


@njit
def _kept(n):
    """Borrow a fresh allocation, keep it alive, and meanwhile allocate and fill another of the same size."""
    memory = np.empty(n)
    lent = borrowed(memory)
    for i in range(n):
        lent[i] = 1.0
    other = np.empty(n)
    other[:] = 2.0
    total = lent.sum()
    alive(memory)
    return total, other.sum()


@njit
def _not_kept(n):
    """:func:`_kept` without ``alive``: Numba frees ``memory`` at its last use (its borrowing)."""
    memory = np.empty(n)
    lent = borrowed(memory)
    for i in range(n):
        lent[i] = 1.0
    other = np.empty(n)
    other[:] = 2.0
    return lent.sum(), other.sum()


def test_alive_keeps_the_memory_a_loop_borrowed_and_without_it_the_memory_is_reused():
    n = 4096
    assert _kept(n) == (n * 1.0, n * 2.0)
    # the control: the borrowed memory was freed and the next allocation of its size took it
    assert _not_kept(n) == (n * 2.0, n * 2.0)


def test_alive_is_a_no_op_in_python_and_read_only_still_retypes():
    assert alive(np.zeros(2), np.ones(3)) is None

    @njit
    def writable(a):
        return read_only(a).sum()

    assert writable(np.ones(3)) == 3.0


def _borrowing_faults(source: str) -> list[str]:
    """Per function: names passed to ``borrowed`` that are not its parameters (which live for the whole
    call) and are not named in an ``alive`` call after it: memory the function allocated, which Numba
    would free while the borrowed array is still in use."""
    import ast

    faults = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, ast.FunctionDef):
            continue
        params = {a.arg for a in fn.args.args}
        lent, kept = {}, {}
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("borrowed", "alive"):
                for arg in node.args:
                    if isinstance(arg, ast.Name):
                        table = lent if node.func.id == "borrowed" else kept
                        table[arg.id] = max(table.get(arg.id, 0), node.lineno)
        faults += [f"{fn.name}: {name} (borrowed at line {line}) is never kept alive after"
                   for name, line in lent.items() if name not in params and kept.get(name, 0) <= line]
    return faults


def test_every_loop_keeps_alive_the_memory_it_borrows():
    from pathlib import Path

    import kernelcli._core as core

    faults = []
    for path in sorted(Path(core.__file__).parent.glob("*.py")):
        faults += [f"{path.name}: {f}" for f in _borrowing_faults(path.read_text())]
    assert faults == []
    # the check finds the fault it looks for
    assert _borrowing_faults("def f(x):\n    m = np.empty(3)\n    b = borrowed(m)\n    return b\n") == [
        "f: m (borrowed at line 3) is never kept alive after"
    ]
    assert _borrowing_faults("def f(x):\n    x = borrowed(x)\n    m = np.empty(3)\n    b = borrowed(m)\n    alive(m)\n") == []
