"""Segment Anything (SAM) through ``transformers`` as a click back-end.

``SamBackend(model="facebook/sam-vit-base")`` loads ``SamModel``/``SamProcessor`` from
a local folder or a hub id (offline: the folder, or a model already in the Hugging
Face cache). The image embedding is computed once per image; every call sends all
clicks as point prompts (label 1 positive, 0 negative) and the previous mask as SAM's
mask prompt (resized into the padded input frame, turned into +-10 logits). The
result is a pure function of (image, clicks, previous mask), so env snapshots replay
exactly; the image embedding is cached per image.

:func:`save_tiny_sam` writes a tiny randomly initialised SAM (config, weights and
processor) to a folder: the loading code is then exercised without any download.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from palaestra.core import require


class SamBackend:
    name = "sam"

    def __init__(self, model: str = "facebook/sam-vit-base", device: str | None = None,
                 use_previous_mask: bool = True, multimask_first_click: bool = True,
                 local_files_only: bool | None = None):
        torch = require("torch", "llm")
        transformers = require("transformers", "llm")
        self.torch = torch
        kwargs = {}
        if local_files_only is not None:
            kwargs["local_files_only"] = local_files_only
        try:
            self.processor = transformers.SamProcessor.from_pretrained(model, **kwargs)
            self.model = transformers.SamModel.from_pretrained(model, **kwargs)
        except (OSError, ValueError) as exc:  # missing files, or a path that is not a hub id
            raise OSError(
                f"could not load SAM from {model!r} ({exc}). Give a local folder holding a SAM checkpoint "
                "(config.json, weights, preprocessor_config.json), or a hub id that is in your Hugging Face "
                "cache (set HF_HUB_OFFLINE=0 to download it where the network allows)."
            ) from exc
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.model_id = str(model)
        self.use_previous_mask = bool(use_previous_mask)
        self.multimask_first_click = bool(multimask_first_click)
        self._image_key = None
        self._embeddings = None

    def _embed(self, image: np.ndarray):
        key = hashlib.sha1(image.tobytes() + str(image.shape).encode()).hexdigest()
        if key != self._image_key:
            inputs = self.processor(images=image, return_tensors="pt")
            with self.torch.no_grad():
                emb = self.model.get_image_embeddings(inputs["pixel_values"].to(self.device))
            self._image_key, self._embeddings = key, emb
        return key

    def _mask_prompt(self, mask: np.ndarray, reshaped):
        """A binary mask -> SAM's low-resolution mask prompt (1, 1, 4e, 4e) in logits."""
        import cv2

        cfg = self.model.config.prompt_encoder_config
        side = int(cfg.image_size if isinstance(cfg.image_size, int) else cfg.image_size[0])
        patch = int(cfg.patch_size if isinstance(cfg.patch_size, int) else cfg.patch_size[0])
        low = 4 * (side // patch)
        rh, rw = (int(v) for v in reshaped)
        canvas = np.zeros((side, side), np.float32)
        canvas[:rh, :rw] = cv2.resize(mask.astype(np.float32), (rw, rh), interpolation=cv2.INTER_LINEAR)
        small = cv2.resize(canvas, (low, low), interpolation=cv2.INTER_AREA)
        return self.torch.from_numpy((small - 0.5) * 20.0)[None, None].to(self.device)

    def segment(self, image, clicks, previous_mask=None):
        clicks = list(clicks)
        h, w = image.shape[:2]
        if not any(c.positive for c in clicks):
            return np.zeros((h, w), bool)
        self._embed(np.ascontiguousarray(image))
        points = [[[[float(c.x) + 0.5, float(c.y) + 0.5] for c in clicks]]]
        labels = [[[1 if c.positive else 0 for c in clicks]]]
        prompt = self.processor(images=image, input_points=points, input_labels=labels, return_tensors="pt")
        multimask = self.multimask_first_click and len(clicks) == 1
        kwargs = {}
        if self.use_previous_mask and previous_mask is not None and len(clicks) > 1 and np.any(previous_mask):
            kwargs["input_masks"] = self._mask_prompt(np.asarray(previous_mask, bool), prompt["reshaped_input_sizes"][0])
        with self.torch.no_grad():
            out = self.model(
                image_embeddings=self._embeddings,
                input_points=prompt["input_points"].to(self.device),
                input_labels=prompt["input_labels"].to(self.device),
                multimask_output=multimask,
                **kwargs,
            )
        scores = out.iou_scores[0, 0]  # (masks,)
        best = int(self.torch.argmax(scores)) if multimask else 0
        masks = self.processor.image_processor.post_process_masks(
            out.pred_masks[:, :, best : best + 1].cpu(), prompt["original_sizes"], prompt["reshaped_input_sizes"]
        )
        return np.asarray(masks[0][0, 0].numpy(), bool)


def save_tiny_sam(path, seed: int = 0, image_size: int = 64) -> Path:
    """Write a tiny randomly initialised SAM (model + processor) to ``path``."""
    torch = require("torch", "llm")
    transformers = require("transformers", "llm")
    from transformers import SamConfig, SamMaskDecoderConfig, SamPromptEncoderConfig, SamVisionConfig

    patch = 8
    vision = SamVisionConfig(hidden_size=32, output_channels=32, num_hidden_layers=2, num_attention_heads=2,
                             image_size=image_size, patch_size=patch, window_size=4, global_attn_indexes=(1,),
                             mlp_dim=64, num_pos_feats=16)
    prompt = SamPromptEncoderConfig(hidden_size=32, image_size=image_size, patch_size=patch, mask_input_channels=4)
    decoder = SamMaskDecoderConfig(hidden_size=32, mlp_dim=64, num_hidden_layers=2, num_attention_heads=2,
                                   iou_head_hidden_dim=32)
    config = SamConfig(vision_config=vision.to_dict(), prompt_encoder_config=prompt.to_dict(),
                       mask_decoder_config=decoder.to_dict())
    torch.manual_seed(seed)
    model = transformers.SamModel(config)
    processor_cls = getattr(transformers, "SamImageProcessorPil", None) or transformers.SamImageProcessor
    image_processor = processor_cls(size={"longest_edge": image_size}, pad_size={"height": image_size, "width": image_size})
    processor = transformers.SamProcessor(image_processor=image_processor)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


__all__ = ["SamBackend", "save_tiny_sam"]
