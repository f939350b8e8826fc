// The what-if page: controls for the scenario's numbers, fan charts drawn as inline SVG
// from the server's JSON. No outside script or style; every request goes to this server.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

// this page's id, sent with each run: the server coalesces a page's changes with its own
// only, so a tab never gets another tab's answer
function pageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

const page = {
  id: pageId(),
  state: null,        // what /api/state returned
  values: {},         // control key -> number now shown (NaN for an empty box)
  inFlight: false,    // a run request is on its way
  pending: false,     // a change came while it was: send once it is back (the last wins)
  revision: 0,        // increased after every redraw (or refusal): the completion signal
  changedAt: null,    // when the first change not yet drawn was made (performance.now())
};

function element(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svgElement(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function number(value, digits) {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  });
}

function signed(value) {
  return (value > 0 ? "+" : "") + number(value, 1);
}

// --- controls ------------------------------------------------------------------------
function buildControls(controls) {
  const list = document.getElementById("control-list");
  list.replaceChildren();
  let group = null, groupNode = null, entryKey = null, entryNode = null;
  for (const control of controls) {
    page.values[control.key] = control.value;
    if (control.group !== group) {
      group = control.group;
      groupNode = element("div", {class: "group"});
      groupNode.append(element("h3", {}, group));
      list.append(groupNode);
      entryKey = null;
    }
    const entry = control.group + "\u0000" + control.label;
    if (entry !== entryKey) {
      entryKey = entry;
      entryNode = element("div", {class: "entry"});
      entryNode.append(element("div", {class: "entry-label", title: control.source},
                               control.label));
      groupNode.append(entryNode);
    }
    entryNode.append(controlRow(control));
  }
}

function controlRow(control) {
  const row = element("div", {class: "control", "data-key": control.key, title: control.source});
  const id = "c" + Math.random().toString(36).slice(2);
  row.append(element("label", {class: "point", for: id}, control.point));
  const slider = element("input", {
    type: "range", min: String(control.min), max: String(control.max),
    step: String(control.step), value: String(control.value),
    "aria-label": control.label + " " + control.point,
  });
  const box = element("input", {type: "number", step: "any", id: id, value: String(control.value)});
  const message = element("div", {class: "error", "data-error-for": control.key});
  message.hidden = true;
  // a slider's value is min + k steps in binary floating point: rounded to the step's
  // decimals, so that 0.942 is sent (and saved) rather than 0.9420000000000001
  const decimals = Math.min(12, Math.max(0, Math.ceil(-Math.log10(control.step))));
  slider.addEventListener("input", () => {
    const value = Number(Number(slider.value).toFixed(decimals));
    box.value = String(value);
    changed(control, value, row);
  });
  box.addEventListener("input", () => {
    const value = box.value.trim() === "" ? NaN : Number(box.value);
    if (Number.isFinite(value)) slider.value = String(value);
    changed(control, value, row);
  });
  row.append(slider, box);
  const wrapper = element("div", {});
  wrapper.append(row, message);
  return wrapper;
}

function changed(control, value, row) {
  if (page.changedAt === null) page.changedAt = performance.now();
  page.values[control.key] = value;
  row.classList.toggle("changed", value !== control.value);
  schedule();
}

function changes() {
  const result = {};
  for (const control of page.state.controls) {
    const value = page.values[control.key];
    if (value !== control.value) result[control.key] = Number.isNaN(value) ? null : value;
  }
  return result;
}

function showErrors(errors) {
  for (const node of document.querySelectorAll("[data-error-for]")) {
    const message = errors[node.getAttribute("data-error-for")];
    node.textContent = message || "";
    node.hidden = !message;
    node.previousElementSibling.classList.toggle("invalid", Boolean(message));
  }
  document.getElementById("general-error").textContent = errors[""] || "";
}

// --- requests --------------------------------------------------------------------------
async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (error) { data = {errors: {"": String(error)}}; }
  return {ok: response.ok, data: data};
}

function schedule() {
  if (page.inFlight) { page.pending = true; busy(); return; }
  run();
}

function busy() {
  document.body.setAttribute("data-busy", page.inFlight || page.pending ? "1" : "0");
}

