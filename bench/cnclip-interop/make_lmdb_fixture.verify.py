"""Checks by hand that an LMDB split written by `tuwen corpus convert --to cnclip-lmdb` is what Chinese-CLIP reads.

Runs Chinese-CLIP's own LMDBDataset (cn_clip/training/data.py, upstream OFA-Sys/Chinese-CLIP 31863c7) over every
pair, and with a second argument compares every key and value with a split its build_lmdb_dataset.py wrote.
Tests never run this; it needs Debian's /usr/bin/python3 (torch, torchvision, PIL, python3-lmdb).

    PYTHONPATH=/work/cnclip-src /usr/bin/python3 bench/cnclip-interop/make_lmdb_fixture.verify.py \
        OUT/lmdb/valid [UPSTREAM/valid]
"""
import os
import sys
import tempfile

import lmdb

# timm is only used by Chinese-CLIP for training augmentation; Debian has none, so a stub stands in.
stub = tempfile.mkdtemp()
os.makedirs(os.path.join(stub, "timm"))
open(os.path.join(stub, "timm", "__init__.py"), "w").close()
with open(os.path.join(stub, "timm", "data.py"), "w") as f:
    f.write("def create_transform(*args, **kwargs):\n    raise NotImplementedError\n")
sys.path.insert(0, stub)

from cn_clip.training.data import LMDBDataset  # noqa: E402


def entries(path):
    env = lmdb.open(path, readonly=True, lock=False)
    with env.begin() as txn:
        values = {bytes(k): bytes(v) for k, v in txn.cursor()}
    stat = env.stat()
    env.close()
    return values, stat


ours = sys.argv[1]
dataset = LMDBDataset(ours, split="val", max_txt_length=52, resolution=32)
print("LMDBDataset: number_samples", dataset.number_samples, "number_images", dataset.number_images)
for i in range(dataset.number_samples):
    image, text, eos = dataset[i]
print("LMDBDataset.__getitem__ read all", dataset.number_samples, "pairs; last image", tuple(image.shape))
if len(sys.argv) > 2:
    for name in ("imgs", "pairs"):
        a, sa = entries(os.path.join(ours, name))
        b, sb = entries(os.path.join(sys.argv[2], name))
        print(name, "entries", len(a), "vs upstream", len(b), "| depth", sa["depth"], sb["depth"],
              "| identical keys and values:", a == b)
