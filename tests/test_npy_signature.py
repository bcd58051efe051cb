"""A file named .npy that is not one is refused as such, not with numpy's advice to unpickle it."""

from __future__ import annotations

import numpy as np
import pytest

from kernelcli.errors import ImageReadError, InvalidKernel
from kernelcli.io.arrays import load_npy, read_npy

PICKLE_ADVICE = "allow_pickle"


@pytest.mark.parametrize(
    "content, seen",
    [(b"garbage\n", "it starts with 'garbage'"), (b"", "the file is empty"), (b"\x00\x01\xff\xfe", r"it starts with b'\x00\x01\xff\xfe'")],
)
def test_a_file_without_the_signature_is_not_a_npy(tmp_path, content, seen):
    path = tmp_path / "t.npy"
    path.write_bytes(content)
    for call, error in ((lambda: read_npy(path, None), ImageReadError), (lambda: load_npy(path, InvalidKernel), InvalidKernel)):
        with pytest.raises(error) as info:
            call()
        message = str(info.value)
        assert f"{path}: not a .npy file" in message and seen in message and PICKLE_ADVICE not in message


def test_real_npy_and_npz_files_pass_the_check(tmp_path):
    np.save(tmp_path / "a.npy", np.ones((2, 3)))
    assert read_npy(tmp_path / "a.npy", None).data.shape == (2, 3)
    np.savez(tmp_path / "b.npz", a=np.ones(2))
    with pytest.raises(ImageReadError, match="got an .npz archive"):  # an .npz keeps its own message
        read_npy(tmp_path / "b.npz", None)


@pytest.mark.parametrize("args, code", [(["kernels", "show", "bad.npy"], 3), (["gallery", "bad.npy", "-o", "g.png"], 2),
                                        (["convolve", "ok.npy", "-k", "bad.npy", "-o", "o.npy"], 3)])
def test_the_commands_say_so_with_their_exit_codes(invoke, tmp_path, args, code):
    (tmp_path / "bad.npy").write_text("garbage\n")
    np.save(tmp_path / "ok.npy", np.ones((5, 5)))
    r = invoke(*args)
    assert r.exit_code == code and "bad.npy: not a .npy file" in r.stderr and PICKLE_ADVICE not in r.stderr


def test_the_tiled_reader_says_so_too(invoke, tmp_path):
    pytest.importorskip("dask.array")
    (tmp_path / "bad.npy").write_text("garbage\n")
    r = invoke("convolve", "bad.npy", "-k", "box:3", "--tiled", "-o", "o.npy")
    assert r.exit_code == 2 and "bad.npy: not a .npy file" in r.stderr and PICKLE_ADVICE not in r.stderr
