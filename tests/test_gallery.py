"""`kernelcli gallery` and the montage renderer: every catalogue kernel on one image, as one labelled sheet."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from kernelcli.catalog import list_kernels
from kernelcli.cli import app
from kernelcli.montage import range_text, render_montage, to_display

from conftest import SAMPLES, pixels




@pytest.fixture
def phantom(tmp_path):
    """samples/phantom.png, or a stand-in (bright ring, grey disc, dark ellipses) if the samples are absent."""
    p = SAMPLES / "phantom.png"
    if p.exists():
        return p
    yy, xx = np.mgrid[-1:1:128j, -1:1:128j]
    img = np.zeros((128, 128), dtype=np.uint8)
    img[(xx / 0.7) ** 2 + (yy / 0.9) ** 2 <= 1] = 255
    img[(xx / 0.65) ** 2 + (yy / 0.85) ** 2 <= 1] = 60
    img[((xx - 0.2) / 0.1) ** 2 + (yy / 0.3) ** 2 <= 1] = 0
    p = tmp_path / "phantom.png"
    Image.fromarray(img).save(p)
    return p


class TestGalleryCommand:
    def test_every_catalogue_kernel_on_the_phantom(self, invoke, phantom, tmp_path):
        r = invoke("gallery", phantom, "--out", "sheet.png", "--json", "-q")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert doc["maps"] == [k.name for k in list_kernels() if len(k.shape) == 2]
        assert doc["output"] == "sheet.png"
        with Image.open(tmp_path / "sheet.png") as im:
            assert im.format == "PNG" and im.mode == "RGB"
            assert [im.height, im.width, 3] == doc["output_shape"]
            # a grid of tiles, not a sliver: at least 3 tiles across and as many rows as needed
            assert im.width >= 4 * 96 and im.height >= 3 * 96

    def test_one_family(self, invoke, phantom, tmp_path):
        r = invoke("gallery", phantom, "--family", "edge", "--out", "edges.png", "--json", "-q")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["maps"] == [k.name for k in list_kernels("edge")]

    def test_rgb_input_gives_colour_tiles(self, invoke, tmp_path):
        rng = np.random.default_rng(0)
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(tmp_path / "c.png")
        r = invoke("gallery", "c.png", "--family", "smoothing", "--out", "s.png", "--json", "-q")
        assert r.exit_code == 0, r.output
        # one colour tile each; the record names its three maps, as convolve's does (audit 134 #5)
        assert json.loads(r.stdout)["maps"] == [f"{k.name}[{c}]" for k in list_kernels("smoothing") for c in "RGB"]
        sheet = pixels(tmp_path / "s.png").astype(int)
        assert (np.abs(sheet[..., 0] - sheet[..., 1]) > 40).sum() > 1000  # colour, not grey

    def test_the_identity_tile_shows_the_input(self, invoke, tmp_path):
        img = np.zeros((40, 40), dtype=np.uint8)
        img[10:30, 5:15] = 255
        Image.fromarray(img).save(tmp_path / "g.png")
        r = invoke("gallery", "g.png", "--family", "basic", "--tile", "40", "--out", "s.png", "-q")
        assert r.exit_code == 0, r.output
        sheet = pixels(tmp_path / "s.png", "L")
        # the input appears twice with the same pixels: on the left, and as the identity tile
        matches = [(y, x) for y in range(sheet.shape[0] - 40) for x in range(sheet.shape[1] - 40)
                   if sheet[y + 10, x + 5] == 255 and np.array_equal(sheet[y : y + 40, x : x + 40], img)]
        assert len(matches) >= 2

    @pytest.mark.parametrize(
        ("args", "code", "message"),
        [
            (["--family", "edgy", "--out", "s.png"], 2, "unknown kernel family 'edgy'; did you mean 'edge'?"),
            (["--out", "s.npy"], 2, "'.npy' for a gallery's sheet (a picture)"),
            # the general list of output types came first and named .csv and .npy, which a sheet cannot be
            (["--out", "s.gif"], 2, "'.gif' for a gallery's sheet (a picture): expected one of .png, .jpg, .jpeg, .bmp, .tif, .tiff"),
            (["--out", "taken.png"], 4, "already exists; use --force"),
            (["--pad-mode", "bogus", "--out", "s.png"], 2, "invalid pad mode"),
        ],
    )
    def test_errors(self, invoke, phantom, tmp_path, args, code, message):
        (tmp_path / "taken.png").write_bytes(b"keep")
        r = invoke("gallery", phantom, *args)
        assert r.exit_code == code, r.output
        assert message in r.stderr
        assert (tmp_path / "taken.png").read_bytes() == b"keep" and not (tmp_path / "s.png").exists()

    def test_force_overwrites(self, invoke, phantom, tmp_path):
        (tmp_path / "taken.png").write_bytes(b"old")
        r = invoke("gallery", phantom, "--family", "basic", "--out", "taken.png", "--force", "-q")
        assert r.exit_code == 0, r.output
        with Image.open(tmp_path / "taken.png") as im:
            assert im.format == "PNG"

    def test_help_has_an_example(self, invoke):
        r = invoke("gallery", "--help")
        assert r.exit_code == 0 and "kernelcli gallery samples/phantom.png --out sheet.png" in r.stdout


class TestMontage:
    def test_each_map_is_stretched_on_its_own(self):
        np.testing.assert_array_equal(to_display([[-4.0, 0.0, 4.0]]), [[0, 128, 255]])
        np.testing.assert_array_equal(to_display([[1000.0, 1001.0]]), [[0, 255]])
        np.testing.assert_array_equal(to_display(np.full((2, 2), 7.0)), np.zeros((2, 2)))

    def test_range_text(self):
        assert range_text(np.array([-765.0, 765.0])) == "[-765, 765]"
        assert range_text(np.array([0.03125, 0.96875])) == "[0.0312, 0.969]"
        assert range_text(np.zeros(4)) == "constant 0"

    def test_tiny_matrices_are_enlarged_by_whole_cells(self):
        from kernelcli.montage import _tile_image

        m = np.array([[0.0, 1.0], [1.0, 0.0]])
        tile = np.asarray(_tile_image(to_display(m), 64))
        np.testing.assert_array_equal(tile, np.kron(m * 255, np.ones((32, 32))))
        big = np.asarray(_tile_image(np.full((300, 150), 9, dtype=np.uint8), 64))
        assert big.shape == (64, 32) and (big == 9).all()  # reduced to fit, aspect kept

    def test_grid_grows_with_the_maps(self):
        x = np.zeros((20, 20))
        one = render_montage(x, [("a", x)], tile=40)
        many = render_montage(x, [(str(i), x + i) for i in range(12)], tile=40)
        assert many.width > 3 * one.width / 2 and many.height > one.height

    def test_no_maps_is_an_error(self):
        with pytest.raises(ValueError, match="no maps"):
            render_montage(np.zeros((3, 3)), [])


class TestThumbnailScale:
    """A large image is reduced (area average) to the tiles' scale before the kernels run."""

    @pytest.mark.parametrize("shape, dtype", [((1000, 803, 3), np.uint8), ((997, 400), np.float64), ((900, 1201), np.uint16)])
    def test_reduction_is_the_block_mean(self, shape, dtype):
        from kernelcli.jobs import tile_scale_image

        x = np.random.default_rng(1).integers(0, 256, shape).astype(dtype)
        reduced, f = tile_scale_image(x, 192)
        assert f == -(-max(shape[:2]) // 384)
        h, w = shape[0] // f, shape[1] // f
        blocks = x[: h * f, : w * f].astype(np.float64).reshape(h, f, w, f, *shape[2:])
        np.testing.assert_allclose(reduced, blocks.mean(axis=(1, 3)), rtol=1e-6)

    def test_small_images_are_used_as_they_are(self):
        from kernelcli.jobs import tile_scale_image

        x = np.zeros((384, 200))
        reduced, f = tile_scale_image(x, 192)
        assert reduced is x and f == 1

    def test_the_gallery_says_so_and_equals_the_gallery_of_the_reduced_image(self, invoke, tmp_path):
        from kernelcli.jobs import tile_scale_image

        rng = np.random.default_rng(2)
        big = rng.integers(0, 256, (800, 1000), dtype=np.uint8)
        Image.fromarray(big).save(tmp_path / "big.png")
        np.save(tmp_path / "small.npy", tile_scale_image(big, 192)[0])
        r = invoke("gallery", "big.png", "--family", "edge", "--out", "big_sheet.png", "--json")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert "reduced 3x3 (area average) to 266x333" in " ".join(doc["notes"])  # HxW, as the title's 800x1000
        small = json.loads(invoke("gallery", "small.npy", "--family", "edge", "--out", "small_sheet.png", "--json").stdout)
        assert (doc["minimum"], doc["maximum"], doc["maps"]) == (small["minimum"], small["maximum"], small["maps"])


    def test_a_long_thin_image_keeps_a_row(self):
        # 10 x 5000: the factor from the long side (14) made 0 rows, and the gallery failed naming `x`
        from kernelcli.jobs import tile_scale_image

        x = np.random.default_rng(4).random((10, 5000))
        reduced, f = tile_scale_image(x, 192)
        assert f == 10 and reduced.shape == (1, 500)
        np.testing.assert_allclose(reduced, x.reshape(1, 10, 500, 10).mean(axis=(1, 3)))

    def test_the_gallery_of_a_long_thin_image_is_that_of_its_reduced_image(self, invoke, tmp_path):
        from kernelcli.jobs import tile_scale_image

        thin = np.random.default_rng(5).random((5000, 12, 3))
        np.save(tmp_path / "thin.npy", thin)
        np.save(tmp_path / "small.npy", tile_scale_image(thin, 192)[0])
        r = invoke("gallery", "thin.npy", "--family", "edge", "--out", "thin.png", "--json")
        assert r.exit_code == 0, r.output
        doc = json.loads(r.stdout)
        assert "reduced 12x12 (area average) to 416x1" in " ".join(doc["notes"])
        small = json.loads(invoke("gallery", "small.npy", "--family", "edge", "--out", "small.png", "--json").stdout)
        assert (doc["minimum"], doc["maximum"], doc["maps"]) == (small["minimum"], small["maximum"], small["maps"])


class TestOverflow:
    """A map that overflows was drawn black and labelled [-inf, inf] or [nan, nan]; convolve refuses it."""

    def test_an_overflowing_map_is_refused(self, invoke, tmp_path):
        np.save(tmp_path / "huge.npy", np.full((20, 20), 3.8e307) * np.random.default_rng(0).choice([-1, 1], (20, 20)))
        r = invoke("gallery", "huge.npy", "--family", "edge", "--out", "g.png")
        assert r.exit_code == 2 and "overflows" in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "g.png").exists()

    def test_a_range_beyond_float64_is_still_stretched(self):
        from kernelcli.montage import to_display

        np.testing.assert_array_equal(to_display(np.array([[-1.5e308, 0.0, 1.5e308]])), [[0, 128, 255]])


