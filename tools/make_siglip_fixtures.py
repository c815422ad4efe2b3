#!/usr/bin/env python3
"""Generates the SigLIP tokenizer fixtures in Tests/Fixtures/siglip/.

Two small tokenizers are trained on the multilingual sample below (TRAINING_TEXT), written in the
layouts of the real checkpoints, and loaded back with transformers' AutoTokenizer the way the
checkpoints are loaded:

- siglip-unigram/: a SentencePiece unigram model `spiece.model` with the nmt_nfkc normaliser
  compiled into its precompiled charsmap (a double-array trie), as google/siglip-base-patch16-224
  (32k) and google/siglip-base-patch16-256-multilingual (250k) ship it. config.json says
  model_type "siglip" and tokenizer_config.json "SiglipTokenizer", so AutoTokenizer builds the
  sentencepiece-backed SiglipTokenizer: lower-case, drop ASCII punctuation, collapse whitespace,
  strip, encode, append </s>; pad token </s>.
- siglip-unigram-bytes/: the same with SentencePiece's byte fallback on (unknown characters
  become <0xNN> pieces), which the SigLIP checkpoints lack but other unigram models have.
- siglip2-bpe/: a Gemma-style byte-fallback BPE `tokenizer.json` (the text's spaces replaced by
  U+2581, no dummy prefix, digits split, <0xNN> byte tokens), as google/siglip2-base-patch16-224
  ships it. Its config.json says model_type "siglip" (the fixed-resolution SigLIP 2 checkpoints are
  SiglipModels) and tokenizer_config.json names GemmaTokenizer with add_bos_token false and
  add_eos_token true, as the hub file does. That is the trap: transformers keeps GemmaTokenizer
  for model_type "siglip" (only model_type "siglip2", the NaFlex models, gets the lower-casing
  Siglip2Tokenizer), so AutoTokenizer does NOT lower-case SigLIP 2 text (the model card asks
  callers to lower-case it themselves). transformers 5 builds GemmaTokenizer's pipeline in code
  (spaces -> U+2581, byte-fallback BPE with fuse_unk) and takes only the vocabulary, the merges
  and the post-processor template from tokenizer.json; the add_bos_token/add_eos_token flags of
  tokenizer_config.json are not applied (checked with 5.23), so the template ("$A <eos>", as a
  tokenizer saved by transformers 4 with those flags carries) decides BOS/EOS.
  GemmaTokenizer pads on the left unless tokenizer_config.json says otherwise; the fixture says
  "right" (SigLIP pools the last position, so left padding would be wrong for it).

Every case in CASES is encoded as SigLIP is fed: padding="max_length", max_length=64,
truncation=True. tokenizer-cases.json records, per model directory, the raw ids
(add_special_tokens=False, no truncation) and the 64 padded ids.

Deterministic (fixed seeds, one thread); downloads nothing. Run from the repository root:

    scripts/siglip-venv && .build/siglip-venv/bin/python tools/make_siglip_fixtures.py
"""

import io
import json
import os
import sys
import unicodedata
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import sentencepiece as spm  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: E402
from transformers import AutoTokenizer, SiglipConfig  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "siglip"
MAX_LENGTH = 64

