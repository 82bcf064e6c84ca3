"""Images in chat messages, as OpenAI-compatible content parts.

A message's ``content`` is either a string or a list of parts
``[{"type": "text", "text": ...}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}]``
(the OpenAI / vLLM / llama.cpp format). :func:`with_images` attaches images to the last
user message; back-ends that read images say so with ``multimodal = True``; text-only
back-ends see :func:`text_only` messages, where each image is a short placeholder.
"""

from __future__ import annotations

import base64
import io

import numpy as np

MAX_SIDE = 2048  # a larger image is scaled down before encoding (servers cap sizes too)
MAX_IMAGES = 8  # per message
PLACEHOLDER = "[image omitted: this model reads text only]"


def to_png(image) -> bytes:
    """PNG bytes of an (H, W, 3) / (H, W) uint8 array or a PIL image (larger than
    :data:`MAX_SIDE` is scaled down, aspect kept)."""
    from PIL import Image

    if isinstance(image, Image.Image):
        pil = image.convert("RGB")
    else:
        arr = np.asarray(image)
        if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
            raise ValueError(f"an image must be (H, W[, 3|4]) uint8, got {arr.dtype} {arr.shape}")
        pil = Image.fromarray(arr).convert("RGB")
    if max(pil.size) > MAX_SIDE:
        scale = MAX_SIDE / max(pil.size)
        pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))))
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def data_url(image) -> str:
    """``data:image/png;base64,...`` for an image array."""
    return "data:image/png;base64," + base64.b64encode(to_png(image)).decode("ascii")


def image_part(image) -> dict:
    return {"type": "image_url", "image_url": {"url": data_url(image)}}


def with_images(messages: list[dict], images) -> list[dict]:
    """A copy of ``messages`` whose last user message carries ``images`` after its text."""
    images = [im for im in (images or []) if im is not None]
    if not images:
        return list(messages)
    if len(images) > MAX_IMAGES:
        raise ValueError(f"{len(images)} images in one message; at most {MAX_IMAGES}")
    out = [dict(m) for m in messages]
    idx = max((i for i, m in enumerate(out) if m.get("role") == "user"), default=None)
    if idx is None:
        out.append({"role": "user", "content": []})
        idx = len(out) - 1
    content = out[idx].get("content") or []
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    out[idx]["content"] = parts + [image_part(im) for im in images]
    return out


def has_images(messages: list[dict]) -> bool:
    return any(isinstance(m.get("content"), list) and any(p.get("type") == "image_url" for p in m["content"])
               for m in messages)


def text_only(messages: list[dict]) -> list[dict]:
    """Messages with every content list flattened to text (images become a placeholder)."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            texts = [p.get("text", "") if p.get("type") == "text" else PLACEHOLDER for p in content]
            m = dict(m, content="\n".join(t for t in texts if t))
        out.append(m)
    return out


def decode_images(messages: list[dict]) -> list:
    """The PIL images in ``messages``, in order (data URLs only: nothing is fetched)."""
    from PIL import Image

    found = []
    for m in messages:
        content = m.get("content")
        if not isinstance(content, list):
            continue
        for p in content:
            if p.get("type") != "image_url":
                continue
            url = (p.get("image_url") or {}).get("url", "")
            if not url.startswith("data:image/") or ";base64," not in url:
                raise ValueError("only data:image/...;base64 URLs are read locally; nothing is downloaded")
            found.append(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    return found


def multimodal(lm) -> bool:
    """Whether a language model reads images (its ``multimodal`` attribute)."""
    return bool(getattr(lm, "multimodal", False))