async function run() {
  page.inFlight = true;
  busy();
  const view = document.getElementById("view").value;
  try {
    const answer = await post("/api/run", {changes: changes(), view: view, client: page.id});
    if (answer.ok) { showErrors({}); render(answer.data); }
    else showErrors(answer.data.errors || {"": "the server refused the change"});
  } catch (error) {
    showErrors({"": "no answer from the server (" + error + ")"});
  }
  page.inFlight = false;
  if (page.pending) { page.pending = false; run(); return; }
  done();
}

function done() {
  // the signal that a change is on screen: data-revision, and data-latency-ms from the
  // change to this redraw (its layout included: reading a size forces it)
  void document.getElementById("results").offsetHeight;
  if (page.changedAt !== null) {
    const latency = performance.now() - page.changedAt;
    document.body.setAttribute("data-latency-ms", latency.toFixed(2));
    page.changedAt = null;
  }
  page.revision += 1;
  busy();
  document.body.setAttribute("data-revision", String(page.revision));
}

async function save() {
  const answer = await post("/api/save", {changes: changes()});
  const saved = document.getElementById("saved");
  if (answer.ok) { showErrors({}); saved.textContent = "wrote " + answer.data.path; }
  else { saved.textContent = ""; showErrors(answer.data.errors || {}); }
  document.body.setAttribute("data-saved", answer.ok ? answer.data.path : "");
}

async function download(exported) {
  const response = await fetch("/api/export/" + encodeURIComponent(exported.name), {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({changes: changes(), view: document.getElementById("view").value}),
  });
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch (error) { data = {}; }
    showErrors(data.errors || {"": "the download failed"});
    return;
  }
  const name = downloadName(response.headers.get("Content-Disposition") || "", exported.name);
  const link = element("a", {href: URL.createObjectURL(await response.blob()), download: name});
  document.body.append(link);
  link.click();
  link.remove();
  document.body.setAttribute("data-downloaded", name);
}

// the file name of a Content-Disposition (RFC 6266): the exact filename* (UTF-8,
// percent-encoded) if given, else the ASCII filename, else the fallback
function downloadName(disposition, fallback) {
  const exact = disposition.match(/filename\*=UTF-8''([^;\s]+)/i);
  if (exact) {
    try { return decodeURIComponent(exact[1]); } catch (error) { /* the ASCII name */ }
  }
  const plain = disposition.match(/filename="([^"]+)"/);
  return plain ? plain[1] : fallback;
}

function reset() {
  for (const control of page.state.controls) {
    page.values[control.key] = control.value;
    const row = document.querySelector(`.control[data-key="${CSS.escape(control.key)}"]`);
    row.classList.remove("changed");
    for (const input of row.querySelectorAll("input")) input.value = String(control.value);
  }
  schedule();
}

// --- drawing ---------------------------------------------------------------------------
function ticks(low, high, count) {
  const raw = (high - low) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const result = [];
  for (let v = Math.ceil(low / step) * step; v <= high + 1e-9 * step; v += step) result.push(v);
  return result;
}

function drawFan(container, years, part, unit) {
  const width = 560, height = 320, left = 62, right = 24, top = 26, bottom = 30;
  const fan = part.fan, base = part.base_fan;
  const all = fan.flat().concat(base[2]);
  let low = Math.min(...all), high = Math.max(...all);
  const pad = 0.05 * (high - low || Math.abs(high) || 1);
  low -= pad; high += pad;
  const x = (i) => left + (i * (width - left - right)) / Math.max(years.length - 1, 1);
  const y = (v) => top + ((high - v) * (height - top - bottom)) / (high - low);
  const svg = svgElement("svg", {viewBox: `0 0 ${width} ${height}`, role: "img",
                                 "aria-label": `fan chart, ${part.label}`});
  for (const v of ticks(low, high, 5)) {
    svg.append(svgElement("line", {class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v)}));
    const label = svgElement("text", {x: left - 6, y: y(v) + 4, "text-anchor": "end"});
    label.textContent = number(v, 0);
    svg.append(label);
  }
  years.forEach((year, i) => {
    const label = svgElement("text", {x: x(i), y: height - 8, "text-anchor": "middle"});
    label.textContent = String(year);
    svg.append(label);
  });
  svg.append(svgElement("line", {class: "axis", x1: left, x2: left, y1: top, y2: height - bottom}));
  const band = (lower, upper, cls) => {
    const points = lower.map((v, i) => `${x(i)},${y(v)}`)
      .concat(upper.map((v, i) => `${x(i)},${y(v)}`).reverse());
    svg.append(svgElement("polygon", {class: cls, points: points.join(" ")}));
  };
  const line = (values, cls) => svg.append(svgElement("polyline", {
    class: cls, points: values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}));
  band(fan[0], fan[4], "band-outer");
  band(fan[1], fan[3], "band-inner");
  line(base[2], "base");
  line(fan[2], "median");
  const legend = svgElement("text", {x: left + 6, y: 14});
  legend.textContent = `${unit}: median, 50 % and 90 % bands; dashed: unchanged median`;
  svg.append(legend);
  container.replaceChildren(svg);
}

