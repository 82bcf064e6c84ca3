"""Back-ends, the RITM clicker and the NoC metrics on real synthetic scenes."""

import numpy as np
import pytest

from palaestra.envs.segmentation import evaluate, load_samples, make_backend, next_click, noc
from palaestra.envs.segmentation.clicker import RITMClicker
from palaestra.envs.segmentation.sample import Click, iou, to_pixel, to_scale
from palaestra.envs.segmentation.synthetic import synthetic_scene


def test_synthetic_scenes_are_seeded_and_described():
    a, b, c = synthetic_scene(5), synthetic_scene(5), synthetic_scene(6)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask) and a.description == b.description
    assert not np.array_equal(a.image, c.image)
    for seed in range(100000, 100030):
        s = synthetic_scene(seed)
        assert s.image.shape == (160, 160, 3) and s.image.dtype == np.uint8
        assert s.mask.sum() >= 0.01 * s.mask.size
        assert s.description.startswith("the ")
        colour = s.description.split()[1] if "from the left" not in s.description else None
        if colour not in (None, "rightmost", "first", "second", "third", "fourth"):
            from palaestra.envs.segmentation.synthetic import PALETTE

            assert colour in PALETTE, s.description
    hard = [synthetic_scene(100000 + i).meta["low_contrast"] for i in range(60)]
    assert 3 <= sum(hard) <= 30  # low-contrast targets exist but are the minority


def test_scale_round_trip_every_pixel():
    for length in (7, 96, 160, 333, 1000):
        for px in range(length):
            assert to_pixel(to_scale(px, length), length) == px
    assert to_scale(0, 160) == 0 and to_pixel(999, 160) == 159


def test_ritm_clicker_first_click_is_the_object_centre():
    gt = np.zeros((40, 60), bool)
    gt[10:31, 20:41] = True  # 21x21 square, centre (30, 20)
    click = next_click(gt, None)
    assert click == Click(x=30, y=20, positive=True)
    # a prediction that covers too much: the farthest false positive gets a negative click
    pred = np.ones_like(gt)
    click = next_click(gt, pred, [Click(30, 20, True)])
    assert not click.positive and not gt[click.y, click.x]
    assert next_click(gt, gt.copy()) is None


def test_ritm_clicker_never_clicks_a_pixel_twice():
    gt = np.zeros((9, 9), bool)
    gt[4, 4] = True
    clicker = RITMClicker(gt)
    first = clicker(None)
    assert (first.x, first.y) == (4, 4)
    assert clicker(None) is None  # the only error pixel is clicked already


@pytest.mark.parametrize("name", ["graphcut", "grabcut", "watershed"])
def test_backends_segment_a_scene(name):
    backend = make_backend(name)
    sample = synthetic_scene(100003)
    clicks = [next_click(sample.mask, None)]
    mask = backend.segment(sample.image, clicks, None)
    assert mask.shape == sample.mask.shape and mask.dtype == bool
    assert mask[clicks[0].y, clicks[0].x]
    assert iou(mask, sample.mask) > 0.5
    again = backend.segment(sample.image, clicks, None)
    assert np.array_equal(mask, again)  # deterministic
    assert not backend.segment(sample.image, [Click(3, 3, False)], None).any()  # no positive click: empty


def test_negative_clicks_are_respected():
    backend = make_backend("graphcut")
    negatives = 0
    for seed in range(100000, 100040):
        sample = synthetic_scene(seed)
        clicker = RITMClicker(sample.mask)
        mask = np.zeros_like(sample.mask)
        for _ in range(5):
            click = clicker(mask)
            if click is None:
                break
            mask = backend.segment(sample.image, clicker.clicks, mask)
            for c in clicker.clicks:  # every click keeps its sign in the new mask
                assert mask[c.y, c.x] == c.positive
            negatives += not click.positive
        if negatives >= 3:
            break
    assert negatives >= 3


def test_noc_definition():
    assert noc([0.5, 0.86, 0.95], 0.85) == 2
    assert noc([0.5, 0.86, 0.95], 0.90) == 3
    assert noc([0.1] * 20, 0.85) == 20


def test_default_backend_reaches_085_within_7_oracle_clicks_on_90_percent():
    samples = load_samples("synthetic", split="test", limit=100)
    result = evaluate("graphcut", samples, max_clicks=7)
    assert result.rate(0.85, 7) >= 0.90, result.summary()
    summary = result.summary()
    assert summary["NoC@85"] <= summary["NoC@90"] <= 7
    assert summary["mIoU@1"] <= summary["mIoU@3"] + 1e-9 <= summary["mIoU@5"] + 2e-9 or summary["mIoU@5"] > 0.9
    assert result.ms_per_call > 0


def test_evaluate_reports_failures_and_curves():
    samples = load_samples("synthetic", split="test", limit=8)
    result = evaluate("watershed", samples, max_clicks=20)
    s = result.summary()
    assert set(s) >= {"NoC@85", "NoC@90", "fail@85", "fail@90", "mIoU@1", "mIoU@3", "mIoU@5", "ms_per_call"}
    assert 1 <= s["NoC@85"] <= 20 and 0 <= s["fail@90"] <= 8
    assert result.curve().shape == (20,)
    assert all(len(r.ious) == 20 for r in result.samples)


