// zoo-serve demo page: list the models, send the chosen image to
// /v1/models/{name}/classify, draw the top-5 as bars; with "Why?" ticked,
// also ask /v1/models/{name}/explain for the top class's Grad-CAM overlay
// (Accept: image/png) and show it beside the bars.
"use strict";

const $ = (id) => document.getElementById(id);
const modelSel = $("model"), fileIn = $("file"), drop = $("drop"), status = $("status");

function headers() {
  const t = $("token").value.trim();
  return t ? { Authorization: "Bearer " + t } : {};
}

async function api(path, init) {
  const resp = await fetch(path, Object.assign({ headers: headers() }, init || {}));
  let body = null;
  try { body = await resp.json(); } catch (e) { /* not JSON */ }
  if (!resp.ok) {
    if (resp.status === 401) $("auth").open = true;
    throw new Error((body && body.error) || resp.status + " " + resp.statusText);
  }
  return body;
}

function setStatus(text, isError) {
  status.textContent = text;
  status.className = isError ? "error" : "muted";
}

async function loadModels() {
  try {
    const { models } = await api("/v1/models");
    // The models trained and measured here (the shipped zoo) first, best
    // top-1 first; then the rest in the server's order.
    const measured = (m) => m.accuracy_source === "measured" && m.top1 !== undefined;
    models.sort((a, b) => (measured(b) - measured(a)) ||
      (measured(a) && measured(b) ? b.top1 - a.top1 : 0));
    modelSel.replaceChildren(...models.map((m) => {
      const o = document.createElement("option");
      o.value = m.name;
      const acc = m.top1 !== undefined ? ", top-1 " + m.top1.toFixed(2) + "%" : "";
      o.textContent = m.name + " (" + m.dataset + ", " + m.input.join("×") + acc + ")";
      return o;
    }));
    // Preselect a model that is already loaded (warm), else the first listed.
    const pick = models.find((m) => m.loaded) || models[0];
    if (pick) modelSel.value = pick.name;
    showInfo();
    modelSel.dataset.loaded = "true";
  } catch (e) {
    setStatus("Cannot list models: " + e.message, true);
  }
}

async function showInfo() {
  try {
    const m = await api("/v1/models/" + encodeURIComponent(modelSel.value));
    const acc = m.accuracy && m.accuracy.top1 != null ? "top-1 " + m.accuracy.top1 + "% (" + m.accuracy.source + ")" : "no reported accuracy";
    $("model-info").textContent = m.arch + " · " + (m.msda || "") + " · " + acc + (m.loaded ? " · loaded" : "");
  } catch (e) {
    $("model-info").textContent = "";
  }
}

let lastFile = null;

async function classify(file) {
  if (!file || !modelSel.value) return;
  lastFile = file;
  const preview = $("preview");
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  $("drop-text").textContent = file.name;
  $("predictions").replaceChildren();
  setStatus("Classifying with " + modelSel.value + "…");
  try {
    const r = await api("/v1/models/" + encodeURIComponent(modelSel.value) + "/classify?top_k=5",
      { method: "POST", body: file });
    const items = r.predictions[0].map((p) => {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = p.label;
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = document.createElement("span");
      fill.style.width = (100 * p.probability).toFixed(1) + "%";
      bar.append(fill);
      const pct = document.createElement("span");
      pct.className = "pct";
      pct.textContent = (100 * p.probability).toFixed(1) + "%";
      li.append(label, bar, pct);
      return li;
    });
    $("predictions").replaceChildren(...items);
    setStatus(r.model + " · " + r.elapsed_ms.toFixed(1) + " ms");
    $("result").dataset.top1 = r.predictions[0][0].label;
    if ($("why").checked) await explain(file, r.predictions[0][0].label);
  } catch (e) {
    setStatus("Classification failed: " + e.message, true);
  }
}

let overlayURL = null;

// explain shows the Grad-CAM overlay of the image's top class.
async function explain(file, label) {
  const fig = $("explanation"), img = $("overlay");
  delete img.dataset.loaded;
  fig.hidden = false;
  $("overlay-caption").className = "muted";
  $("overlay-caption").textContent = "Explaining…";
  try {
    const resp = await fetch("/v1/models/" + encodeURIComponent(modelSel.value) + "/explain",
      { method: "POST", body: file, headers: Object.assign({ Accept: "image/png" }, headers()) });
    if (!resp.ok) {
      let msg = resp.status + " " + resp.statusText;
      try { msg = (await resp.json()).error || msg; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    if (overlayURL) URL.revokeObjectURL(overlayURL);
    overlayURL = URL.createObjectURL(await resp.blob());
    img.onload = () => { img.dataset.loaded = "true"; };
    img.src = overlayURL;
    $("overlay-caption").textContent = "Where the model looked for “" + label + "”";
  } catch (e) {
    $("overlay-caption").textContent = "No explanation: " + e.message;
    $("overlay-caption").className = "error";
  }
}

fileIn.addEventListener("change", () => classify(fileIn.files[0]));
modelSel.addEventListener("change", () => { showInfo(); if (fileIn.files[0]) classify(fileIn.files[0]); });
$("why").addEventListener("change", () => {
  if (!$("why").checked) { $("explanation").hidden = true; return; }
  const top1 = $("result").dataset.top1;
  if (lastFile && top1) explain(lastFile, top1);
});
["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
drop.addEventListener("drop", (e) => { e.preventDefault(); classify(e.dataTransfer.files[0]); });
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); fileIn.click(); } });
$("token").addEventListener("change", loadModels);
loadModels();