# A multilingual sample to train on, written for this script. Each line is one training sentence.
TRAINING_TEXT = """\
a photo of a cat sitting on a wooden table
a dog running on the beach at sunset
two people walking in the rain with an umbrella
a red car parked in front of an old house
the golden watch lies on a black velvet cloth
a bowl of fresh fruit: apples, oranges and bananas
children playing football in the park on Sunday
a close-up of a bee on a yellow flower
the city skyline at night with bright lights
a plate of fried rice with an egg on top
mountains covered with snow under a blue sky
an old man reading a newspaper on a bench
a woman riding a bicycle along the river
a bird flying over the sea near the harbour
a cup of coffee and a croissant for breakfast
This is a photo of a dog. This is a photo of a cat.
Photo taken in 2024 with a 50mm lens, f/1.8, ISO 400.
jam tangan emas di atas meja kayu
seekor kucing tidur di sofa ruang tamu
anak-anak bermain bola di lapangan sekolah
pemandangan gunung dan sawah di pagi hari
nasi goreng dengan telur mata sapi dan kerupuk
perahu nelayan di pantai saat matahari terbenam
pasar tradisional yang ramai di kota Yogyakarta
foto keluarga di depan rumah nenek saat lebaran
hujan deras di jalan raya Jakarta pada malam hari
seorang perempuan memakai batik berwarna biru
relógio dourado em cima da mesa de madeira
um gato dormindo no sofá da sala de estar
crianças jogando futebol na praia do Rio de Janeiro
uma xícara de café com pão de queijo no café da manhã
a vista das montanhas cobertas de neve ao amanhecer
um cachorro correndo no parque em São Paulo
a avó cozinhando feijoada para a família
uma paisagem de inverno com árvores sem folhas
o pôr do sol sobre o rio em Lisboa, ação e emoção
金色手表放在木桌上
一只猫在客厅的沙发上睡觉
孩子们在公园里踢足球
日落时分海滩上的渔船
一碗热腾腾的牛肉面和一杯绿茶
北京的老胡同里有很多自行车
下雪的山和蓝色的天空
一位老人在长椅上看报纸
東京の夜景とたくさんの明かり
猫がソファの上で寝ている写真
子供たちが公園でサッカーをしている
富士山と桜の花、春の朝
ラーメンと餃子とビールの夕食
カタカナとひらがなと漢字が混ざった文章です
ساعة ذهبية على طاولة خشبية
قطة نائمة على الأريكة في غرفة المعيشة
أطفال يلعبون كرة القدم في الحديقة
غروب الشمس فوق البحر والقوارب
सोने की घड़ी लकड़ी की मेज़ पर
एक बिल्ली सोफे पर सो रही है
बच्चे पार्क में फुटबॉल खेल रहे हैं
पहाड़ों पर बर्फ़ और नीला आसमान
Ein Hund läuft über die Straße und die Sonne scheint
Le chat dort sur le canapé près de la fenêtre
El perro corre por la playa al atardecer
Кошка спит на диване в гостиной
Ο σκύλος τρέχει στην παραλία
고양이가 소파 위에서 자고 있다
Mèo đang ngủ trên ghế sofa trong phòng khách
แมวนอนอยู่บนโซฟาในห้องนั่งเล่น
the party was great 🎉🎉 and the cake 🍰 was delicious 😋
sunset 🌅 at the beach 🏖️ with friends 👨‍👩‍👧‍👦
I ❤️ my dog 🐶 and my cat 🐱
numbers 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 3.14
""".splitlines()

