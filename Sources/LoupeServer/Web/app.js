// Loupe's web page: search as you type, search by a picture, refine with weighted terms, filter, play
// video moments, inspect items, index folders with live progress, and generate a picture with Gemini from
// selected results. Plain JavaScript, no build step,
// no network beyond this server.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child != null && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
};

const DEBOUNCE_MS = 250;
/** Results per page; `?per_page=N` (12-500) changes it. */
const RESULTS = Math.min(500, Math.max(12, Number(new URL(location.href).searchParams.get("per_page")) || 48));
/** Moments of one video a search may return when "Every moment" is on. */
const MOMENTS_PER_VIDEO = 20;
const TOKEN_KEY = "loupe.token";

const state = {
  text: "",
  image: null,        // {file, url}: a picture to search by
  item: null,         // {id, name, thumbnail}: "more like this"
  terms: [],          // [{id, text, weight}]
  type: "all",
  folder: "",
  after: "",
  before: "",
  moments: false,     // several moments of one video in search results
  showAll: false,     // results below the first score cliff too ("Show all results"); a new query resets it
  cut: 0,             // results of the first page that autocut left out
  results: [],
  total: null,        // items matching the filters when browsing the library
  hasMore: false,     // another page may follow
  browsing: false,
  stats: null,
  current: -1,        // index of the result shown in the detail view
  selected: new Map(), // id → result: the references for "Generate with these" (kept across searches)
};

// MARK: API

let token = localStorage.getItem(TOKEN_KEY) || "";

/** A URL the browser loads by itself (img, video, EventSource) carries the token as a query parameter. */
function withToken(url) {
  if (!token) return url;
  const [base, fragment] = url.split("#");
  const joined = `${base}${base.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(token)}`;
  return fragment == null ? joined : `${joined}#${fragment}`;
}

class APIError extends Error {
  constructor(status, body) {
    const error = body && body.error;
    super(error && error.message ? error.message : `The server answered HTTP ${status}.`);
    this.status = status;
    this.code = error && error.code;
    this.requestID = error && error.request_id;
  }
}

/** fetch() for the JSON API: adds the token, asks for one after a 401, and turns error bodies into APIError. */
async function api(path, options = {}) {
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(options.headers || {});
    if (token) headers.set("Authorization", `Bearer ${token}`);
    let body = options.body;
    if (body && !(body instanceof FormData) && typeof body !== "string") {
      body = JSON.stringify(body);
      headers.set("Content-Type", "application/json");
    }
    const response = await fetch(path, { ...options, headers, body });
    if (response.status === 401 && attempt < 3) {
      await askForToken(attempt > 0);
      continue;
    }
    const text = await response.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
    if (!response.ok) throw new APIError(response.status, parsed);
    return parsed;
  }
}

let tokenRequest = null;
function askForToken(wrong) {
  if (tokenRequest) return tokenRequest;
  const dialog = $("#token-dialog");
  $("#token-title").textContent = wrong ? "That token was not accepted" : "This server needs a token";
  tokenRequest = new Promise((resolve, reject) => {
    dialog.addEventListener("close", () => {
      tokenRequest = null;
      const value = $("#token").value.trim();
      if (dialog.returnValue === "ok" && value) {
        token = value;
        localStorage.setItem(TOKEN_KEY, token);
        resolve();
      } else {
        reject(new Error("This server needs an access token; reload the page to enter it."));
      }
    }, { once: true });
  });
  $("#token").value = "";
  dialog.returnValue = "";
  dialog.showModal();
  return tokenRequest;
}

// MARK: Formatting

