"""A local vision-language model (``transformers`` processor + image-text-to-text model)
as a multimodal :class:`~palaestra.agents.llm.LanguageModel`.

Messages may carry images as OpenAI-style ``image_url`` parts with base64 data URLs
(:mod:`.images`); the processor's chat template places them, the processor encodes
them. ``load_lm`` picks this class for a local folder whose ``config.json`` has a
``vision_config`` (LLaVA, Qwen2-VL, ...), or with ``multimodal=True``.
``build_tiny_vlm(DIR)`` writes a randomly initialised tiny LLaVA for offline tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .images import decode_images

# ChatML with image parts: each image becomes the processor's <image> token
VLM_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}"
    "{% for p in m['content'] %}{% if p['type'] == 'text' %}{{ p['text'] }}{% else %}<image>{% endif %}{% endfor %}"
    "{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def is_vlm_folder(path) -> bool:
    """Whether a local model folder holds a vision-language model (no network)."""
    cfg = Path(str(path)) / "config.json"
    if not cfg.is_file():
        return False
    try:
        return "vision_config" in json.loads(cfg.read_text())
    except (OSError, ValueError):
        return False


class TransformersVLM:
    """An image-text-to-text model from a local folder or hub id; ``multimodal = True``.

    ``generate`` and ``score`` take chat messages whose content is text or a list of
    text and ``image_url`` parts. One prompt at a time (prompts carry different images).
    """

    multimodal = True

    def __init__(self, path_or_id, device=None, dtype=None, max_threads: int | None = None,
                 trust_remote_code: bool = False, **_ignored):
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        from .transformers_lm import _pick_device, _pick_dtype

        if max_threads is not None:
            torch.set_num_threads(int(max_threads))
        self.name = str(path_or_id)
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(dtype, self.device)
        try:
            self.processor = AutoProcessor.from_pretrained(str(path_or_id), trust_remote_code=trust_remote_code)
            self.model = AutoModelForImageTextToText.from_pretrained(str(path_or_id), dtype=self.dtype,
                                                                     trust_remote_code=trust_remote_code)
        except (OSError, ValueError) as err:
            raise OSError(f"could not load a vision-language model from {path_or_id!r}: {err}. The folder needs "
                          "config.json with a vision_config, the weights and the processor files.") from err
        self.model.to(self.device).eval()
        self.tokenizer = self.processor.tokenizer
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0}

    def __repr__(self) -> str:
        return f"TransformersVLM({self.name!r}, device={self.device})"

    def _inputs(self, messages, suffix: str = ""):
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False) + suffix
        images = decode_images(messages)
        inputs = self.processor(text=[text], images=images or None, return_tensors="pt")
        return {k: v.to(self.device) for k, v in inputs.items()}

    def generate(self, prompts, n: int = 1, temperature: float = 1.0, max_new_tokens: int = 64,
                 seed: int | None = None) -> list[list[str]]:
        import torch

        out = []
        for i, messages in enumerate(prompts):
            inputs = self._inputs(messages)
            width = inputs["input_ids"].shape[1]
            kwargs = dict(max_new_tokens=int(max_new_tokens), num_return_sequences=int(n),
                          pad_token_id=self.tokenizer.pad_token_id)
            if temperature and temperature > 0:
                kwargs.update(do_sample=True, temperature=float(temperature), top_k=0)
            else:
                kwargs.update(do_sample=False)
            with torch.random.fork_rng(devices=[]), torch.inference_mode():
                if seed is not None:
                    torch.manual_seed(int(seed) + i)
                gen = self.model.generate(**inputs, **kwargs)
            texts = []
            for row in gen[:, width:].cpu().tolist():
                kept = []
                for t in row:
                    if t in (self.tokenizer.eos_token_id, self.tokenizer.pad_token_id):
                        break
                    kept.append(t)
                self.usage["completion_tokens"] += len(kept)
                texts.append(self.tokenizer.decode(kept, skip_special_tokens=True))
            self.usage["prompt_tokens"] += width * n
            out.append(texts)
        return out

    def score(self, prompts, completions: list[str]) -> list[float]:
        import torch

        if len(prompts) != len(completions):
            raise ValueError(f"score needs one completion per prompt, got {len(prompts)} and {len(completions)}.")
        scores = []
        with torch.inference_mode():
            for messages, completion in zip(prompts, completions):
                start = self._inputs(messages)["input_ids"].shape[1]
                inputs = self._inputs(messages, completion)
                logits = self.model(**inputs).logits.float()
                ids = inputs["input_ids"][0]
                logp = torch.log_softmax(logits[0, :-1], -1)
                tok = logp.gather(-1, ids[1:].unsqueeze(-1)).squeeze(-1)
                scores.append(float(tok[start - 1:].sum()))
                self.usage["prompt_tokens"] += int(ids.shape[0])
        return scores


def build_tiny_vlm(out, seed: int = 0) -> Path:
    """A randomly initialised tiny LLaVA (CLIP vision tower + Llama text model, the tiny
    tokenizer with an ``<image>`` token) saved to ``out``, for offline tests."""
    import torch
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    from .tiny import tiny_model_path

    out = Path(out)
    if (out / "config.json").exists():
        return out
    tok = AutoTokenizer.from_pretrained(tiny_model_path())
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                              image_size=32, patch_size=8, projection_dim=32)
    text = LlamaConfig(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096,
                       bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=tok.convert_tokens_to_ids("<image>"),
                      vision_feature_select_strategy="full", vision_feature_layer=-1)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(cfg)
    processor = LlavaProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                                  crop_size={"height": 32, "width": 32}),
                               tokenizer=tok, patch_size=8, vision_feature_select_strategy="full",
                               num_additional_image_tokens=1, chat_template=VLM_TEMPLATE)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
