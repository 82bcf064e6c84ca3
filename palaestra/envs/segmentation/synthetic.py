"""Seeded synthetic scenes: textured objects on textured backgrounds, with descriptions.

Each scene has 2-4 objects (ellipses, regular polygons, random blobs) drawn in order
(later ones occlude earlier ones) on a textured background; about one scene in five
makes the target low-contrast (its colour close to the background's). The target's
ground truth is its visible part. Descriptions name colour, shape and position:
"the red triangle in the top left", "the second blue ellipse from the left".
"""

from __future__ import annotations

import numpy as np

from .sample import Sample

PALETTE = {
    "red": (200, 40, 40),
    "green": (50, 160, 60),
    "blue": (50, 80, 200),
    "yellow": (230, 210, 50),
    "orange": (240, 140, 30),
    "purple": (130, 60, 170),
    "cyan": (60, 200, 210),
    "pink": (240, 140, 180),
    "brown": (130, 85, 45),
    "white": (235, 235, 235),
    "black": (30, 30, 30),
    "grey": (128, 128, 128),
}
POLYGONS = {3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon"}
ORDINALS = ["first", "second", "third", "fourth", "fifth"]


def colour_name(rgb) -> str:
    rgb = np.asarray(rgb, float)
    names = list(PALETTE)
    dists = [np.sum((rgb - np.asarray(PALETTE[n], float)) ** 2) for n in names]
    return names[int(np.argmin(dists))]


def _smooth_noise(rng, shape, sigma):
    import cv2

    noise = rng.standard_normal(shape).astype(np.float32)
    noise = cv2.GaussianBlur(noise, (0, 0), sigma)
    return noise / (noise.std() + 1e-6)


def _texture(rng, shape, kind: str | None = None) -> np.ndarray:
    """A zero-mean, unit-ish texture field: smooth noise, stripes, checks or a photo texture."""
    h, w = shape
    kind = kind or rng.choice(["noise", "noise", "stripes", "checks", "photo"])
    if kind == "noise":
        return _smooth_noise(rng, shape, rng.uniform(1.0, 4.0))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "stripes":
        theta = rng.uniform(0, np.pi)
        period = rng.uniform(6, 16)
        return np.sin(2 * np.pi * (xx * np.cos(theta) + yy * np.sin(theta)) / period).astype(np.float32)
    if kind == "checks":
        period = int(rng.integers(6, 14))
        return (((xx // period + yy // period) % 2) * 2 - 1).astype(np.float32) * 0.8
    from skimage import data

    photo = getattr(data, str(rng.choice(["brick", "grass", "gravel"])))().astype(np.float32)
    y0 = int(rng.integers(0, photo.shape[0] - h + 1)) if photo.shape[0] > h else 0
    x0 = int(rng.integers(0, photo.shape[1] - w + 1)) if photo.shape[1] > w else 0
    crop = photo[y0 : y0 + h, x0 : x0 + w]
    if crop.shape != (h, w):
        import cv2

        crop = cv2.resize(crop, (w, h))
    return (crop - crop.mean()) / (crop.std() + 1e-6)


def _shade(rng, colour, shape, amplitude, kind=None) -> np.ndarray:
    tex = _texture(rng, shape, kind)
    colour = np.asarray(colour, np.float32)
    img = colour[None, None, :] + amplitude * tex[..., None] * np.asarray([1.0, 0.95, 0.9], np.float32)
    return img


def _shape_mask(rng, shape, kind, cy, cx, radius):
    from skimage.draw import ellipse, polygon

    h, w = shape
    mask = np.zeros(shape, bool)
    angle = rng.uniform(0, np.pi)
    if kind == "ellipse":
        ratio = rng.uniform(0.45, 1.0)
        rr, cc = ellipse(cy, cx, radius, radius * ratio, shape=shape, rotation=angle)
        mask[rr, cc] = True
        return mask, "circle" if ratio > 0.9 else "ellipse"
    if kind == "polygon":
        n = int(rng.integers(3, 7))
        t = angle + np.arange(n) * 2 * np.pi / n
        ys, xs = cy + radius * np.sin(t), cx + radius * np.cos(t)
        rr, cc = polygon(ys, xs, shape=shape)
        mask[rr, cc] = True
        return mask, POLYGONS[n]
    # blob: a smooth random radius function
    t = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    r = np.ones_like(t)
    for k in (2, 3, 4):
        r += rng.uniform(0.05, 0.25) / (k / 2) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    r = radius * r / r.max()
    rr, cc = polygon(cy + r * np.sin(t), cx + r * np.cos(t), shape=shape)
    mask[rr, cc] = True
    return mask, "blob"


def _region(cy, cx, h, w) -> str:
    row = ["top", "middle", "bottom"][min(2, int(3 * cy / h))]
    col = ["left", "centre", "right"][min(2, int(3 * cx / w))]
    if row == "middle" and col == "centre":
        return "in the centre"
    if row == "middle":
        return f"on the {col}"
    if col == "centre":
        return f"at the {row}"
    return f"in the {row} {col}"


def synthetic_scene(seed: int, size: tuple[int, int] = (160, 160), low_contrast: float = 0.2) -> Sample:
    """The scene of ``seed``: a :class:`Sample` whose target is one of 2-4 objects."""
    rng = np.random.default_rng([int(seed), 7])
    h, w = size
    names = list(PALETTE)

    def pick():
        return np.clip(np.asarray(PALETTE[names[int(rng.integers(len(names)))]], np.float32) + rng.normal(0, 15, 3), 20, 235)

    bg_colour = pick()
    canvas = _shade(rng, bg_colour, (h, w), rng.uniform(6, 25))
    bg_colours = [bg_colour]
    if rng.random() < 0.5:  # a second background colour in large smooth patches
        other = pick()
        blend = np.clip(_smooth_noise(rng, (h, w), min(h, w) / 6) * 1.5 + 0.5, 0, 1)[..., None]
        canvas = canvas * (1 - blend) + _shade(rng, other, (h, w), rng.uniform(6, 25)) * blend
        bg_colours.append(other)
    labels = np.zeros((h, w), np.int16)  # 0 = background, i+1 = object i
    n_objects = int(rng.integers(2, 6))
    target = int(rng.integers(n_objects))
    hard = rng.random() < low_contrast
    hard_index = target if hard else -1
    target_colour = None
    objects = []
    for i in range(n_objects):
        radius = rng.uniform(0.11, 0.25) * min(h, w)
        cy = rng.uniform(radius * 0.6, h - radius * 0.6)
        cx = rng.uniform(radius * 0.6, w - radius * 0.6)
        kind = str(rng.choice(["ellipse", "polygon", "blob"]))
        mask, shape_name = _shape_mask(rng, (h, w), kind, cy, cx, radius)
        if i == target and hard:
            offset = rng.normal(0, 1, 3)
            colour = np.clip(bg_colour + rng.uniform(35, 55) * offset / (np.linalg.norm(offset) + 1e-6), 0, 255)
        elif i != target and target_colour is not None and rng.random() < 0.3:
            colour = target_colour + rng.normal(0, 8, 3)  # a distractor of the target's colour
        else:
            while True:
                colour_key = names[int(rng.integers(len(names)))]
                colour = np.asarray(PALETTE[colour_key], np.float32) + rng.normal(0, 10, 3)
                if min(np.linalg.norm(colour - c) for c in bg_colours) > 90:
                    break
        if i == target:
            target_colour = colour
        shade = _shade(rng, colour, (h, w), rng.uniform(6, 30))
        canvas[mask] = shade[mask]
        labels[mask] = i + 1
        objects.append({"shape": shape_name, "colour": colour_name(colour), "full_area": int(mask.sum())})
    # Keep a target that stays visible: the most visible object if occlusion ate it.
    visible = [(labels == i + 1).sum() / max(1, o["full_area"]) for i, o in enumerate(objects)]
    if visible[target] < 0.5 or (labels == target + 1).sum() < 0.01 * h * w:
        target = int(np.argmax([v * o["full_area"] for v, o in zip(visible, objects)]))
    gt = labels == target + 1
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    for i, o in enumerate(objects):
        m = labels == i + 1
        if m.any():
            ys, xs = np.nonzero(m)
            o["cy"], o["cx"] = float(ys.mean()), float(xs.mean())
        o["visible"] = bool(m.sum() >= 0.2 * o["full_area"] and m.any())
    description = _describe(objects, target, h, w)
    return Sample(
        id=f"synthetic:{int(seed)}",
        image=image,
        mask=gt,
        description=description,
        meta={"objects": len(objects), "low_contrast": bool(hard_index == target), "seed": int(seed)},
    )


def _describe(objects, target, h, w) -> str:
    t = objects[target]
    base = f"{t['colour']} {t['shape']}"
    same = [o for o in objects if o.get("visible") and o["colour"] == t["colour"] and o["shape"] == t["shape"]]
    if len(same) <= 1:
        return f"the {base} {_region(t['cy'], t['cx'], h, w)}"
    order = sorted(same, key=lambda o: o["cx"])
    k = next(i for i, o in enumerate(order) if o is t)
    if k == len(order) - 1:
        return f"the rightmost {base}"
    return f"the {ORDINALS[k]} {base} from the left"


# ---- the hard set: thin structures, holes, touching objects, low contrast ----------------
HARD_KINDS = ("thin", "holes", "touching", "low_contrast")


def _far_colour(rng, others, min_dist: float) -> np.ndarray:
    names = list(PALETTE)
    for _ in range(200):
        colour = np.asarray(PALETTE[names[int(rng.integers(len(names)))]], np.float32) + rng.normal(0, 10, 3)
        if min(np.linalg.norm(colour - c) for c in others) > min_dist:
            return np.clip(colour, 0, 255)
    return np.clip(255 - np.asarray(others[0], np.float32), 0, 255)


def _near_colour(rng, base, lo: float, hi: float) -> np.ndarray:
    offset = rng.normal(0, 1, 3)
    colour = np.asarray(base, np.float32) + rng.uniform(lo, hi) * offset / (np.linalg.norm(offset) + 1e-6)
    return np.clip(colour, 15, 240)


def _thin_curve(rng, shape) -> np.ndarray:
    """A smooth open curve 2-4% of the shorter side thick."""
    import cv2

    h, w = shape
    m = min(h, w)
    t = np.linspace(0, 1, 60)
    p0 = np.array([rng.uniform(0.1, 0.4) * w, rng.uniform(0.15, 0.85) * h])
    p3 = np.array([rng.uniform(0.6, 0.9) * w, rng.uniform(0.15, 0.85) * h])
    if rng.random() < 0.5:
        p0, p3 = p0[::-1] * np.array([w / h, h / w]), p3[::-1] * np.array([w / h, h / w])
    p1 = p0 + rng.uniform(-0.4, 0.4, 2) * m
    p2 = p3 + rng.uniform(-0.4, 0.4, 2) * m
    pts = ((1 - t) ** 3)[:, None] * p0 + (3 * (1 - t) ** 2 * t)[:, None] * p1 \
        + (3 * (1 - t) * t**2)[:, None] * p2 + (t**3)[:, None] * p3
    pts = np.clip(pts, 2, [w - 3, h - 3]).astype(np.int32)
    out = np.zeros(shape, np.uint8)
    thickness = max(2, int(round(rng.uniform(0.012, 0.025) * m)))
    cv2.polylines(out, [pts.reshape(-1, 1, 2)], False, 1, thickness=thickness)
    return out.astype(bool)


def _with_holes(rng, shape, cy, cx, radius) -> tuple[np.ndarray, str]:
    """A ring, or a blob with two or three round holes."""
    from skimage.draw import disk

    mask, _ = _shape_mask(rng, shape, "ellipse" if rng.random() < 0.5 else "blob", cy, cx, radius)
    if rng.random() < 0.5:
        inner = np.zeros(shape, bool)
        rr, cc = disk((cy, cx), radius * rng.uniform(0.45, 0.65), shape=shape)
        inner[rr, cc] = True
        return mask & ~inner, "ring"
    for _ in range(int(rng.integers(3, 6))):
        ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.6) * radius
        rr, cc = disk((cy + dist * np.sin(ang), cx + dist * np.cos(ang)), radius * rng.uniform(0.15, 0.25), shape=shape)
        mask[rr, cc] = False
    return mask, "shape with holes"


def hard_scene(seed: int, size: tuple[int, int] = (160, 160)) -> Sample:
    """A scene whose target is hard for interactive tools; ``seed % 4`` picks the kind:
    a thin curve, an object with holes (a ring or a blob with holes) showing the
    background, an object touching a neighbour of a similar colour, or a low-contrast
    object (its colour 12-20 RGB units from the background's); the
    others differ from the background by 40-70 units, a touching neighbour from the target
    by 15-25. 1-3 ordinary
    distractors are drawn first; the target is drawn last, fully visible."""
    rng = np.random.default_rng([int(seed), 11])
    h, w = size
    m = min(h, w)
    kind = HARD_KINDS[int(seed) % len(HARD_KINDS)]
    names = list(PALETTE)
    bg_colour = np.clip(np.asarray(PALETTE[names[int(rng.integers(len(names)))]], np.float32) + rng.normal(0, 15, 3),
                        30, 225)
    canvas = _shade(rng, bg_colour, (h, w), rng.uniform(8, 20))
    objects = []
    occupied = np.zeros((h, w), bool)
    for _ in range(int(rng.integers(1, 4))):  # distractors
        radius = rng.uniform(0.08, 0.16) * m
        cy, cx = rng.uniform(radius, h - radius), rng.uniform(radius, w - radius)
        shp = str(rng.choice(["ellipse", "polygon", "blob"]))
        mask, name = _shape_mask(rng, (h, w), shp, cy, cx, radius)
        colour = _far_colour(rng, [bg_colour], 80)
        canvas[mask] = _shade(rng, colour, (h, w), rng.uniform(6, 20))[mask]
        occupied |= mask
        objects.append({"shape": name, "colour": colour_name(colour), "cy": cy, "cx": cx})
    radius = rng.uniform(0.16, 0.26) * m
    cy, cx = rng.uniform(radius, h - radius), rng.uniform(radius, w - radius)
    if kind == "thin":
        gt, shape_name = _thin_curve(rng, (h, w)), "curve"
        colour = _near_colour(rng, bg_colour, 40, 60)
    elif kind == "holes":
        gt, shape_name = _with_holes(rng, (h, w), cy, cx, radius)
        colour = _near_colour(rng, bg_colour, 40, 60)
    elif kind == "touching":
        shp = str(rng.choice(["ellipse", "polygon", "blob"]))
        gt, shape_name = _shape_mask(rng, (h, w), shp, cy, cx, radius)
        colour = _near_colour(rng, bg_colour, 50, 70)
        ang = rng.uniform(0, 2 * np.pi)
        r2 = radius * rng.uniform(0.7, 1.0)
        ny, nx = cy + (radius + 0.6 * r2) * np.sin(ang), cx + (radius + 0.6 * r2) * np.cos(ang)
        neighbour, n_shape = _shape_mask(rng, (h, w), str(rng.choice(["ellipse", "blob"])), ny, nx, r2)
        n_colour = _near_colour(rng, colour, 15, 25)
        canvas[neighbour] = _shade(rng, n_colour, (h, w), rng.uniform(6, 15))[neighbour]
        objects.append({"shape": n_shape, "colour": colour_name(n_colour), "cy": ny, "cx": nx})
    else:
        shp = str(rng.choice(["ellipse", "polygon", "blob"]))
        gt, shape_name = _shape_mask(rng, (h, w), shp, cy, cx, radius)
        colour = _near_colour(rng, bg_colour, 12, 20)
    canvas[gt] = _shade(rng, colour, (h, w), rng.uniform(10, 20))[gt]
    ys, xs = np.nonzero(gt)
    target = {"shape": shape_name, "colour": colour_name(colour), "cy": float(ys.mean()), "cx": float(xs.mean())}
    same = [o for o in objects if o["colour"] == target["colour"] and o["shape"] == target["shape"]]
    base = f"the {target['colour']} {shape_name}"
    if kind == "touching":
        other = objects[-1]
        if other["colour"] != target["colour"]:
            what = f"the {other['colour']} {other['shape']}"
        elif other["shape"] != shape_name:
            what = f"the {other['shape']}"
        else:
            what = "the one underneath"
        text = f"{base} {_region(target['cy'], target['cx'], h, w)}, not {what} touching it"
    elif same:
        text = f"{base} drawn on top {_region(target['cy'], target['cx'], h, w)}"
    else:
        text = f"{base} {_region(target['cy'], target['cx'], h, w)}"
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    return Sample(f"synthetic-hard:{int(seed)}", image, gt, text, {"kind": kind, "seed": int(seed)})