# The strings whose ids are recorded. Besides these, every training line (and its upper-case form)
# is a case too; see cases().
CASES = [
    "",
    " ",
    "a",
    "A",
    "cat",
    "a photo of a cat",
    "A Photo Of A Cat",
    "A PHOTO OF A CAT",
    "a photo of a cat.",
    "a photo of a cat!!!",
    "Hello, world!",
    "don't stop believin'",
    "rock'n'roll & blues",
    "e-mail: someone@example.com",
    "https://example.com/path?query=1&b=2#frag",
    "C:\\Users\\photos\\IMG_0001.JPG",
    "(parentheses) [brackets] {braces} <angles>",
    "~!@#$%^&*()_+`-={}|[]\\:\";'<>?,./",
    "100% sure, $5.99 only",
    "IMG_20240101_120000.jpg",
    "jam tangan emas",
    "relógio dourado",
    "金色手表",
    "kucing",
    "Kucing Hitam",
    "gato preto",
    "ação coração informação",
    "São Tomé e Príncipe",
    "pão de açúcar",
    "北京天安门",
    "我爱你",
    "这是一张猫的照片。",
    "東京タワー",
    "ひらがな",
    "カタカナ",
    "ｶﾀｶﾅ",
    "ﾊﾟﾝ",
    "日本語のテキスト、句読点。",
    "مرحبا بالعالم",
    "القطة السوداء",
    "السلام عليكم ورحمة الله",
    "नमस्ते दुनिया",
    "हिन्दी पाठ",
    "क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़",
    "😀",
    "🎉🎉🎉",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇮🇩🇧🇷🇨🇳",
    "❤️",
    "☕ coffee",
    "emoji😀inside",
    "cat 🐱 and dog 🐶",
    "photo of 金色手表 on a table",
    "jam tangan 金色 relógio",
    "Tokyo 東京 Jakarta جاكرتا",
    "mix of हिन्दी and English",
    "Ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ",
    "ＡＢＣ１２３",
    "ｈｅｌｌｏ　ｗｏｒｌｄ",
    "ﬁsh and ﬂowers",
    "ﬀ ﬃ ﬄ ﬅ ﬆ",
    "Ⅻ Ⅳ ⅷ",
    "① ② ③ ⑩ ⑳",
    "㎏ ㎞ ㎡ ㏄",
    "™ ℠ ℃ ℉ № ℡",
    "½ ¼ ¾ ⅓",
    "x² y³ H₂O",
    "µ Ω Å K",
    "ǅ ǈ ǋ",
    "…",
    "wait… what‽",
    "“curly quotes” and ‘single’",
    "en–dash em—dash",
    "non\u00a0breaking\u00a0space",
    "zero\u200bwidth\u200bspace",
    "soft\u00adhyphen",
    "e\u0301 vs é",
    "A\u030a vs Å vs \u212b",
    "\u1e9b\u0323",
    "Ǆemal",
    "İstanbul",
    "STRASSE straße",
    "ΣΊΣΥΦΟΣ",
    "Ⓐⓑⓒ",
    "𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐",
    "ℍ𝕖𝕝𝕝𝕠",
    "two  spaces",
    "three   spaces",
    "   leading spaces",
    "trailing spaces   ",
    "tab\tseparated\tvalues",
    "new\nline",
    "windows\r\nline",
    "many\n\n\nnewlines",
    " \t\n mixed \t\n whitespace \t\n ",
    "\u3000ideographic\u3000space\u3000",
    "\u2003em\u2002en\u2009thin",
    "▁already▁has▁metaspace",
    "▁",
    "▁▁",
    "</s>",
    "<unk>",
    "<pad>",
    "<eos>",
    "<bos>",
    "text </s> with eos",
    "text<unk>with unk",
    "a <eos> b",
    "<mask>",
    "<0x41>",
    "123456789",
    "3.14159265358979",
    "1,000,000",
    "2024-12-02",
    "phone: +62 812-3456-7890",
    "ÀÉÎÕÜ àéîõü",
    "Ñandú",
    "ça va",
    "Ελληνικά",
    "Русский текст",
    "한국어 텍스트",
    "ภาษาไทย",
    "Tiếng Việt có dấu",
    "עברית",
    "ქართული",
    "Ꭰ Ꮳ",
    "\U0001F600\U0001F601\U0001F602\U0001F923",
    "\U00020000\U0002A6D6",
    "\ue000 private use",
    "\ufeffbom at start",
    "control\u0007char",
    "a" * 70,
    "ab " * 40,
    "word " * 80,
    "kucing " * 30,
    "猫" * 100,
    "金色手表" * 30,
    "😀" * 40,
    "relógio dourado " * 20,
    "the quick brown fox jumps over the lazy dog " * 6,
    "x" * 300,
    " ".join(str(i) for i in range(60)),
    "a-b-c-d-e-f-g",
    "snake_case_name and camelCaseName",
    "UPPER lower MiXeD",
    "ǆ",
    "ﬃ",
    "Å",
    "Ω",
    "ﾟ",
    "ｰ",
    "〜",
    "＠＃＄％",
    "，。！？",
    "「引用」",
    "【重要】",
    "《书名》",
    "¿Qué? ¡Sí!",
    "l'été à Paris",
    "Fußgängerübergänge",
    "Ærøskøbing",
    "Þingvellir",
    "İı",
    "Ⅰ love ⅰt",
]


def cases() -> list[str]:
    result = list(CASES)
    for line in TRAINING_TEXT:
        result.append(line)
        result.append(line.upper())
        result.append(line.title())
    seen = set()
    unique = []
    for text in result:
        if text not in seen:
            seen.add(text)
            unique.append(text)
    return unique


