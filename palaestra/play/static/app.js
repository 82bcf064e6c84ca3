// palaestra play: a generic page (goal, observation, legal actions, free text) plus
// widgets per env: boards (games), a clickable image (click-to-mask), tool forms.
"use strict";
let S = null;            // the last state from the server
let chessFrom = null;    // the selected square in chess
let renders = 0;

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const kid of kids) e.append(kid);
  return e;
};

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, opts);
  if (!res.ok) { showMessage(`server error ${res.status}: ${await res.text()}`, "bad"); return; }
  render(await res.json());
}
const act = (action) => api("/api/act", { action });

function showMessage(text, cls) { const m = $("message"); m.textContent = text || ""; m.className = cls || ""; }

function render(s) {
  S = s;
  $("env").textContent = s.env_id;
  $("who").textContent = `human:${s.player} · seed ${s.seed}`;
  $("status").textContent = `steps ${s.steps} · return ${s.return.toFixed(3)}` + (s.done ? (s.success ? " · success" : " · over") : "")
    + (s.recording ? ` · recorded ${s.recorded}` : " · not recording");
  $("goal").textContent = s.goal || "(no goal text)";
  $("obs").textContent = s.observation;
  $("instructions").textContent = s.instructions;
  showMessage(s.message, s.message.startsWith("Not accepted") ? "bad" : (s.done ? (s.success ? "ok" : "bad") : ""));
  renderLegal(s);
  renderWidget(s);
  renderEndInfo(s.end_info);
  $("undo").disabled = !s.can_undo;
  $("new").className = s.done ? "primary" : "";
  renderResults(s.results);
  renders += 1;
  Object.assign(document.body.dataset, { renders, steps: s.steps, done: s.done, recorded: s.recorded });
}

function renderLegal(s) {
  const box = $("legal"); box.replaceChildren();
  $("legal-box").style.display = s.legal === null && s.legal_count === null ? "none" : "";
  $("legal-count").textContent = s.legal_count === null ? "" : `(${s.legal_count})`;
  if (s.legal === null) { if (s.legal_count) box.append(el("span", { text: "too many to show: type one" })); return; }
  for (const a of s.legal) box.append(el("button", { class: "legal", "data-action": a, type: "button", onclick: () => act(a) }, a));
}

const LABELS = { iou: "IoU", clicks: "clicks", outcome: "outcome" };
function renderEndInfo(info) {  // the episode's end info: the IoU reached, the outcome...
  const box = $("end-info"); box.replaceChildren();
  box.style.display = info ? "" : "none";
  if (!info) return;
  box.append(el("h3", { text: "End of the episode" }));
  const t = el("table", {});
  for (const [k, v] of Object.entries(info)) {
    t.append(el("tr", { "data-key": k }, el("th", { text: LABELS[k] || k }), el("td", { text: typeof v === "number" && (k === "iou" || !Number.isInteger(v)) ? v.toFixed(3) : String(v) })));
  }
  box.append(t);
}

function renderResults(results) {
  const box = $("results"); box.replaceChildren();
  if (!results.length) return;
  const t = el("table", {}, el("tr", {}, el("th", { text: "seed" }), el("th", { text: "return" }), el("th", { text: "steps" }), el("th", { text: "success" })));
  for (const r of results) t.append(el("tr", {}, el("td", { text: r.seed }), el("td", { text: r.return.toFixed(3) }), el("td", { text: r.steps }), el("td", { text: r.success ? "yes" : "no" })));
  box.append(el("h3", { text: "Finished episodes" }), t);
}

function renderWidget(s) {
  const w = $("widget"); w.replaceChildren();
  if (s.board) { w.append(board(s.board, s.board_view)); return; }
  if (s.image) { w.append(imageWidget(s)); }
  if (s.tools) { w.append(toolsForm(s.tools)); }
  if (s.clickables || s.search_box) { w.append(webPage(s)); }
  if (s.page_view) { w.append(livePage(s)); }
  w.style.display = w.childElementCount ? "" : "none";
}