function formatBytes(bytes) {
  if (bytes == null) return "";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function formatTime(seconds) {
  if (seconds == null || !isFinite(seconds)) return "";
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return `${h ? h + ":" : ""}${mm}:${String(s).padStart(2, "0")}`;
}

function plural(count, word, many = word + "s") {
  return `${count.toLocaleString()} ${count === 1 ? word : many}`;
}

function isMoment(result) { return result.kind === "video" && result.start != null && result.end != null; }

function folderOf(path) { return path.slice(0, path.lastIndexOf("/")) || "/"; }

// MARK: Search

let debounceTimer = 0;
let inflight = null;
let searchSerial = 0;
/** True from a change to the query until its first page is in: "Show more" must not append to old results. */
let freshSearchDue = false;

function scheduleSearch(delay = DEBOUNCE_MS) {
  clearTimeout(debounceTimer);
  freshSearchDue = true;
  debounceTimer = setTimeout(runSearch, delay);
}

function hasQuery() {
  return Boolean(state.text.trim() || state.image || state.item || state.terms.length);
}

function filtersActive() {
  return state.type !== "all" || state.folder || state.after || state.before;
}

function searchBody(offset = 0) {
  const body = { k: RESULTS };
  // Results end at the first score cliff unless the person asked to see them all.
  if (!state.showAll) body.autocut = 1;
  if (offset) body.offset = offset;
  if (state.moments) body.moments_per_video = MOMENTS_PER_VIDEO;
  if (state.text.trim()) body.text = state.text.trim();
  if (state.item) body.item = state.item.id;
  if (state.terms.length) body.terms = state.terms.map((term) => ({ weight: term.weight, text: term.text }));
  if (state.type !== "all") body.type = state.type;
  if (state.folder.trim()) body.folder = state.folder.trim();
  if (state.after) body.after = state.after;
  if (state.before) body.before = state.before;
  return body;
}

/** With no query, the page shows the library itself (GET /api/items), filtered like a search. */
function browsePath(offset = 0) {
  const params = new URLSearchParams({ limit: String(RESULTS) });
  if (offset) params.set("offset", String(offset));
  if (state.type !== "all") params.set("type", state.type);
  if (state.folder.trim()) params.set("folder", state.folder.trim());
  if (state.after) params.set("after", state.after);
  if (state.before) params.set("before", state.before);
  return `/api/items?${params}`;
}

/** Runs the search (or lists the library); with `append`, fetches the next page after the results shown. */
async function runSearch({ append = false, showAll = false } = {}) {
  // Any new search starts cut at the first cliff again; only "Show all results" lifts the cut.
  if (!append) state.showAll = showAll;
  // A page is appended only to results of the query as it stands; otherwise this is a new search.
  if (append && freshSearchDue) append = false;
  if (!append) freshSearchDue = true;
  clearTimeout(debounceTimer);
  if (inflight) inflight.abort();
  const controller = new AbortController();
  inflight = controller;
  const serial = ++searchSerial;
  const offset = append ? state.results.length : 0;
  syncURL();
  setBusy(true);
  try {
    let results, took = null, total = null, cut = 0;
    if (hasQuery()) {
      let body = searchBody(offset);
      if (state.image) {
        const form = new FormData();
        form.append("image", state.image.file, state.image.file.name || "pasted.png");
        form.append("query", JSON.stringify(body));
        body = form;
      }
      const answer = await api("/api/search", { method: "POST", body, signal: controller.signal });
      results = answer.results;
      took = answer.took_ms;
      cut = answer.cut_by_autocut || 0;
    } else {
      const answer = await api(browsePath(offset), { signal: controller.signal });
      results = answer.items;
      total = answer.total;
    }
    if (serial !== searchSerial) return;
    freshSearchDue = false;
    state.results = append ? state.results.concat(results) : results;
    state.total = total;
    state.browsing = !hasQuery();
    if (!append) state.cut = cut;
    // A cut list has ended: its next page would be below the cliff too.
    state.hasMore = state.browsing ? state.results.length < total : cut === 0 && results.length === RESULTS;
    showError(null);
    renderResults(took);
  } catch (error) {
    if (error.name === "AbortError" || serial !== searchSerial) return;
    if (!append) {
      state.results = [];
      state.hasMore = false;
      state.cut = 0;
      renderResults(null);
    }
    showError(error);
  } finally {
    if (serial === searchSerial) {
      setBusy(false);
      inflight = null;
    }
  }
}

function setBusy(busy) {
  $("#busy").hidden = !busy;
  $("#results").setAttribute("aria-busy", String(busy));
}

function showError(error, target = $("#error")) {
  if (!error) {
    target.hidden = true;
    target.replaceChildren();
    return;
  }
  target.replaceChildren(
    el("strong", {}, error.status ? `Error ${error.status}` : "Error"), " ",
    el("span", { class: "message" }, error.message || String(error)),
    error.requestID ? el("span", { class: "request-id" }, ` (request ${error.requestID})`) : null,
  );
  target.hidden = false;
}

function syncURL() {
  const url = new URL(location.href);
  if (state.text.trim()) url.searchParams.set("q", state.text.trim());
  else url.searchParams.delete("q");
  if (url.href !== location.href) history.replaceState(null, "", url);
}

// MARK: Results

function thumbnailURL(result, size = 320) {
  return withToken(`${result.thumbnail_url}?size=${size}`);
}

function timeline(result, extra = {}) {
  const duration = result.duration || result.end || 0;
  const bar = el("div", { class: "timeline", ...extra });
  if (duration > 0 && isMoment(result)) {
    const left = (100 * result.start) / duration;
    const width = Math.max(1.5, (100 * (result.end - result.start)) / duration);
    bar.append(el("span", { class: "range", style: `left:${left}%;width:${width}%` }));
  }
  return bar;
}

function renderResults(took) {
  const list = $("#results");
  const count = $("#count");
  const empty = $("#empty");
  list.replaceChildren();
  empty.replaceChildren();
  empty.hidden = true;
  const results = state.results;

  if (state.browsing) {
    const libraryEmpty = state.stats && state.stats.images + state.stats.videos === 0;
    const of = state.total != null && state.total > results.length ? ` of ${state.total.toLocaleString()}` : "";
    count.textContent = results.length
      ? `${filtersActive() ? "Filtered library" : "Your library"}: showing ${results.length.toLocaleString()}${of} ${results.length === 1 && !of ? "item" : "items"}`
      : "";
    if (!results.length) {
      empty.hidden = false;
      if (libraryEmpty || (!filtersActive() && state.stats)) {
        empty.append(
          el("div", { class: "empty-art", "aria-hidden": "true" }, "◎"),
          el("h2", {}, "Your library is empty — index a folder"),
          el("p", {}, "Point Loupe at a folder of pictures and videos on this machine. Searching works as soon as the first files are in."),
          el("a", { class: "button primary", href: "#index" }, "Index a folder"),
        );
      } else {
        empty.append(el("h2", {}, "Nothing matches these filters"),
          el("button", { class: "button", type: "button", onclick: clearFilters }, "Clear filters"));
      }
    }
  } else if (!results.length) {
    count.textContent = "No results";
    empty.hidden = false;
    const what = state.text.trim() ? `“${state.text.trim()}”` : "this search";
    empty.append(
      el("div", { class: "empty-art", "aria-hidden": "true" }, "∅"),
      el("h2", {}, `No results for ${what}`),
      el("p", {}, filtersActive() ? "The filters may be too narrow." : "Try other words, or search by a picture."),
      filtersActive() ? el("button", { class: "button", type: "button", onclick: clearFilters }, "Clear filters") : null,
    );
  } else {
    count.textContent = `${plural(results.length, "result")}${typeCounts(results)}${took != null ? ` · ${took} ms` : ""}`;
  }

  results.forEach((result, index) => list.append(resultCard(result, index)));
  $("#more").hidden = !state.hasMore || !results.length;
  const showAll = $("#show-all");
  showAll.hidden = state.browsing || !state.cut || !results.length;
  showAll.textContent = state.cut ? `Show all results (${state.cut.toLocaleString()} more below the score cliff)` : "Show all results";
  updateFolderSuggestions();
}

/** Pictures and video moments share one ranking; the count line says how many of each it holds. */
function typeCounts(results) {
  const moments = results.filter(isMoment).length;
  const videos = results.filter((result) => result.kind === "video" && !isMoment(result)).length;
  const pictures = results.length - moments - videos;
  const parts = [pictures ? plural(pictures, "picture") : null, moments ? plural(moments, "video moment") : null,
    videos ? plural(videos, "video") : null].filter(Boolean);
  return parts.length > 1 || (parts.length === 1 && !pictures) ? ` · ${parts.join(", ")}` : "";
}

/** The score as a bar (its share of the best score of the search) with a tooltip that explains both numbers. */
function relevanceBar(result) {
  const best = state.results.length && state.results[0].score != null ? state.results[0].score : result.score;
  const share = best > 0 ? Math.min(1, Math.max(0, result.score / best)) : 0;
  const group = result.relevance != null ? result.relevance : 0;
  const title = `Score ${result.score.toFixed(3)}: cosine similarity of this item to the query (1 = the same; `
    + `unrelated items score near 0). The bar compares it with the best result. `
    + (group === 0 ? "Above the first sharp drop in score: among the most relevant."
      : `Below ${plural(group, "sharp drop")} in score: less relevant than the results above.`)
    + (result.probability != null
      ? ` Match probability ${(result.probability * 100).toFixed(1)}%: how likely the model judges this a match for the text.` : "");
  return el("span", { class: `relevance${group === 0 ? " top" : ""}`, title, dataset: { relevance: String(group) } },
    el("span", { class: "relevance-bar", "aria-hidden": "true" }, el("span", { style: `width:${(share * 100).toFixed(0)}%` })),
    el("span", { class: "score" }, result.score.toFixed(3)));
}

function resultCard(result, index) {
  const moment = isMoment(result);
  const label = [result.name, moment ? `moment ${formatTime(result.start)} to ${formatTime(result.end)}` : result.kind,
    result.score != null ? `score ${result.score.toFixed(3)}` : null].filter(Boolean).join(", ");
  const thumb = el("div", { class: "thumb" },
    el("img", { src: thumbnailURL(result), alt: `${result.kind === "video" ? "Frame of" : "Picture"} ${result.name}`,
      loading: "lazy", decoding: "async", onerror: (event) => event.target.classList.add("broken") }));
  if (result.kind === "video") {
    thumb.append(el("span", { class: "badge" }, moment ? `▶ ${formatTime(result.start)}–${formatTime(result.end)}`
      : `▶ ${formatTime(result.duration)}`));
    thumb.append(timeline(result));
  }
  const card = el("button", { class: "card", type: "button", "aria-label": label, dataset: { index },
    tabindex: index === 0 ? "0" : "-1", onclick: () => openDetail(index) },
  thumb,
  el("span", { class: "caption" },
    el("span", { class: "name", title: result.path }, result.name),
    el("span", { class: "facts" },
      result.score != null ? relevanceBar(result) : null,
      el("span", {}, cardFacts(result)))));
  const actions = el("div", { class: "card-actions" },
    generationAvailable() ? selectButton(result) : null,
    el("button", { type: "button", class: "pill", title: "More like this", "aria-label": `More like ${result.name}`,
      onclick: () => moreLikeThis(result) }, "Similar"));
  if (result.kind === "video") {
    actions.prepend(el("button", { type: "button", class: "pill play", "aria-label": `Play ${result.name} here`,
      onclick: (event) => toggleInlinePlay(event.currentTarget, card, result) }, "▶ Play"));
  }
  return el("li", { class: `result ${result.kind}${state.selected.has(result.id) ? " selected" : ""}` }, card, actions);
}

function cardFacts(result) {
  if (isMoment(result)) return "video moment";
  if (result.kind === "video") return `video · ${formatTime(result.duration)}`;
  return result.width && result.height ? `${result.width} × ${result.height}` : result.kind;
}

/** Plays a video (from its moment's start to its end, looping) in place of the card's thumbnail. */
function toggleInlinePlay(button, card, result) {
  const thumb = $(".thumb", card);
  const existing = $("video", thumb);
  if (existing) {
    existing.pause();
    existing.remove();
    button.textContent = "▶ Play";
    return;
  }
  const video = el("video", { muted: true, playsInline: true, class: "inline-video", "aria-label": `${result.name} playing` });
  video.muted = true;
  thumb.prepend(video);
  playMoment(video, result, { loop: true });
  button.textContent = "■ Stop";
}

/** Points a video element at the item's file and plays from the moment's start, stopping (or looping) at its end. */
function playMoment(video, result, { loop = false, autoplay = true } = {}) {
  const start = isMoment(result) ? result.start : 0;
  const end = isMoment(result) ? result.end : null;
  video.src = withToken(result.media_url) + (end != null ? `#t=${start},${end}` : "");
  video.addEventListener("loadedmetadata", () => {
    if (Math.abs(video.currentTime - start) > 0.2) video.currentTime = start;
    if (autoplay) video.play().catch(() => {});
  }, { once: true });
  video.addEventListener("timeupdate", () => {
    if (end == null || video.currentTime < end - 0.05) return;
    if (loop) {
      video.currentTime = start;
      video.play().catch(() => {});
    } else if (!video.paused) {
      video.pause();
    }
  });
}

function updateFolderSuggestions() {
  const folders = new Set(state.results.map((result) => folderOf(result.path)));
  $("#folders").replaceChildren(...[...folders].sort().map((folder) => el("option", { value: folder })));
}

// MARK: Query chips

let termSerial = 0;

function renderChips() {
  const chips = $("#query-chips");
  chips.replaceChildren();
  if (state.image) {
    chips.append(el("span", { class: "chip media" },
      el("img", { src: state.image.url, alt: "" }),
      el("span", {}, "Picture: ", el("b", {}, state.image.file.name || "pasted image")),
      removeButton("Remove the picture", () => { URL.revokeObjectURL(state.image.url); state.image = null; })));
  }
  if (state.item) {
    chips.append(el("span", { class: "chip media" },
      el("img", { src: state.item.thumbnail, alt: "" }),
      el("span", {}, "Like: ", el("b", {}, state.item.name)),
      removeButton("Stop searching like this item", () => { state.item = null; })));
  }
  for (const term of state.terms) {
    const sign = term.weight < 0 ? "minus" : "plus";
    const value = el("output", { class: "weight" }, formatWeight(term.weight));
    const slider = el("input", { type: "range", min: "-1", max: "1", step: "0.05", value: String(term.weight),
      "aria-label": `Weight of “${term.text}”`,
      oninput: (event) => {
        term.weight = Number(event.target.value);
        value.textContent = formatWeight(term.weight);
        chip.className = `chip term ${term.weight < 0 ? "minus" : "plus"}`;
        scheduleSearch();
      } });
    const chip = el("span", { class: `chip term ${sign}` },
      el("span", { class: "term-text" }, term.text), slider, value,
      removeButton(`Remove “${term.text}”`, () => { state.terms = state.terms.filter((t) => t !== term); }));
    chips.append(chip);
  }
  chips.hidden = !chips.childElementCount;
}

function formatWeight(weight) {
  return `${weight < 0 ? "−" : "+"}${Math.abs(weight).toFixed(2)}`;
}

function removeButton(label, action) {
  return el("button", { type: "button", class: "chip-remove", "aria-label": label, title: label,
    onclick: () => { action(); renderChips(); runSearch(); } }, "×");
}

function setImage(file) {
  if (!file || !file.type.startsWith("image/")) {
    showError(new Error(`“${file ? file.name : "That"}” is not a picture.`));
    return;
  }
  if (state.image) URL.revokeObjectURL(state.image.url);
  state.image = { file, url: URL.createObjectURL(file) };
  // A new picture starts a new search; words typed afterwards refine it.
  state.item = null;
  state.text = "";
  $("#q").value = "";
  showView("search");
  renderChips();
  runSearch();
}

function moreLikeThis(result) {
  state.item = { id: result.id, name: isMoment(result) ? `${result.name} ${formatTime(result.start)}–${formatTime(result.end)}` : result.name,
    thumbnail: thumbnailURL(result, 96) };
  state.text = "";
  $("#q").value = "";
  if (state.image) URL.revokeObjectURL(state.image.url);
  state.image = null;
  state.terms = [];
  if ($("#detail").open) $("#detail").close();
  renderChips();
  window.scrollTo({ top: 0, behavior: "smooth" });
  runSearch();
}

// MARK: Filters

function renderFilters() {
  for (const button of document.querySelectorAll("#type button")) {
    button.setAttribute("aria-checked", String(button.dataset.type === state.type));
  }
  $("#folder").value = state.folder;
  $("#after").value = state.after;
  $("#before").value = state.before;
  $("#moments").checked = state.moments;
  $("#clear-filters").hidden = !filtersActive();
}

function clearFilters() {
  Object.assign(state, { type: "all", folder: "", after: "", before: "" });
  renderFilters();
  runSearch();
}

// MARK: Detail view

function openDetail(index) {
  const result = state.results[index];
  if (!result) return;
  state.current = index;
  const dialog = $("#detail");
  const media = $("#detail-media");
  for (const video of media.querySelectorAll("video")) video.pause();
  media.replaceChildren();
  $("#detail-title").textContent = result.name;
  $("#detail-open").href = withToken(result.media_url);
  resetRemoveButton();
  $("#detail-prev").disabled = index === 0;
  $("#detail-next").disabled = index === state.results.length - 1;

  if (result.kind === "video") {
    const video = el("video", { controls: true, playsInline: true, muted: true, preload: "auto",
      "aria-label": `${result.name}${isMoment(result) ? `, moment from ${formatTime(result.start)} to ${formatTime(result.end)}` : ""}` });
    video.muted = true;
    const bar = timeline(result, { role: "slider", tabindex: "0", "aria-label": "Position in the video",
      "aria-valuemin": "0", "aria-valuemax": String(Math.round(result.duration || 0)) });
    const head = el("span", { class: "playhead" });
    bar.append(head);
    const seek = (fraction) => {
      if (video.duration) video.currentTime = Math.min(video.duration, Math.max(0, fraction * video.duration));
    };
    bar.addEventListener("click", (event) => {
      const box = bar.getBoundingClientRect();
      seek((event.clientX - box.left) / box.width);
    });
    bar.addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        event.preventDefault();
        event.stopPropagation();
        video.currentTime = Math.max(0, video.currentTime + (event.key === "ArrowLeft" ? -1 : 1));
      }
    });
    video.addEventListener("timeupdate", () => {
      const duration = video.duration || result.duration;
      if (duration) head.style.left = `${(100 * video.currentTime) / duration}%`;
      bar.setAttribute("aria-valuenow", String(Math.round(video.currentTime)));
      bar.setAttribute("aria-valuetext", formatTime(video.currentTime));
    });
    const caption = isMoment(result)
      ? el("p", { class: "moment-caption" }, "Moment ", el("b", {}, `${formatTime(result.start)} – ${formatTime(result.end)}`),
        result.duration ? ` of ${formatTime(result.duration)}` : "",
        el("button", { type: "button", class: "link-button", onclick: () => { video.currentTime = result.start; video.play().catch(() => {}); } }, "Replay moment"))
      : null;
    media.append(video, bar, caption);
    playMoment(video, result, { loop: false });
  } else {
    media.append(el("img", { src: withToken(result.media_url), alt: result.name }));
  }

  const rows = [
    ["Score", result.score != null ? result.score.toFixed(4) : null],
    ["Match probability", result.probability != null ? `${(result.probability * 100).toFixed(1)}%` : null],
    ["Path", el("code", {}, result.path)],
    ["Type", isMoment(result) ? "video moment" : result.kind],
    ["Moment", isMoment(result) ? `${formatTime(result.start)} – ${formatTime(result.end)} (${result.start.toFixed(1)} s – ${result.end.toFixed(1)} s)` : null],
    ["Duration", result.duration ? `${formatTime(result.duration)} (${result.duration.toFixed(1)} s)` : null],
    ["Dimensions", result.width && result.height ? `${result.width} × ${result.height}` : null],
    ["Size", formatBytes(result.size)],
    ["Modified", result.modified ? new Date(result.modified).toLocaleString() : null],
    ["Source", result.source ? el("a", { href: result.source, target: "_blank", rel: "noopener" }, result.source) : null],
    ["SHA-256", result.sha256 ? el("code", { class: "hash" }, result.sha256) : null],
    ...Object.entries(result.metadata || {}).sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => [key.replace(/_/g, " "), typeof value === "object" ? JSON.stringify(value) : String(value)]),
  ];
  $("#detail-meta").replaceChildren(...rows.filter(([, value]) => value != null && value !== "")
    .flatMap(([key, value]) => [el("dt", {}, key), el("dd", {}, value)]));
  if (!dialog.open) dialog.showModal();
  $("#detail-close").focus({ preventScroll: true });
}

