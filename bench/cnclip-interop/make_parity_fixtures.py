"""Parity fixtures for Tuwen's Chinese-CLIP checkpoint import (issue 6, parts 3 and 4).

Ran against Chinese-CLIP upstream commit 31863c7 (OFA-Sys/Chinese-CLIP), read-only at /work/cnclip-src,
with Debian's python3-torch 1.13 / torchvision 0.14 / PIL 9.4:

    /usr/bin/python3 bench/cnclip-interop/make_parity_fixtures.py

For each of Chinese-CLIP's five released architecture pairs it builds a SMALL randomly initialised
cn_clip.clip.model.CLIP that keeps what tells the architecture apart (patch 16 vs 14, head width 64 vs 80 —
scaled down here to 8 vs 10, the larger grid of @336, ModifiedResNet stages [3,4,6,3] with attention-pool
heads = width*32/head_width, 3 text layers for RBT3, deeper/wider large text tower). Every parameter is rounded to
float16-representable values so fp16 and fp32 copies of the weights are the same model. LayerNorm, BatchNorm
and bias values are random and non-zero, so a mis-mapped tensor shows in the outputs.

Outputs (tests/Tuwen.Tests/Interop/Fixtures/parity/):
  NAME.pt                 the state_dict saved the way Chinese-CLIP's training does
                          ({"epoch","step","name","state_dict"} with "module." prefixes, torch.save zip)
  NAME.ref.safetensors    inputs and reference outputs: pixels (image_transform of each PNG), image_emb,
                          token_ids, text_emb (encode_image / encode_text in fp32)
  NAME.json               the cn_clip constructor arguments used
  hf-vit-b-16/            the ViT-B/16 pair in Hugging Face ChineseCLIPModel layout (config.json, model.safetensors, vocab.txt)
  img*.png                the input images (lossless)
  tokenizer.json          cn_clip.clip.tokenize(context 52) ids of a few texts with the real vocab
  fullsize-shapes.json.gz names and shapes of the five FULL-SIZE released state_dicts (built with initialisation
                          switched off, so no weights are computed), for the config-inference and key-coverage tests
"""
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, "/work/cnclip-src")
from cn_clip.clip.model import CLIP  # noqa: E402
from cn_clip.clip.utils import image_transform, tokenize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "Tuwen.Tests", "Interop", "Fixtures", "parity")
VOCAB = 300

TEXT_BASE = dict(text_hidden_size=16, text_num_attention_heads=2, text_num_hidden_layers=4, text_intermediate_size=32)
TEXT_LARGE = dict(text_hidden_size=24, text_num_attention_heads=3, text_num_hidden_layers=5, text_intermediate_size=48)
TEXT_RBT3 = dict(text_hidden_size=16, text_num_attention_heads=2, text_num_hidden_layers=3, text_intermediate_size=32)

COMBOS = {
    # ViT-B/16: patch 16, head width 64 → here 8.
    "vit-b-16": dict(embed_dim=16, image_resolution=32, vision_layers=2, vision_width=16, vision_patch_size=16, vision_head_width=8, **TEXT_BASE),
    # ViT-L/14: patch 14, wider and deeper than B.
    "vit-l-14": dict(embed_dim=24, image_resolution=28, vision_layers=3, vision_width=24, vision_patch_size=14, vision_head_width=8, **TEXT_BASE),
    # ViT-L/14@336: the same tower at a larger resolution (grid 3 instead of 2).
    "vit-l-14-336": dict(embed_dim=24, image_resolution=42, vision_layers=3, vision_width=24, vision_patch_size=14, vision_head_width=8, **TEXT_BASE),
    # ViT-H/14: head width 80 → here 10 (not a power of two), RoBERTa-wwm-ext-large text tower.
    "vit-h-14": dict(embed_dim=32, image_resolution=28, vision_layers=3, vision_width=30, vision_patch_size=14, vision_head_width=10, **TEXT_LARGE),
    # RN50: ModifiedResNet [3,4,6,3], width 2 → 64 output channels, heads = width*32/head_width = 2*32/32; RBT3.
    "rn50": dict(embed_dim=16, image_resolution=64, vision_layers=[3, 4, 6, 3], vision_width=2, vision_patch_size=None, vision_head_width=32, **TEXT_RBT3),
}
STORE_FP32 = {"vit-b-16"}   # the others are stored in float16, as released Chinese-CLIP weights are

TEXTS = ["一只猫坐在沙发上", "“北京”的天安门 at night", "Hello World 123", "2024年3月5日，温度25℃", "小狗🐶在草地上奔跑😀", "ＡＢＣ全角字符与 mixed-Case English"]


