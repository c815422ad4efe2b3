#!/usr/bin/env python3
"""Generate the CLIP reference fixtures used by Loupe's Swift tests.

Python is used ONLY to produce committed test fixtures; Loupe never runs it.
Everything is generated locally and deterministically (fixed seeds, random
weights) -- no model downloads.

Outputs (all under Tests/Fixtures/):
  clip-tiny/            tiny random CLIP, HF layout, F16 safetensors,
                        quick_gelu, legacy eos_token_id=2 (argmax pooling),
                        vocab.json + merges.txt (no tokenizer.json)
  clip-tiny-gelu/       tiny random CLIP, BF16 safetensors, exact gelu,
                        layer_norm_eps 1e-6, eos_token_id=49407 (first-EOT
                        pooling), tokenizer.json only, legacy int-valued
                        preprocessor_config sizes
  images/               synthetic RGB test images (PNG + binary PPM P6)
  images/crops/         <model>-<image>.ppm: uint8 resize+center-crop result
  clip-reference.json   ids + L2-normalised embeddings per model
  tokenizer-cases.json  tokenizer reference ids (open_clip SimpleTokenizer)
  README.md             format description + tool versions

Usage:
  .build/bench-venv/bin/python tools/make_clip_fixtures.py [--hf4-python .build/hf4-venv/bin/python]

--hf4-python (optional) points at an interpreter with transformers<5
installed (no torch needed).  transformers 5.x removed the pure-Python
("slow", ftfy-based) CLIPTokenizer and the old CLIPImageProcessor, so this
is the only way to record the `hf_slow` column of tokenizer-cases.json and
to cross-check the v4 image processor.  Without it `hf_slow` is omitted.
"""

import argparse
import gzip
import hashlib
import html
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------------------
# Common helpers (used by both the main process and the transformers-4 worker)
# ---------------------------------------------------------------------------

CONTEXT_LENGTH = 77
SOT = 49406
EOT = 49407


def truncate_ids(ids, context_length=CONTEXT_LENGTH):
    """open_clip truncation: keep the first `context_length` ids, force the last to EOT."""
    ids = list(ids)
    if len(ids) > context_length:
        ids = ids[:context_length]
        ids[-1] = EOT
    return ids


# ---------------------------------------------------------------------------
# transformers 4.x worker (run in a separate interpreter; must not need torch)
# ---------------------------------------------------------------------------