/** Remove asks twice (a second click within a few seconds), then takes the item's file out of the index. */
let removeTimer = null;

function resetRemoveButton() {
  clearTimeout(removeTimer);
  const button = $("#detail-remove");
  button.textContent = "Remove from index";
  button.classList.remove("armed");
  button.disabled = false;
}

async function removeCurrent() {
  const button = $("#detail-remove");
  const result = state.results[state.current];
  if (!result) return;
  if (!button.classList.contains("armed")) {
    button.classList.add("armed");
    button.dataset.armedAt = String(Date.now());
    button.textContent = result.kind === "video" ? "Click again: remove the video and its moments" : "Click again to remove";
    removeTimer = setTimeout(resetRemoveButton, 4000);
    return;
  }
  // A double click (or a held Enter key) is one decision, not two.
  if (Date.now() - Number(button.dataset.armedAt || 0) < 400) return;
  clearTimeout(removeTimer);
  button.disabled = true;
  try {
    await api(`/api/items/${result.id}`, { method: "DELETE" });
    state.results = state.results.filter((other) => other.path !== result.path);
    // The file's items (a video's moments too) can no longer be references.
    for (const [id, selected] of state.selected) if (selected.path === result.path) state.selected.delete(id);
    syncSelection();
    if (state.total != null) state.total -= 1;
    $("#detail").close();
    renderResults(null);
    $("#count").textContent += ` · removed ${result.name} from the index (the file stays on disk)`;
    loadStats();
  } catch (error) {
    resetRemoveButton();
    showError(error);
  }
}