def train_unigram(directory: Path, byte_fallback: bool = False) -> None:
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAINING_TEXT * 3),
        model_writer=model,
        model_type="unigram",
        vocab_size=900,
        hard_vocab_limit=False,
        character_coverage=0.995,
        normalization_rule_name="nmt_nfkc",
        byte_fallback=byte_fallback,
        # T5's and SigLIP's layout: <pad> 0, </s> 1, <unk> 2, no <s>.
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=1,
        seed_sentencepiece_size=20000,
        minloglevel=2,
    )
    (directory / "spiece.model").write_bytes(model.getvalue())
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "SiglipTokenizer",
                "processor_class": "SiglipProcessor",
                "model_max_length": MAX_LENGTH,
                "do_lower_case": True,
                "eos_token": "</s>",
                "pad_token": "</s>",
                "unk_token": "<unk>",
            },
            indent=2,
        )
        + "\n"
    )
    (directory / "special_tokens_map.json").write_text(
        json.dumps({"eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"}, indent=2) + "\n"
    )


GEMMA_SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]


def train_gemma_bpe(directory: Path) -> None:
    # Train merges with the tokenizers library on the ▁-replaced text (no pre-tokenizer beyond
    # splitting after each ▁, as GemmaTokenizer does), then lay the vocabulary out as Gemma's:
    # specials 0-4, the 256 byte tokens, then the learned pieces.
    trainer_tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    trainer_tokenizer.normalizer = normalizers.Replace(" ", "▁")
    trainer_tokenizer.pre_tokenizer = pre_tokenizers.Split(pattern="▁", behavior="merged_with_next")
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=1200, min_frequency=2, show_progress=False, special_tokens=GEMMA_SPECIALS,
        limit_alphabet=400,
    )
    digit_free = [line for line in TRAINING_TEXT]
    trainer_tokenizer.train_from_iterator(digit_free * 3, trainer=trainer)
    learned = json.loads(trainer_tokenizer.to_str())["model"]
    vocab: dict[str, int] = {}
    for token in GEMMA_SPECIALS:
        vocab[token] = len(vocab)
    for byte in range(256):
        vocab[f"<0x{byte:02X}>"] = len(vocab)
    learned_vocab = sorted(learned["vocab"].items(), key=lambda item: item[1])
    merges = []
    for left, right in (m if isinstance(m, list) else m.split(" ") for m in learned["merges"]):
        # Gemma splits digits: no merges that join two digits.
        if any(c.isdigit() for c in left + right):
            continue
        merges.append((left, right))
    allowed = {left + right for left, right in merges}
    for token, _ in learned_vocab:
        if token in vocab:
            continue
        if len(token) > 1 and token not in allowed:
            continue
        vocab[token] = len(vocab)
    merges = [(l, r) for l, r in merges if l in vocab and r in vocab and l + r in vocab]
    # A few whitespace-run pieces, as Gemma has ("▁▁", "▁▁▁", ...).
    tokenizer = Tokenizer(
        models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True)
    )
    tokenizer.normalizer = normalizers.Replace(" ", "▁")
    tokenizer.pre_tokenizer = pre_tokenizers.Split(pattern=" ", behavior="merged_with_previous", invert=False)
    tokenizer.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tokenizer.add_special_tokens(GEMMA_SPECIALS)
    # The template SigLIP 2's tokenizer.json carries (saved from a GemmaTokenizerFast with
    # add_bos_token=False, add_eos_token=True): no <bos>, <eos> last. transformers 5 takes the
    # template from tokenizer.json, not from the flags in tokenizer_config.json.
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A <eos>", pair="$A <eos> $B <eos>", special_tokens=[("<eos>", vocab["<eos>"])]
    )
    tokenizer.save(str(directory / "tokenizer.json"))
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "GemmaTokenizer",
                "processor_class": "SiglipProcessor",
                "add_bos_token": False,
                "add_eos_token": True,
                "model_max_length": MAX_LENGTH,
                "padding_side": "right",
                "bos_token": "<bos>",
                "eos_token": "<eos>",
                "pad_token": "<pad>",
                "unk_token": "<unk>",
                "mask_token": "<mask>",
            },
            indent=2,
        )
        + "\n"
    )


