"""Audit 209: kernels as inputs.

#1: ``-k fam.json:a`` where a file is named ``fam.json:a`` and ``fam.json`` holds a kernel ``a`` took the file, silently;
    it reads two ways and no spelling picks one, so it is refused (exit 3) naming both, in convolve, kernels show,
    --then, on a volume and in the API's load_kernel alike.
#2: a kernel path ending with ``/`` was read as the file with the slash dropped: ``-k k.npy/`` as JSON ("not UTF-8
    text"), ``crlf.json/`` as the file, and ``fam.json/`` advised ``fam.json/:NAME``, which fails; it names a folder and
    is refused as such (exit 3), as an output spelt so is.

#3: a kernel whose weights' magnitudes overflow a float was refused saying "their sum is beyond the float range", also
    of ``[[1e308,-1e308]]``, whose sum is 0; the check sums the magnitudes (a normalisation's parts and the worst-case
    response need them), and the message says so.
#4: ``gaussian:SIGMA`` was said to be "as ImageMagick's Gaussian:0xSIGMA" (its source, docstrings, README), whose kernel
    is larger (9x9 for sigma 1, where kernelcli's is 7x7) with other weights; it is cv2.getGaussianKernel's of
    2*ceil(3*sigma)+1 taps (times its transpose) and ImageMagick's ``Gaussian:RxSIGMA`` with R = ceil(3*sigma).
"""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pytest

from kernelcli.catalog import load_kernel
from kernelcli.errors import InvalidKernel

from conftest import REPO, imagemagick, run_in_process


@pytest.fixture
def folder(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(209).random((6, 6)))
    return tmp_path


FAMILY = '{"family": "f", "kernels": [{"name": "a", "matrix": [[1]]}, {"name": "b", "matrix": [[2]]}]}'
TWO_WAYS = ("'{spec}' reads two ways: the file {spec}, or the kernel a of the family file {family}; rename one of them")


@pytest.fixture
def clash(folder):
    (folder / "fam.json").write_text(FAMILY)
    (folder / "fam.json:a").write_text('{"name": "z", "matrix": [[7]]}')
    (folder / "fam.json:c").write_text('{"name": "z", "matrix": [[7]]}')
    return folder


class TestAFileNamedLikeASelectorIsRefusedWhereBothExist:
    @pytest.mark.parametrize("spec, family", [("fam.json:a", "fam.json"), ("./fam.json:a", "./fam.json"),
                                              ("fam.json:A", None)])
    @pytest.mark.parametrize("call", [("convolve", "x.npy", "-o", "y.npy", "-k"), ("kernels", "show"),
                                      ("convolve", "x.npy", "-o", "y.npy", "-k", "box:1", "--then")],
                             ids=["convolve", "show", "then"])
    def test_both_readings_are_named(self, clash, spec, family, call):
        r = run_in_process(*call, spec, cwd=clash)
        if family is None:  # no file is named fam.json:A (a case-sensitive folder): kernel a of fam.json, the one reading
            if (clash / spec).exists():
                pytest.skip("a folder that ignores case")
            assert r.returncode == 0, r.stderr
            return
        assert r.returncode == 3, r.stderr
        assert r.stderr == f"error: {TWO_WAYS.format(spec=spec, family=family)}\n"
        assert not (clash / "y.npy").exists()

    def test_on_a_volume_too(self, clash):
        np.save(clash / "v.npy", np.random.default_rng(1).random((4, 5, 5)))
        r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "fam.json:a", "-o", "y.npy", cwd=clash)
        assert r.returncode == 3 and "reads two ways" in r.stderr, r.stderr

    def test_the_api_refuses_it_too(self, clash, monkeypatch):
        monkeypatch.chdir(clash)
        with pytest.raises(InvalidKernel, match="^" + re.escape(TWO_WAYS.format(spec="fam.json:a", family="fam.json")) + "$"):
            load_kernel("fam.json:a")

    def test_one_reading_alone_is_taken(self, clash, monkeypatch):
        monkeypatch.chdir(clash)
        assert load_kernel("fam.json:b").matrix == ((2.0,),)  # no file fam.json:b: the kernel of the family file
        assert load_kernel("fam.json:c").matrix == ((7.0,),)  # fam.json holds no c: the file
        (clash / "fam.json").write_text("{broken")
        assert load_kernel("fam.json:a").matrix == ((7.0,),)  # no family file to read: the file