function closeDetail() {
  for (const video of $("#detail-media").querySelectorAll("video")) {
    video.pause();
    video.removeAttribute("src");
    video.load();
  }
  const card = document.querySelector(`.card[data-index="${state.current}"]`);
  if (card) focusCard(card);
}

// MARK: Keyboard

function cards() { return [...document.querySelectorAll("#results .card")]; }

function focusCard(card) {
  for (const other of cards()) other.tabIndex = -1;
  card.tabIndex = 0;
  card.focus();
}

function columns(list) {
  if (list.length < 2) return 1;
  const top = list[0].getBoundingClientRect().top;
  const count = list.findIndex((card) => card.getBoundingClientRect().top > top + 2);
  return count === -1 ? list.length : count;
}

function onKeyDown(event) {
  const target = event.target;
  const typing = target.matches("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    showView("search");
    $("#q").focus();
    $("#q").select();
    return;
  }
  const dialog = $("#detail");
  if (dialog.open && !typing && target.tagName !== "VIDEO" && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
    event.preventDefault();
    openDetail(state.current + (event.key === "ArrowLeft" ? -1 : 1));
    return;
  }
  if (target.id === "q" && event.key === "ArrowDown") {
    const first = cards()[0];
    if (first) { event.preventDefault(); focusCard(first); }
    return;
  }
  if (!target.classList.contains("card")) return;
  const list = cards();
  const index = list.indexOf(target);
  const across = columns(list);
  const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -across, ArrowDown: across, Home: -index, End: list.length - 1 - index };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = index + moves[event.key];
  if (event.key === "ArrowUp" && next < 0) { $("#q").focus(); return; }
  if (next >= 0 && next < list.length) focusCard(list[next]);
}