def hf4_worker(request_path, response_path):
    import numpy as np
    import transformers
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPTokenizer, CLIPTokenizerFast

    with open(request_path, encoding="utf-8") as f:
        req = json.load(f)
    slow = CLIPTokenizer(req["vocab"], req["merges"])
    assert slow.fix_text is not None, "ftfy must be importable for the slow HF tokenizer"
    fast_conv = CLIPTokenizerFast(vocab_file=req["vocab"], merges_file=req["merges"])
    fast_json = CLIPTokenizerFast(tokenizer_file=req["tokenizer_json"])
    out = {"transformers": transformers.__version__, "slow": [], "fast_converted": [], "fast_json": []}
    for text in req["texts"]:
        out["slow"].append(truncate_ids(slow(text)["input_ids"]))
        out["fast_converted"].append(truncate_ids(fast_conv(text)["input_ids"]))
        out["fast_json"].append(truncate_ids(fast_json(text)["input_ids"]))
    out["images"] = []
    for item in req["images"]:
        proc = CLIPImageProcessor.from_pretrained(item["preprocessor_dir"])
        img = Image.open(item["png"]).convert("RGB")
        pv = proc(images=img, return_tensors="np")["pixel_values"]
        np.save(item["out_npy"], pv.astype(np.float32))
        out["images"].append({"class": type(proc).__name__, "npy": item["out_npy"]})
    with open(response_path, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__" and len(sys.argv) >= 2 and sys.argv[1] == "--hf4-worker":
    hf4_worker(sys.argv[2], sys.argv[3])
    sys.exit(0)

# ---------------------------------------------------------------------------
# Main process (transformers 5.x + torch + open_clip)
# ---------------------------------------------------------------------------

import numpy as np  # noqa: E402
import torch  # noqa: E402
import PIL  # noqa: E402
from PIL import Image  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(0)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import ftfy  # noqa: E402
import open_clip  # noqa: E402
import open_clip.tokenizer as oc_tok  # noqa: E402
import safetensors  # noqa: E402
from safetensors import safe_open  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from transformers import CLIPConfig, CLIPModel, CLIPTokenizer  # noqa: E402

try:  # transformers >= 5: CLIPImageProcessor is the torchvision one, the PIL one has a suffix
    from transformers import CLIPImageProcessorPil as SlowImageProcessor
    from transformers import CLIPImageProcessor as FastImageProcessor
except ImportError:  # transformers 4.x: CLIPImageProcessor is the PIL one
    from transformers import CLIPImageProcessor as SlowImageProcessor
    from transformers import CLIPImageProcessorFast as FastImageProcessor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(REPO, "Tests", "Fixtures")

OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------
# 1. Vocabulary / merges / tokenizer.json
# ---------------------------------------------------------------------------

def build_vocab_and_merges():
    bpe_path = oc_tok.default_bpe()
    raw = gzip.open(bpe_path).read().decode("utf-8").split("\n")
    merge_lines = raw[1:49152 - 256 - 2 + 1]
    assert len(merge_lines) == 48894, len(merge_lines)
    merges = [tuple(m.split()) for m in merge_lines]
    assert all(len(m) == 2 for m in merges)
    byte_chars = list(oc_tok.bytes_to_unicode().values())
    vocab = byte_chars + [c + "</w>" for c in byte_chars]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == 49408 and len(set(vocab)) == 49408
    encoder = {tok: i for i, tok in enumerate(vocab)}
    assert encoder["<|startoftext|>"] == SOT and encoder["<|endoftext|>"] == EOT
    vocab_json = json.dumps(encoder, ensure_ascii=False)
    merges_txt = "#version: 0.2\n" + "\n".join(merge_lines) + "\n"
    return bpe_path, encoder, vocab_json, merges_txt


class OpenCLIPReference:
    """open_clip's SimpleTokenizer (the original OpenAI CLIP tokenizer) -> unpadded ids."""

    def __init__(self):
        self.tok = oc_tok.SimpleTokenizer()
        assert self.tok.sot_token_id == SOT and self.tok.eot_token_id == EOT

    def ids(self, text):
        return truncate_ids([SOT] + self.tok.encode(text) + [EOT])

    def openai_ids(self, text):
        """The original openai/CLIP tokenizer: identical except that the literal strings
        <|startoftext|> / <|endoftext|> are special tokens (open_clip renamed them to
        <start_of_text> / <end_of_text>, so it tokenizes the literals as plain text)."""
        if not hasattr(self, "_openai"):
            t = oc_tok.SimpleTokenizer()
            for name, i in (("<|startoftext|>", SOT), ("<|endoftext|>", EOT)):
                t.encoder[name] = i
                t.cache[name] = name
            t.pat = oc_tok.re.compile(
                r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                oc_tok.re.IGNORECASE)
            self._openai = t
        return truncate_ids([SOT] + self._openai.encode(text) + [EOT])

    def ids_without_encoding_repair(self, text):
        """Same pipeline but with ftfy's mojibake/encoding repair switched off."""
        cfg = ftfy.TextFixerConfig(fix_encoding=False, restore_byte_a0=False, replace_lossy_sequences=False,
                                   decode_inconsistent_utf8=False, fix_c1_controls=False)
        t = ftfy.fix_text(text, cfg)
        t = html.unescape(html.unescape(t)).strip()
        t = oc_tok.whitespace_clean(t).lower()
        out = []
        for token in oc_tok.re.findall(self.tok.pat, t):
            token = "".join(self.tok.byte_encoder[b] for b in token.encode("utf-8"))
            out.extend(self.tok.encoder[b] for b in self.tok.bpe(token).split(" "))
        return truncate_ids([SOT] + out + [EOT])


# ---------------------------------------------------------------------------
# Test strings
# ---------------------------------------------------------------------------

WORDS = ("photo image picture cat dog bird tree house car street city night day light shadow red "
         "green blue yellow golden silver old new small large beautiful quiet busy river mountain "
         "ocean beach forest flower garden window door table chair book lamp coffee tea bread fruit "
         "apple orange sky cloud rain snow sun moon star child woman man people crowd market train "
         "station bridge tower castle church museum painting portrait landscape close-up wide angle "
         "vintage modern wooden stone glass metal soft bright dark warm cold").split()


def pseudo_text(n_words, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_words):
        w = WORDS[int(rng.integers(len(WORDS)))]
        r = rng.random()
        if r < 0.06:
            w += ","
        elif r < 0.09:
            w += "."
        elif r < 0.11:
            w = str(int(rng.integers(1, 2030)))
        out.append(w)
    return " ".join(out)


def long_word(n, seed):
    rng = np.random.default_rng(seed)
    return "".join(chr(ord("a") + int(rng.integers(26))) for _ in range(n))


TOKENIZER_CASES = [
    # plain ASCII
    "a photo of a cat",
    "A Photo Of A Dog.",
    "The quick brown fox jumps over the lazy dog",
    "a red silk robe with gold trim",
    "photo of the Eiffel Tower at night, long exposure",
    # punctuation runs
    "hello world!!!",
    "wait... what?!",
    "Really?!?! No way!!!",
    "(parenthetical) [brackets] {braces} <angle> |pipe| ~tilde~",
    "semi;colon:colon, comma - dash -- em\u2014dash \u2026 ellipsis",
    "$100 + 50% = ???",
    # contractions
    "it's a dog's life",
    "we'll see, don't worry",
    "I'M HERE AND I'D KNOW",
    "they're sure you've seen it, she'll go",
    "rock'n'roll isn't dead, y'all",
    # digits
    "12345",
    "pi is 3.14",
    "2026-11-21",
    "1,000,000 dollars",
    "room 101b on the 2nd floor, 1990s",
    # accents
    "caf\u00e9",
    "na\u00efve",
    "\u00c5ngstr\u00f6m",
    "cr\u00e8me br\u00fbl\u00e9e",
    "e\u0301",          # combining acute
    "\u00e9",           # precomposed
    "cafe\u0301 au lait",
    "Zo\u00eb's 3 caf\u00e9s in Z\u00fcrich \u2014 50% off!",
    "stra\u00dfe STRASSE",
    "\u0130stanbul",     # capital I with dot above (lowercases to 2 code points)
    "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",  # Greek upper case with final sigma
    # CJK
    "\u4e00\u53ea\u732b\u7684\u7167\u7247",                      # Chinese
    "\u6771\u4eac\u306e\u732b\u3068\u30ab\u30bf\u30ab\u30ca",      # Japanese kanji + kana
    "\u3072\u3089\u304c\u306a\u3068\u30ab\u30bf\u30ab\u30ca",      # hiragana + katakana
    "\uace0\uc591\uc774 \uc0ac\uc9c4",                            # Korean
    # emoji
    "\U0001f431",
    "\U0001f44d\U0001f3fd thumbs up",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 family",
    "\U0001f1ef\U0001f1f5\U0001f1fa\U0001f1f8 flags",
    "I \u2764\ufe0f NY \u2615",
    # other scripts
    "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5",   # Greek
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440",                         # Cyrillic
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",        # Arabic
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",                                # Hebrew
    "\u0928\u092e\u0938\u094d\u0924\u0947 \u0926\u0941\u0928\u093f\u092f\u093e",        # Devanagari
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e0a\u0e32\u0e27\u0e42\u0e25\u0e01",        # Thai
    # HTML entities
    "fish &amp; chips",
    "&lt;b&gt;bold&lt;/b&gt;",
    "it&#39;s",
    "&#x41;BC",
    "non&nbsp;breaking",
    "caf&eacute;",
    "Tom &amp;amp; Jerry",
    "AT&amp;amp;amp;T",
    "<b>AT&amp;amp;amp;T</b>",
    "R&D &copy 2024",
    # ftfy repeats its fixers until the text stops changing (entities unescape fully),
    # but "auto" HTML unescaping is decided on the ORIGINAL line: off if it has a "<"
    "&lt;i&gt;AT&amp;amp;amp;amp;T&lt;/i&gt;",
    "&amp;lt;tag&amp;gt; 5 &amp;lt; 6",
    # ftfy works per line; once a line contains "<" HTML unescaping stays off for the
    # rest of the text; ftfy also decodes all-caps entity names
    "AT&amp;amp;amp;T\n<p>AT&amp;amp;amp;T",
    "<p>\nAT&amp;amp;amp;T",
    "P&EACUTE;REZ",
    # whitespace
    "tab\tseparated\tvalues",
    "line one\nline two\r\nline three",
    "multiple     spaces",
    "   leading and trailing   ",
    "non\u00a0breaking\u00a0space",
    "ideographic\u3000space",
    "zero\u200bwidth space",
    # case
    "ALL CAPS SHOUTING",
    "MiXeD CaSe iPhone McDonald's",
    # curly quotes
    "it\u2019s \u201cquoted\u201d text",
    "\u2018single\u2019 quotes",
    # fullwidth, ligatures
    "\uff21\uff22\uff23 \uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 \uff11\uff12\uff13",
    "\ufb01ne \ufb02ower",
    # URLs, hashtags, mentions, underscores
    "https://example.com/path?query=1&x=y#frag",
    "#hashtag @mention #CamelCaseTag",
    "snake_case_name __init__",
    "user@example.com",
    # edge cases
    "",
    "     ",
    "a cat<|endoftext|>a dog",
    "<|startoftext|>",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a " * 75,   # exactly 77 ids with SOT/EOT
    "a " * 76,   # 78 -> truncated
    pseudo_text(200, seed=200),
    long_word(300, seed=300),
    # ftfy encoding repair (flagged ftfy_only automatically)
    "caf\u00c3\u00a9 cr\u00c3\u00a8me",
]

REFERENCE_TEXTS = [
    "a photo of a cat",
    "a red silk robe with gold trim",
    "",
    pseudo_text(100, seed=100),
    "cr\u00e8me br\u00fbl\u00e9e \u00e0 la fran\u00e7aise",
    "\u4e00\u53ea\u732b\u7684\u7167\u7247",
    "\U0001f431\U0001f436 pets",
    "A DOG ON THE BEACH",
    "fish &amp; chips",
    "it's a dog's life",
    "3 apples and 12 oranges",
    "photo of the Eiffel Tower at night",
]


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------

IMAGE_SPECS = [  # name, width, height, seed
    ("landscape_640x480", 640, 480, 1),
    ("portrait_100x150", 100, 150, 2),
    ("square_224x224", 224, 224, 3),
    ("tall_300x1000", 300, 1000, 4),
    ("odd_37x53", 37, 53, 5),
]


def make_image(w, h, seed):
    rng = np.random.default_rng(1000 + seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    u = xx / max(w - 1, 1)
    v = yy / max(h - 1, 1)
    img = np.empty((h, w, 3), np.float64)
    img[..., 0] = 255 * (0.1 + 0.75 * u)
    img[..., 1] = 255 * (0.15 + 0.7 * v)
    img[..., 2] = 128 + 90 * np.sin(2 * np.pi * (1.3 * u + 0.7 * v) + seed)
    m = min(w, h)
    # filled rectangle (sharp edges)
    x0, y0 = rng.uniform(0.05, 0.45) * w, rng.uniform(0.05, 0.45) * h
    x1, y1 = x0 + rng.uniform(0.2, 0.45) * w, y0 + rng.uniform(0.2, 0.45) * h
    img[(xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)] = rng.integers(0, 256, 3)
    # filled circle
    cx, cy, r = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h, rng.uniform(0.12, 0.25) * m
    img[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = rng.integers(0, 256, 3)
    # filled triangle
    pts = rng.uniform(0, 1, (3, 2)) * [w, h]

    def side(p, q):
        return (q[0] - p[0]) * (yy - p[1]) - (q[1] - p[1]) * (xx - p[0])

    s1, s2, s3 = side(pts[0], pts[1]), side(pts[1], pts[2]), side(pts[2], pts[0])
    inside = ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))
    img[inside] = rng.integers(0, 256, 3)
    # 1-pixel stripes (aliasing) in a band
    sx0, sx1 = int(0.6 * w), max(int(0.6 * w) + 2, int(0.9 * w))
    sy0, sy1 = int(0.05 * h), max(int(0.05 * h) + 2, int(0.25 * h))
    band = img[sy0:sy1, sx0:sx1]
    band[(np.arange(band.shape[1]) % 2 == 0)[None, :].repeat(band.shape[0], 0)] = [250, 250, 250]
    # gaussian noise patch
    nx0, ny0 = int(0.05 * w), int(0.6 * h)
    nx1, ny1 = max(nx0 + 2, int(0.45 * w)), max(ny0 + 2, int(0.95 * h))
    img[ny0:ny1, nx0:nx1] += rng.normal(0, 18, (ny1 - ny0, nx1 - nx0, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def write_ppm(path, arr):
    h, w, c = arr.shape
    assert c == 3 and arr.dtype == np.uint8
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(np.ascontiguousarray(arr).tobytes())


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(b"\n", 3)
    assert parts[0] == b"P6" and parts[2] == b"255"
    w, h = map(int, parts[1].split())
    return np.frombuffer(parts[3], np.uint8).reshape(h, w, 3)


def resize_and_crop(pil_rgb, shortest_edge, crop):
    """The processor's resize (PIL bicubic, reducing_gap=None) + center crop, in uint8."""
    w, h = pil_rgb.size
    short, long_ = (w, h) if w <= h else (h, w)
    new_short, new_long = shortest_edge, int(shortest_edge * long_ / short)
    nw, nh = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = pil_rgb.resize((nw, nh), resample=Image.BICUBIC, reducing_gap=None)
    arr = np.array(resized)
    top, left = (nh - crop) // 2, (nw - crop) // 2
    assert top >= 0 and left >= 0
    return arr[top:top + crop, left:left + crop], (nw, nh)


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

MODELS = {
    "clip-tiny": dict(
        dtype="float16",
        text=dict(vocab_size=49408, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=64, max_position_embeddings=77, hidden_act="quick_gelu",
                  layer_norm_eps=1e-5, eos_token_id=2, bos_token_id=0, pad_token_id=1, projection_dim=24),
        vision=dict(image_size=224, patch_size=32, hidden_size=48, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=96, hidden_act="quick_gelu", layer_norm_eps=1e-5, num_channels=3,
                    projection_dim=24),
        projection_dim=24, seed=1234, tokenizer="vocab+merges", preprocessor="modern", shortest_edge=224, crop=224),
    "clip-tiny-gelu": dict(
        dtype="bfloat16",
        text=dict(vocab_size=49408, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                  intermediate_size=32, max_position_embeddings=77, hidden_act="gelu",
                  layer_norm_eps=1e-6, eos_token_id=49407, bos_token_id=49406, pad_token_id=49407,
                  projection_dim=20),
        vision=dict(image_size=64, patch_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, hidden_act="gelu", layer_norm_eps=1e-6, num_channels=3,
                    projection_dim=20),
        projection_dim=20, seed=5678, tokenizer="tokenizer.json", preprocessor="legacy", shortest_edge=64, crop=64),
}


def preprocessor_config(kind, shortest_edge, crop):
    if kind == "modern":  # as in openai/clip-vit-base-patch32 today
        return {
            "crop_size": {"height": crop, "width": crop},
            "do_center_crop": True,
            "do_convert_rgb": True,
            "do_normalize": True,
            "do_rescale": True,
            "do_resize": True,
            "feature_extractor_type": "CLIPFeatureExtractor",
            "image_mean": OPENAI_MEAN,
            "image_processor_type": "CLIPImageProcessor",
            "image_std": OPENAI_STD,
            "resample": 3,
            "rescale_factor": 0.00392156862745098,
            "size": {"shortest_edge": shortest_edge},
        }
    # legacy CLIPFeatureExtractor form (int size / crop_size) still found on older hub repos
    return {
        "crop_size": crop,
        "do_center_crop": True,
        "do_normalize": True,
        "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_mean": OPENAI_MEAN,
        "image_std": OPENAI_STD,
        "resample": 3,
        "size": shortest_edge,
    }


def init_weights(model, seed):
    """Large-ish random weights so every op produces non-trivial activations."""
    rng = np.random.default_rng(seed)

    def fill(t, arr):
        with torch.no_grad():
            t.copy_(torch.from_numpy(np.asarray(arr, np.float32)).reshape(t.shape))

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.LayerNorm):
            fill(module.weight, 1.0 + 0.2 * rng.standard_normal(module.weight.shape))
            fill(module.bias, 0.1 * rng.standard_normal(module.bias.shape))
        elif isinstance(module, torch.nn.Linear):
            std = 1.2 / np.sqrt(module.in_features)
            fill(module.weight, std * rng.standard_normal(module.weight.shape))
            if module.bias is not None:
                fill(module.bias, 0.1 * rng.standard_normal(module.bias.shape))
        elif isinstance(module, torch.nn.Embedding):
            fill(module.weight, 0.5 * rng.standard_normal(module.weight.shape))
        elif isinstance(module, torch.nn.Conv2d):
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            fill(module.weight, (1.5 / np.sqrt(fan_in)) * rng.standard_normal(module.weight.shape))
            assert module.bias is None
    fill(model.vision_model.embeddings.class_embedding,
         0.5 * rng.standard_normal(model.vision_model.embeddings.class_embedding.shape))
    fill(model.logit_scale, np.log(1 / 0.07))


def round_weights(model, dtype):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def l2n(x):
    x = x.double()
    return (x / x.norm(dim=-1, keepdim=True)).float()


def as_tensor_output(out):
    if isinstance(out, torch.Tensor):
        return out
    return out.pooler_output


def f32list(t):
    # shortest repr that round-trips float32, emitted as a JSON number
    return [float(str(np.float32(x))) for x in t.detach().cpu().numpy().astype(np.float32).ravel()]


# ---------------------------------------------------------------------------
# JSON writer: pretty structure, scalar lists on one line
# ---------------------------------------------------------------------------

def dumps(obj, indent=0):
    sp = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{sp}  {json.dumps(k, ensure_ascii=False)}: {dumps(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + sp + "}"
    if isinstance(obj, list):
        if all(not isinstance(x, (dict, list)) for x in obj):
            return "[" + ", ".join(json.dumps(x, ensure_ascii=False) for x in obj) + "]"
        return "[\n" + ",\n".join(sp + "  " + dumps(x, indent + 1) for x in obj) + "\n" + sp + "]"
    return json.dumps(obj, ensure_ascii=False)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(dumps(obj) + "\n")


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hf4-python", default=os.environ.get("LOUPE_HF4_PYTHON"),
                    help="python with transformers<5 (for hf_slow ids and a v4 image-processor cross-check)")
    args = ap.parse_args()

    versions = {
        "python": platform.python_version(), "torch": torch.__version__,
        "transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
        "open_clip": open_clip.__version__, "ftfy": ftfy.__version__, "pillow": PIL.__version__,
        "numpy": np.__version__, "safetensors": safetensors.__version__,
    }
    log("versions:", versions)
    notes = []

    for sub in ("clip-tiny", "clip-tiny-gelu", "images"):
        shutil.rmtree(os.path.join(FIX, sub), ignore_errors=True)
    os.makedirs(os.path.join(FIX, "images", "crops"), exist_ok=True)
    work = tempfile.mkdtemp(prefix="loupe-fixtures-")

    # ---- 1. vocabulary -----------------------------------------------------
    bpe_path, encoder, vocab_json, merges_txt = build_vocab_and_merges()
    ref = OpenCLIPReference()
    # our vocab is identical to open_clip's except for the special-token spellings
    oc_enc = dict(ref.tok.encoder)
    assert oc_enc.pop("<start_of_text>") == SOT and oc_enc.pop("<end_of_text>") == EOT
    ours = {k: v for k, v in encoder.items() if v < SOT}
    assert ours == oc_enc, "vocab mismatch vs open_clip"
    tokdir = os.path.join(work, "tok")
    os.makedirs(tokdir)
    with open(os.path.join(tokdir, "vocab.json"), "w", encoding="utf-8") as f:
        f.write(vocab_json)
    with open(os.path.join(tokdir, "merges.txt"), "w", encoding="utf-8") as f:
        f.write(merges_txt)
    log(f"vocab: {len(encoder)} tokens, merges: {merges_txt.count(chr(10)) - 1}, source {bpe_path}")

    # NB: in transformers 5.x CLIPTokenizer(vocab_file=..., merges_file=...) silently
    # ignores the files (builds an empty 3-token vocab); from_pretrained(dir) works.
    hf_dir = CLIPTokenizer.from_pretrained(tokdir)
    hf_dir.save_pretrained(os.path.join(work, "tok-saved"))
    # save_pretrained pretty-prints tokenizer.json (3.6 MB); store the identical JSON
    # compactly (1.7 MB) to keep the fixtures small.  All checks below use this file.
    with open(os.path.join(work, "tok-saved", "tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    tokenizer_json_path = os.path.join(work, "tokenizer.json")
    with open(tokenizer_json_path, "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))
    with open(tokenizer_json_path, encoding="utf-8") as f:
        assert json.load(f) == tj
    hf_json = tokenizers.Tokenizer.from_file(tokenizer_json_path)
    hf_from_json = CLIPTokenizer(tokenizer_file=tokenizer_json_path)
    log("HF tokenizer class:", type(hf_dir).__module__ + "." + type(hf_dir).__name__)

    def hf_ids(tok, text):
        return truncate_ids(tok(text)["input_ids"])

    for s in ["a photo of a cat", "A Dog's life!!", "caf\u00e9 \u4e00\u53ea\u732b", "3.14 is pi", "hello   world"]:
        r = ref.ids(s)
        for name, ids in [("dir", hf_ids(hf_dir, s)),
                          ("tokenizer.json", truncate_ids(hf_json.encode(s).ids)),
                          ("tokenizer.json/hf", hf_ids(hf_from_json, s))]:
            assert ids == r, (name, s, ids, r)
    log("HF tokenizer (vocab.json+merges.txt and tokenizer.json) matches open_clip on sanity strings")

    # ---- 2. tokenizer cases ------------------------------------------------
    assert len(set(TOKENIZER_CASES)) == len(TOKENIZER_CASES)
    hf4 = None
    if args.hf4_python:
        req = {"vocab": os.path.join(tokdir, "vocab.json"), "merges": os.path.join(tokdir, "merges.txt"),
               "tokenizer_json": tokenizer_json_path, "texts": TOKENIZER_CASES, "images": []}
        hf4_req = req  # images appended later; run tokenizer part now
        with open(os.path.join(work, "req-tok.json"), "w", encoding="utf-8") as f:
            json.dump(hf4_req, f)
        subprocess.run([args.hf4_python, os.path.abspath(__file__), "--hf4-worker",
                        os.path.join(work, "req-tok.json"), os.path.join(work, "resp-tok.json")], check=True)
        with open(os.path.join(work, "resp-tok.json"), encoding="utf-8") as f:
            hf4 = json.load(f)
        versions["transformers_v4_crosscheck"] = hf4["transformers"]
    else:
        notes.append("hf_slow not computed (no --hf4-python given)")
        log("WARNING: --hf4-python not given; hf_slow column omitted")

    cases = []
    disagree = {"openai": [], "hf_slow": [], "hf_fast": [], "hf_fast_v4": [], "tokenizer.json": []}
    ftfy_steps = []
    for i, text in enumerate(TOKENIZER_CASES):
        r = ref.ids(text)
        case = {"text": text, "ids": r}
        if ref.ids_without_encoding_repair(text) != r:
            case["ftfy_only"] = True
        oa = ref.openai_ids(text)
        if oa != r:
            case["openai"] = oa
            disagree["openai"].append(text)
        fixed, expl = ftfy.fix_and_explain(text)
        if fixed != text:
            ftfy_steps.append((text, fixed, [st.parameter for st in expl]))
        fast = hf_ids(hf_dir, text)
        js = truncate_ids(hf_json.encode(text).ids)
        if js != fast:
            disagree["tokenizer.json"].append(text)
        if hf4 is not None:
            slow = hf4["slow"][i]
            if slow != r:
                case["hf_slow"] = slow
                disagree["hf_slow"].append(text)
            if hf4["fast_converted"][i] != fast or hf4["fast_json"][i] != fast:
                disagree["hf_fast_v4"].append(text)
        if fast != r:
            case["hf_fast"] = fast
            disagree["hf_fast"].append(text)
        cases.append(case)
    write_json(os.path.join(FIX, "tokenizer-cases.json"), cases)

    # ---- 3. images ---------------------------------------------------------
    images = []
    for name, w, h, seed in IMAGE_SPECS:
        arr = make_image(w, h, seed)
        png = os.path.join(FIX, "images", name + ".png")
        ppm = os.path.join(FIX, "images", name + ".ppm")
        Image.fromarray(arr, "RGB").save(png, optimize=True)
        write_ppm(ppm, arr)
        back = np.array(Image.open(png).convert("RGB"))
        assert np.array_equal(back, arr) and np.array_equal(read_ppm(ppm), arr)
        images.append((name, png, ppm))

    # ---- 4. models ---------------------------------------------------------
    reference = {}
    processor_report = []
    hf4_img_req = {"vocab": os.path.join(tokdir, "vocab.json"), "merges": os.path.join(tokdir, "merges.txt"),
                   "tokenizer_json": tokenizer_json_path, "texts": [], "images": []}
    all_pixel_values = {}
    model_summaries = {}
    for mname, spec in MODELS.items():
        log(f"--- {mname}")
        mdir = os.path.join(FIX, mname)
        os.makedirs(mdir)
        tdtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}[spec["dtype"]]
        config = CLIPConfig(text_config=spec["text"], vision_config=spec["vision"],
                            projection_dim=spec["projection_dim"], logit_scale_init_value=2.6592)
        torch.manual_seed(spec["seed"])
        model = CLIPModel(config).eval()
        init_weights(model, spec["seed"])
        round_weights(model, tdtype)
        expected_sd = {k: v.clone() for k, v in model.state_dict().items()}

        tmp_save = os.path.join(work, "save-" + mname)
        model.to(tdtype).save_pretrained(tmp_save)
        log("save_pretrained wrote:", sorted(os.listdir(tmp_save)))
        for fn in ("config.json", "model.safetensors"):
            shutil.copyfile(os.path.join(tmp_save, fn), os.path.join(mdir, fn))
        # verify the safetensors file: dtype and exact values
        with safe_open(os.path.join(mdir, "model.safetensors"), "pt") as f:
            keys = list(f.keys())
            st_dtypes = set()
            for k in keys:
                t = f.get_tensor(k)
                st_dtypes.add(str(t.dtype))
                assert torch.equal(t.to(torch.float32), expected_sd[k]), k
        assert st_dtypes == {str(tdtype)}, st_dtypes
        missing_in_file = sorted(set(expected_sd) - set(keys))
        log(f"safetensors: {len(keys)} tensors, dtypes {st_dtypes}; state_dict keys not in file: {missing_in_file}")

        # tokenizer + preprocessor files
        if spec["tokenizer"] == "vocab+merges":
            shutil.copyfile(os.path.join(tokdir, "vocab.json"), os.path.join(mdir, "vocab.json"))
            shutil.copyfile(os.path.join(tokdir, "merges.txt"), os.path.join(mdir, "merges.txt"))
        else:
            shutil.copyfile(tokenizer_json_path, os.path.join(mdir, "tokenizer.json"))
        write_json(os.path.join(mdir, "preprocessor_config.json"),
                   preprocessor_config(spec["preprocessor"], spec["shortest_edge"], spec["crop"]))

        # reload exactly what is committed, in fp32, and compute references with it
        m, info = CLIPModel.from_pretrained(mdir, dtype=torch.float32, output_loading_info=True,
                                            attn_implementation="eager")
        m.eval()
        assert not info["missing_keys"] and not info["unexpected_keys"], info
        for k, v in m.state_dict().items():
            if k in expected_sd:
                assert torch.equal(v, expected_sd[k]), k
        cfg = m.config
        assert cfg.text_config.eos_token_id == spec["text"]["eos_token_id"]
        assert cfg.text_config.hidden_act == spec["text"]["hidden_act"]
        assert cfg.vision_config.layer_norm_eps == spec["vision"]["layer_norm_eps"]
        model = model.to(torch.float32).eval()  # in-memory model, for a cross-check

        # tokenizer loaded the way a user would, from the model dir
        dir_tok = CLIPTokenizer.from_pretrained(mdir)
        for s in REFERENCE_TEXTS[:3]:
            assert hf_ids(dir_tok, s) == ref.ids(s)

        texts_out = []
        pooled_norms = []
        with torch.no_grad():
            for text in REFERENCE_TEXTS:
                ids = ref.ids(text)
                x = torch.tensor([ids])
                feats = as_tensor_output(m.get_text_features(input_ids=x))
                tout = m.text_model(input_ids=x)
                manual = m.text_projection(tout.last_hidden_state[0, len(ids) - 1][None])
                assert torch.allclose(feats, m.text_projection(tout.pooler_output), atol=1e-6, rtol=0)
                assert torch.allclose(feats, manual, atol=1e-6, rtol=0)
                feats2 = as_tensor_output(model.get_text_features(input_ids=x))
                assert torch.allclose(feats, feats2, atol=1e-5, rtol=1e-5)
                pooled_norms.append(float(feats.norm()))
                texts_out.append({"text": text, "ids": ids, "embedding": f32list(l2n(feats)[0])})

        proc = SlowImageProcessor.from_pretrained(mdir)
        fast_proc = FastImageProcessor.from_pretrained(mdir)
        assert type(proc).__name__ in ("CLIPImageProcessorPil",) or getattr(proc, "backend", "pil") == "pil"
        N, C = spec["shortest_edge"], spec["crop"]
        images_out = []
        with torch.no_grad():
            for name, png, ppm in images:
                pil = Image.open(png).convert("RGB")
                pv = proc(images=pil, return_tensors="pt")["pixel_values"]
                assert pv.shape == (1, 3, C, C) and pv.dtype == torch.float32, (pv.shape, pv.dtype)
                crop, resized = resize_and_crop(pil, N, C)
                mine = (crop.astype(np.float64) / 255.0 - np.array(OPENAI_MEAN)) / np.array(OPENAI_STD)
                mine = torch.from_numpy(mine.transpose(2, 0, 1)[None].astype(np.float32))
                diff = float((mine - pv).abs().max())
                assert diff < 1e-6, (mname, name, diff)
                crop_path = os.path.join(FIX, "images", "crops", f"{mname}-{name}.ppm")
                write_ppm(crop_path, crop)
                fpv = fast_proc(images=pil, return_tensors="pt")["pixel_values"]
                fast_diff = float((fpv - pv).abs().max())
                feats = as_tensor_output(m.get_image_features(pixel_values=pv))
                vout = m.vision_model(pixel_values=pv)
                assert torch.allclose(feats, m.visual_projection(vout.pooler_output), atol=1e-6, rtol=0)
                feats2 = as_tensor_output(model.get_image_features(pixel_values=pv))
                assert torch.allclose(feats, feats2, atol=1e-5, rtol=1e-5)
                emb = l2n(feats)[0]
                femb = l2n(as_tensor_output(m.get_image_features(pixel_values=fpv)))[0]
                processor_report.append((mname, name, resized, diff, fast_diff,
                                         float((emb - femb).abs().max())))
                all_pixel_values[(mname, name)] = pv.numpy()
                npy = os.path.join(work, f"v4-{mname}-{name}.npy")
                hf4_img_req["images"].append({"preprocessor_dir": mdir, "png": png, "out_npy": npy,
                                              "key": [mname, name]})
                images_out.append({
                    "file": f"images/{name}.png",
                    "ppm": f"images/{name}.ppm",
                    "crop_file": f"images/crops/{mname}-{name}.ppm",
                    "size": [pil.size[0], pil.size[1]],
                    "resized": list(resized),
                    "embedding": f32list(emb),
                })
        # embeddings should be diverse (non-trivial activations)
        tmat = torch.tensor([t["embedding"] for t in texts_out])
        imat = torch.tensor([i["embedding"] for i in images_out])
        tsim = (tmat @ tmat.T)[~torch.eye(len(tmat), dtype=torch.bool)]
        isim = (imat @ imat.T)[~torch.eye(len(imat), dtype=torch.bool)]
        model_summaries[mname] = dict(
            text_cos_range=(float(tsim.min()), float(tsim.max())),
            image_cos_range=(float(isim.min()), float(isim.max())),
            text_proj_norms=(min(pooled_norms), max(pooled_norms)),
            proc_class=type(proc).__name__, fast_proc_class=type(fast_proc).__name__)
        reference[mname] = {
            "dtype": spec["dtype"],
            "projection_dim": spec["projection_dim"],
            "image_size": spec["vision"]["image_size"],
            "texts": texts_out,
            "images": images_out,
        }

    if args.hf4_python:
        with open(os.path.join(work, "req-img.json"), "w", encoding="utf-8") as f:
            json.dump(hf4_img_req, f)
        subprocess.run([args.hf4_python, os.path.abspath(__file__), "--hf4-worker",
                        os.path.join(work, "req-img.json"), os.path.join(work, "resp-img.json")], check=True)
        with open(os.path.join(work, "resp-img.json"), encoding="utf-8") as f:
            resp = json.load(f)
        for item, r in zip(hf4_img_req["images"], resp["images"]):
            v4 = np.load(r["npy"])
            d = float(np.abs(v4 - all_pixel_values[tuple(item["key"])]).max())
            log(f"v4 {r['class']} vs v5 pil pixel_values {item['key']}: max|diff| = {d:.3g}")
            assert d < 1e-6, (item["key"], d)

    write_json(os.path.join(FIX, "clip-reference.json"), reference)
    np_worst = numpy_crosscheck()
    log("independent NumPy float64 forward pass from committed files, max |diff| of normalised embeddings:",
        np_worst)

    # ---- 5. README with formats and versions -------------------------------
    write_fixture_readme(versions, notes)

    # ---- summary -----------------------------------------------------------
    log("\n===== summary =====")
    log("versions:", json.dumps(versions))
    total = 0
    for root, _, files in os.walk(FIX):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            total += os.path.getsize(p)
            log(f"  {os.path.getsize(p):>9}  {os.path.relpath(p, REPO)}")
    log(f"total fixture bytes: {total} ({total / 1e6:.2f} MB)")
    log(f"tokenizer cases: {len(cases)} ({sum(1 for c in cases if c.get('ftfy_only'))} ftfy_only); "
        f"reference texts: {len(REFERENCE_TEXTS)}; images: {len(images)}")
    for k, v in disagree.items():
        log(f"disagreements {k} vs reference: {len(v)}" if k in ("openai", "hf_slow", "hf_fast")
            else f"disagreements {k} vs v5 fast: {len(v)}")
        for t in v:
            c = next(c for c in cases if c["text"] == t)
            extra = {kk: c[kk] for kk in ("openai", "hf_slow", "hf_fast") if kk in c}
            log(f"    {t[:60]!r}: ref={c['ids'][:12]}{'...' if len(c['ids']) > 12 else ''} "
                + " ".join(f"{kk}={vv[:12]}" for kk, vv in extra.items()))
    log("cases that ftfy.fix_text changes (input -> output : steps):")
    for t, fixed, steps in ftfy_steps:
        log(f"    {t!r} -> {fixed!r} : {steps}")
    for mname, s in model_summaries.items():
        log(f"{mname}: {s}")
    log("image processing (model, image, resized WxH, |mine-slow|, |fast-slow| pixel, |fast-slow| embedding):")
    for row in processor_report:
        log("   ", row)
    for n in notes:
        log("NOTE:", n)
    shutil.rmtree(work)


def numpy_crosscheck():
    """Independent float64 NumPy CLIP forward pass that reads ONLY committed fixture
    files (config.json, model.safetensors, crop PPMs, clip-reference.json) and checks it
    reproduces the reference embeddings -- i.e. the fixtures are self-consistent and the
    architecture is exactly what the Swift port implements."""
    import math
    from safetensors.numpy import load_file
    with open(os.path.join(FIX, "clip-reference.json"), encoding="utf-8") as f:
        refj = json.load(f)
    erf = np.vectorize(math.erf)
    worst = {}
    for mname, mref in refj.items():
        mdir = os.path.join(FIX, mname)
        with open(os.path.join(mdir, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        with safe_open(os.path.join(mdir, "model.safetensors"), "pt") as f:
            w = {k: f.get_tensor(k).to(torch.float64).numpy() for k in f.keys()}

        def ln(x, p, eps):
            mu = x.mean(-1, keepdims=True)
            var = ((x - mu) ** 2).mean(-1, keepdims=True)
            return (x - mu) / np.sqrt(var + eps) * w[p + ".weight"] + w[p + ".bias"]

        def lin(x, p, bias=True):
            y = x @ w[p + ".weight"].T
            return y + w[p + ".bias"] if bias else y

        def act(x, kind):
            if kind == "quick_gelu":
                return x / (1 + np.exp(-1.702 * x))
            assert kind == "gelu"
            return 0.5 * x * (1 + erf(x / math.sqrt(2)))

        def encoder(x, prefix, c, causal):
            n, d = x.shape
            hds = c["num_attention_heads"]
            hd = d // hds
            mask = np.triu(np.full((n, n), -np.inf), 1) if causal else np.zeros((n, n))
            for i in range(c["num_hidden_layers"]):
                p = f"{prefix}.encoder.layers.{i}"
                h = ln(x, p + ".layer_norm1", c["layer_norm_eps"])
                q = lin(h, p + ".self_attn.q_proj") * hd ** -0.5
                k = lin(h, p + ".self_attn.k_proj")
                v = lin(h, p + ".self_attn.v_proj")
                o = np.zeros_like(x)
                for j in range(hds):
                    sl = slice(j * hd, (j + 1) * hd)
                    a = q[:, sl] @ k[:, sl].T + mask
                    a = np.exp(a - a.max(-1, keepdims=True))
                    a /= a.sum(-1, keepdims=True)
                    o[:, sl] = a @ v[:, sl]
                x = x + lin(o, p + ".self_attn.out_proj")
                h = ln(x, p + ".layer_norm2", c["layer_norm_eps"])
                x = x + lin(act(lin(h, p + ".mlp.fc1"), c["hidden_act"]), p + ".mlp.fc2")
            return x

        def unit(v):
            return v / np.linalg.norm(v)

        tc, vc = cfg["text_config"], cfg["vision_config"]
        errs = []
        for t in mref["texts"]:
            ids = np.array(t["ids"])
            x = w["text_model.embeddings.token_embedding.weight"][ids] + \
                w["text_model.embeddings.position_embedding.weight"][: len(ids)]
            x = encoder(x, "text_model", tc, causal=True)
            x = ln(x, "text_model.final_layer_norm", tc["layer_norm_eps"])
            pos = int(ids.argmax()) if tc["eos_token_id"] == 2 else int(np.argmax(ids == tc["eos_token_id"]))
            e = unit(lin(x[pos], "text_projection", bias=False))
            errs.append(np.abs(e - np.array(t["embedding"])).max())
        P = vc["patch_size"]
        for im in mref["images"]:
            crop = read_ppm(os.path.join(FIX, im["crop_file"])).astype(np.float64)
            px = (crop / 255.0 - np.array(OPENAI_MEAN)) / np.array(OPENAI_STD)  # HWC
            S = px.shape[0]
            g = S // P
            patches = px.reshape(g, P, g, P, 3).transpose(0, 2, 4, 1, 3).reshape(g * g, 3 * P * P)
            kern = w["vision_model.embeddings.patch_embedding.weight"].reshape(vc["hidden_size"], -1)
            x = np.concatenate([w["vision_model.embeddings.class_embedding"][None], patches @ kern.T])
            x = x + w["vision_model.embeddings.position_embedding.weight"]
            x = ln(x, "vision_model.pre_layrnorm", vc["layer_norm_eps"])
            x = encoder(x, "vision_model", vc, causal=False)
            pooled = ln(x[0], "vision_model.post_layernorm", vc["layer_norm_eps"])
            e = unit(lin(pooled, "visual_projection", bias=False))
            errs.append(np.abs(e - np.array(im["embedding"])).max())
        worst[mname] = float(max(errs))
        assert worst[mname] < 2e-5, (mname, worst[mname])
    return worst


def write_fixture_readme(versions, notes):
    vers = "\n".join(f"- {k}: {v}" for k, v in versions.items())
    text = f"""# Test fixtures (generated -- do not edit by hand)

Regenerate with `tools/make_clip_fixtures.py` (see `tools/README.md`).
All weights are random (fixed seeds); nothing here comes from a trained model.

## Files

- `clip-tiny/`: HF layout: `config.json` (as `CLIPModel.save_pretrained` writes it),
  `model.safetensors` (all tensors F16), `preprocessor_config.json` (modern form, dict
  `size`/`crop_size`, 224), `vocab.json`, `merges.txt`.  quick_gelu, layer_norm_eps 1e-5,
  text eos_token_id 2 (legacy: pool at argmax(input_ids)), projection_dim 24.
- `clip-tiny-gelu/`: `config.json`, `model.safetensors` (all tensors BF16),
  `preprocessor_config.json` (LEGACY form: `"size": 64, "crop_size": 64` ints, no
  do_rescale/do_convert_rgb keys), `tokenizer.json` only.  Exact (erf) gelu,
  layer_norm_eps 1e-6, eos_token_id 49407 (pool at first 49407), projection_dim 20.
- `images/<name>.png` and `images/<name>.ppm` (binary P6, maxval 255, header
  `P6\\n<w> <h>\\n255\\n`), identical pixels.
- `images/crops/<model>-<name>.ppm`: uint8 result of the processor's resize (PIL bicubic,
  shortest side -> N, long side `int(N * long / short)`, reducing_gap=None) followed by
  center crop (top=(h-N)//2, left=(w-N)//2) -- i.e. the exact intermediate before
  rescale (x/255) and normalize ((x-mean)/std).
- `clip-reference.json`: `{{"<model dir>": {{"dtype", "projection_dim", "image_size",
  "texts": [{{"text", "ids", "embedding"}}], "images": [{{"file", "ppm", "crop_file",
  "size": [w,h], "resized": [w,h], "embedding"}}]}}}}`.  ids are unpadded (SOT ... EOT,
  truncated to 77 keeping EOT); embeddings are L2-normalised fp32 `get_text_features` /
  `get_image_features` computed with the fp32 upcast of the committed weights (text: no
  padding, no attention mask; images: slow PIL CLIPImageProcessor from the model dir).
- `tokenizer-cases.json`: `[{{"text", "ids", ["ftfy_only"], ["openai"], ["hf_slow"], ["hf_fast"]}}]`.
  `ids` = open_clip `SimpleTokenizer` (ftfy.fix_text, html.unescape x2, strip, whitespace
  collapse, lower) with SOT/EOT, truncated to 77 keeping EOT.  `hf_slow` (transformers 4.x
  Python CLIPTokenizer with ftfy) and `hf_fast` (tokenizers-backed CLIPTokenizer == the
  committed tokenizer.json) appear only when they differ from `ids`; so does `openai`
  (original openai/CLIP tokenizer, which -- unlike open_clip -- treats the literal text
  `<|startoftext|>` / `<|endoftext|>` as the special tokens).  `ftfy_only: true`
  marks cases whose ids depend on ftfy's mojibake/encoding repair.

## Generated with

{vers}
""" + "".join(f"\nNote: {n}\n" for n in notes)
    with open(os.path.join(FIX, "README.md"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