class TestAKernelPathEndingWithASlashNamesAFolder:
    @pytest.fixture
    def files(self, folder):
        np.save(folder / "k_even.npy", np.array([[1.0, 2.0], [3.0, 4.0]]))
        (folder / "fam.json").write_text(FAMILY)
        (folder / "one.json").write_text('{"name": "c", "matrix": [[1]]}\r\n')
        (folder / "kdir").mkdir()
        return folder

    @pytest.mark.parametrize("spec", ["k_even.npy/", "k_even.npy/.", "fam.json/", "one.json/", "./one.json//"])
    @pytest.mark.parametrize("call", [("convolve", "x.npy", "-o", "y.npy", "-k"), ("kernels", "show"),
                                      ("convolve", "x.npy", "-o", "y.npy", "-k", "box:1", "--then")],
                             ids=["convolve", "show", "then"])
    def test_a_file_with_a_slash_after_it_is_refused(self, files, spec, call):
        r = run_in_process(*call, spec, cwd=files)
        file = {"k_even.npy/": "k_even.npy", "k_even.npy/.": "k_even.npy", "fam.json/": "fam.json", "one.json/": "one.json",
                "./one.json//": "./one.json"}[spec]  # (every trailing '/' and '/.' dropped: the ending is all of them)
        ending = spec[len(file):]
        assert r.returncode == 3, r.stderr
        assert r.stderr == f"error: {spec} names a folder (it ends with '{ending}'), but {file} is a file: drop the '{ending}'\n"
        assert not (files / "y.npy").exists()

    @pytest.mark.parametrize("spec", ["kdir/", "kdir/.", "none/"])
    def test_a_folder_or_none_is_refused_as_no_kernel_file(self, files, spec):
        r = run_in_process("kernels", "show", spec, cwd=files)
        ending = "/." if spec.endswith("/.") else "/"
        assert r.returncode == 3, r.stderr
        assert r.stderr == (f"error: {spec} names a folder (it ends with '{ending}'): expected a kernel file (.json or .npy); "
                            f"give one in that folder ({spec[:-len(ending)]}/NAME.json) or drop the '{ending}'\n")

    def test_on_a_volume_and_in_the_api_too(self, files, monkeypatch):
        np.save(files / "v.npy", np.random.default_rng(1).random((4, 5, 5)))
        r = run_in_process("convolve", "v.npy", "--layout", "zyx", "-k", "k_even.npy/", "-o", "y.npy", cwd=files)
        assert r.returncode == 3 and "k_even.npy/ names a folder" in r.stderr, r.stderr
        monkeypatch.chdir(files)
        with pytest.raises(InvalidKernel, match="^fam.json/ names a folder"):
            load_kernel("fam.json/")

    def test_the_family_files_advice_works(self, files):
        r = run_in_process("kernels", "show", "fam.json", cwd=files)
        assert r.returncode == 3 and "pick one with fam.json:NAME" in r.stderr, r.stderr
        assert run_in_process("kernels", "show", "fam.json:b", cwd=files).returncode == 0