// MARK: Indexing

const jobStreams = new Map();
// States of a job that is still going (the server's JobState); "cancelling" stops at the next batch.
const ACTIVE_JOB_STATES = new Set(["queued", "running", "cancelling"]);

async function loadJobs() {
  try {
    const answer = await api("/api/jobs");
    // Generation jobs are followed in their dialog, not listed with the indexing jobs.
    const indexing = answer.jobs.filter((job) => job.kind !== "generate");
    renderJobs(indexing);
    for (const job of indexing) if (ACTIVE_JOB_STATES.has(job.state)) followJob(job.id);
  } catch (error) {
    showError(error, $("#index-error"));
  }
}

let jobs = [];

function renderJobs(list) {
  jobs = list;
  const container = $("#jobs");
  container.replaceChildren(...[...list].reverse().map(jobCard));
  $("#no-jobs").hidden = list.length > 0;
}

function upsertJob(job) {
  const index = jobs.findIndex((other) => other.id === job.id);
  if (index === -1) jobs.push(job); else jobs[index] = job;
  renderJobs(jobs);
}

function jobCard(job) {
  const active = ACTIVE_JOB_STATES.has(job.state);
  const cancellable = job.state === "queued" || job.state === "running";
  // A job that found nothing to embed reports no progress; its report still counts the files it scanned.
  const total = job.files_total || (job.report ? job.report.scanned : 0);
  const done = job.state === "done" ? total : job.files_done;
  const fraction = total ? Math.min(1, done / total) : job.state === "done" ? 1 : 0;
  const facts = [
    total ? `${done.toLocaleString()} of ${plural(total, "file")}` : null,
    job.embedded ? `${job.embedded.toLocaleString()} embedded` : null,
    job.failed ? `${job.failed.toLocaleString()} failed` : null,
    active && job.rate ? `${job.rate.toFixed(1)} files/s` : null,
    active && job.eta_s != null ? `about ${formatTime(job.eta_s)} left` : null,
  ].filter(Boolean);
  const report = job.report;
  const summary = report ? [
    `${report.added} added`, `${report.updated} updated`, `${report.unchanged} unchanged`,
    report.removed ? `${report.removed} removed` : null, report.moments ? `${report.moments} video moments` : null,
    `${report.seconds.toFixed(1)} s`,
  ].filter(Boolean).join(" · ") : null;
  return el("li", { class: `card job ${job.state}`, dataset: { job: job.id } },
    el("div", { class: "job-head" },
      el("span", { class: `state ${job.state}` }, job.state),
      el("span", { class: "inputs", title: job.inputs.join("\n") }, job.inputs.join(", ")),
      job.created ? el("time", { class: "muted when", datetime: job.created }, new Date(job.created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })) : null,
      cancellable ? el("button", { type: "button", class: "button small", onclick: () => cancelJob(job.id) }, "Cancel") : null),
    el("div", { class: "progress", role: "progressbar", "aria-label": `Progress of ${job.inputs.join(", ")}`,
      "aria-valuemin": "0", "aria-valuemax": String(total || 1), "aria-valuenow": String(total ? done : fraction) },
    el("span", { style: `width:${(fraction * 100).toFixed(1)}%` })),
    el("p", { class: "job-facts" }, facts.join(" · ") || (job.state === "queued" ? "Waiting to start…" : job.state === "cancelling" ? "Stopping after this batch…" : "")),
    active && job.current ? el("p", { class: "job-current muted" }, el("code", {}, job.current)) : null,
    summary ? el("p", { class: "job-summary" }, summary) : null,
    job.error ? el("p", { class: "banner error" }, job.error) : null,
    job.failures && job.failures.length ? el("details", { class: "failures" },
      el("summary", {}, plural(job.failures.length, "file"), " could not be indexed"),
      el("ul", {}, job.failures.map((failure) => el("li", {}, el("code", {}, failure.path), " — ", failure.message)))) : null);
}