def write_config(
    directory: Path, vocab_size: int, pad_id: int, eos_id: int, bos_id: int | None, vision_changes: dict | None = None
) -> None:
    text = {
        "vocab_size": vocab_size,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "max_position_embeddings": MAX_LENGTH,
        "pad_token_id": pad_id,
        "eos_token_id": eos_id,
    }
    if bos_id is not None:
        text["bos_token_id"] = bos_id
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "image_size": 32,
        "patch_size": 8,
    }
    vision.update(vision_changes or {})
    config = SiglipConfig(text_config=text, vision_config=vision)
    config.save_pretrained(directory)


def record(directory: Path, texts: list[str]) -> dict:
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    entries = []
    for text in texts:
        raw = tokenizer(text, add_special_tokens=False)["input_ids"]
        padded = tokenizer(text, padding="max_length", max_length=MAX_LENGTH, truncation=True)["input_ids"]
        entries.append({"text": text, "raw": raw, "ids": padded})
    return {
        "tokenizer_class": type(tokenizer).__name__,
        "padding_side": tokenizer.padding_side,
        "pad_token_id": tokenizer.pad_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "max_length": MAX_LENGTH,
        "cases": entries,
    }


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    texts = cases()
    reference = {}

    unigram = OUT / "siglip-unigram"
    unigram.mkdir(exist_ok=True)
    train_unigram(unigram)
    processor = spm.SentencePieceProcessor(model_file=str(unigram / "spiece.model"))
    write_config(unigram, processor.get_piece_size(), pad_id=1, eos_id=1, bos_id=1)
    reference["siglip-unigram"] = record(unigram, texts)

    # The same, with byte fallback: what the model lacks becomes <0xNN> pieces instead of <unk>.
    unigram_bytes = OUT / "siglip-unigram-bytes"
    unigram_bytes.mkdir(exist_ok=True)
    train_unigram(unigram_bytes, byte_fallback=True)
    processor = spm.SentencePieceProcessor(model_file=str(unigram_bytes / "spiece.model"))
    write_config(unigram_bytes, processor.get_piece_size(), pad_id=1, eos_id=1, bos_id=1)
    reference["siglip-unigram-bytes"] = record(unigram_bytes, texts)

    bpe = OUT / "siglip2-bpe"
    bpe.mkdir(exist_ok=True)
    train_gemma_bpe(bpe)
    size = Tokenizer.from_file(str(bpe / "tokenizer.json")).get_vocab_size()
    # Its vision tower differs from the unigram one's: 2 heads, and an image side that is not a multiple of
    # the patch (as so400m-patch14-384's 384/14): the convolution drops the last 4 rows and columns.
    write_config(bpe, size, pad_id=0, eos_id=1, bos_id=2,
                 vision_changes={"image_size": 36, "num_attention_heads": 2, "intermediate_size": 96})
    reference["siglip2-bpe"] = record(bpe, texts)

    versions = {
        "python": sys.version.split()[0],
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "sentencepiece": spm.__version__,
        "unicodedata": unicodedata.unidata_version,
    }
    document = {"generator": "tools/make_siglip_fixtures.py", "versions": versions, "models": reference}
    (OUT / "tokenizer-cases.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    lines = [
        "# SigLIP tokenizer fixtures (generated -- do not edit by hand)",
        "",
        "Regenerate with `tools/make_siglip_fixtures.py` (its docstring says what each file mimics).",
        "",
        "- `siglip-unigram/`: `spiece.model` (SentencePiece unigram, nmt_nfkc precompiled charsmap),",
        "  `tokenizer_config.json` (SiglipTokenizer), `config.json` (tiny random SiglipConfig).",
        "- `siglip-unigram-bytes/`: the same trained with SentencePiece byte fallback (`<0xNN>` pieces).",
        "- `siglip2-bpe/`: `tokenizer.json` (Gemma-style byte-fallback BPE), `tokenizer_config.json`",
        "  (GemmaTokenizer), `config.json`.",
        "- `tokenizer-cases.json`: per model, `cases: [{text, raw, ids}]`; `raw` = ids without special",
        "  tokens or truncation, `ids` = `padding=\"max_length\", max_length=64, truncation=True`.",
        "",
        "Generated with: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
    ]
    (OUT / "README.md").write_text("\n".join(lines))
    for name, entry in reference.items():
        print(f"{name}: {entry['tokenizer_class']}, {len(entry['cases'])} cases, padding {entry['padding_side']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