class TestTooLargeSaysWhatIsSummed:
    @pytest.mark.parametrize("spec", ["[[1e308,-1e308]]", "2x1: 1e308 -1e308", "big.npy"])
    def test_a_kernel_summing_to_zero_is_not_said_to_have_a_sum_beyond_range(self, folder, spec):
        np.save(folder / "big.npy", np.array([[1e308, -1e308]]))
        for r in (run_in_process("kernels", "show", spec, cwd=folder),
                  run_in_process("convolve", "x.npy", "-k", spec, "-o", "y.npy", cwd=folder)):
            assert r.returncode == 3, r.stderr
            assert "the sum of their magnitudes is beyond the float range" in r.stderr
            assert "their sum is" not in r.stderr
        assert not (folder / "y.npy").exists()

    def test_the_api_says_the_same(self):
        with pytest.raises(InvalidKernel, match="the sum of their magnitudes is beyond the float range"):
            load_kernel("[[1e308,-1e308]]")


SIGMAS = (0.3, 0.5, 0.7, 1.0, 1.5, 2.0)


def cv2_gaussian(sigma):
    """cv2.getGaussianKernel(2*ceil(3*sigma)+1, sigma) as OpenCV documents it, as a column, times its transpose."""
    size = 2 * math.ceil(3 * sigma) + 1
    x = np.arange(size) - (size - 1) / 2
    column = np.exp(-x**2 / (2 * sigma**2))
    column /= column.sum()
    return np.outer(column, column)


def imagemagick_kernel(convert, spec):
    """The kernel ImageMagick builds for ``spec`` (its showKernel text, 6 significant digits)."""
    text = subprocess.run([convert, "xc:", "-define", "morphology:showKernel=1", "-morphology", "Convolve", spec, "null:"],
                          capture_output=True, text=True, timeout=60).stderr
    return np.array([line.split(":", 1)[1].split() for line in text.splitlines() if re.match(r"\s*\d+:", line)], float)


class TestGaussianSaysWhatItMatches:
    @pytest.mark.parametrize("sigma", SIGMAS)
    def test_it_is_cv2s_gaussian_kernel(self, sigma):
        assert np.allclose(load_kernel(f"gaussian:{sigma}").array(), cv2_gaussian(sigma), rtol=1e-14, atol=0)

    @pytest.mark.parametrize("sigma", SIGMAS)
    def test_it_is_cv2s_own_where_cv2_is_installed(self, sigma):
        cv2 = pytest.importorskip("cv2")
        column = cv2.getGaussianKernel(2 * math.ceil(3 * sigma) + 1, sigma, ktype=cv2.CV_64F)
        assert np.allclose(load_kernel(f"gaussian:{sigma}").array(), column @ column.T, rtol=1e-14, atol=0)

    def test_its_source_names_what_it_matches_and_not_imagemagicks_0x_form(self):
        source = load_kernel("gaussian:1").source
        assert "as ImageMagick's Gaussian:0xSIGMA" not in source
        assert "cv2.getGaussianKernel(2*ceil(3*sigma)+1, sigma)" in source and "Gaussian:RxSIGMA" in source

    def test_the_readme_does_not_say_it_is_imagemagicks_0x_form(self):
        readme = (REPO / "README.md").read_text(encoding="utf-8")
        assert "like ImageMagick's `Gaussian:0xSIGMA`" not in readme
        assert "`cv2.getGaussianKernel(2*ceil(3*sigma)+1, sigma)`" in readme

    @pytest.mark.skipif(imagemagick() is None, reason="ImageMagick is not installed")
    @pytest.mark.parametrize("sigma", SIGMAS)
    def test_imagemagicks_r_x_sigma_is_the_same_and_its_0x_form_not_always(self, sigma):
        ours = load_kernel(f"gaussian:{sigma}").array()
        same = imagemagick_kernel(imagemagick(), f"Gaussian:{math.ceil(3 * sigma)}x{sigma}")
        assert same.shape == ours.shape and np.allclose(same, ours, rtol=1e-5, atol=1e-9)
        if sigma in (1.0, 2.0):  # as the source and the README say: 9x9 and 15x15
            assert imagemagick_kernel(imagemagick(), f"Gaussian:0x{sigma}").shape == {1.0: (9, 9), 2.0: (15, 15)}[sigma]
