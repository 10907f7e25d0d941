#!/usr/bin/env bash
# Builds the LMDB interop fixture with Chinese-CLIP's own build script, so the C# reader is tested against
# files the real tool wrote (keys, pickled (image_id, text_id, text) values, base64 image strings).
#
# Upstream: OFA-Sys/Chinese-CLIP at commit 31863c7, checked out read-only at /work/cnclip-src
# (override with CNCLIP_SRC). Needs Debian's /usr/bin/python3 with PIL and python3-lmdb.
#
#   bench/cnclip-interop/make_lmdb_fixture.sh
#
# Writes tests/Tuwen.Tests/Interop/Fixtures/formats/cnclip/: {valid,many}_imgs.tsv, {valid,many}_texts.jsonl and
# lmdb/{valid,many}/{imgs,pairs}/data.mdb (compacted copies; lock files are not kept — Chinese-CLIP and Tuwen
# both open these read-only without locking).
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cnclip="${CNCLIP_SRC:-/work/cnclip-src}"
python=/usr/bin/python3
out="$repo/tests/Tuwen.Tests/Interop/Fixtures/formats/cnclip"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The dataset: five tiny images (JPEG and PNG), Chinese captions, texts naming two images, one unlabeled
# text, one image no text names, ids that need each pickle integer width (1 byte, 2 bytes, 4 bytes, 8 bytes)
# and one caption longer than 255 UTF-8 bytes (the long string opcode).
"$python" - "$work" <<'EOF'
import base64, io, json, sys
from PIL import Image, ImageDraw

work = sys.argv[1]
images = [
    (1001, "JPEG", (200, 40, 40)),
    (1002, "PNG", (40, 160, 60)),
    (70000, "JPEG", (30, 60, 220)),
    (1004, "JPEG", (230, 200, 30)),
    (1005, "PNG", (120, 120, 120)),
]
with open(f"{work}/valid_imgs.tsv", "w", encoding="utf-8") as tsv:
    for image_id, fmt, color in images:
        img = Image.new("RGB", (12, 10), color)
        ImageDraw.Draw(img).line((0, 0, 11, 9), fill=(255, 255, 255))
        buf = io.BytesIO()
        img.save(buf, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
        tsv.write(f"{image_id}\t{base64.b64encode(buf.getvalue()).decode('ascii')}\n")

long_text = "这是一段很长的描述，" * 10  # 100 characters, 300 UTF-8 bytes
texts = [
    {"text_id": 1, "text": "一只小猫在草地上", "image_ids": [1001]},
    {"text_id": 2, "text": "两张图里都有“红色”的汽车", "image_ids": [1002, 70000]},
    {"text_id": 3, "text": "蓝色的天空", "image_ids": [70000]},
    {"text_id": 4, "text": "没有标注图片的文本", "image_ids": []},
    {"text_id": 300, "text": "小猫和汽车 cat & car", "image_ids": [1001, 1002]},
    {"text_id": 3000000000, "text": long_text, "image_ids": [1004]},
]
with open(f"{work}/valid_texts.jsonl", "w", encoding="utf-8") as jsonl:
    for t in texts:
        jsonl.write(json.dumps(t, ensure_ascii=False) + "\n")

# Split "many": enough pairs and images that LMDB needs branch pages (a B-tree of depth 2), still tiny images.
import random
random.seed(6)
with open(f"{work}/many_imgs.tsv", "w", encoding="utf-8") as tsv:
    for i in range(60):
        img = Image.new("RGB", (4, 4), (i * 4, 255 - i * 4, (i * 37) % 256))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        tsv.write(f"{i}\t{base64.b64encode(buf.getvalue()).decode('ascii')}\n")
with open(f"{work}/many_texts.jsonl", "w", encoding="utf-8") as jsonl:
    for t in range(500):
        ids = random.sample(range(60), random.choice([1, 1, 2]))
        jsonl.write(json.dumps({"text_id": t, "text": f"第{t}条", "image_ids": ids}, ensure_ascii=False) + "\n")
EOF

# Debian has no tqdm; the build script only uses it as a progress wrapper, so a pass-through stands in.
mkdir -p "$work/stub"
printf 'def tqdm(iterable, *args, **kwargs):\n    return iterable\n' > "$work/stub/tqdm.py"
(cd "$cnclip" && PYTHONPATH="$cnclip:$work/stub" "$python" cn_clip/preprocess/build_lmdb_dataset.py \
    --data_dir "$work" --splits valid,many)

rm -rf "$out"
mkdir -p "$out"
cp "$work/valid_imgs.tsv" "$work/valid_texts.jsonl" "$work/many_imgs.tsv" "$work/many_texts.jsonl" "$out/"
# The build script maps 1 TiB; a compacting copy keeps only the pages in use.
"$python" - "$work/lmdb" "$out/lmdb" <<'EOF'
import os, sys, lmdb
src, dst = sys.argv[1], sys.argv[2]
for split in ("valid", "many"):
    for name in ("imgs", "pairs"):
        os.makedirs(f"{dst}/{split}/{name}")
        env = lmdb.open(f"{src}/{split}/{name}", readonly=True, lock=False)
        env.copy(f"{dst}/{split}/{name}", compact=True)
        print(split, name, env.stat())
        env.close()
EOF
du -ab "$out"
