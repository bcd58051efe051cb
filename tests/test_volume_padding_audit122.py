"""--padding on a (Z, Y, X) array, one meaning per command and messages that name what is taken (audit 122 #3, #4).

#3: ``convolve v.npy --layout zyx -k k3.npy --padding 1,1,1,1`` was refused asking for "(pz, py, px) or (z0, z1,
y0, y1, x0, x1)", and ``--padding 1,1,1`` or ``0,1,1,0,2,2`` were refused asking for "one width or four (T,B,L,R)":
each message sent the user to the other.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import run_in_process, TILED_OR_NOT
from kernelcli import conv3d


@pytest.fixture
def zyx(tmp_path):
    r = np.random.default_rng(1)
    v = r.integers(0, 100, (6, 7, 8)).astype(np.float32)
    k = r.integers(-2, 3, (3, 3, 3)).astype(float)
    np.save(tmp_path / "v.npy", v)
    np.save(tmp_path / "k3.npy", k)
    return v, k


@pytest.mark.parametrize("text, widths", [("1,1,1", (1, 1, 1)), ("0,1,2", (0, 1, 2)), ("0,1,1,0,2,2", (0, 1, 1, 0, 2, 2)),
                                          ("1", 1), ("valid", "valid")])
@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_a_3d_kernel_takes_three_or_six_widths(tmp_path, zyx, text, widths, tiled):
    v, k = zyx
    r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k3.npy", "--padding", text, *tiled, "-o", "x.npy", "-q",
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "x.npy"), conv3d(v, k, padding=widths))


@pytest.mark.parametrize("text, widths", [("1,1,1", (1, 1, 1)), ("0,1,1,0,2,2", (0, 1, 1, 0, 2, 2))])
def test_a_piped_array_takes_them_as_a_file_does(tmp_path, zyx, text, widths):
    """Review 49 #2: on stdin, the checks made before it is read refused 1,1,1 ("one width or four") and the body
    refused four widths: the two refusals sent the user to each other's form."""
    v, k = zyx
    r = run_in_process("convolve", "-", "--layout", "zyx", "-k", "k3.npy", "--padding", text, "-o", "x.npy", "-q",
                       cwd=tmp_path, input=(tmp_path / "v.npy").read_bytes())
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "x.npy"), conv3d(v, k, padding=widths))


@pytest.mark.parametrize("text", ["1,1,1,1", "0,0,1,1"])
@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_four_widths_on_a_3d_kernel_are_refused_naming_what_is_taken(tmp_path, zyx, text, tiled):
    r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k3.npy", "--padding", text, *tiled, "-o", "x.npy",
                       cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr == (f"error: v.npy: --padding {text}: four widths (T,B,L,R) name the Y and X sides alone; a 3-D kernel on a "
                        "(Z, Y, X) volume takes same, valid, P (all six sides), PZ,PY,PX or Z0,Z1,Y0,Y1,X0,X1 (e.g. 0,1,1 to "
                        "leave Z unpadded)\n"), r.stderr
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.parametrize("text", ["1,1,1", "0,1,1,0,2,2"])
@pytest.mark.parametrize("tiled", TILED_OR_NOT)
def test_three_or_six_widths_on_a_2d_kernel_are_refused(tmp_path, zyx, text, tiled):
    r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "sobel_v", "--padding", text, *tiled, "-o", "x.npy",
                       cwd=tmp_path)
    assert r.returncode == 2 and "widths are for a 3-D kernel on a (Z, Y, X) volume (Z, Y and X); a 2-D kernel takes same, " \
        "valid, P or T,B,L,R" in r.stderr, r.stderr
    assert "(pz, py, px)" not in r.stderr and "Traceback" not in r.stderr


def test_a_wrong_count_on_zyx_names_every_form(tmp_path, zyx):
    r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k3.npy", "--padding", "1,1", "-o", "x.npy", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == ("error: Invalid value for '--padding' / '-p' / '--p': '1,1': expected one width or four "
                                              "(T,B,L,R), or for a 3-D kernel three (PZ,PY,PX) or six (Z0,Z1,Y0,Y1,X0,X1), got 2 "
                                              "(see 'kernelcli convolve -h')\n"), r.stderr


def test_convolve_help_names_the_3d_forms():
    r = run_in_process("convolve", "--help")
    assert "PZ,PY,PX" in " ".join(r.stdout.split()) and "Z0,Z1,Y0,Y1,X0,X1" in "".join(r.stdout.split())


class TestPadOfAVolumeArrayIsSliceBySlice:
    """#4: on a --layout zyx array ``pad -p 1`` pads Y and X only (as a 2-D kernel's --padding), where ``pool -p 1`` and
    a 3-D kernel's ``--padding 1`` pad Z too; pad --help said "every side", and ``-p 1,1,1`` was refused asking for
    "one width or four". Now help and README say slice by slice, and three or six widths are refused saying Z is not padded."""

    def test_p_pads_each_slice(self, tmp_path, zyx):
        v, _ = zyx
        r = run_in_process("pad", "v.npy", "--layout", "zyx", "-p", "1", "-o", "p.npy", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert np.array_equal(np.load(tmp_path / "p.npy"), np.pad(v, ((0, 0), (1, 1), (1, 1))))

    @pytest.mark.parametrize("text", ["1,1,1", "1,1,1,1,1,1"])
    def test_three_or_six_widths_are_refused_saying_z_is_not_padded(self, tmp_path, zyx, text):
        r = run_in_process("pad", "v.npy", "--layout", "zyx", "-p", text, "-o", "p.npy", cwd=tmp_path)
        assert r.returncode == 2 and r.stderr == (f"error: Invalid value for '--padding' / '-p' / '--p': '{text}': pad pads a "
                                                  "--layout zyx array slice by slice, the Y and X sides of each (Z is not "
                                                  "padded): it takes P or T,B,L,R (see 'kernelcli pad -h')\n"), r.stderr
        assert not (tmp_path / "p.npy").exists()

    def test_help_says_so(self):
        r = run_in_process("pad", "--help")
        assert "slice by slice: Y and X, not Z" in " ".join(r.stdout.replace("│", " ").split()), r.stdout