// ---- boards ----------------------------------------------------------------------
function board(b, v) {
  v = v || { you: null, flip: false, last_squares: [], winning: [], end: null, status: "" };
  const wrap = el("div", { class: "board-wrap" });
  const legal = new Set(b.legal);
  wrap.append(el("div", { id: "side-label", class: "side-label", "data-side": v.you || "both",
    text: v.you ? `You play ${v.you}` + (v.opponent ? ` against ${v.opponent}.` : ".") : "You play both sides." }));
  const info = el("div", { id: "board-info", class: "board-info" + (v.end ? " end" : "") });
  info.textContent = v.status || (b.over ? "Game over." : "");
  if (b.last_move && !v.end) info.textContent += ` Last move: ${b.last_move}.`;
  const winning = new Set(v.winning.map(([r, c]) => `${r},${c}`));
  if (b.game === "connect_four") {
    const g = el("div", { class: "board connect_four", style: `grid-template-columns: repeat(${b.cols}, 56px)` });
    b.cells.forEach((row, r) => row.forEach((c, col) => {
      const cell = el("div", { class: `cell ${c}` + (winning.has(`${r},${col}`) ? " win" : ""), "data-row": r, "data-col": col, title: `column ${col + 1}` });
      cell.addEventListener("click", () => { const a = String(col + 1); if (legal.has(a)) act(a); else showMessage(`Column ${col + 1} is full.`, "bad"); });
      g.append(cell);
    }));
    wrap.append(g);
  } else if (b.game === "hex") {
    const g = el("div", { class: "hex" });
    b.cells.forEach((row, r) => {
      const line = el("div", { class: "hrow", style: `margin-left: ${r * 18.5}px` });
      row.forEach((c, col) => {
        const name = String.fromCharCode(97 + col) + (r + 1);
        const cell = el("div", { class: `cell ${c}`, "data-cell": name, title: name, text: name });
        cell.addEventListener("click", () => { if (legal.has(name)) act(name); else showMessage(`${name} is taken.`, "bad"); });
        line.append(cell);
      });
      g.append(line);
    });
    g.append(el("div", { class: "legend", text: "red (x) connects top and bottom; blue (o) connects left and right." }));
    if (legal.has("swap")) g.append(el("button", { type: "button", onclick: () => act("swap") }, "swap"));
    wrap.append(g);
  } else if (b.game === "chess") {
    wrap.append(chessBoard(b, legal, v));
  } else {
    wrap.append(el("pre", { text: JSON.stringify(b.cells) }));
  }
  wrap.append(info);
  return wrap;
}

const PIECES = { K: "♔", Q: "♕", R: "♖", B: "♗", N: "♘", P: "♙", k: "♚", q: "♛", r: "♜", b: "♝", n: "♞", p: "♟" };
function fenGrid(fen) {  // rank 8 first, file a first: the position itself, whatever the env's orientation
  return fen.split(" ")[0].split("/").map((rank) => {
    const row = [];
    for (const ch of rank) { if (/[1-8]/.test(ch)) for (let i = 0; i < Number(ch); i++) row.push(""); else row.push(ch); }
    return row;
  });
}
function chessBoard(b, legal, v) {
  const g = el("div", { class: "board chess" + (v.flip ? " flipped" : ""), "data-orientation": v.flip ? "black" : "white" });
  const targets = new Set();
  if (chessFrom) for (const m of legal) if (m.startsWith(chessFrom)) targets.add(m.slice(2, 4));
  const last = new Set(v.last_squares || []);
  const grid = b.fen ? fenGrid(b.fen) : b.cells;
  const order = v.flip ? [7, 6, 5, 4, 3, 2, 1, 0] : [0, 1, 2, 3, 4, 5, 6, 7];
  order.forEach((r, i) => order.forEach((f, j) => {
    const sq = "abcdefgh"[f] + (8 - r);
    const cls = ((r + f) % 2 ? "dark" : "light") + (sq === chessFrom ? " sel" : "") + (targets.has(sq) ? " target" : "") + (last.has(sq) ? " last" : "");
    const cell = el("div", { class: `sq ${cls}`, "data-square": sq, title: sq }, PIECES[grid[r][f]] || "");
    if (j === 0 || i === 7) cell.append(el("span", { class: "coord", text: (i === 7 ? "abcdefgh"[f] : "") + (j === 0 ? 8 - r : "") }));
    cell.addEventListener("click", () => chessClick(sq, legal));
    g.append(cell);
  }));
  return g;
}
function chessClick(sq, legal) {
  const starts = [...legal].some((m) => m.startsWith(sq));
  if (chessFrom === null || chessFrom === sq) {
    if (chessFrom === sq) chessFrom = null;
    else if (!starts) { showMessage(`No legal move starts on ${sq}.`, "bad"); return; }
    else chessFrom = sq;
    document.body.dataset.selected = chessFrom || "";
    renderWidget(S); return;
  }
  const uci = chessFrom + sq;
  const from = chessFrom; chessFrom = null; document.body.dataset.selected = "";
  if (legal.has(uci)) return act(uci);
  const promo = ["q", "r", "b", "n"].map((p) => uci + p).filter((m) => legal.has(m));
  if (promo.length) {
    const choice = (window.prompt("Promote to (q, r, b, n)?", "q") || "q").toLowerCase();
    return act(legal.has(uci + choice) ? uci + choice : promo[0]);
  }
  if (starts) { chessFrom = sq; document.body.dataset.selected = sq; renderWidget(S); return; }
  showMessage(`${from}→${sq} is not legal.`, "bad"); renderWidget(S);
}

