/* Benchmark report: sortable tables and a two-image viewer. Vanilla JS, no network. */
(function () {
  "use strict";

  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const METRICS = DATA.metrics;
  const RUNS = new Map(DATA.leaderboard.rows.map((r) => [r.run, r]));
  const SECTIONS = new Map(DATA.sections.map((s) => [s.id, s]));
  const TABLES = new Map(); // section id -> its per-image table

  // ---- helpers -------------------------------------------------------------------------

  function num(v) {
    if (v === null || v === undefined) return null;
    if (v === "inf") return Infinity;
    if (v === "-inf") return -Infinity;
    if (v === "nan") return NaN;
    return v;
  }

  function missing(x) {
    return x === null || x === undefined || Number.isNaN(x);
  }

  function formatValue(v, metric) {
    const x = num(v);
    if (x === null) return "";
    if (Number.isNaN(x)) return "nan";
    if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
    return x.toFixed(METRICS[metric].decimals);
  }

  function metricLabel(m) {
    const card = METRICS[m];
    const prefix = card.block === "Rain map" ? "Rain-map " : "";
    return prefix + card.label + (card.higher ? " \u2191" : " \u2193");
  }

  function h(tag, props, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of [].concat(children === undefined ? [] : children)) {
      if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }

  // Missing values (null, NaN) sort last whatever the direction; ties keep the given order.
  function compare(a, b, dir) {
    const ma = missing(a);
    const mb = missing(b);
    if (ma || mb) return ma === mb ? 0 : ma ? 1 : -1;
    if (typeof a === "string" || typeof b === "string") {
      return dir * String(a).localeCompare(String(b), undefined, { numeric: true });
    }
    return a < b ? -dir : a > b ? dir : 0;
  }

  function sortRows(rows, column, dir) {
    return rows
      .map((r, i) => [r, i, column.get(r)])
      .sort((x, y) => compare(x[2], y[2], dir) || x[1] - y[1])
      .map((x) => x[0]);
  }

  // A table whose headers sort it. Columns: {key, label, title, get(row) (sortable when
  // given), cell(row) -> Node|string, cls(row) -> class name, headCls, firstDir (1 or -1)}.
  function sortableTable(opts) {
    const table = h("table", { class: "grid " + (opts.className || "") });
    const thead = h("thead");
    const tbody = h("tbody");
    table.append(thead, tbody);
    const state = { columns: opts.columns, rows: opts.rows, sort: opts.sort || null };

    function header() {
      const tr = h("tr");
      for (const col of state.columns) {
        const active = state.sort && state.sort.key === col.key;
        const th = h("th", {
          scope: "col", title: col.title, "data-key": col.key, class: col.headCls,
          "aria-sort": col.get ? (active ? (state.sort.dir > 0 ? "ascending" : "descending") : "none") : null,
        }, col.label);
        if (col.get) {
          th.classList.add("sortable");
          th.tabIndex = 0;
          th.addEventListener("click", () => sortBy(col));
          th.addEventListener("keydown", (e) => {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(col); }
          });
        }
        tr.append(th);
      }
      thead.replaceChildren(tr);
    }

    function sortBy(col) {
      const same = state.sort && state.sort.key === col.key;
      state.sort = { key: col.key, dir: same ? -state.sort.dir : col.firstDir || 1 };
      render();
    }

    function ordered() {
      const col = state.sort && state.columns.find((c) => c.key === state.sort.key);
      return col ? sortRows(state.rows, col, state.sort.dir) : state.rows.slice();
    }

    function render() {
      header();
      const frag = document.createDocumentFragment();
      for (const row of ordered()) {
        const tr = h("tr", opts.rowAttrs ? opts.rowAttrs(row) : {});
        for (const col of state.columns) {
          const td = h("td", { class: col.cls ? col.cls(row) : null, "data-key": col.key });
          const content = col.cell ? col.cell(row) : col.get(row);
          if (content !== null && content !== undefined) td.append(content);
          tr.append(td);
        }
        frag.append(tr);
      }
      tbody.replaceChildren(frag);
    }

    if (opts.onRowClick) {
      tbody.addEventListener("click", (e) => {
        if (e.target.closest("a")) return;
        const tr = e.target.closest("tr");
        const td = e.target.closest("td");
        if (tr) opts.onRowClick(tr, td ? td.dataset.key : null);
      });
      tbody.addEventListener("keydown", (e) => {
        const tr = e.target.closest("tr");
        if (tr && e.key === "Enter") opts.onRowClick(tr, null);
      });
    }

    return {
      table, state, render, ordered,
      setRows(rows) { state.rows = rows; render(); },
      setColumns(columns, sort) { state.columns = columns; state.sort = sort; render(); },
    };
  }

  // ---- header, leaderboard -------------------------------------------------------------

  function summary() {
    const runs = DATA.leaderboard.rows.length;
    const datasets = new Set(DATA.leaderboard.rows.map((r) => r.dataset)).size;
    document.getElementById("summary").textContent =
      `${runs} run${runs === 1 ? "" : "s"} on ${datasets} dataset${datasets === 1 ? "" : "s"}` +
      ` \u00b7 results: ${DATA.results} \u00b7 generated ${DATA.generated}`;
    const nav = document.getElementById("nav");
    nav.append(h("a", { href: "#leaderboard" }, "Leaderboard"));
    for (const s of DATA.sections) nav.append(h("a", { href: "#sec-" + s.id }, sectionTitle(s)));
    const foot = document.getElementById("footer");
    foot.textContent = `${DATA.thumbnails.count} thumbnails (${DATA.thumbnails.size} px); ` +
      (DATA.copied ? "full-size images copied into images/." :
        "full-size images linked where they are (relative paths).");
    if (DATA.notes.length) {
      document.getElementById("notes").hidden = false;
      const list = document.getElementById("notes-list");
      for (const n of DATA.notes) list.append(h("li", {}, n));
    }
  }

  function sectionTitle(s) {
    return s.title + (s.split !== "test" ? ` (${s.split})` : "");
  }

  function runTooltip(r) {
    const opts = Object.entries(r.options).map(([k, v]) => `${k}=${v}`).join(", ");
    return [`run ${r.run}`, `method ${r.method}`, `split ${r.split}`, `data ${r.data_root}`,
      r.device ? `device ${r.device}` : "", opts ? `options ${opts}` : "",
      `${r.seconds} s`].filter(Boolean).join("\n");
  }

  function leaderboard() {
    const lb = DATA.leaderboard;
    const columns = [
      { key: "dataset", label: "Dataset", get: (r) => r.group },
      { key: "method", label: "Method", get: (r) => r.label,
        cell: (r) => h("a", { href: "#sec-" + r.section, title: runTooltip(r) }, r.label) },
      { key: "protocol", label: "Protocol", get: (r) => r.protocol },
      { key: "quantize", label: "Quantize", get: (r) => r.quantize,
        title: "how float outputs became uint8 (the official convention in brackets when another was used)",
        cell: (r) => r.quantize + (r.quantize !== r.official_quantize && r.quantize !== "as-saved" ?
          ` (official: ${r.official_quantize})` : "") },
      { key: "images", label: "Images", headCls: "num", title: "images scored / images in the split",
        get: (r) => r.scored, cls: () => "num",
        cell: (r) => `${r.scored}/${r.expected}` + (r.skipped ? ` (${r.skipped} skipped)` : "") },
    ];
    for (const m of lb.columns) {
      const card = METRICS[m];
      columns.push({
        key: "m:" + m, label: metricLabel(m), headCls: "num", firstDir: card.higher ? -1 : 1,
        title: `${card.block} ${card.label}: click for best first`,
        get: (r) => (r.cells[m] ? num(r.cells[m].value) : null),
        cls: (r) => {
          const c = r.cells[m];
          if (!c) return "num";
          return ["num", c.best && "best", c.partial && "partial", (c.unavailable || c.value === null) && "na"]
            .filter(Boolean).join(" ");
        },
        cell: (r) => {
          const c = r.cells[m];
          if (!c) return null;
          let title = `mean over ${c.n} of ${c.expected} images`;
          if (c.unavailable) title = "not computable in that run: " + (r.unavailable[m.split("_")[0]] || "");
          else if (c.partial) title += " (partial)";
          if (c.best) title += ` \u2014 best in ${r.group}`;
          return h("span", { title }, c.text);
        },
      });
    }
    columns.push(
      { key: "status", label: "Status", get: (r) => r.status },
      { key: "outputs", label: "Saved images", headCls: "num", cls: () => "num",
        title: "output images the viewer can show", get: (r) => r.outputs,
        cell: (r) => (r.outputs ? String(r.outputs) : "\u2013") },
      { key: "files", label: "Files",
        cell: (r) => h("span", {}, [h("a", { href: r.files.scores.src }, "scores.csv"), " ",
          h("a", { href: r.files.record.src }, "run.json")]) },
    );
    const table = sortableTable({
      columns, rows: lb.rows, className: "leaderboard",
      rowAttrs: (r) => ({ "data-run": r.run, "data-label": r.label }),
    });
    document.getElementById("lb-table").append(table.table);
    table.render();
    const filter = document.getElementById("lb-filter");
    for (const g of [...new Set(lb.rows.map((r) => r.group))]) filter.append(h("option", { value: g }, g));
    filter.addEventListener("change", () =>
      table.setRows(filter.value ? lb.rows.filter((r) => r.group === filter.value) : lb.rows));
  }

  // ---- per-image tables ----------------------------------------------------------------

  function meanOf(values) {
    const kept = values.filter((v) => !missing(v));
    if (!kept.length) return null;
    if (kept.some((v) => !Number.isFinite(v))) return Infinity;
    return kept.reduce((a, b) => a + b, 0) / kept.length;
  }

  function worstFirst(m) {
    return METRICS[m].higher ? 1 : -1;
  }

  function thumbImg(ref) {
    if (!ref || !ref.thumb) return null;
    return h("img", { class: "thumb", loading: "lazy", src: ref.thumb, alt: "", width: ref.tw, height: ref.th });
  }

  // Runs scored with several protocols: the per-image table shows one protocol at a time
  // (the one most runs used first), so that its columns and means compare like with like.
  function protocolsOf(runs) {
    const count = new Map();
    for (const r of runs) count.set(r.protocol, (count.get(r.protocol) || 0) + 1);
    return [...count.keys()].sort((a, b) => count.get(b) - count.get(a));
  }

  function runLabel(sec, id) {
    const run = RUNS.get(id);
    const several = new Set(sec.runs.map((r) => RUNS.get(r).protocol)).size > 1;
    return run.label + (several ? ` [${run.protocol}]` : "");
  }

  function sectionView(sec) {
    const all = sec.runs.map((id) => RUNS.get(id));
    const protocols = protocolsOf(all);
    let runs = all.filter((r) => r.protocol === protocols[0]);
    const hasMetric = (run, m) => Object.prototype.hasOwnProperty.call(run.cells, m) && !run.cells[m].unavailable;
    const primary = sec.metrics.includes("psnr") ? "psnr" : sec.metrics[0];

    function columns(metrics) {
      const cols = [
        { key: "index", label: "#", get: (r) => r.index, cell: (r) => String(r.index + 1),
          cls: () => "num", headCls: "num", title: "position in the dataset split" },
        { key: "thumb", label: "Input", cell: (r) => thumbImg(r.rainy) },
        { key: "file", label: "Image", get: (r) => r.file },
      ];
      for (const m of metrics) {
        const tag = metrics.length > 1 ? " " + metricLabel(m) : "";
        for (const run of runs.filter((r) => hasMetric(r, m))) {
          const label = run.label + tag;
          cols.push({
            key: `r:${run.run}:${m}`, run: run.run, label, headCls: "num", firstDir: worstFirst(m),
            title: `${run.label}: ${metricLabel(m)} per image; click for worst first` +
              (run.outputs ? "; click a cell to view this method's output" : ""),
            get: (r) => num(r.scores[run.run] ? r.scores[run.run][m] : null),
            cls: (r) => "num" + (r.outputs[run.run] ? " viewable" : ""),
            cell: (r) => formatValue(r.scores[run.run] ? r.scores[run.run][m] : null, m),
          });
        }
        cols.push({
          key: "mean:" + m, label: "Mean" + (tag || " " + metricLabel(m)), headCls: "num",
          firstDir: worstFirst(m), title: `mean ${metricLabel(m)} over the runs above; click for worst first`,
          get: (r) => meanOf(runs.filter((run) => hasMetric(run, m))
            .map((run) => num(r.scores[run.run] ? r.scores[run.run][m] : null))),
          cls: () => "num",
          cell: (r) => {
            const v = meanOf(runs.filter((run) => hasMetric(run, m))
              .map((run) => num(r.scores[run.run] ? r.scores[run.run][m] : null)));
            return v === null ? "" : Number.isFinite(v) ? v.toFixed(METRICS[m].decimals) : "inf";
          },
        });
      }
      return cols;
    }

    const byId = new Map(sec.images.map((im) => [im.id, im]));
    const table = sortableTable({
      columns: columns(primary ? [primary] : []), rows: sec.images, className: "per-image",
      sort: primary ? { key: "mean:" + primary, dir: worstFirst(primary) } : null,
      rowAttrs: (r) => ({ "data-id": r.id, tabindex: "0" }),
      onRowClick: (tr, key) => {
        const run = key && key.startsWith("r:") ? key.slice(2, key.lastIndexOf(":")) : null;
        openViewer(sec.id, tr.dataset.id, run);
      },
    });
    TABLES.set(sec.id, table);

    const select = h("select", { "data-section": sec.id, "data-role": "metric" });
    for (const m of sec.metrics) select.append(h("option", { value: m }, metricLabel(m)));
    if (sec.metrics.length > 1) select.append(h("option", { value: "*" }, "all metrics"));
    if (primary) select.value = primary;
    const protocolSelect = h("select", { "data-section": sec.id, "data-role": "protocol" },
      protocols.map((p) => h("option", { value: p }, p)));
    function update() {
      runs = all.filter((r) => r.protocol === protocolSelect.value);
      const ms = select.value === "*" ? sec.metrics : [select.value];
      const cols = columns(ms);
      const sortKey = table.state.sort && table.state.sort.key;
      const keep = sortKey && cols.some((c) => c.key === sortKey);
      table.setColumns(cols, keep ? table.state.sort : { key: "mean:" + ms[0], dir: worstFirst(ms[0]) });
    }
    select.addEventListener("change", update);
    protocolSelect.addEventListener("change", update);

    const withOutputs = all.filter((r) => r.outputs).length;
    const info = `${sec.images.length} images \u00b7 ${all.length} run${all.length === 1 ? "" : "s"}` +
      ` (${withOutputs} with images) \u00b7 worst images first; click a row to compare images`;
    const section = h("section", { id: "sec-" + sec.id, class: "block", "data-section": sec.id }, [
      h("h2", {}, [sectionTitle(sec) + " ", h("small", {}, `split ${sec.split} \u00b7 ${sec.data_root}`)]),
      h("div", { class: "controls" }, [
        sec.metrics.length ? h("label", {}, ["Metric ", select]) : null,
        protocols.length > 1 ? h("label", { title: "runs scored with this protocol" },
          ["Protocol ", protocolSelect]) : null,
        h("span", { class: "muted" }, info),
      ]),
      sec.found ? null : h("p", { class: "note" }, "Dataset images not found: scores only (see Notes)."),
      h("div", { class: "table-wrap" }, table.table),
    ]);
    document.getElementById("sections").append(section);
    table.render();
    return byId;
  }

  // ---- viewer --------------------------------------------------------------------------

  const V = {
    root: document.getElementById("viewer"),
    sec: null, order: [], pos: 0, image: null, a: null, b: null, mode: "side",
    scale: 1, tx: 0, ty: 0, fitted: true, split: 0.5,
    img: { a: document.getElementById("v-img-a"), b: document.getElementById("v-img-b") },
    thumb: { a: new Image(), b: new Image() },
    canvas: { a: document.getElementById("v-canvas-a"), b: document.getElementById("v-canvas-b") },
    failed: { a: false, b: false },
  };
  const IMAGES = new Map(); // section id -> (image id -> image)

  function choices(image) {
    const out = [];
    if (image.rainy) out.push({ key: "rainy", label: "Rainy input", ref: image.rainy });
    if (image.clean) out.push({ key: "clean", label: "Ground truth", ref: image.clean });
    for (const id of V.sec.runs) {
      if (image.outputs[id]) out.push({ key: "run:" + id, run: id, label: runLabel(V.sec, id), ref: image.outputs[id] });
    }
    return out;
  }

  function choice(side) {
    return choices(V.image).find((c) => c.key === V[side]) || null;
  }

  function pickDefaults(prefer) {
    const list = choices(V.image);
    const keys = list.map((c) => c.key);
    const has = (k) => k && keys.includes(k);
    const methods = list.filter((c) => c.run);
    const notInput = methods.filter((c) => RUNS.get(c.run).method !== "input");
    let a = has("run:" + prefer) ? "run:" + prefer : has(V.a) ? V.a :
      (notInput[0] || methods[0] || list[0] || {}).key;
    let b = has(V.b) && V.b !== a ? V.b : has("clean") && a !== "clean" ? "clean" :
      (list.find((c) => c.key !== a) || {}).key;
    V.a = a || null;
    V.b = b || null;
  }

  function openViewer(secId, imageId, preferRun) {
    V.sec = SECTIONS.get(secId);
    V.order = TABLES.get(secId).ordered().map((r) => r.id);
    if (V.sec !== V.lastSec) { V.a = null; V.b = null; V.lastSec = V.sec; }
    V.root.hidden = false;
    document.body.style.overflow = "hidden";
    const sel = document.getElementById("v-image");
    sel.replaceChildren(...V.order.map((id) => h("option", { value: id }, IMAGES.get(secId).get(id).file)));
    show(Math.max(0, V.order.indexOf(imageId)), preferRun);
  }

  function closeViewer() {
    V.root.hidden = true;
    document.body.style.overflow = "";
  }

  function show(pos, preferRun) {
    V.pos = (pos + V.order.length) % V.order.length;
    V.image = IMAGES.get(V.sec.id).get(V.order[V.pos]);
    document.getElementById("v-image").value = V.image.id;
    pickDefaults(preferRun);
    V.fitted = true;
    refresh();
  }

  function refresh() {
    for (const side of ["a", "b"]) {
      const sel = document.getElementById("v-" + side);
      sel.replaceChildren(...choices(V.image).map((c) => h("option", { value: c.key }, c.label)));
      sel.value = V[side] || "";
      const c = choice(side);
      V.failed[side] = false;
      const src = c ? c.ref.src : "";
      if (V.img[side].getAttribute("src") !== src) {
        if (src) V.img[side].src = src; else V.img[side].removeAttribute("src");
      }
      const thumb = c && c.ref.thumb ? c.ref.thumb : "";
      if (V.thumb[side].getAttribute("src") !== thumb && thumb) V.thumb[side].src = thumb;
    }
    strip();
    captions();
    requestAnimationFrame(() => { if (V.fitted) fit(); draw(); });
  }

  function captions() {
    for (const side of ["a", "b"]) {
      const cap = document.getElementById("cap-" + side);
      const c = choice(side);
      if (!c) { cap.replaceChildren(h("span", { class: "muted" }, "nothing to show")); continue; }
      const parts = [h("b", {}, (side === "a" ? "Left: " : "Right: ") + c.label)];
      if (c.run) {
        const scores = V.image.scores[c.run] || {};
        const text = V.sec.metrics.filter((m) => m in scores)
          .map((m) => `${METRICS[m].block === "Rain map" ? "rain-map " : ""}${METRICS[m].label} ${formatValue(scores[m], m)}`)
          .join(" \u00b7 ");
        if (text) parts.push(" \u2014 " + text);
      }
      if (c.ref.w) parts.push(h("span", { class: "muted" }, ` \u00b7 ${c.ref.w}\u00d7${c.ref.h}`));
      parts.push(h("a", { href: c.ref.src, target: "_blank", rel: "noopener" }, "full size"));
      if (V.failed[side]) parts.push(h("span", { class: "err" }, ` \u2014 could not load ${decodeURI(c.ref.src)}`));
      cap.replaceChildren(...parts);
    }
  }

  function strip() {
    const box = document.getElementById("v-strip");
    box.replaceChildren(...choices(V.image).map((c) => {
      const cls = [c.key === V.a && "is-a", c.key === V.b && "is-b"].filter(Boolean).join(" ");
      return h("button", {
        type: "button", class: cls || null, title: c.label + " (click: right, Shift+click: left)",
        onclick: (e) => { if (e.shiftKey) V.a = c.key; else V.b = c.key; refresh(); },
      }, [c.ref.thumb ? h("img", { src: c.ref.thumb, alt: "" }) : null, h("span", {}, c.label)]);
    }));
  }

  function size() {
    for (const side of ["a", "b"]) {
      const c = choice(side);
      if (c && c.ref.w) return [c.ref.w, c.ref.h];
      const img = V.img[side];
      if (c && img.naturalWidth) return [c.ref.crop ? img.naturalWidth / 2 : img.naturalWidth, img.naturalHeight];
    }
    return null;
  }

  function stageCanvas() {
    return V.canvas.a;
  }

  function fit() {
    const s = size();
    const cv = stageCanvas();
    if (!s || !cv.clientWidth) return;
    V.scale = Math.min(cv.clientWidth / s[0], cv.clientHeight / s[1]);
    V.tx = (cv.clientWidth - s[0] * V.scale) / 2;
    V.ty = (cv.clientHeight - s[1] * V.scale) / 2;
    V.fitted = true;
  }

  function zoomAt(factor, mx, my) {
    const next = Math.min(64, Math.max(0.02, V.scale * factor));
    const f = next / V.scale;
    V.tx = mx - (mx - V.tx) * f;
    V.ty = my - (my - V.ty) * f;
    V.scale = next;
    V.fitted = false;
    draw();
  }

  function source(side) {
    const img = V.img[side];
    if (img.getAttribute("src") && img.complete && img.naturalWidth) return img;
    const t = V.thumb[side];
    if (t.getAttribute("src") && t.complete && t.naturalWidth) return t;
    return null;
  }

  function paint(ctx, side, dpr, s, clip) {
    const c = choice(side);
    const el = c && source(side);
    if (!el) return;
    ctx.save();
    if (clip) { ctx.beginPath(); ctx.rect(clip[0] * dpr, 0, (clip[1] - clip[0]) * dpr, ctx.canvas.height); ctx.clip(); }
    ctx.setTransform(dpr * V.scale, 0, 0, dpr * V.scale, dpr * V.tx, dpr * V.ty);
    ctx.imageSmoothingEnabled = V.scale < 1 || el !== V.img[side];
    const nw = el.naturalWidth;
    const crop = el === V.img[side] ? c.ref.crop : null; // thumbnails are already cropped
    const sx = crop === "right" ? nw / 2 : 0;
    const sw = crop ? nw / 2 : nw;
    ctx.drawImage(el, sx, 0, sw, el.naturalHeight, 0, 0, s[0], s[1]);
    ctx.restore();
  }

  function prepare(cv) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(cv.clientWidth * dpr));
    const hgt = Math.max(1, Math.round(cv.clientHeight * dpr));
    if (cv.width !== w || cv.height !== hgt) { cv.width = w; cv.height = hgt; }
    const ctx = cv.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#0d1013";
    ctx.fillRect(0, 0, cv.width, cv.height);
    return [ctx, dpr];
  }

  function label(ctx, text, x, y, align, color) {
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = align;
    const w = ctx.measureText(text).width + 10;
    ctx.fillStyle = "rgba(0,0,0,0.6)";
    ctx.fillRect(align === "left" ? x : x - w, y, w, 18);
    ctx.fillStyle = color;
    ctx.fillText(text, align === "left" ? x + 5 : x - 5, y + 13);
  }

  function draw() {
    if (V.root.hidden) return;
    const s = size();
    document.getElementById("v-zoom").textContent = s ? Math.round(V.scale * 100) + "%" : "loading\u2026";
    if (V.mode === "side") {
      for (const side of ["a", "b"]) {
        const [ctx, dpr] = prepare(V.canvas[side]);
        if (s) paint(ctx, side, dpr, s, null);
      }
      return;
    }
    const cv = V.canvas.a;
    const [ctx, dpr] = prepare(cv);
    const x = V.split * cv.clientWidth;
    if (s) {
      paint(ctx, "a", dpr, s, [0, x]);
      paint(ctx, "b", dpr, s, [x, cv.clientWidth]);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(x - 1, 0, 2, cv.clientHeight);
    const a = choice("a");
    const b = choice("b");
    if (a) label(ctx, a.label, 6, 6, "left", "#8cb8ff");
    if (b) label(ctx, b.label, cv.clientWidth - 6, 6, "right", "#ffb08c");
  }

  function setMode(mode) {
    const [cx, cy] = centre(); // keep the image point at the centre of the view there
    const px = (cx - V.tx) / V.scale;
    const py = (cy - V.ty) / V.scale;
    V.mode = mode;
    V.root.classList.toggle("slider", mode === "slider");
    for (const b of V.root.querySelectorAll(".seg button")) b.classList.toggle("on", b.dataset.mode === mode);
    requestAnimationFrame(() => {
      if (V.fitted) fit();
      else {
        const [nx, ny] = centre();
        V.tx = nx - px * V.scale;
        V.ty = ny - py * V.scale;
      }
      draw();
    });
  }

  function nearDivider(cv, x) {
    return V.mode === "slider" && Math.abs(x - V.split * cv.clientWidth) < 8;
  }

  function bindCanvas(cv) {
    let drag = null;
    cv.addEventListener("pointerdown", (e) => {
      cv.setPointerCapture(e.pointerId);
      drag = { x: e.clientX, y: e.clientY, divider: nearDivider(cv, e.offsetX) };
      cv.classList.add("dragging");
    });
    cv.addEventListener("pointermove", (e) => {
      if (!drag) { cv.classList.toggle("at-divider", nearDivider(cv, e.offsetX)); return; }
      if (drag.divider) {
        V.split = Math.min(1, Math.max(0, e.offsetX / cv.clientWidth));
      } else {
        V.tx += e.clientX - drag.x;
        V.ty += e.clientY - drag.y;
        V.fitted = false;
      }
      drag.x = e.clientX;
      drag.y = e.clientY;
      draw();
    });
    const end = () => { drag = null; cv.classList.remove("dragging"); };
    cv.addEventListener("pointerup", end);
    cv.addEventListener("pointercancel", end);
    cv.addEventListener("wheel", (e) => {
      e.preventDefault();
      zoomAt(Math.exp(-e.deltaY * 0.0015), e.offsetX, e.offsetY);
    }, { passive: false });
    cv.addEventListener("dblclick", () => { fit(); draw(); });
  }

  function centre() {
    const cv = stageCanvas();
    return [cv.clientWidth / 2, cv.clientHeight / 2];
  }

  function bindViewer() {
    for (const side of ["a", "b"]) {
      for (const el of [V.img[side], V.thumb[side]]) {
        el.addEventListener("load", () => { if (V.fitted) fit(); draw(); captions(); });
      }
      V.img[side].addEventListener("error", () => {
        if (!V.img[side].getAttribute("src")) return;
        V.failed[side] = true;
        captions();
      });
      document.getElementById("v-" + side).addEventListener("change", (e) => { V[side] = e.target.value; refresh(); });
      bindCanvas(V.canvas[side]);
    }
    document.getElementById("v-image").addEventListener("change", (e) => show(V.order.indexOf(e.target.value)));
    document.getElementById("v-prev").addEventListener("click", () => show(V.pos - 1));
    document.getElementById("v-next").addEventListener("click", () => show(V.pos + 1));
    document.getElementById("v-swap").addEventListener("click", () => { [V.a, V.b] = [V.b, V.a]; refresh(); });
    document.getElementById("v-close").addEventListener("click", closeViewer);
    document.getElementById("v-fit").addEventListener("click", () => { fit(); draw(); });
    document.getElementById("v-one").addEventListener("click", () => { const [x, y] = centre(); zoomAt(1 / V.scale, x, y); });
    document.getElementById("v-in").addEventListener("click", () => { const [x, y] = centre(); zoomAt(1.25, x, y); });
    document.getElementById("v-out").addEventListener("click", () => { const [x, y] = centre(); zoomAt(0.8, x, y); });
    for (const b of V.root.querySelectorAll(".seg button")) b.addEventListener("click", () => setMode(b.dataset.mode));
    window.addEventListener("resize", () => { if (V.fitted) fit(); draw(); });
    document.addEventListener("keydown", (e) => {
      if (V.root.hidden || e.target.tagName === "SELECT") return;
      const [x, y] = centre();
      const actions = {
        Escape: closeViewer, ArrowLeft: () => show(V.pos - 1), ArrowRight: () => show(V.pos + 1),
        f: () => { fit(); draw(); }, 1: () => zoomAt(1 / V.scale, x, y), "+": () => zoomAt(1.25, x, y),
        "=": () => zoomAt(1.25, x, y), "-": () => zoomAt(0.8, x, y),
        m: () => setMode(V.mode === "side" ? "slider" : "side"),
      };
      if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
    });
  }

  // ---- start ---------------------------------------------------------------------------

  summary();
  leaderboard();
  for (const sec of DATA.sections) IMAGES.set(sec.id, sectionView(sec));
  bindViewer();
  window.benchmarkReport = { openViewer, closeViewer, setMode, state: V };
})();