def build(args, seed):
    torch.manual_seed(seed)
    full = dict(vocab_size=VOCAB, text_attention_probs_dropout_prob=0.1, text_hidden_act="gelu", text_hidden_dropout_prob=0.1,
                text_initializer_range=0.02, text_max_position_embeddings=64, text_type_vocab_size=2, **args)
    model = CLIP(**full)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "bias" or name.endswith("LayerNorm.weight") or ".ln_" in name or name.startswith("visual.ln_") or ".bn" in name or "downsample.1" in name or name.startswith("visual.bn"):
                if leaf == "weight":
                    p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name == "text_projection" or p.abs().max() == 0:
                p.copy_(torch.randn(p.shape, generator=g) * p.shape[0] ** -0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=g))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=g))
            elif name.endswith("num_batches_tracked"):
                b.fill_(7)
        for p in list(model.parameters()) + [b for n, b in model.named_buffers() if b.is_floating_point()]:
            p.copy_(p.half().float())
    return model.eval()


def make_images():
    rng = np.random.RandomState(6)
    images = []
    for i, (w, h) in enumerate([(45, 30), (19, 26), (90, 61)]):
        yy, xx = np.mgrid[0:h, 0:w]
        base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (w + h) + 60], -1)
        img = np.clip(base + rng.randint(-60, 60, (h, w, 3)), 0, 255).astype(np.uint8)
        path = os.path.join(OUT, f"img{i}.png")
        Image.fromarray(img, "RGB").save(path, optimize=True)
        images.append(path)
    return images


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    dtypes = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def token_ids(seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.zeros(4, 52, dtype=torch.long)
    for row, length in enumerate([52, 9, 3, 20]):
        ids[row, 0] = 101 % VOCAB
        ids[row, 1:length - 1] = torch.randint(1, VOCAB, (length - 2,), generator=g)
        ids[row, length - 1] = 102 % VOCAB
    return ids


def hf_layout(sd, args):
    """Chinese-CLIP names → transformers' ChineseCLIPModel names (as its conversion script maps them)."""
    out = {}
    for k, v in sd.items():
        if k.startswith("bert.pooler."):
            continue
        if k.startswith("bert."):
            out["text_model." + k[5:]] = v
    out["text_projection.weight"] = sd["text_projection"].t()
    out["visual_projection.weight"] = sd["visual.proj"].t()
    out["logit_scale"] = sd["logit_scale"]
    v = "vision_model."
    out[v + "embeddings.class_embedding"] = sd["visual.class_embedding"]
    out[v + "embeddings.patch_embedding.weight"] = sd["visual.conv1.weight"]
    out[v + "embeddings.position_embedding.weight"] = sd["visual.positional_embedding"]
    for a, b in [("pre_layrnorm", "ln_pre"), ("post_layernorm", "ln_post")]:
        out[f"{v}{a}.weight"] = sd[f"visual.{b}.weight"]
        out[f"{v}{a}.bias"] = sd[f"visual.{b}.bias"]
    for i in range(args["vision_layers"]):
        p, q = f"visual.transformer.resblocks.{i}.", f"{v}encoder.layers.{i}."
        for name, t in zip("qkv", sd[p + "attn.in_proj_weight"].chunk(3)):
            out[f"{q}self_attn.{name}_proj.weight"] = t
        for name, t in zip("qkv", sd[p + "attn.in_proj_bias"].chunk(3)):
            out[f"{q}self_attn.{name}_proj.bias"] = t
        for a, b in [("self_attn.out_proj", "attn.out_proj"), ("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"), ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj")]:
            out[f"{q}{a}.weight"] = sd[f"{p}{b}.weight"]
            out[f"{q}{a}.bias"] = sd[f"{p}{b}.bias"]
    return {k: t.half().contiguous() for k, t in out.items()}


def hf_config(args):
    return {
        "architectures": ["ChineseCLIPModel"], "model_type": "chinese_clip", "projection_dim": args["embed_dim"], "logit_scale_init_value": 2.6592,
        "text_config": {"model_type": "chinese_clip_text_model", "vocab_size": VOCAB, "hidden_size": args["text_hidden_size"],
                        "num_hidden_layers": args["text_num_hidden_layers"], "num_attention_heads": args["text_num_attention_heads"],
                        "intermediate_size": args["text_intermediate_size"], "hidden_act": "gelu", "max_position_embeddings": 64,
                        "type_vocab_size": 2, "layer_norm_eps": 1e-12, "pad_token_id": 0},
        "vision_config": {"model_type": "chinese_clip_vision_model", "hidden_size": args["vision_width"], "intermediate_size": 4 * args["vision_width"],
                          "num_hidden_layers": args["vision_layers"], "num_attention_heads": args["vision_width"] // args["vision_head_width"],
                          "image_size": args["image_resolution"], "patch_size": args["vision_patch_size"], "hidden_act": "quick_gelu",
                          "layer_norm_eps": 1e-5, "projection_dim": args["embed_dim"]},
    }


RELEASED = {
    "vit-b-16": ("ViT-B-16", "RoBERTa-wwm-ext-base-chinese"),
    "vit-l-14": ("ViT-L-14", "RoBERTa-wwm-ext-base-chinese"),
    "vit-l-14-336": ("ViT-L-14-336", "RoBERTa-wwm-ext-base-chinese"),
    "vit-h-14": ("ViT-H-14", "RoBERTa-wwm-ext-large-chinese"),
    "rn50": ("RN50", "RBT3-chinese"),
}


def fullsize_shapes():
    """State_dict names and shapes of the released architectures, from cn_clip's own model_configs."""
    configs = "/work/cnclip-src/cn_clip/clip/model_configs"
    skipped = {}
    # Shapes are all we need: make parameter initialisation free (uninitialised memory, never read).
    for name in ["normal_", "zeros_", "ones_", "uniform_", "xavier_uniform_", "constant_", "kaiming_uniform_"]:
        skipped[name] = getattr(torch.nn.init, name)
        setattr(torch.nn.init, name, lambda t, *a, **k: t)
    randn = torch.randn
    torch.randn = lambda *a, **k: torch.empty(*a, **{x: y for x, y in k.items() if x != "generator"})
    try:
        result = {}
        for name, (vision, text) in RELEASED.items():
            args = {}
            for f in (vision, text):
                with open(os.path.join(configs, f + ".json")) as fh:
                    args.update(json.load(fh))
            if isinstance(args["vision_layers"], str):
                args["vision_layers"] = json.loads(args["vision_layers"])
            with torch.no_grad():
                model = CLIP(**args)
            result[name] = {k: list(v.shape) for k, v in model.state_dict().items()}
            del model
        return result
    finally:
        for name, f in skipped.items():
            setattr(torch.nn.init, name, f)
        torch.randn = randn


def main():
    os.makedirs(OUT, exist_ok=True)
    images = make_images()
    for seed, (name, args) in enumerate(COMBOS.items()):
        model = build(args, 1000 + seed)
        transform = image_transform(args["image_resolution"])
        pixels = torch.stack([transform(Image.open(p)) for p in images])
        ids = token_ids(2000 + seed)
        with torch.no_grad():
            image_emb = model.encode_image(pixels)
            text_emb = model.encode_text(ids)
        sd = model.state_dict()
        dtype = torch.float32 if name in STORE_FP32 else torch.float16
        stored = {"module." + k: (v.to(dtype) if v.is_floating_point() else v) for k, v in sd.items()}
        torch.save({"epoch": 3, "step": 42, "name": f"parity-{name}", "state_dict": stored}, os.path.join(OUT, f"{name}.pt"))
        write_safetensors(os.path.join(OUT, f"{name}.ref.safetensors"),
                          {"pixels": pixels, "image_emb": image_emb, "token_ids": ids, "text_emb": text_emb},
                          {"upstream": "OFA-Sys/Chinese-CLIP@31863c7"})
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(args, f, indent=1)
        if name == "vit-b-16":
            hf = os.path.join(OUT, "hf-vit-b-16")
            os.makedirs(hf, exist_ok=True)
            write_safetensors(os.path.join(hf, "model.safetensors"), hf_layout(sd, args), {"format": "pt"})
            with open(os.path.join(hf, "config.json"), "w") as f:
                json.dump(hf_config(args), f, indent=1)
            with open(os.path.join(hf, "vocab.txt"), "w") as f:
                f.write("".join(f"[unused{i}]\n" if i not in (0, 100, 101, 102, 103) else
                                {0: "[PAD]\n", 100: "[UNK]\n", 101: "[CLS]\n", 102: "[SEP]\n", 103: "[MASK]\n"}[i] for i in range(VOCAB)))
        print(f"{name}: {sum(v.numel() for v in sd.values())} values, |image_emb| max {image_emb.abs().max():.3f}, |text_emb| max {text_emb.abs().max():.3f}")
    ids = tokenize(TEXTS, context_length=52)
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({"context_length": 52, "texts": TEXTS, "ids": ids.tolist()}, f, ensure_ascii=False)
    with gzip.GzipFile(os.path.join(OUT, "fullsize-shapes.json.gz"), "wb", mtime=0) as f:
        f.write(json.dumps(fullsize_shapes(), separators=(",", ":")).encode())
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(OUT) for n in ns)
    print(f"fixtures: {total / 1024:.0f} KiB in {OUT}")


if __name__ == "__main__":
    main()
