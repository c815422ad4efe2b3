#!/usr/bin/env python3
"""Builds tiny random SigLIP models beside the SigLIP tokenizer fixtures, and their reference embeddings.

For each of Tests/Fixtures/siglip/siglip-unigram (SentencePiece unigram, SigLIP) and siglip2-bpe
(Gemma byte-fallback BPE, fixed-resolution SigLIP 2), this reads the config.json that
tools/make_siglip_fixtures.py wrote (a tiny SiglipConfig: hidden 32, 2 layers, 8x8 patches,
gelu_pytorch_tanh, layer_norm_eps 1e-6; siglip-unigram sees 32x32 images with 4 heads, siglip2-bpe 36x36,
not a multiple of the patch, with 2 vision heads), builds a transformers SiglipModel with seeded,
deliberately large random weights (so every op, the attention-pooling head included, changes the
result), and writes:

- model.safetensors (float32, the names SiglipModel.save_pretrained uses);
- preprocessor_config.json as the hub's SiglipImageProcessor files say it: resize to the square input
  size with bicubic (resample 3), no centre crop, rescale 1/255, normalise mean = std = 0.5;
- a "## Models" section at the end of README.md (make_siglip_fixtures.py writes the rest);
- siglip-reference.json: per model, logit_scale and logit_bias, the L2-normalised text embeddings of
  TEXTS (encoded by AutoTokenizer from the model directory with padding="max_length", max_length=64,
  as SiglipProcessor feeds the model, and fed without an attention mask, as the model card does), and
  the L2-normalised image embeddings of the pictures in Tests/Fixtures/images (preprocessed by
  AutoImageProcessor from the model directory).

Run tools/make_siglip_fixtures.py first (it owns config.json and the tokenizer files). Deterministic
(fixed seeds, one thread); downloads nothing. From the repository root:

    scripts/siglip-venv && .build/siglip-venv/bin/python tools/make_siglip_model_fixtures.py
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import PIL  # noqa: E402
from PIL import Image  # noqa: E402
from safetensors import safe_open  # noqa: E402
from transformers import AutoImageProcessor, AutoTokenizer, SiglipConfig, SiglipModel  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures"
OUT = FIXTURES / "siglip"
MAX_LENGTH = 64
MODELS = {"siglip-unigram": 1234, "siglip2-bpe": 5678}
IMAGES = ["square_224x224", "landscape_640x480", "portrait_100x150", "odd_37x53"]
TEXTS = [
    "a photo of a cat",
    "A Photo Of A Dog",
    "jam tangan emas di atas meja kayu",
    "relógio dourado em cima da mesa",
    "金色手表放在木桌上",
    "猫がソファの上で寝ている写真",
    "ساعة ذهبية على طاولة خشبية",
    "the party was great 🎉🎉",
    "",
    "the quick brown fox jumps over the lazy dog " * 6,
]


def init_weights(model: SiglipModel, seed: int) -> None:
    rng = np.random.default_rng(seed)

    def fill(t, arr):
        with torch.no_grad():
            t.copy_(torch.from_numpy(np.asarray(arr, np.float32)).reshape(t.shape))

    for module in model.modules():
        if isinstance(module, torch.nn.LayerNorm):
            fill(module.weight, 1.0 + 0.2 * rng.standard_normal(module.weight.shape))
            fill(module.bias, 0.1 * rng.standard_normal(module.bias.shape))
        elif isinstance(module, torch.nn.Linear):
            fill(module.weight, 1.2 / np.sqrt(module.in_features) * rng.standard_normal(module.weight.shape))
            if module.bias is not None:
                fill(module.bias, 0.1 * rng.standard_normal(module.bias.shape))
        elif isinstance(module, torch.nn.Embedding):
            fill(module.weight, 0.5 * rng.standard_normal(module.weight.shape))
        elif isinstance(module, torch.nn.Conv2d):
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            fill(module.weight, 1.5 / np.sqrt(fan_in) * rng.standard_normal(module.weight.shape))
            fill(module.bias, 0.1 * rng.standard_normal(module.bias.shape))
        elif isinstance(module, torch.nn.MultiheadAttention):
            width = module.embed_dim
            fill(module.in_proj_weight, 1.2 / np.sqrt(width) * rng.standard_normal(module.in_proj_weight.shape))
            fill(module.in_proj_bias, 0.1 * rng.standard_normal(module.in_proj_bias.shape))
    head = model.vision_model.head
    fill(head.probe, rng.standard_normal(head.probe.shape))
    fill(model.logit_scale, np.log(10.0))
    fill(model.logit_bias, -10.0)


def l2n(x: torch.Tensor) -> torch.Tensor:
    x = x.double()
    return (x / x.norm(dim=-1, keepdim=True)).float()


def features(out) -> torch.Tensor:
    return out if isinstance(out, torch.Tensor) else out.pooler_output


def f32list(t: torch.Tensor) -> list:
    return [float(str(np.float32(x))) for x in t.detach().numpy().astype(np.float32).ravel()]


def main() -> None:
    torch.set_num_threads(1)
    reference = {}
    for name, seed in MODELS.items():
        directory = OUT / name
        config = SiglipConfig.from_pretrained(directory)
        torch.manual_seed(seed)
        model = SiglipModel(config).eval()
        init_weights(model, seed)
        expected = {k: v.clone() for k, v in model.state_dict().items()}
        with tempfile.TemporaryDirectory() as tmp:
            model.save_pretrained(tmp)
            shutil.copyfile(Path(tmp) / "model.safetensors", directory / "model.safetensors")
        with safe_open(directory / "model.safetensors", "pt") as f:
            for key in f.keys():
                assert torch.equal(f.get_tensor(key), expected[key]), key
        side = config.vision_config.image_size
        (directory / "preprocessor_config.json").write_text(json.dumps({
            "do_normalize": True,
            "do_rescale": True,
            "do_resize": True,
            "image_mean": [0.5, 0.5, 0.5],
            "image_processor_type": "SiglipImageProcessor",
            "image_std": [0.5, 0.5, 0.5],
            "processor_class": "SiglipProcessor",
            "resample": 3,
            "rescale_factor": 1 / 255,
            "size": {"height": side, "width": side},
        }, indent=2) + "\n")

        # Reload what is committed, as a user would.
        loaded, info = SiglipModel.from_pretrained(directory, dtype=torch.float32, output_loading_info=True,
                                                   attn_implementation="eager")
        loaded.eval()
        assert not info["missing_keys"] and not info["unexpected_keys"], info
        tokenizer = AutoTokenizer.from_pretrained(directory)
        processor = AutoImageProcessor.from_pretrained(directory)
        texts = []
        with torch.no_grad():
            for text in TEXTS:
                ids = tokenizer(text, padding="max_length", max_length=MAX_LENGTH, truncation=True)["input_ids"]
                assert len(ids) == MAX_LENGTH
                x = torch.tensor([ids])
                emb = features(loaded.get_text_features(input_ids=x))
                # The pooled token is the last position, through the head.
                hidden = loaded.text_model(input_ids=x).last_hidden_state
                assert torch.allclose(emb, loaded.text_model.head(hidden[:, -1]), atol=1e-6)
                texts.append({"text": text, "ids": ids, "embedding": f32list(l2n(emb)[0])})
            images = []
            for image in IMAGES:
                pil = Image.open(FIXTURES / "images" / f"{image}.png").convert("RGB")
                pixels = processor(images=pil, return_tensors="pt")["pixel_values"]
                assert pixels.shape == (1, 3, side, side), pixels.shape
                emb = features(loaded.get_image_features(pixel_values=pixels))
                images.append({"file": f"images/{image}.png", "embedding": f32list(l2n(emb)[0])})
        text_matrix = torch.tensor([t["embedding"] for t in texts])
        image_matrix = torch.tensor([i["embedding"] for i in images])
        print(name, "text cos off-diagonal max",
              float((text_matrix @ text_matrix.T - torch.eye(len(texts))).max()),
              "image cos off-diagonal max", float((image_matrix @ image_matrix.T - torch.eye(len(images))).max()),
              "processor", type(processor).__name__, file=sys.stderr)
        reference[name] = {
            "logit_scale": loaded.logit_scale.item(),
            "logit_bias": loaded.logit_bias.item(),
            "dimension": int(text_matrix.shape[1]),
            "texts": texts,
            "images": images,
        }
    (OUT / "siglip-reference.json").write_text(json.dumps(reference, ensure_ascii=False, indent=1) + "\n")
    readme = OUT / "README.md"
    head = readme.read_text().split("\n## Models")[0].rstrip("\n")
    sides = ", ".join(f"{name} {SiglipConfig.from_pretrained(OUT / name).vision_config.image_size}" for name in MODELS)
    readme.write_text(head + "\n\n" + "\n".join([
        "## Models",
        "",
        "Made by `tools/make_siglip_model_fixtures.py` (run it after `make_siglip_fixtures.py`).",
        "",
        "- `siglip-unigram/` and `siglip2-bpe/` also hold a tiny random SiglipModel: `model.safetensors`",
        "  (float32) and `preprocessor_config.json` (SiglipImageProcessor: bicubic square resize, no crop,",
        f"  mean = std = 0.5; sides: {sides}).",
        "- `siglip-reference.json`: per model, `logit_scale`, `logit_bias`, `texts: [{text, ids, embedding}]`",
        "  (ids padded to 64, fed without attention mask) and `images: [{file, embedding}]` (pictures of",
        "  `Tests/Fixtures/images`), embeddings L2-normalised, from transformers in float32.",
        "",
        f"Generated with: python {sys.version.split()[0]}, transformers {transformers.__version__}, "
        f"torch {torch.__version__}, pillow {PIL.__version__}.",
        "",
    ]))
    print("python", sys.version.split()[0], "transformers", transformers.__version__, "torch", torch.__version__,
          file=sys.stderr)


if __name__ == "__main__":
    main()