// ---- image clicks (click-to-mask) -------------------------------------------------
function imageWidget(s) {
  const box = el("div", {});
  const scale = Math.max(1, Math.floor(480 / s.image.width));
  const img = el("img", { id: "scene", src: `/api/image.png?v=${s.image.version}`, alt: "the image with the current mask",
    draggable: "false", width: s.image.width * scale, height: s.image.height * scale });
  const wrap = el("div", { class: "imgwrap" }, img);
  if (s.point_clicks) {
    img.addEventListener("contextmenu", (e) => e.preventDefault());
    img.addEventListener("mousedown", (e) => {
      if (S.done) return;
      e.preventDefault();
      const rect = img.getBoundingClientRect();
      const fx = (e.clientX - rect.left) / rect.width, fy = (e.clientY - rect.top) / rect.height;
      api("/api/click", { fx, fy, positive: e.button !== 2 });
    });
    box.append(wrap,
      el("div", { class: "imghelp", text: "Left click: positive point (inside the object). Right click: negative point (background)." }),
      el("button", { id: "finish", type: "button", class: "primary", onclick: () => act("Finish"), ...(s.done ? { disabled: "" } : {}) }, "Finish"));
  } else box.append(wrap);
  return box;
}

// ---- text-mode web pages (WebShop): search box and bracketed labels as buttons -------
function webPage(s) {
  const box = el("div", { class: "tools webpage" });
  if (s.search_box) {
    const q = el("input", { id: "search", placeholder: "search the shop" });
    const go = () => act(`search[${q.value}]`);
    q.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); go(); } });
    box.append(el("h3", { text: "Search" }), el("div", { class: "row" }, q, el("button", { id: "search-go", type: "button", class: "primary", onclick: go }, "Search")));
  }
  if (s.clickables) {
    const list = el("div", { class: "clickables" });
    for (const label of s.clickables) list.append(el("button", { type: "button", class: "clickable", "data-label": label, onclick: () => act(`click[${label}]`) }, label));
    box.append(el("h3", { text: "On this page" }), list);
  }
  return box;
}