# ---- a correct click must not wreck a good mask (issue 22) -------------------------------
def _oracle_ious(backend, sample, clicks):
    clicker = RITMClicker(sample.mask)
    mask = np.zeros_like(sample.mask)
    ious = []
    for _ in range(clicks):
        clicker(mask)  # appends the next corrective click to clicker.clicks
        mask = backend.segment(sample.image, clicker.clicks, mask)
        ious.append(iou(mask, sample.mask))
    return ious, clicker.clicks


def test_phantom_negative_click_keeps_the_good_mask():
    from palaestra.envs.segmentation.sample import to_scale

    sample = load_samples("skimage", size="native")[load_samples("skimage").index("skimage:phantom-1")]
    ious, clicks = _oracle_ious(make_backend("graphcut", refine="global"), sample, 2)
    h, w = sample.size
    second = clicks[1]
    assert (second.positive, to_scale(second.x, w), to_scale(second.y, h)) == (False, 470, 38)  # the quoted click
    assert ious[0] > 0.99 and ious[1] < 0.5  # the reproduction: 0.996 -> 0.442 without local refinement
    ious, _ = _oracle_ious(make_backend("graphcut"), sample, 2)
    assert ious[0] > 0.99 and ious[1] >= ious[0] - 0.01


@pytest.mark.parametrize("seed", [100019, 100024, 100036, 100050, 100068, 100073])
def test_grabcut_keeps_its_mask_within_clicks_2_to_5(seed):
    sample = synthetic_scene(seed)
    old, _ = _oracle_ious(make_backend("grabcut", refine="global"), sample, 5)
    assert min(b - a for a, b in zip(old, old[1:])) < -0.05  # the reproduction
    new, _ = _oracle_ious(make_backend("grabcut"), sample, 5)
    assert min(b - a for a, b in zip(new, new[1:])) >= -0.05, new


@pytest.mark.slow
def test_more_clicks_do_not_lower_mean_iou_on_package_images():
    samples = load_samples("skimage", size="native")
    old = evaluate("graphcut", samples, max_clicks=3, min_clicks=3, refine="global").summary()
    assert old["mIoU@3"] < old["mIoU@1"]  # the reproduction: 0.907 < 0.989
    new = evaluate("graphcut", samples, max_clicks=3, min_clicks=3).summary()
    assert new["mIoU@1"] <= new["mIoU@3"] and new["drops>0.05"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["graphcut", "grabcut"])
def test_no_correct_oracle_click_lowers_iou_by_more_than_005(name):
    from palaestra.envs.segmentation.sample import DEFAULT_IMAGE_SIZE

    for source, n in (("synthetic", 100), ("packages", None)):  # at the shared default size (native: see README)
        result = evaluate(name, load_samples(source, limit=n, size=DEFAULT_IMAGE_SIZE), max_clicks=20)
        assert result.drops(0.05) == [], (source, result.drops(0.05))


@pytest.mark.slow
def test_hard_set_separates_back_ends():
    from palaestra.envs.segmentation.synthetic import HARD_KINDS, hard_scene

    kinds = [hard_scene(100000 + i).meta["kind"] for i in range(8)]
    assert sorted(set(kinds)) == sorted(HARD_KINDS)
    hard = load_samples("synthetic-hard", limit=40)
    easy = load_samples("synthetic", limit=40)
    graph_hard = evaluate("graphcut", hard, max_clicks=10)
    water_hard = evaluate("watershed", hard, max_clicks=10)
    graph_easy = evaluate("graphcut", easy, max_clicks=10)
    assert graph_hard.noc(0.85) > graph_easy.noc(0.85) + 1  # harder than the standard set
    assert water_hard.noc(0.85) > graph_hard.noc(0.85) + 1  # and the back-ends differ on it
    assert 0 < graph_hard.ciou(5) <= 1 and 0 < graph_hard.giou(5) <= 1


def test_ciou_and_giou():
    from palaestra.envs.segmentation.metrics import ciou_giou

    big = np.zeros((10, 10), bool)
    big[:, :5] = True  # 50 pixels, predicted exactly
    small = np.zeros((10, 10), bool)
    small[0, 0] = small[0, 1] = True  # 2 pixels, predicted half
    half = np.zeros((10, 10), bool)
    half[0, 0] = True
    c, g = ciou_giou([(big, big), (half, small)])
    assert np.isclose(c, 51 / 52) and np.isclose(g, 0.75)
    r = evaluate("graphcut", load_samples("synthetic", limit=3), max_clicks=3)
    s = r.samples[0]
    assert np.isclose(s.inters[0] / s.unions[0], s.ious[0])
    assert 0 < r.ciou(1) <= 1 and r.giou(3) == r.miou(3)
