"""PyTorch peer for the train-throughput bench: the same dual encoder as Tuwen's (ViT image tower,
post-norm BERT text tower, CLIP loss, AdamW) built from the same model JSON, trained on the same
synthetic batches, timed the same way. Debian's python3-torch; bf16 through torch.autocast.
Usage: peer.py MODEL_JSON VOCAB_SIZE BATCH STEPS PRECISION [WARMUP=3] → prints one JSON line
(pairs/s and the peak resident set, VmHWM)."""
import json, math, resource, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.load(open(sys.argv[1]))
vocab, batch, steps, precision = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
warmup = int(sys.argv[6]) if len(sys.argv) > 6 else 3
torch.set_num_threads(2)
torch.manual_seed(0)
v, t = cfg["vision"], cfg["text"]


class PreNormBlock(nn.Module):
    def __init__(self, w, h, hidden):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(w), nn.LayerNorm(w)
        self.attn = nn.MultiheadAttention(w, h, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(w, hidden), nn.GELU(), nn.Linear(hidden, w))

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Vit(nn.Module):
    def __init__(self):
        super().__init__()
        w, grid = v["width"], v["image_size"] // v["patch_size"]
        self.conv1 = nn.Conv2d(3, w, v["patch_size"], v["patch_size"], bias=False)
        self.cls = nn.Parameter(torch.randn(w) * w ** -0.5)
        self.pos = nn.Parameter(torch.randn(grid * grid + 1, w) * w ** -0.5)
        self.ln_pre, self.ln_post = nn.LayerNorm(w), nn.LayerNorm(w)
        self.blocks = nn.ModuleList([PreNormBlock(w, v["heads"], int(w * v["mlp_ratio"])) for _ in range(v["layers"])])
        self.proj = nn.Parameter(torch.randn(w, cfg["embed_dim"]) * w ** -0.5)

    def forward(self, img):
        x = self.conv1(img).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, -1), x], 1) + self.pos
        x = self.ln_pre(x)
        for b in self.blocks:
            x = b(x)
        return self.ln_post(x[:, 0]) @ self.proj


class Bert(nn.Module):
    def __init__(self):
        super().__init__()
        w = t["width"]
        self.word, self.position = nn.Embedding(vocab, w), nn.Embedding(t["max_positions"], w)
        self.ln = nn.LayerNorm(w, eps=1e-12)
        layer = nn.TransformerEncoderLayer(w, t["heads"], t["intermediate_size"], dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=False, layer_norm_eps=1e-12)
        self.encoder = nn.TransformerEncoder(layer, t["layers"], enable_nested_tensor=False)
        self.proj = nn.Linear(w, cfg["embed_dim"], bias=False)

    def forward(self, ids):
        x = self.ln(self.word(ids) + self.position(torch.arange(ids.shape[1])))
        x = self.encoder(x, src_key_padding_mask=ids.eq(0))
        return self.proj(x[:, 0])


vit, bert = Vit(), Bert()
scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
params = list(vit.parameters()) + list(bert.parameters()) + [scale]
opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.1)
g = torch.Generator().manual_seed(1)
images = torch.randn(batch, 3, v["image_size"], v["image_size"], generator=g)
ids = torch.randint(104, vocab, (batch, t["context_length"]), generator=g)
ids[:, 0], ids[:, t["context_length"] // 2:] = 101, 0
labels = torch.arange(batch)


def step():
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        fi = F.normalize(vit(images).float(), dim=-1)
        ft = F.normalize(bert(ids).float(), dim=-1)
        logits = scale.exp().clamp(max=100) * fi @ ft.t()
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()


for _ in range(warmup):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
seconds = time.perf_counter() - start
print(json.dumps({"engine": "pytorch " + torch.__version__, "precision": precision, "pairs_per_s": batch * steps / seconds,
                  "batch": batch, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