// ---- browser-mode web envs: click and type on the live page ----------------------------
function livePage(s) {
  const v = s.page_view;
  const box = el("div", { class: "livepage" });
  const img = el("img", { id: "page", src: `/api/page.png?v=${v.version}`, width: Math.round(v.width * 0.75),
    height: Math.round(v.height * 0.75), alt: "the live page", draggable: "false" });
  img.addEventListener("mousedown", (e) => {
    if (S.done) return;
    e.preventDefault();
    const r = img.getBoundingClientRect();
    api("/api/page/click", { fx: (e.clientX - r.left) / r.width, fy: (e.clientY - r.top) / r.height });
  });
  const text = el("input", { id: "page-text", placeholder: v.focused ? `type into element ${v.focused}` : "click a field first" });
  const send = (enter) => api("/api/page/type", { text: text.value, enter });
  text.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); send(true); } });
  const wrap = el("div", { class: "imgwrap" }, img);
  const k = 0.75;  // the picture is shown at 75%: outline the interactive elements
  for (const e of v.elements || []) {
    const [x, y, w, h] = e.box;
    const o = el("div", { class: "hit" + (e.id === v.focused ? " focused" : ""), "data-id": e.id, title: `${e.role} ${e.name} [id=${e.id}]`,
      style: `left:${x * k}px;top:${y * k}px;width:${w * k}px;height:${h * k}px` });
    o.addEventListener("mousedown", (ev) => { ev.preventDefault(); img.dispatchEvent(new MouseEvent("mousedown", ev)); });
    wrap.append(o);
  }
  box.append(wrap,
    el("div", { class: "row pagebar" }, text,
      el("button", { id: "page-type", type: "button", onclick: () => send(false) }, "Type"),
      el("button", { id: "page-enter", type: "button", class: "primary", onclick: () => send(true) }, "Type + Enter")),
    el("div", { class: "row pagebar" },
      el("button", { type: "button", onclick: () => act("scroll(up)") }, "Scroll up"),
      el("button", { type: "button", onclick: () => act("scroll(down)") }, "Scroll down"),
      el("button", { type: "button", onclick: () => act("go_back()") }, "Back")));
  return box;
}

// ---- tool forms ----------------------------------------------------------------------
function toolsForm(tools) {
  const fns = tools.map((t) => t.function || t);
  const form = el("form", { class: "tools", autocomplete: "off" });
  const select = el("select", { id: "tool" }, ...fns.map((f) => el("option", { value: f.name }, f.name)));
  const fields = el("div", {});
  const desc = el("div", { class: "desc" });
  const draw = () => {
    const f = fns.find((x) => x.name === select.value);
    desc.textContent = f.description || "";
    fields.replaceChildren();
    const props = (f.parameters && f.parameters.properties) || {};
    const required = new Set((f.parameters && f.parameters.required) || []);
    for (const [name, p] of Object.entries(props)) {
      let input;
      if (p.enum) input = el("select", { name }, el("option", { value: "" }, ""), ...p.enum.map((v) => el("option", { value: JSON.stringify(v) }, String(v))));
      else if (p.type === "boolean") input = el("select", { name }, el("option", { value: "" }, ""), el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
      else if (p.type === "object" || p.type === "array") input = el("textarea", { name, rows: 2, placeholder: "JSON" });
      else input = el("input", { name, type: p.type === "integer" || p.type === "number" ? "number" : "text", step: p.type === "number" ? "any" : "1" });
      input.dataset.type = p.enum ? "json" : (p.type || "string");
      fields.append(el("div", { class: "field" }, el("label", { text: `${name}${required.has(name) ? " *" : ""} (${p.type || "any"}) ${p.description || ""}` }), input));
    }
  };
  select.addEventListener("change", draw);
  const answer = el("input", { id: "answer", placeholder: "your final answer to the user" });
  form.append(el("h3", { text: "Call a tool" }), select, desc, fields,
    el("button", { type: "submit", class: "primary" }, "Call"),
    el("h3", { text: "Or answer (ends the episode)" }),
    el("div", { class: "row" }, answer, el("button", { id: "answer-send", type: "button", onclick: () => act(JSON.stringify({ answer: answer.value })) }, "Answer")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const args = {};
    for (const input of fields.querySelectorAll("[name]")) {
      const v = input.value.trim();
      if (v === "") continue;
      const t = input.dataset.type;
      try { args[input.name] = t === "integer" ? parseInt(v, 10) : t === "number" ? parseFloat(v) : t === "boolean" ? v === "true" : (t === "object" || t === "array" || t === "json") ? JSON.parse(v) : v; }
      catch (err) { showMessage(`${input.name}: not valid JSON (${err.message})`, "bad"); return; }
    }
    act(JSON.stringify({ name: select.value, arguments: args }));
  });
  draw();
  return form;
}

// ---- controls --------------------------------------------------------------------
$("free").addEventListener("submit", (e) => { e.preventDefault(); const v = $("action").value; $("action").value = ""; act(v); });
$("undo").addEventListener("click", () => { chessFrom = null; api("/api/undo", {}); });
$("new").addEventListener("click", () => {
  chessFrom = null;
  const seed = $("seed").value.trim();
  $("seed").value = "";
  api("/api/new", seed === "" ? {} : { seed: parseInt(seed, 10) });
});
api("/api/state");
