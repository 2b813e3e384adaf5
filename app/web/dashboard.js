/* opstats dashboard: a client of the public JSON API (/api/v1) only; no framework, no CDN.
 * Every figure is a focusable element with data-value-base and data-result-id(s); activating it
 * opens the verbatim quote of each result it is made of. Changes are followed by polling
 * /api/v1/totals with If-None-Match (the ETag comes from the data version every write bumps). */
"use strict";

(function () {
  const API = "/api/v1";
  const QUAL = {
    exact: "", more_than: "more than", at_least: "at least", about: "about", almost: "almost",
    up_to: "up to", less_than: "less than", mixed: "",
  };
  const LOWER = new Set(["more_than", "at_least"]);
  const UPPER = new Set(["up_to", "less_than", "almost"]);

  const state = {
    cache: new Map(),        // url -> {etag, data}
    results: new Map(),      // result id -> result (from any list or single fetch)
    operations: [], phases: [], metrics: new Map(), allResults: [],
    pageCursors: [null], pageIndex: 0, citeAvailable: null, lastTrigger: null, lastWhere: null,
  };

  /* ---------- fetching with manual ETag handling ---------- */

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || `HTTP ${status}`);
      this.status = status;
    }
  }

  async function api(url) {
    const held = state.cache.get(url);
    const headers = { Accept: "application/json" };
    if (held) headers["If-None-Match"] = held.etag;
    const res = await fetch(url, { cache: "no-store", headers });
    if (res.status === 304 && held) return { data: held.data, changed: false };
    if (!res.ok) {
      let problem = null;
      try { problem = await res.json(); } catch (_) { problem = null; }
      throw new ApiError(res.status, problem);
    }
    const data = await res.json();
    const etag = res.headers.get("ETag");
    if (etag) state.cache.set(url, { etag, data });
    return { data, changed: true };
  }

  async function apiData(url) { return (await api(url)).data; }

  function remember(items) { for (const r of items) state.results.set(r.id, r); }

  /* ---------- small DOM and text helpers ---------- */

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const $ = (id) => document.getElementById(id);
  const lowerFirst = (s) => (s ? s.charAt(0).toLowerCase() + s.slice(1) : s);

  function num(v) {
    if (v >= 1e6) return `${trimNum(v / 1e6)} million`;
    return v.toLocaleString("en-GB", { maximumFractionDigits: 2 });
  }
  function trimNum(v) { return v.toLocaleString("en-GB", { maximumFractionDigits: 2 }); }

  function amountBase(valueBase, baseUnit) {
    if (baseUnit === "kg" && valueBase >= 1000) return `${num(valueBase / 1000)} t`;
    if (baseUnit === "count") return num(valueBase);
    return `${num(valueBase)} ${baseUnit}`;
  }
  function amountStated(value, unit) { return unit === "count" ? num(value) : `${num(value)} ${unit}`; }

  function withQual(q, amount) { return QUAL[q] ? `${QUAL[q]} ${amount}` : amount; }

  /** "more than 427 t of drugs seized (all kinds)" / "about 4,000 criminal cases opened". */
  function phrase(q, amount, metricSlug) {
    const m = state.metrics.get(metricSlug);
    const what = lowerFirst(m ? m.label : metricSlug.replace(/_/g, " "));
    const a = withQual(q, amount);
    return m && m.dimension !== "count" ? `${a} of ${what}` : `${a} ${what}`;
  }

  function fmtDate(iso) {
    if (!iso) return "date not stated";
    const parts = String(iso).split("-");
    const opts = { year: "numeric", timeZone: "UTC" };
    if (parts.length >= 2) opts.month = "short";
    if (parts.length >= 3) opts.day = "numeric";
    const d = new Date(Date.UTC(+parts[0], (+parts[1] || 1) - 1, +parts[2] || 1));
    return d.toLocaleDateString("en-GB", opts);
  }

  function boundOf(q) {
    if (q === "exact") return [true, true];
    return [LOWER.has(q), UPPER.has(q)];
  }

  function boundBadge(lower, upper, q) {
    if (lower && upper) return el("span", { class: "badge exact", text: "exact" });
    if (lower) return el("span", { class: "badge lower", text: "lower bound", title: "The true figure is at least this" });
    if (upper) return el("span", { class: "badge upper", text: "upper bound", title: "The true figure is at most this" });
    return el("span", { class: "badge approx", text: q === "mixed" ? "neither bound" : "approximate" });
  }

  /** A figure: a button naming the results it is made of (one id, or the ids of a sum). */
  function figure(text, valueBase, ids, extraClass) {
    const attrs = { type: "button", class: `fig ${extraClass || ""}`.trim(), "data-value-base": valueBase, "aria-haspopup": "dialog" };
    if (ids.length === 1) attrs["data-result-id"] = ids[0];
    else attrs["data-result-ids"] = ids.join(" ");
    return el("button", attrs, text);
  }

  function phaseName(slug) {
    const p = state.phases.find((x) => x.slug === slug);
    if (!p) return slug;
    const year = p.start_date ? p.start_date.slice(0, 4) : "";
    return year && !p.name.includes(year) ? `${p.name} ${year}` : p.name;
  }
  function opName(slug) {
    const o = state.operations.find((x) => x.slug === slug);
    return o ? o.name : slug || "CSTO-wide";
  }

  function setStatus(text) { $("status").textContent = text; }

  /* ---------- operations and their totals ---------- */

  function renderOperations(totals) {
    const byOp = new Map(totals.operations.map((t) => [t.operation, t]));
    const cards = state.operations.map((op) => operationCard(op, byOp.get(op.slug)));
    $("operation-cards").replaceChildren(...cards);
    const keys = state.operations.flatMap((op) => {
      const t = byOp.get(op.slug);
      const m = t && t.metrics.find((x) => x.cumulative);
      if (!m) return [];
      const since = op.started && op.started.year ? ` since ${op.started.year}` : "";
      const c = m.cumulative;
      return [el("li", {}, el("span", { class: "key-op" }, op.name),
        figure(phrase(c.qualifier, amountStated(c.value, c.unit), m.metric) + since, c.value_base, [c.result_id], "big"),
        el("span", { class: "sub" }, boundBadge(...boundOf(c.qualifier), c.qualifier), ` stated ${fmtDate(c.as_of)}`))];
    });
    const sources = new Set(state.allResults.map((r) => r.source.id)).size;
    $("key-list").replaceChildren(...keys);
    $("key-count").textContent = `${state.allResults.length} figures from ${sources} source documents, each with the sentence that states it.`;
    const prog = totals.programme.metrics.filter((m) => m.cumulative);
    $("programme-list").replaceChildren(
      ...prog.map((m) => headlineItem(m, m.cumulative, "")),
    );
  }

  function operationCard(op, totals) {
    const aliases = op.aliases
      .filter((a) => a.alias !== op.name && a.alias !== op.name_ru)
      .map((a, i) => [i ? ", " : "", el("span", { lang: a.language === "ru" ? "ru" : null }, a.alias)]);
    const metrics = totals ? totals.metrics : [];
    const running = metrics.filter((m) => m.cumulative);
    const sums = metrics.filter((m) => m.phase_sum);
    const since = op.started && op.started.year ? ` since ${op.started.year}` : "";
    const card = el("article", { class: `card op-${op.slug}`, "aria-labelledby": `op-${op.slug}` },
      el("h3", { id: `op-${op.slug}` }, op.name, op.name_ru ? el("span", { class: "ru", lang: "ru" }, ` ${op.name_ru}`) : null),
      el("dl", { class: "meta" },
        el("dt", {}, "Also written"), el("dd", {}, aliases.length ? aliases : "—"),
        el("dt", {}, "Started"), el("dd", { title: op.started.basis || "" }, op.started.year ? String(op.started.year) : "not stated"),
        el("dt", {}, "Status"), el("dd", {}, op.status)),
      el("p", { class: "purpose" }, op.purpose));
    if (!running.length && !sums.length) {
      card.append(el("p", { class: "empty" }, "No figures for this operation in the stored sources yet."));
      return card;
    }
    if (running.length) {
      card.append(el("h4", {}, "Running totals"),
        el("ul", { class: "headline" }, running.map((m) => headlineItem(m, m.cumulative, since))));
    }
    if (sums.length) {
      const n = new Set(sums.flatMap((m) => m.phase_sum.per_phase.map((p) => p.phase))).size;
      card.append(el("h4", {}, `From phase reports (${n} ${n === 1 ? "phase" : "phases"})`),
        el("ul", { class: "sums" }, sums.map(sumItem)));
    }
    const apart = metrics.filter((m) => !m.phase_sum && !m.cumulative && m.country_shares.length);
    if (apart.length) {
      card.append(el("h4", {}, "Countries' shares (listed, never added)"),
        el("ul", { class: "sums" }, apart.flatMap((m) => m.country_shares.map((c) => el("li", {},
          figure(`${c.country}: ${phrase(c.qualifier, amountStated(c.value, c.unit), m.metric)}`, c.value_base, [c.result_id]),
          el("span", { class: "sub" }, boundBadge(...boundOf(c.qualifier), c.qualifier), ` in ${phaseName(c.phase)}`))))));
    }
    return card;
  }

  function headlineItem(metric, c, since) {
    const [lower, upper] = boundOf(c.qualifier);
    const text = phrase(c.qualifier, amountStated(c.value, c.unit), metric.metric) + since;
    const earlier = c.earlier_total ? el("span", { class: "small" }, ` · ${c.earlier_total} earlier report${c.earlier_total > 1 ? "s" : ""}`) : null;
    return el("li", {},
      figure(text, c.value_base, [c.result_id], "big"),
      el("span", { class: "sub" }, boundBadge(lower, upper, c.qualifier), ` stated ${fmtDate(c.as_of)}`, earlier));
  }

  function sumItem(m) {
    const s = m.phase_sum;
    const text = phrase(s.qualifier, amountBase(s.value_base, s.base_unit), m.metric);
    const parts = s.per_phase.map((p) => el("li", {},
      figure(`${phaseName(p.phase)}: ${withQual(p.qualifier, amountStated(p.value, p.unit))}`, p.value_base, [p.result_id])));
    const notes = [];
    for (const d of m.disagreements) {
      const others = d.reports.filter((r) => r.result_id !== d.used_result_id);
      notes.push(el("li", { class: "note" }, "Also reported, not counted again: ",
        others.map((r, i) => [i ? ", " : "", figure(withQual(r.qualifier, amountStated(r.value, r.unit)), r.value_base, [r.result_id], "inline")])));
    }
    if (m.country_shares.length) notes.push(el("li", { class: "note" }, shareList(m)));
    const label = s.result_ids.length === 1 ? "made of 1 result" : `made of ${s.result_ids.length} results`;
    const from = s.phases === 1 ? ` from ${phaseName(s.per_phase[0].phase)}` : ` summed over ${s.phases} phases: ${s.qualifier_note}`;
    return el("li", {},
      figure(text, s.value_base, s.result_ids),
      el("span", { class: "sub" }, boundBadge(s.lower_bound, s.upper_bound, s.qualifier), from),
      el("details", {}, el("summary", {}, label), el("ul", { class: "parts" }, parts, notes)));
  }

  function shareList(m) {
    return ["Countries' shares, listed, never added: ",
      m.country_shares.map((c, i) => [i ? ", " : "",
        figure(`${c.country}: ${phrase(c.qualifier, amountStated(c.value, c.unit), m.metric)}`, c.value_base, [c.result_id], "inline")])];
  }

  /* ---------- timeline ---------- */

  function renderTimeline() {
    const counts = new Map();
    for (const r of state.allResults) if (r.phase) counts.set(r.phase, (counts.get(r.phase) || 0) + 1);
    const sorted = [...state.phases].sort((a, b) =>
      (a.start_date || "9999").localeCompare(b.start_date || "9999") || a.slug.localeCompare(b.slug));
    $("timeline-list").replaceChildren(...sorted.map((p) => {
      const when = p.start_date
        ? (p.end_date && p.end_date !== p.start_date ? `${fmtDate(p.start_date)} – ${fmtDate(p.end_date)}` : fmtDate(p.start_date))
        : "dates not stated";
      const n = counts.get(p.slug) || 0;
      return el("li", { class: p.start_date ? "" : "undated" },
        el("span", { class: "when" }, when),
        el("span", { class: "what" }, el("strong", {}, p.name), ` — ${opName(p.operation)}${p.kind ? `, ${p.kind}` : ""}`),
        p.headquarters ? el("span", { class: "small" }, `Headquarters: ${p.headquarters}`) : null,
        el("span", { class: "small" }, n ? `${n} figure${n > 1 ? "s" : ""} reported` : "no figures reported"));
    }));
  }

  /* ---------- one phase by metric ---------- */

  function phaseRows() {
    const phase = $("phase-select").value;
    return state.allResults.filter((r) => r.phase === phase && r.scope === "phase" && !r.country && !r.duplicate_of);
  }

  function fillPhaseControls() {
    const counts = new Map();
    for (const r of state.allResults) if (r.phase && r.scope === "phase") counts.set(r.phase, (counts.get(r.phase) || 0) + 1);
    const withData = state.phases.filter((p) => counts.has(p.slug));
    const sel = $("phase-select");
    const keep = sel.value;
    sel.replaceChildren(...withData.map((p) => el("option", { value: p.slug }, phaseName(p.slug))));
    if (keep && counts.has(keep)) sel.value = keep;
    else if (withData.length) sel.value = withData.reduce((a, b) => (counts.get(b.slug) > counts.get(a.slug) ? b : a)).slug;
    fillUnits();
  }

  function fillUnits() {
    const units = new Map();
    for (const r of phaseRows()) units.set(r.base_unit, (units.get(r.base_unit) || 0) + 1);
    const sel = $("phase-unit");
    const keep = sel.value;
    const names = { kg: "mass (kg, t)", count: "counts" };
    sel.replaceChildren(...[...units.keys()].map((u) => el("option", { value: u }, names[u] || u)));
    if (units.has(keep)) sel.value = keep;
    else if (units.has("kg")) sel.value = "kg";
  }

  function renderPhaseChart() {
    const unit = $("phase-unit").value;
    const rows = phaseRows().filter((r) => r.base_unit === unit).sort((a, b) => b.value_base - a.value_base);
    const max = Math.max(1, ...rows.map((r) => r.value_base));
    const phase = $("phase-select").value;
    $("phase-csv").href = `${API}/results?phase=${encodeURIComponent(phase)}&scope=phase&format=csv`;
    if (!rows.length) {
      $("phase-bars").replaceChildren(el("p", { class: "empty" }, "No whole-phase figures for this phase."));
      return;
    }
    const list = el("ul", { class: "bar-list", "aria-label": `${phaseName(phase)}: results by metric, in ${unit}` });
    for (const r of rows) {
      const m = state.metrics.get(r.metric);
      const fill = el("span", { class: `fill ${LOWER.has(r.qualifier) ? "lower" : ""}` });
      fill.style.width = `${Math.max(0.8, (100 * r.value_base) / max)}%`;
      const btn = figure("", r.value_base, [r.id], "bar");
      btn.append(el("span", { class: "bar-label" }, m ? m.label : r.metric),
        el("span", { class: "track", "aria-hidden": "true" }, fill),
        el("span", { class: "bar-value" }, withQual(r.qualifier, amountStated(r.value, r.unit))));
      list.append(el("li", {}, btn));
    }
    const legend = el("p", { class: "small" }, "Bars in one unit (", unit, "). A bar with an open end is a \"more than\" figure: the true value is higher. Country shares and repeated reports are left out.");
    $("phase-bars").replaceChildren(list, legend);
  }

  /* ---------- series ---------- */

  function fillSeriesControls() {
    const present = new Set(state.allResults.map((r) => r.metric));
    const mSel = $("series-metric");
    const keepM = mSel.value || "drugs_seized";
    mSel.replaceChildren(...[...state.metrics.values()].filter((m) => present.has(m.slug))
      .map((m) => el("option", { value: m.slug }, m.label)));
    if (present.has(keepM)) mSel.value = keepM;
    const oSel = $("series-operation");
    const keepO = oSel.value || "channel";
    oSel.replaceChildren(el("option", { value: "" }, "all operations"),
      ...state.operations.map((o) => el("option", { value: o.slug }, o.name)));
    oSel.value = keepO;
  }

  async function renderSeries() {
    const metric = $("series-metric").value;
    const scope = $("series-scope").value;
    const operation = scope === "programme" ? "" : $("series-operation").value;
    const box = $("series-chart");
    if (!metric) { box.replaceChildren(); return; }
    if (scope === "cumulative" && !operation) {
      box.replaceChildren(el("p", { class: "empty" }, "A running total is one operation's: choose an operation."));
      return;
    }
    const params = new URLSearchParams({ metric, scope, by: "year" });
    if (operation) params.set("operation", operation);
    $("series-csv").href = `${API}/series?${params}&format=csv`;
    const data = await apiData(`${API}/series?${params}`);
    drawSeries(box, data);
  }

  function drawSeries(box, data) {
    const pts = data.points;
    if (!pts.length) {
      box.replaceChildren(el("p", { class: "empty" }, "No figures of this kind for this choice."));
      return;
    }
    const NS = "http://www.w3.org/2000/svg";
    const svgEl = (tag, attrs, ...kids) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
      n.append(...kids);
      return n;
    };
    const W = Math.max(260, Math.min((box.clientWidth || 600) - 26, 1200));
    const H = 240, top = 28, bottom = 36, left = 8;
    const max = Math.max(...pts.map((p) => p.value_base)) || 1;
    const slot = (W - left * 2) / pts.length;
    const bw = Math.min(90, slot * 0.6);
    const m = state.metrics.get(data.metric);
    const title = `${m ? m.label : data.metric}${data.operation ? `, ${opName(data.operation)}` : ""}, per year`;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "group", "aria-label": title, class: "series-svg" });
    svg.append(svgEl("line", { x1: left, x2: W - left, y1: H - bottom, y2: H - bottom, class: "axis" }));
    pts.forEach((p, i) => {
      const h = Math.max(2, ((H - top - bottom) * p.value_base) / max);
      const x = left + slot * i + (slot - bw) / 2;
      const y = H - bottom - h;
      const words = withQual(p.qualifier, amountBase(p.value_base, p.base_unit));
      const how = data.scope === "phase" ? ` from ${p.phases} phase${p.phases === 1 ? "" : "s"}` : " (running total)";
      const g = svgEl("g", {
        class: `pt fig ${p.lower_bound && !p.upper_bound ? "lower" : ""}`, tabindex: 0, role: "button",
        "aria-haspopup": "dialog", "data-value-base": p.value_base,
      });
      g.setAttribute(p.result_ids.length === 1 ? "data-result-id" : "data-result-ids", p.result_ids.join(" "));
      // The name (the <title>) begins with the visible text, year then amount, in the same order.
      g.append(svgEl("title", {}, `${p.period} ${words}${how}`), svgEl("rect", { x, y, width: bw, height: h, rx: 3 }),
        svgEl("text", { x: x + bw / 2, y: H - bottom + 20, "text-anchor": "middle", class: "period" }, `${p.period}\u00a0`),
        svgEl("text", { x: x + bw / 2, y: y - 8, "text-anchor": "middle", class: "val" }, words));
      svg.append(g);
    });
    const note = pts.length < 2
      ? el("p", { class: "small" }, `Only one year (${pts[0].period}) is reported so far for this choice; more bars appear as new reports are added.`)
      : null;
    box.replaceChildren(svg, note);
  }

  /* ---------- results table ---------- */

  function fillFilterSelects() {
    const fill = (id, items, valueOf, labelOf) => {
      const sel = $(id);
      const keep = sel.value;
      sel.replaceChildren(el("option", { value: "" }, "any"), ...items.map((x) => el("option", { value: valueOf(x) }, labelOf(x))));
      sel.value = keep;
    };
    fill("f-operation", state.operations, (o) => o.slug, (o) => o.name);
    fill("f-phase", state.phases, (p) => p.slug, (p) => phaseName(p.slug));
    fill("f-metric", [...state.metrics.values()], (m) => m.slug, (m) => m.label);
  }

  function filterParams() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData($("results-form"))) if (String(v).trim()) params.set(k, String(v).trim());
    return params;
  }

  async function loadResults() {
    const params = filterParams();
    const cursor = state.pageCursors[state.pageIndex];
    if (cursor) params.set("cursor", cursor);
    const csv = filterParams(); csv.delete("limit"); csv.set("format", "csv");
    $("results-csv").href = `${API}/results?${csv}`;
    $("results-json").href = `${API}/results?${params}`;
    const err = $("results-error");
    let page;
    try {
      page = await apiData(`${API}/results?${params}`);
    } catch (e) {
      err.hidden = false;
      err.textContent = `The API refused these filters: ${e.message}`;
      return;
    }
    err.hidden = true;
    remember(page.items);
    $("results-body").replaceChildren(...page.items.map(resultRow));
    const limit = Number(params.get("limit") || 50);
    const first = state.pageIndex * limit + 1;
    $("results-count").textContent = page.total
      ? `${page.total} result${page.total === 1 ? "" : "s"} match; showing ${first}–${first + page.items.length - 1}.`
      : "No result matches these filters.";
    $("page-label").textContent = page.total ? `page ${state.pageIndex + 1} of ${Math.max(1, Math.ceil(page.total / limit))}` : "";
    state.pageCursors[state.pageIndex + 1] = page.next_cursor;
    $("next-page").disabled = !page.next_cursor;
    $("prev-page").disabled = state.pageIndex === 0;
  }

  function resultRow(r) {
    const m = state.metrics.get(r.metric);
    const where = [r.operation ? opName(r.operation) : "CSTO-wide", r.phase ? phaseName(r.phase) : null].filter(Boolean).join(" · ");
    const scope = r.scope === "programme" ? "organisation-wide" : r.scope;
    return el("tr", {},
      el("td", { "data-label": "Figure" }, figure(withQual(r.qualifier, amountStated(r.value, r.unit)), r.value_base, [r.id], "inline")),
      el("td", { "data-label": "Metric" }, m ? m.label : r.metric),
      el("td", { "data-label": "Operation" }, where),
      el("td", { "data-label": "Scope" }, r.country ? `${scope}, ${r.country}'s share` : scope),
      el("td", { "data-label": "Stated" }, fmtDate(r.as_of)),
      el("td", { "data-label": "Source" }, el("a", { href: `${API}/sources/${r.source.id}` }, r.source.title)));
  }

  /* ---------- the quote dialog ---------- */

  function numberOffset(r) {
    if (Number.isInteger(r.number_start)) {
      const at = r.number_start - r.quote_start;
      if (r.quote.slice(at, at + r.number_text.length) === r.number_text) return at;
    }
    const re = /[\d.,]/;
    let at = r.quote.indexOf(r.number_text);
    while (at >= 0) {
      const before = r.quote.charAt(at - 1), after = r.quote.charAt(at + r.number_text.length);
      if (!re.test(before) && !(/\d/.test(after))) return at;
      at = r.quote.indexOf(r.number_text, at + 1);
    }
    return -1;
  }

  async function citeAvailable() {
    if (state.citeAvailable === null) {
      try {
        const doc = await apiData("/openapi.json");
        state.citeAvailable = Boolean(doc.paths && doc.paths["/api/v1/results/{result_id}/cite"]);
      } catch (_) { state.citeAvailable = false; }
    }
    return state.citeAvailable;
  }

  function quoteBlock(r, cite) {
    const at = numberOffset(r);
    const q = at < 0 ? [r.quote] : [r.quote.slice(0, at), el("mark", {}, r.number_text), r.quote.slice(at + r.number_text.length)];
    const m = state.metrics.get(r.metric);
    const where = [r.operation ? opName(r.operation) : "CSTO-wide", r.phase ? phaseName(r.phase) : null, r.country ? `${r.country}'s share` : null].filter(Boolean).join(", ");
    const src = `${API}/sources/${r.source.id}`;
    return el("div", { class: "quote", "data-quote-for": r.id },
      el("p", { class: "q-figure" }, el("strong", {}, phrase(r.qualifier, amountStated(r.value, r.unit), r.metric)), ` — ${where}`,
        r.unit !== r.base_unit ? el("span", { class: "small" }, ` (= ${num(r.value_base)} ${r.base_unit === "count" ? "" : r.base_unit})`) : null),
      el("blockquote", { cite: src, lang: r.source.language || "en" }, el("p", {}, "“", ...q, "”")),
      el("p", { class: "q-source" }, "Source: ", el("cite", {}, r.source.title),
        r.source.published_on ? `, published ${fmtDate(r.source.published_on)}` : "",
        `; statement of ${fmtDate(r.as_of)}; characters ${r.quote_start}–${r.quote_end} of its text.`),
      el("p", { class: "q-links" },
        el("a", { href: src }, "Source text"), " · ",
        el("a", { href: `${API}/results/${encodeURIComponent(r.id)}` }, "This figure as JSON"),
        cite ? [" · ", el("a", { href: `${API}/results/${encodeURIComponent(r.id)}/cite?format=text` }, "Cite this")] : null));
  }

  async function openQuote(trigger) {
    const ids = (trigger.getAttribute("data-result-id") || trigger.getAttribute("data-result-ids") || "").split(/\s+/).filter(Boolean);
    if (!ids.length) return;
    const section = trigger.closest("section");
    state.lastTrigger = trigger;
    state.lastWhere = { section: section ? section.id : "", ids: ids.join(" ") };
    const body = $("quote-body");
    body.replaceChildren(el("p", {}, "Loading the quote…"));
    const dialog = $("quote-dialog");
    if (!dialog.open) dialog.showModal();
    try {
      const [cite, results] = await Promise.all([
        citeAvailable(),
        Promise.all(ids.map(async (id) => state.results.get(id) || apiData(`${API}/results/${encodeURIComponent(id)}`))),
      ]);
      remember(results);
      const lead = ids.length > 1
        ? el("p", { class: "small" }, `This figure is a sum of ${ids.length} results; each with its quote:`) : null;
      body.replaceChildren(...[lead, ...results.map((r) => quoteBlock(r, cite))].filter(Boolean));
    } catch (e) {
      body.replaceChildren(el("p", { class: "error" }, `The quote could not be loaded: ${e.message}`));
    }
  }

  function closeQuote() {
    const dialog = $("quote-dialog");
    if (dialog.open) dialog.close();
  }

  /* ---------- loading, refreshing, polling ---------- */

  /** Where keyboard focus is, as (section id, figure ids), so a redraw can put it back. */
  function focusedFigure() {
    const a = document.activeElement;
    if (!a || !a.closest || !a.closest(".fig")) return null;
    const fig = a.closest(".fig");
    const section = fig.closest("section");
    return { section: section ? section.id : "", ids: fig.getAttribute("data-result-id") || fig.getAttribute("data-result-ids") };
  }

  function refocus(where) {
    if (!where || document.activeElement !== document.body) return;
    const scope = where.section ? $(where.section) : document;
    const found = [...scope.querySelectorAll(".fig")].find((f) =>
      (f.getAttribute("data-result-id") || f.getAttribute("data-result-ids")) === where.ids);
    if (found) found.focus();
  }

  async function loadAll() {
    const where = focusedFigure();
    const [ops, phases, metrics, totals, all] = await Promise.all([
      apiData(`${API}/operations`), apiData(`${API}/phases`), apiData(`${API}/metrics`),
      apiData(`${API}/totals`), apiData(`${API}/results?limit=500`),
    ]);
    state.operations = ops.items;
    state.phases = phases.items;
    state.metrics = new Map(metrics.items.map((m) => [m.slug, m]));
    state.allResults = all.items;
    remember(all.items);
    renderOperations(totals);
    renderTimeline();
    fillPhaseControls();
    renderPhaseChart();
    fillSeriesControls();
    fillFilterSelects();
    await Promise.all([renderSeries(), loadResults()]);
    refocus(where);
    document.body.setAttribute("data-loaded", "true");
  }

  function clock() { return new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }

  function pollSeconds() {
    const override = Number(window.opstatsPollSeconds);
    if (override > 0) return override;
    const meta = document.querySelector('meta[name="opstats-poll-seconds"]');
    return Math.max(1, Number(meta && meta.content) || 15);
  }

  async function poll() {
    if (document.hidden) return;
    try {
      const { changed } = await api(`${API}/totals`);
      if (changed) {
        state.results.clear();
        await loadAll();
        setStatus(`Updated at ${clock()}: the figures changed and are shown as they are now.`);
      }
    } catch (e) {
      setStatus(`Could not reach the API at ${clock()} (${e.message}); trying again.`);
    }
  }

  function schedule() {
    window.setTimeout(async () => { await poll(); schedule(); }, pollSeconds() * 1000);
  }

  function wire() {
    document.addEventListener("click", (ev) => {
      const fig = ev.target.closest(".fig");
      if (fig && !fig.closest("dialog")) openQuote(fig);
    });
    document.addEventListener("keydown", (ev) => {
      const fig = ev.target.closest && ev.target.closest("g.fig");
      if (fig && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); openQuote(fig); }
    });
    $("quote-close").addEventListener("click", closeQuote);
    $("quote-dialog").addEventListener("click", (ev) => { if (ev.target === $("quote-dialog")) closeQuote(); });
    $("quote-dialog").addEventListener("close", () => {
      const t = state.lastTrigger;
      if (!t) return;
      if (document.contains(t)) t.focus();
      else refocus(state.lastWhere);
    });
    $("phase-select").addEventListener("change", () => { fillUnits(); renderPhaseChart(); });
    $("phase-unit").addEventListener("change", renderPhaseChart);
    for (const id of ["series-metric", "series-operation", "series-scope"]) $(id).addEventListener("change", () => renderSeries().catch(showSeriesError));
    const form = $("results-form");
    form.addEventListener("submit", (ev) => { ev.preventDefault(); state.pageCursors = [null]; state.pageIndex = 0; loadResults(); });
    form.addEventListener("reset", () => window.setTimeout(() => { state.pageCursors = [null]; state.pageIndex = 0; loadResults(); }, 0));
    $("next-page").addEventListener("click", () => { state.pageIndex += 1; loadResults(); });
    $("prev-page").addEventListener("click", () => { state.pageIndex = Math.max(0, state.pageIndex - 1); loadResults(); });
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(() => renderSeries().catch(showSeriesError), 200);
    });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  }

  function showSeriesError(e) {
    $("series-chart").replaceChildren(el("p", { class: "error" }, `The series could not be loaded: ${e.message}`));
  }

  async function start() {
    wire();
    try {
      await loadAll();
      setStatus(`Figures as of ${clock()}. This page checks for new figures every ${pollSeconds()} s.`);
    } catch (e) {
      setStatus(`The API could not be read (${e.message}); trying again shortly.`);
    }
    schedule();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