function followJob(id) {
  if (jobStreams.has(id)) return;
  const source = new EventSource(withToken(`/api/jobs/${encodeURIComponent(id)}/events`));
  jobStreams.set(id, source);
  source.addEventListener("progress", (event) => upsertJob(JSON.parse(event.data)));
  source.addEventListener("end", () => {
    source.close();
    jobStreams.delete(id);
    api(`/api/jobs/${encodeURIComponent(id)}`).then(upsertJob).catch(() => {});
    loadStats().then(() => { if (state.browsing) runSearch(); });
  });
  source.onerror = () => {
    // The stream ended without `end` (server restart): read the job's last state once.
    source.close();
    jobStreams.delete(id);
    api(`/api/jobs/${encodeURIComponent(id)}`).then(upsertJob).catch(() => {});
  };
}

async function cancelJob(id) {
  try {
    upsertJob(await api(`/api/jobs/${encodeURIComponent(id)}`, { method: "DELETE" }));
  } catch (error) {
    showError(error, $("#index-error"));
  }
}

async function submitIndex(event) {
  event.preventDefault();
  const lines = $("#sources").value.split("\n").map((line) => line.trim()).filter(Boolean);
  const urls = lines.filter((line) => /^https?:\/\//i.test(line));
  const paths = lines.filter((line) => !/^https?:\/\//i.test(line));
  showError(null, $("#index-error"));
  try {
    const job = await api("/api/index", { method: "POST", body: { paths, urls } });
    upsertJob(job);
    followJob(job.id);
    $("#sources").value = "";
  } catch (error) {
    showError(error, $("#index-error"));
  }
}

// MARK: Generating

function generationAvailable() {
  return Boolean(state.stats && state.stats.generate && state.stats.generate.available);
}

function selectButton(result) {
  const on = state.selected.has(result.id);
  return el("button", { type: "button", class: `pill select${on ? " on" : ""}`, "aria-pressed": String(on),
    "aria-label": `Select ${result.name} as a reference`, title: "Select as a reference for “Generate with these”",
    dataset: { id: String(result.id) }, onclick: () => toggleSelected(result) }, on ? "✓ Selected" : "Select");
}

function toggleSelected(result) {
  if (state.selected.has(result.id)) state.selected.delete(result.id);
  else state.selected.set(result.id, result);
  syncSelection();
}

/** Brings the cards' select buttons and the selection bar in line with `state.selected`. */
function syncSelection() {
  for (const button of document.querySelectorAll("#results .pill.select")) {
    const on = state.selected.has(Number(button.dataset.id));
    button.classList.toggle("on", on);
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "✓ Selected" : "Select";
    button.closest(".result").classList.toggle("selected", on);
  }
  const count = state.selected.size;
  $("#selection").hidden = !generationAvailable() || count === 0;
  $("#selection-count").textContent = `${plural(count, "result")} selected`;
}

function clearSelection() {
  state.selected.clear();
  syncSelection();
}

function referenceThumb(src, name, note) {
  return el("li", {},
    src ? el("img", { src, alt: `Reference ${name}`, loading: "lazy", onerror: (event) => event.target.classList.add("broken") }) : null,
    el("span", { class: "name", title: name }, name),
    note ? el("span", { class: "muted" }, note) : null);
}

function openGenerate() {
  const chosen = [...state.selected.values()];
  const limit = state.stats.generate.max_references || 16;
  $("#generate-refs").replaceChildren(...chosen.map((result) => referenceThumb(thumbnailURL(result, 240), result.name,
    isMoment(result) ? `moment ${formatTime(result.start)}–${formatTime(result.end)}` : null)));
  $("#generate-about").textContent = `${plural(chosen.length, "selected picture")} as references for ${state.stats.generate.model}.`;
  $("#generate-progress").hidden = true;
  $("#generate-result").hidden = true;
  $("#generate-result").replaceChildren();
  showError(chosen.length > limit ? new Error(`Select at most ${limit} results; ${chosen.length} are selected.`) : null, $("#generate-error"));
  $("#generate-submit").disabled = chosen.length > limit;
  $("#generate").showModal();
  $("#generate-prompt").focus();
}

let generationSerial = 0;

async function submitGenerate(event) {
  event.preventDefault();
  const prompt = $("#generate-prompt").value.trim();
  if (!prompt) {
    showError(new Error("Describe the picture to generate."), $("#generate-error"));
    $("#generate-prompt").focus();
    return;
  }
  const body = { prompt, items: [...state.selected.keys()] };
  if ($("#generate-ratio").value) body.aspectRatio = $("#generate-ratio").value;
  const serial = ++generationSerial;
  showError(null, $("#generate-error"));
  $("#generate-result").hidden = true;
  $("#generate-submit").disabled = true;
  try {
    const job = await api("/api/generate", { method: "POST", body });
    showGenerationProgress(job);
    const final = await followGeneration(job.id, (record) => { if (serial === generationSerial) showGenerationProgress(record); });
    if (serial !== generationSerial) return;
    showGenerationProgress(final);
    if (final.state === "done") renderGeneration(final);
    else showError(new Error(final.error || `The generation was ${final.state}.`), $("#generate-error"));
  } catch (error) {
    if (serial === generationSerial) showError(error, $("#generate-error"));
  } finally {
    if (serial === generationSerial) $("#generate-submit").disabled = false;
  }
}

/** Follows a generation job's events; resolves with its final record. */
function followGeneration(id, onProgress) {
  return new Promise((resolve) => {
    const source = new EventSource(withToken(`/api/jobs/${encodeURIComponent(id)}/events`));
    let last = null, ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      source.close();
      api(`/api/jobs/${encodeURIComponent(id)}`).then(resolve)
        .catch(() => resolve(last || { state: "failed", error: "The job's state could not be read." }));
    };
    source.addEventListener("progress", (event) => { last = JSON.parse(event.data); onProgress(last); });
    source.addEventListener("end", end);
    source.onerror = end;
  });
}

function showGenerationProgress(job) {
  const total = job.steps_total || 3;
  const done = job.state === "done" ? total : Math.min(total, job.steps_done || 0);
  const bar = $("#generate-progress .progress");
  bar.setAttribute("aria-valuemax", String(total));
  bar.setAttribute("aria-valuenow", String(done));
  bar.firstElementChild.style.width = `${((100 * done) / total).toFixed(0)}%`;
  $("#generate-status").textContent = job.state === "queued" ? "Waiting for the generation before it…"
    : job.state === "done" ? "Done." : job.state === "running" ? `${job.current || "Working"}…` : job.state;
  $("#generate-progress").hidden = false;
}

function renderGeneration(job) {
  const generation = job.generation;
  const pictures = generation.images.map((image) => el("figure", {},
    el("img", { class: "generated-image", src: withToken(image.url), alt: `Generated from “${generation.prompt}”` }),
    el("figcaption", {}, el("a", { href: withToken(image.url), target: "_blank", rel: "noopener" }, "Open full size"),
      " · ", el("code", {}, image.name))));
  const references = el("div", { class: "generate-used" },
    el("h3", {}, "References"),
    generation.references.length ? el("ol", { class: "generate-refs", "aria-label": "References sent" },
      generation.references.map((reference) => referenceThumb(
        reference.thumbnail_url ? withToken(`${reference.thumbnail_url}?size=240`) : null,
        reference.path.slice(reference.path.lastIndexOf("/") + 1),
        [reference.score != null ? `score ${reference.score.toFixed(3)}` : "selected",
          reference.time_s != null ? `frame at ${formatTime(reference.time_s)}` : null].filter(Boolean).join(" · "))))
      : el("p", { class: "muted" }, "None: the prompt alone."));
  $("#generate-result").replaceChildren(el("div", { class: "generate-pictures" }, pictures,
    generation.text ? el("p", { class: "generate-text" }, generation.text) : null), references);
  $("#generate-result").hidden = false;
}

// MARK: Stats and views

async function loadStats() {
  try {
    const stats = await api("/api/stats");
    state.stats = stats;
    $("#stats").replaceChildren(
      el("span", {}, plural(stats.images, "image")), el("span", { class: "dot", "aria-hidden": "true" }, "·"),
      el("span", {}, plural(stats.videos, "video")),
      el("span", { class: "moments" }, el("span", { class: "dot", "aria-hidden": "true" }, "·"), plural(stats.moments, "moment")));
    $("#stats").title = `${stats.model} · ${stats.dimension} dimensions · collection ${stats.collection}`;
    syncSelection();
  } catch (error) {
    $("#stats").textContent = "";
  }
}

function showView(view) {
  const index = view === "index";
  $("#view-search").hidden = index;
  $("#view-index").hidden = !index;
  $("#refine").hidden = index;
  $("#tab-search").toggleAttribute("aria-current", !index);
  $("#tab-index").toggleAttribute("aria-current", index);
  if (index) {
    $("#tab-index").setAttribute("aria-current", "page");
    loadJobs();
  } else {
    $("#tab-search").setAttribute("aria-current", "page");
  }
  const hash = index ? "#index" : "";
  if (location.hash !== hash) history.replaceState(null, "", location.pathname + location.search + hash);
}

// MARK: Wiring

function wire() {
  const input = $("#q");
  input.addEventListener("input", () => {
    state.text = input.value;
    if (!$("#view-search").hidden) return scheduleSearch();
    showView("search");
    runSearch();
  });
  $("#search-form").addEventListener("submit", (event) => { event.preventDefault(); state.text = input.value; runSearch(); });
  $("#pick-image").addEventListener("click", () => $("#file").click());
  $("#file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) setImage(file);
    event.target.value = "";
  });

  $("#term-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#term").value.trim();
    if (!text) return;
    const sign = Number((event.submitter && event.submitter.value) || 1);
    state.terms.push({ id: ++termSerial, text, weight: sign * 0.5 });
    $("#term").value = "";
    renderChips();
    runSearch();
  });

  for (const button of document.querySelectorAll("#type button")) {
    button.addEventListener("click", () => { state.type = button.dataset.type; renderFilters(); runSearch(); });
  }
  $("#type").addEventListener("keydown", (event) => {
    const order = ["all", "image", "video"];
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!step) return;
    event.preventDefault();
    state.type = order[(order.indexOf(state.type) + step + order.length) % order.length];
    renderFilters();
    $(`#type [data-type="${state.type}"]`).focus();
    runSearch();
  });
  for (const id of ["folder", "after", "before"]) {
    $(`#${id}`).addEventListener("input", (event) => {
      state[id] = event.target.value;
      $("#clear-filters").hidden = !filtersActive();
      scheduleSearch(id === "folder" ? 400 : 0);
    });
  }
  $("#clear-filters").addEventListener("click", clearFilters);
  $("#moments").addEventListener("change", (event) => {
    state.moments = event.target.checked;
    if (hasQuery()) runSearch();
  });
  $("#more").addEventListener("click", () => runSearch({ append: true }));
  $("#show-all").addEventListener("click", () => runSearch({ showAll: true }));

  const dialog = $("#detail");
  $("#detail-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", closeDetail);
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
  $("#detail-prev").addEventListener("click", () => openDetail(state.current - 1));
  $("#detail-next").addEventListener("click", () => openDetail(state.current + 1));
  $("#detail-similar").addEventListener("click", () => moreLikeThis(state.results[state.current]));
  $("#detail-remove").addEventListener("click", removeCurrent);

  $("#index-form").addEventListener("submit", submitIndex);
  $("#generate-open").addEventListener("click", openGenerate);
  $("#selection-clear").addEventListener("click", clearSelection);
  $("#generate-form").addEventListener("submit", submitGenerate);
  $("#generate-close").addEventListener("click", () => $("#generate").close());
  $("#generate").addEventListener("click", (event) => { if (event.target === $("#generate")) $("#generate").close(); });
  $("#brand").addEventListener("click", (event) => { event.preventDefault(); showView("search"); input.focus(); });
  $("#tab-search").addEventListener("click", (event) => { event.preventDefault(); showView("search"); });
  $("#tab-index").addEventListener("click", (event) => { event.preventDefault(); showView("index"); });
  window.addEventListener("hashchange", () => showView(location.hash === "#index" ? "index" : "search"));
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href="#index"]');
    if (link && link.id !== "tab-index") { event.preventDefault(); showView("index"); $("#sources").focus(); }
  });
  document.addEventListener("keydown", onKeyDown);

  // A picture dropped anywhere or pasted (outside text fields) becomes the query.
  const drop = $("#drop");
  let dragDepth = 0;
  const carriesFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  window.addEventListener("dragenter", (event) => { if (carriesFiles(event)) { dragDepth++; drop.hidden = false; } });
  window.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; drop.hidden = true; } });
  window.addEventListener("dragover", (event) => { if (carriesFiles(event)) event.preventDefault(); });
  window.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    drop.hidden = true;
    const file = [...event.dataTransfer.files].find((candidate) => candidate.type.startsWith("image/"));
    if (file) setImage(file); else showError(new Error("Drop a picture (JPEG, PNG, WebP, …) to search by it."));
  });
  window.addEventListener("paste", (event) => {
    const file = [...(event.clipboardData ? event.clipboardData.files : [])].find((f) => f.type.startsWith("image/"));
    if (!file) return;
    event.preventDefault();
    setImage(file);
  });
}

async function start() {
  const url = new URL(location.href);
  const given = url.searchParams.get("token") || url.searchParams.get("access_token");
  if (given) {
    token = given;
    localStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete("token");
    url.searchParams.delete("access_token");
    history.replaceState(null, "", url);
  }
  wire();
  const q = url.searchParams.get("q");
  if (q) { state.text = q; $("#q").value = q; }
  renderChips();
  renderFilters();
  showView(location.hash === "#index" ? "index" : "search");
  await loadStats();
  await runSearch();
  document.body.dataset.ready = "true";
}

start();
