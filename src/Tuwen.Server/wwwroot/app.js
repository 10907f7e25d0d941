"use strict";
// Plain script, no build step: talks to /health and /knn-service of the same server.
const $ = (id) => document.getElementById(id);
let rerankAvailable = false;

function show(text, isError) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

async function health() {
  try {
    const r = await fetch("health");
    const h = await r.json();
    $("status").textContent = `索引 ${h.index}：${h.images} 张图片，${h.texts} 条文字 · ${h.kind} · dim ${h.dim}`;
    rerankAvailable = !!h.rerank;
    const box = $("rerank"), label = $("rerank-label");
    box.disabled = !rerankAvailable;
    label.classList.toggle("disabled", !rerankAvailable);
    label.title = rerankAvailable ? "用 R2D2 交叉编码器重排前 50 个结果 (re-rank the top 50)"
      : "不可用：当前模型不是 R2D2 检查点 (unavailable: " + (h.rerank_unavailable || "no cross encoders") + ")";
  } catch (e) {
    $("status").textContent = "无法连接服务器 (server unreachable)";
  }
}

async function search(body) {
  body.num_images = Math.max(1, Math.min(200, parseInt($("k").value, 10) || 20));
  body.modality = $("modality").value;
  body.deduplicate = $("dedup").checked;
  if ($("rerank").checked && rerankAvailable) body.rerank = 50;
  show("搜索中… (searching)", false);
  $("results").innerHTML = "";
  let r, data;
  try {
    r = await fetch("knn-service", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    data = await r.json();
  } catch (e) {
    show("请求失败 (request failed): " + e, true);
    return;
  }
  if (!r.ok) {
    show(`出错了 (error ${r.status})：${data && data.error ? data.error : "unknown"}`, true);
    return;
  }
  if (data.length === 0) {
    show("没有找到结果 (no results)", false);
    return;
  }
  show(`找到 ${data.length} 个结果 (results)`, false);
  render(data, body.modality);
}

function render(results, modality) {
  const grid = $("results");
  for (const item of results) {
    const card = document.createElement("div");
    card.className = "card result";
    if (modality === "image") {
      const img = document.createElement("img");
      img.src = `thumbnail/${item.id}`;
      img.alt = item.caption || String(item.id);
      img.title = "以此图搜图 (more like this)";
      img.addEventListener("click", () => search({ image_id: String(item.id) }));
      card.appendChild(img);
    }
    const caption = document.createElement("div");
    caption.className = "caption";
    caption.textContent = item.caption || item.key || `#${item.id}`;
    const score = document.createElement("div");
    score.className = "score";
    score.textContent = item.match_probability != null
      ? `得分 ${item.similarity.toFixed(3)} (余弦 ${item.cosine.toFixed(3)} + 匹配 ${item.match_probability.toFixed(3)})`
      : `相似度 ${item.similarity.toFixed(3)}`;
    card.append(caption, score);
    grid.appendChild(card);
  }
}

function searchFile(file) {
  if (!file) return;
  if (!/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
    show("只支持 JPEG、PNG、GIF、WebP 图片 (only JPEG/PNG/GIF/WebP)", true);
    return;
  }
  const reader = new FileReader();
  reader.onload = () => search({ image: reader.result });
  reader.onerror = () => show("读取图片失败 (could not read the file)", true);
  reader.readAsDataURL(file);
}

$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("query").value.trim();
  if (!q) { show("请输入要搜索的文字 (type something)", true); return; }
  search({ text: q });
});
$("upload").addEventListener("change", (e) => searchFile(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); searchFile(e.dataTransfer.files[0]); });
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") $("upload").click(); });
health();

// A query in the address (?q=笑脸) runs at once, so a search can be linked and bookmarked.
const initialQuery = new URLSearchParams(location.search).get("q");
if (initialQuery) { $("query").value = initialQuery; $("search-form").requestSubmit(); }
