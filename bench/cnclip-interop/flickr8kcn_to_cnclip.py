"""Writes Flickr8K-CN validation (../shared/data/flickr8k-cn) in Chinese-CLIP's raw dataset layout:
{split}_imgs.tsv (image id TAB standard base64 of the original JPEG bytes, as Chinese-CLIP's README makes them) and {split}_texts.jsonl
(text_id, text, image_ids), so `tuwen eval retrieval --cnclip` and Chinese-CLIP's own scripts read the same files.

Usage: python3 bench/cnclip-interop/flickr8kcn_to_cnclip.py ../shared/data/flickr8k-cn OUT_DIR [split=valid]
Image ids are the 1-based line numbers of splits/flickr8kval.txt; text ids count captions in file order.
Standard library only.
"""
import base64
import json
import os
import sys

src, out = sys.argv[1], sys.argv[2]
split = sys.argv[3] if len(sys.argv) > 3 else "valid"
os.makedirs(out, exist_ok=True)
with open(os.path.join(src, "splits", "flickr8kval.txt"), encoding="utf-8") as f:
    names = [line.strip() for line in f if line.strip()]
image_id = {name: i + 1 for i, name in enumerate(names)}
with open(os.path.join(out, f"{split}_imgs.tsv"), "w", encoding="utf-8") as tsv:
    for name in names:
        with open(os.path.join(src, "images", "val", name + ".jpg"), "rb") as img:
            tsv.write(f"{image_id[name]}\t{base64.b64encode(img.read()).decode('ascii')}\n")
texts = 0
with open(os.path.join(src, "captions", "flickr8kzhc.caption.txt"), encoding="utf-8") as captions, \
        open(os.path.join(out, f"{split}_texts.jsonl"), "w", encoding="utf-8") as jsonl:
    for line in captions:
        key, _, text = line.rstrip("\n").partition(" ")
        name = key.split("#")[0].removesuffix(".jpg")
        if name not in image_id or not text.strip():
            continue
        texts += 1
        jsonl.write(json.dumps({"text_id": texts, "text": text.strip(), "image_ids": [image_id[name]]}, ensure_ascii=False) + "\n")
print(f"{len(names)} images, {texts} texts -> {out}")