function fillTable(table, years, part, caption) {
  table.querySelector("caption").textContent = caption;
  const head = element("tr", {});
  for (const [i, name] of ["year", "P5", "P50", "P95", "unchanged P50"].entries())
    head.append(element("th", i === 0 ? {class: "label"} : {}, name));
  table.querySelector("thead").replaceChildren(head);
  const rows = years.map((year, i) => {
    const row = element("tr", {"data-year": String(year)});
    row.append(element("td", {class: "label"}, String(year)));
    for (const value of [part.fan[0][i], part.fan[2][i], part.fan[4][i], part.base_fan[2][i]])
      row.append(element("td", {}, number(value, 1)));
    return row;
  });
  table.querySelector("tbody").replaceChildren(...rows);
}

function describeDifference(node, part, year, unit) {
  const [p5, p50, p95] = part.difference;
  node.textContent = `${year}, changed \u2212 unchanged on the same draws: P5 ${signed(p5)}, ` +
    `P50 ${signed(p50)}, P95 ${signed(p95)} ${unit}; ` +
    `P(changed > unchanged) = ${number(part.prob_greater, 3)}`;
  node.setAttribute("data-prob-greater", String(part.prob_greater));
  node.setAttribute("data-median-difference", String(p50));
}

function render(result) {
  const unit = page.state.unit, years = result.years, last = years[years.length - 1];
  drawFan(document.getElementById("chart-global"), years, result.global, unit);
  drawFan(document.getElementById("chart-picked"), years, result.picked, unit);
  const picked = `${result.picked.label} (${result.picked.group})`;
  fillTable(document.getElementById("bands-global"), years, result.global,
            `Global total, ${unit}`);
  fillTable(document.getElementById("bands-picked"), years, result.picked, `${picked}, ${unit}`);
  describeDifference(document.getElementById("diff-global"), result.global, last, unit);
  describeDifference(document.getElementById("diff-picked"), result.picked, last, unit);
  document.getElementById("timing").textContent =
    `server ${number(result.milliseconds, 1)} ms for ${number(page.state.draws, 0)} draws ` +
    `(seed ${page.state.seed}), run ${result.revision}`;
  document.body.setAttribute("data-median-final", String(result.global.fan[2][years.length - 1]));
}

// --- start -----------------------------------------------------------------------------
async function start() {
  const response = await fetch("/api/state");
  const state = await response.json();
  page.state = state;
  document.getElementById("title").textContent = `${state.scenario}: what if`;
  document.getElementById("subtitle").textContent =
    `${state.config}, ${number(state.draws, 0)} draws, seed ${state.seed}; every change runs ` +
    "on the same draws as the unchanged scenario (hover a name for its source)";
  buildControls(state.controls);
  const select = document.getElementById("view");
  const groups = new Map();
  for (const view of state.views) {
    if (view.id === "global") continue;
    if (!groups.has(view.group)) {
      const optgroup = element("optgroup", {label: view.group});
      groups.set(view.group, optgroup);
      select.append(optgroup);
    }
    groups.get(view.group).append(element("option", {value: view.id}, view.label));
  }
  select.value = state.view;
  select.addEventListener("change", () => {
    if (page.changedAt === null) page.changedAt = performance.now();
    schedule();
  });
  document.getElementById("save").addEventListener("click", save);
  document.getElementById("reset").addEventListener("click", reset);
  for (const exported of state.exports || []) {  // downloads the server offers
    const button = element("button", {type: "button", "data-export": exported.name},
                           exported.label);
    button.addEventListener("click", () => download(exported));
    document.querySelector(".actions").append(button);
  }
  render(state.result);
  done();
}

start().catch((error) => {
  document.getElementById("general-error").textContent = "the page could not start: " + error;
});