def test_an_rgba_image_says_its_alpha_is_not_used(invoke, tmp_path):
    # the alpha channel was dropped without a word ("20x30x3"), where convolve's feature maps say so
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (20, 30, 4), dtype=np.uint8), "RGBA").save(tmp_path / "a.png")
    r = invoke("gallery", "a.png", "--family", "edge", "--out", "g.png")
    assert r.exit_code == 0 and "a.png: the alpha channel is not carried into the maps" in r.stderr


@pytest.mark.parametrize("args, shape", [(["a.png"], [20, 30, 4]), (["c.npy", "--layout", "chw"], [3, 20, 30])])
def test_the_record_gives_the_inputs_shape_as_pool_does(invoke, tmp_path, args, shape):
    """gallery gave an RGBA input as [20, 30, 3] and a CHW array as HWC, where pool and convolve give the file's
    array ([20, 30, 4]: the README's "an RGBA input is HxWx4"; [3, 20, 30])."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (20, 30, 4), dtype=np.uint8), "RGBA").save(tmp_path / "a.png")
    np.save(tmp_path / "c.npy", rng.random((3, 20, 30)))
    r = invoke("gallery", *args, "--family", "edge", "--out", "g.png", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["input_shape"] == shape
    other = invoke("pool", *args, "-f", "1", "-o", "p.npy", "--json", "--force")
    assert other.exit_code == 0 and json.loads(other.stdout)["input_shape"] == shape, other.stderr


@pytest.mark.parametrize("args, title", [(["a.png"], "a.png (20x30x4, alpha not used)"), (["c.npy", "--layout", "chw"], "c.npy (3x20x30)")])
def test_the_sheets_title_gives_the_inputs_shape_as_the_record(invoke, tmp_path, monkeypatch, args, title):
    # an RGBA input was titled 20x30x3 where the record says 20x30x4
    import kernelcli.montage

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (20, 30, 4), dtype=np.uint8), "RGBA").save(tmp_path / "a.png")
    np.save(tmp_path / "c.npy", rng.random((3, 20, 30)))
    titles = []
    drawn = kernelcli.montage.render_montage
    monkeypatch.setattr(kernelcli.montage, "render_montage", lambda *a, **k: titles.append(k["title"]) or drawn(*a, **k))
    assert invoke("gallery", *args, "--family", "edge", "--out", "g.png", "--force").exit_code == 0
    assert titles == [f"{title}: 8 kernels, family edge"]


def test_the_record_describes_the_sheet_written_and_the_maps_computed(invoke, tmp_path):
    # the readme audit: --montage alone gave the stacked maps' shape (256x256x3, an RGB image's) for an 832x298 picture,
    # and gallery's dtype was the sheet's uint8 beside the float maps' range -4080..4080
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 50), dtype=np.uint8)).save(tmp_path / "g.png")
    r = invoke("convolve", "g.png", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png", "--json")
    assert r.exit_code == 0, r.stderr
    record, sheet = json.loads(r.stdout), pixels(tmp_path / "m.png")
    assert record["output_shape"] == list(sheet.shape) and sheet.ndim == 3 and record["dtype"] == "float32"
    r = invoke("gallery", "g.png", "--family", "edge", "--out", "s.png", "--json")
    record, sheet = json.loads(r.stdout), pixels(tmp_path / "s.png")
    assert record["output_shape"] == list(sheet.shape) and record["dtype"] == "float32"
    assert record["minimum"] < 0


def test_without_out_the_sheet_gets_a_default_name(tmp_path):
    # vocabulary audit 11: gallery alone of the file commands required -o ('Missing option --out')
    import shutil

    from conftest import SAMPLES, run_in_process

    shutil.copy(SAMPLES / "example1.csv", tmp_path / "m.csv")
    np.save(tmp_path / "a.npy", np.random.default_rng(0).random((40, 50)))
    for args, name in ((["a.npy"], "a_gallery.png"), (["a.npy", "--family", "Edge"], "a_gallery_edge.png")):
        result = run_in_process("gallery", *args, "--tile", "32", "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["output"] == name and Image.open(tmp_path / name).format == "PNG"
    again = run_in_process("gallery", "a.npy", "--tile", "32", cwd=tmp_path)
    assert again.returncode == 4 and "a_gallery.png: already exists" in again.stderr


def test_a_sheet_taller_than_jpeg_holds_is_refused(invoke, tmp_path):
    # 60 channels: a sheet 94462 pixels tall; JPEG's encoder failed ('broken data stream'), exit 70 with libjpeg's own line
    np.save(tmp_path / "ch60.npy", np.random.default_rng(0).random((60, 8, 8)))
    r = invoke("gallery", "ch60.npy", "--layout", "chw", "-o", "ch60.jpg")
    assert r.exit_code == 2 and "ch60.jpg: JPEG holds at most 65500 pixels a side" in r.stderr, r.stderr
    assert "internal error" not in r.stderr and not (tmp_path / "ch60.jpg").exists()


def test_a_sheet_past_the_memory_allowed_is_refused_before_any_map(invoke, tmp_path, monkeypatch):
    # a 200-channel array of 51 KB drew a 314886x1438 sheet (3.4 GB resident) under KERNELCLI_MAX_MEMORY=512M
    np.save(tmp_path / "ch200.npy", np.random.default_rng(0).random((200, 8, 8)).astype(np.float32))
    monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "512M")
    r = invoke("gallery", "ch200.npy", "--layout", "chw", "-o", "s.png")
    assert r.exit_code == 2 and "a sheet of 8000 tiles (333562x1438 pixels) would need about" in r.stderr, r.stderr
    assert not (tmp_path / "s.png").exists()


class TestPicturesAudit:
    """The pictures audit (round 1): what a sheet shows and what its record says."""

    @staticmethod
    def _grey(path) -> bool:
        rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
        return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())

    @pytest.mark.parametrize("command", [["gallery", "--family", "edge", "--out", "s.png"],
                                         ["convolve", "-k", "sobel_v", "-k", "sobel_h", "--montage", "s.png"]])
    def test_three_slices_of_a_volume_are_not_drawn_as_colour(self, invoke, tmp_path, command):
        # slices 0, 1, 2 of a --layout zyx volume were the red, green and blue of one picture (4 slices: grey tiles)
        z = np.zeros((3, 40, 60), np.float32)
        z[0, 5:15, 5:15], z[1, 20:30, 20:30], z[2, 10:35, 40:55] = 1, 1, 1
        np.save(tmp_path / "vol3.npy", z)
        r = invoke(command[0], "vol3.npy", "--layout", "zyx", *command[1:])
        assert r.exit_code == 0, r.output
        assert self._grey(tmp_path / "s.png")
        rgb = tmp_path / "rgb.png"  # the control: three channels of an image are one colour picture
        Image.fromarray((np.moveaxis(z, 0, 2) * 255).astype(np.uint8)).save(rgb)
        assert invoke(command[0], "rgb.png", *command[1:-1], "c.png").exit_code == 0
        assert not self._grey(tmp_path / "c.png")

    def test_a_montage_past_the_memory_allowed_is_refused(self, invoke, tmp_path, monkeypatch):
        # 4000 tiles of an 8x8 array: a 157474x1438 sheet, 1.7 GB resident under KERNELCLI_MAX_MEMORY=256M, exit 0
        np.save(tmp_path / "c.npy", np.random.default_rng(0).random((8, 8, 2000)).astype(np.float32))
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "256M")
        r = invoke("convolve", "c.npy", "--layout", "hwc", "-k", "sobel_v", "-k", "sobel_h", "--montage", "m.png")
        assert r.exit_code == 2 and "convolve c.npy: a sheet of 4000 tiles" in r.stderr, r.output
        assert not (tmp_path / "m.png").exists()
        r = invoke("convolve", "c.npy", "--layout", "hwc", "-k", "sobel_v", "-k", "sobel_h", "-o", "maps.npy", "--montage", "m.png")
        assert r.exit_code == 2 and not (tmp_path / "maps.npy").exists(), r.output  # refused before --out was written

    def test_a_small_tile_is_sized_as_drawn(self, invoke, tmp_path, monkeypatch):
        # cells are drawn at least 96 pixels: --tile 16 was sized at 16 and passed a cap its sheet is 9x over
        np.save(tmp_path / "c.npy", np.random.default_rng(0).random((40, 60, 10)).astype(np.float32))
        monkeypatch.setenv("KERNELCLI_MAX_MEMORY", "32M")
        r = invoke("gallery", "c.npy", "--layout", "hwc", "--tile", "16", "--out", "s.png")
        assert r.exit_code == 2 and "a sheet of 400 tiles" in r.stderr, r.output

    def test_a_range_shows_the_digits_that_tell_its_ends_apart(self):
        assert range_text(np.array([1000.0, 1004.0])) == "[1000, 1004]"  # was [1e+03, 1e+03]
        assert range_text(np.array([-3340.0, 3340.0])) == "[-3.34e3, 3.34e3]"

    def test_labels_drawn_alike_are_told_apart(self):
        from PIL import ImageDraw

        from kernelcli.sheet_text import distinct_labels, sheet_font

        draw, font = ImageDraw.Draw(Image.new("RGB", (10, 10))), sheet_font(13)
        long = ["a_very_long_kernel_name_for_the_vertical_gradient_version_one",
                "a_very_long_kernel_name_for_the_vertical_gradient_version_two"]
        names = distinct_labels(draw, [*long, "inline_3x3", "inline_3x3", "sobel_v"], font, 120)
        assert len(set(names)) == 5 and names[-1] == "sobel_v"
        assert names[0].endswith("one") and names[1].endswith("two")  # cut in the middle: the ends that differ stay
        assert names[2:4] == ["inline_3x3 (1)", "inline_3x3 (2)"]
        assert all(draw.textlength(n, font=font) <= 120 for n in names)

    def test_every_file_written_is_printed_and_the_record_counts_the_sheet(self, invoke, tmp_path, phantom):
        r = invoke("convolve", phantom, "-k", "sobel_v", "-k", "sobel_h", "--out", "m.npy", "--montage", "m.png")
        assert r.exit_code == 0 and r.stdout.split() == ["m.npy", "m.png"], r.output
        r = invoke("convolve", phantom, "-k", "sobel_v", "-k", "sobel_h", "--montage", "only.png", "--json", "-q")
        doc = json.loads(r.stdout)
        h, w, c = doc["output_shape"]
        assert doc["output"] == "only.png" and doc["total"] == h * w * c  # was the maps' values beside the sheet's shape

    def test_a_family_is_named_as_the_catalogue_spells_it(self, invoke, tmp_path, phantom):
        r = invoke("gallery", phantom, "--family", " EDGE ", "--out", "s.png", "--json", "-q")
        assert r.exit_code == 0 and json.loads(r.stdout)["operation"] == "gallery edge", r.output


class TestPadValue:
    """The vocabulary audit (83), finding 6: gallery took --pad-mode (constant, its default) but not --pad-value
    ('No such option'), so its constant fill was always 0; convolve, pad and learn pair the two."""

    @pytest.mark.parametrize("fill", ["5", "-2.5"])
    def test_the_fill_is_the_one_given(self, invoke, tmp_path, fill):
        from kernelcli.api import conv2d

        x = np.random.default_rng(5).random((9, 11)).astype(np.float32)
        np.save(tmp_path / "x.npy", x)
        r = invoke("gallery", "x.npy", "--family", "smoothing", "--pad-value", fill, "-o", "s.png", "--json", "-q")
        assert r.exit_code == 0, r.stderr
        doc = json.loads(r.stdout)
        maps = [conv2d(x, k.array(), padding="same", pad_mode="constant", pad_value=float(fill)) for k in list_kernels("smoothing")]
        assert (doc["minimum"], doc["maximum"]) == pytest.approx((min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)))
        plain = json.loads(invoke("gallery", "x.npy", "--family", "smoothing", "-o", "p.png", "--json", "-q").stdout)
        assert (plain["minimum"], plain["maximum"]) != (doc["minimum"], doc["maximum"])

    def test_a_fill_the_mode_does_not_use_is_noted_as_by_convolve(self, invoke, tmp_path):
        np.save(tmp_path / "x.npy", np.ones((6, 6), np.float32))
        r = invoke("gallery", "x.npy", "--family", "smoothing", "--pad-mode", "edge", "--pad-value", "0", "-o", "s.png", "--json")
        c = invoke("convolve", "x.npy", "-k", "box:3", "--pad-mode", "edge", "--pad-value", "0", "-o", "c.npy", "--json")
        said = json.loads(c.stdout)["notes"][0]
        assert r.exit_code == 0 and "--pad-value 0" in said and f"note: {said}" in r.stderr
        assert json.loads(r.stdout)["notes"][0] == said

    def test_a_fill_is_refused_as_by_convolve(self, invoke, tmp_path):
        np.save(tmp_path / "x.npy", np.ones((6, 6), np.float32))
        r = invoke("gallery", "x.npy", "--pad-value", "nan", "-o", "s.png")
        c = invoke("convolve", "x.npy", "-k", "box:3", "--pad-value", "nan", "-o", "c.npy")
        said = [next(line for line in text.splitlines() if "--pad-value" in line) for text in (r.stderr, c.stderr)]
        assert (r.exit_code, c.exit_code) == (2, 2) and said[0] == said[1] and "'nan': expected a finite number" in said[0]
