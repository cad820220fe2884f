// The kiosk: what a child sees, taps and hears. Home shows Laiban and one picture button per module; a
// tap asks the server (POST /api/v1/ask) and the answer is shown as captions and pictures and spoken.
// Without a network the answers kept for today answer instead (store.js), and the service worker serves
// the page itself. The tablet goes home after `idle_seconds` without a touch and sleeps after five times
// that; it reloads itself when the server's version changes.

import * as api from "./api.js";
import { hasLabels, setWords, t } from "./i18n.js";
import { createPicture, drawClock, drawDay, drawLanguage, pictureUrl, setPictureContext, warmPicture } from "./pictures.js";
import { Speaker } from "./speech.js";
import * as store from "./store.js";

// Each module's first question, and the questions an answer offers next.
const MODULE_INTENT = {
  weather: "weather", lunch: "lunch", clock: "time", pickup: "pickup", calendar: "calendar", activities: "activities",
};
const MODULE_OF_INTENT = {
  weather: "weather", clothes: "weather", lunch: "lunch", time: "clock", schedule: "clock", date: "clock",
  pickup: "pickup", calendar: "calendar", activities: "activities",
};
const FOLLOW_UPS = {
  weather: ["clothes"], clothes: ["weather"], time: ["schedule", "date"], schedule: ["time", "date"],
  date: ["time", "schedule"],
};
const SLEEP_AFTER_IDLE = 5; // × idle_seconds
const VERSION_POLL = 60_000;
const TODAY_REFRESH = 10 * 60_000;
const ANSWERS_REFRESH = 60 * 60_000;

const $ = (id) => document.getElementById(id);
const speaker = new Speaker({ onCaption: highlightCaption, onSpeaking: (on) => on && setMood("speaking") });

// What the page fetched before the service worker controlled it; handed over to it when it takes over.
const fetchedEarly = new Map();

const state = {
  kiosk: null,
  booted: false,
  version: null,
  languages: ["sv"],
  defaultLang: "sv",
  lang: "sv",
  rtl: ["ar", "fa", "he", "ur", "ps", "ckb"],
  idleSeconds: 60,
  screen: "loading",
  question: null,
  answer: null,
  today: null,
  children: [],
  day: null,
  lastTouch: Date.now(),
  pendingReload: false,
  askSeq: 0,
  answersKeptAt: {},
};

// --- time at the preschool ----------------------------------------------------------------------------

let clockFormat = null; // Intl.DateTimeFormat is costly to build (~100 ms the first time): built once
let clockZone;

function localNow() {
  const zone = state.kiosk?.preschool?.timezone;
  if (!clockFormat || zone !== clockZone) {
    const options = {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    };
    try {
      clockFormat = new Intl.DateTimeFormat("en-CA", { ...options, timeZone: zone });
    } catch {
      clockFormat = new Intl.DateTimeFormat("en-CA", options);
    }
    clockZone = zone;
  }
  const parts = Object.fromEntries(clockFormat.formatToParts(new Date()).map((part) => [part.type, part.value]));
  const hour = parts.hour === "24" ? "00" : parts.hour;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${hour}:${parts.minute}` };
}

function isOpenNow() {
  const preschool = state.kiosk?.preschool;
  if (!preschool) return true;
  const now = localNow().time;
  return now >= String(preschool.day_starts_at).slice(0, 5) && now < String(preschool.day_ends_at).slice(0, 5);
}

// --- screens ------------------------------------------------------------------------------------------

function show(screen) {
  state.screen = screen;
  document.body.dataset.screen = screen;
  for (const id of ["loading", "home", "answer", "pairing", "unreachable"]) $(id).hidden = id !== screen;
  $("sleep").hidden = screen !== "sleep";
  if (screen === "sleep") $("home").hidden = false;
  $("home-button").hidden = screen !== "answer";
  const paired = screen !== "pairing" && screen !== "loading" && screen !== "unreachable";
  $("language-button").hidden = !paired || state.languages.length < 2;
  if (screen !== "answer") closeLanguages();
}

function characterSource(img, mood) {
  const wanted = pictureUrl(`laiban/${mood}`);
  if (img.dataset.mood === mood) return;
  img.dataset.mood = mood;
  img.onerror = () => {
    img.onerror = null;
    img.src = pictureUrl("laiban/idle");
  };
  img.src = wanted;
}

function setMood(mood) {
  for (const img of document.querySelectorAll("#home .character")) characterSource(img, mood);
  characterSource($("answer-character"), mood);
}

function labelUi() {
  const lang = state.lang;
  $("home-button").setAttribute("aria-label", t(lang, "home"));
  $("talk-button").setAttribute("aria-label", t(lang, "talk"));
  $("language-button").setAttribute("aria-label", t(lang, "language"));
  $("languages").setAttribute("aria-label", t(lang, "language"));
  $("laiban").setAttribute("aria-label", t(lang, "laiban"));
  $("modules").setAttribute("aria-label", t(lang, "modules"));
  $("sleep").setAttribute("aria-label", t(lang, "wake"));
  $("offline-text").textContent = t(lang, "offline");
}

// --- home ---------------------------------------------------------------------------------------------

function enabledModules() {
  const modules = state.kiosk?.preschool?.modules || [];
  return modules.filter((module) => Object.hasOwn(MODULE_INTENT, module));
}

function intentEnabled(intent) {
  const module = MODULE_OF_INTENT[intent];
  return module === undefined || enabledModules().includes(module);
}

function moduleButton(module, className = "module-button") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `${className} module-${module}`;
  button.dataset.module = module;
  button.setAttribute("aria-label", t(state.lang, `module.${module}`));
  button.append(createPicture(`module/${module}`));
  button.addEventListener("click", () => ask({ intent: MODULE_INTENT[module] }));
  return button;
}

function renderHome() {
  const nav = $("modules");
  const modules = enabledModules();
  nav.replaceChildren(...modules.map((module) => moduleButton(module)));
  const count = Math.max(1, modules.length);
  const wide = count <= 1 ? 1 : count <= 4 ? 2 : 3;
  const tall = count <= 1 ? 1 : 2;
  nav.style.setProperty("--cols-wide", String(wide));
  nav.style.setProperty("--rows-wide", String(Math.ceil(count / wide)));
  nav.style.setProperty("--cols-tall", String(tall));
  nav.style.setProperty("--rows-tall", String(Math.ceil(count / tall)));
}

function goHome() {
  speaker.cancel();
  state.askSeq += 1; // an answer still on its way is not shown
  state.question = null;
  state.answer = null;
  // Nothing of the last answer (it may have been a child's pickup) stays in the page.
  for (const id of ["captions", "pictures", "children", "actions"]) $(id).replaceChildren();
  $("children").hidden = true;
  show("home");
  setMood("idle");
  if (state.pendingReload) location.reload();
}

// --- asking -------------------------------------------------------------------------------------------

function localAnswer(intent, captions, pictures, available = false) {
  const lang = hasLabels(state.lang) ? state.lang : "sv";
  return {
    question: null, lang, intent, slots: {}, confidence: 1, yes_no: false, text: captions.join(" "),
    speech: captions.join(" "), captions, speech_captions: captions, pictures, available,
    asks_for: null,
  };
}

function modulePictures() {
  return enabledModules().map((module) => `module/${module}`);
}

/** An answer without the server: today's kept answer, or an honest sentence and the picture buttons. */
function answerOffline(question) {
  const { date, time } = localNow();
  if (question.intent && !question.child && !Object.keys(question.slots || {}).length) {
    const kept = store.keptAnswer(state.lang, question.intent, date, time);
    if (kept) return kept;
    if (question.intent === "time") {
      return localAnswer("time", [t(state.lang, "offline.clock")], [`clock/${time}`], true);
    }
  }
  const sentence = question.intent ? "offline.answer" : "offline.hear";
  return localAnswer("out_of_scope", [t(state.lang, sentence)], ["laiban/sorry", ...modulePictures()]);
}

async function ask(question) {
  const seq = ++state.askSeq;
  speaker.cancel();
  closeLanguages();
  const thinking = setTimeout(() => setMood("thinking"), 250);
  const body = { lang: state.lang, ...question };
  if (question.text && state.answer) body.previous = { intent: state.answer.intent, slots: state.answer.slots || {} };
  let answer;
  let source = "server";
  try {
    answer = await api.request("/api/v1/ask", { method: "POST", body });
  } catch (error) {
    if (error instanceof api.NeedsPairing) {
      clearTimeout(thinking);
      needsPairing();
      return;
    }
    answer = answerOffline(question);
    source = "offline";
  } finally {
    clearTimeout(thinking);
  }
  if (seq !== state.askSeq) return;
  showAnswer(answer, question, source);
}

function showAnswer(answer, question, source) {
  state.answer = answer;
  state.question = question;
  const section = $("answer");
  section.dataset.intent = answer.intent;
  section.dataset.source = source;
  renderCaptions(answer);
  renderPictures(answer);
  renderChildren(answer);
  renderActions(answer);
  const hasOwnLaiban = (answer.pictures || []).some((key) => key.startsWith("laiban/"));
  $("answer-character").hidden = hasOwnLaiban;
  show("answer");
  section.scrollTop = 0;
  setMood(answer.available === false ? "sorry" : "happy");
  $("captions").focus({ preventScroll: true });
  speaker.say(answer).then(() => {
    if (state.answer === answer) setMood(answer.available === false ? "sorry" : "happy");
  });
}

function renderCaptions(answer) {
  const list = $("captions");
  list.replaceChildren(
    ...(answer.captions || []).map((caption, index) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "caption";
      button.dataset.index = String(index);
      button.textContent = caption;
      button.addEventListener("click", () => speaker.say(answer, index));
      item.append(button);
      return item;
    }),
  );
}

function highlightCaption(index) {
  for (const button of document.querySelectorAll("#captions .caption")) {
    const on = index === "all" || Number(button.dataset.index) === index;
    button.classList.toggle("speaking", on);
    if (on) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

function renderPictures(answer) {
  const container = $("pictures");
  const keys = [...new Set(answer.pictures || [])];
  const modules = new Set(enabledModules());
  const pictureKeys = keys.filter((key) => !(key.startsWith("module/") && modules.has(key.slice(7))));
  const moduleKeys = keys.filter((key) => !pictureKeys.includes(key));
  // "I didn't understand" always offers the picture buttons again.
  if (answer.intent === "out_of_scope" && !moduleKeys.length) moduleKeys.push(...modulePictures());
  const elements = pictureKeys.map((key) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "picture";
    button.dataset.key = key;
    if (key.startsWith("week/")) button.classList.add("wide");
    button.setAttribute("aria-label", t(state.lang, "again"));
    // The day's events around the clock only when it is the answer's one big picture.
    button.append(createPicture(key, { events: pictureKeys.length === 1 }));
    button.addEventListener("click", () => speaker.say(answer));
    return button;
  });
  for (const key of moduleKeys) elements.push(moduleButton(key.slice(7), "module-button in-answer"));
  container.replaceChildren(...elements);
  container.dataset.count = String(pictureKeys.length);
  $("answer").classList.toggle("asks-child", answer.asks_for === "child");
  container.classList.toggle("with-modules", moduleKeys.length > 0);
}

async function renderChildren(answer) {
  const grid = $("children");
  grid.replaceChildren();
  grid.hidden = answer.asks_for !== "child";
  if (grid.hidden) return;
  try {
    state.children = await api.request("/api/v1/children");
  } catch (error) {
    if (error instanceof api.NeedsPairing) return needsPairing();
  }
  if (state.answer !== answer) return;
  grid.setAttribute("aria-label", t(state.lang, "children"));
  if (!state.children.length) {
    const nobody = document.createElement("p");
    nobody.className = "nobody";
    nobody.textContent = t(state.lang, "offline.nobody");
    grid.append(nobody);
    return;
  }
  for (const child of state.children) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "child";
    button.dataset.child = String(child.id);
    button.setAttribute("aria-label", child.name);
    const avatar = child.avatar.startsWith("upload/") ? child.avatar : `avatar/${child.avatar || "default"}`;
    const name = document.createElement("span");
    name.className = "child-name";
    name.textContent = child.name;
    button.append(createPicture(avatar), name);
    button.addEventListener("click", () => ask({ intent: "pickup", child: child.id }));
    grid.append(button);
  }
}

const NEXT_ARROW = "M 8 24 H 36 M 26 12 L 38 24 L 26 36";

/** The picture on a follow-up button: what the question is about, drawn for now. */
function followUpPicture(intent) {
  const { date, time } = localNow();
  if (intent === "clothes") return [createPicture("garment/jacket")];
  if (intent === "time") return [drawClock(time, { events: false })];
  if (intent === "date") {
    const [year, month, day] = date.split("-").map(Number);
    const weekday = (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
    return [drawDay(weekday, day)];
  }
  if (intent === "schedule") {
    // The next event's picture with an arrow: "what comes next".
    const next = (state.today?.events || []).find((event) => String(event.at).slice(0, 5) > time);
    const badge = document.createElement("span");
    badge.className = "next-badge";
    const arrow = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    arrow.setAttribute("viewBox", "0 0 48 48");
    arrow.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    for (const [name, value] of Object.entries({ d: NEXT_ARROW, fill: "none", stroke: "currentColor", "stroke-width": 7, "stroke-linecap": "round", "stroke-linejoin": "round" })) {
      path.setAttribute(name, String(value));
    }
    arrow.append(path);
    badge.append(arrow);
    return [createPicture(next ? `event/${next.kind}` : "module/clock"), badge];
  }
  return [createPicture(`module/${MODULE_OF_INTENT[intent]}`)];
}

function renderActions(answer) {
  const actions = $("actions");
  const buttons = [];
  for (const intent of FOLLOW_UPS[answer.intent] || []) {
    if (!intentEnabled(intent)) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "follow-up";
    button.dataset.intent = intent;
    button.setAttribute("aria-label", t(state.lang, `intent.${intent}`));
    button.append(...followUpPicture(intent));
    button.addEventListener("click", () => ask({ intent }));
    buttons.push(button);
  }
  const pictures = answer.pictures || [];
  const today = !answer.slots?.day || answer.slots.day === "today";
  if (answer.intent === "lunch" && answer.available !== false && today && pictures.some((key) => key.startsWith("food/"))) {
    buttons.push(ratingRow("/api/v1/lunch/rating", [1, 2, 3, 4].map((level) => [level, level, `rating.${level}`])));
  }
  if (answer.intent === "clothes" && today && pictures.some((key) => key.startsWith("garment/"))) {
    buttons.push(ratingRow("/api/v1/clothes/rating", [["down", 1, "rating.down"], ["up", 4, "rating.up"]]));
  }
  actions.replaceChildren(...buttons);
}

function ratingRow(path, choices) {
  const row = document.createElement("div");
  row.className = "rating";
  for (const [rating, face, label] of choices) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "rate";
    button.dataset.rating = String(rating);
    button.setAttribute("aria-label", t(state.lang, label));
    button.append(createPicture(`face/${face}`));
    button.addEventListener("click", () => rate(path, rating, row));
    row.append(button);
  }
  return row;
}

function rate(path, rating, row) {
  api.request(path, { method: "POST", body: { rating } }).catch(() => {
    /* a rating is a nicety: offline or nothing to rate, it is simply not counted */
  });
  const thanks = t(state.lang, "thanks");
  row.replaceChildren();
  row.classList.add("thanked");
  const item = document.createElement("li");
  const caption = document.createElement("button");
  caption.type = "button";
  caption.className = "caption thanks";
  caption.textContent = thanks;
  caption.addEventListener("click", () => speaker.sayText(thanks, state.lang));
  item.append(caption);
  $("captions").append(item);
  setMood("happy");
  speaker.sayText(thanks, hasLabels(state.lang) ? state.lang : "sv");
}

// --- language -----------------------------------------------------------------------------------------

function setLanguage(code, { reask = true } = {}) {
  state.lang = code;
  document.documentElement.lang = code;
  document.documentElement.dir = state.rtl.includes(code) ? "rtl" : "ltr";
  setPictureContext({ lang: code });
  labelUi();
  renderHome();
  $("language-button").replaceChildren(drawLanguage(code));
  $("language-button").dataset.lang = code;
  if (reask && state.screen === "answer" && state.question) ask(state.question);
}

function openLanguages() {
  const list = $("language-list");
  list.replaceChildren(
    ...state.languages.map((code) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "language-choice";
      button.dataset.lang = code;
      button.setAttribute("aria-label", state.kiosk?.language_names?.[code] || code);
      if (code === state.lang) button.setAttribute("aria-current", "true");
      button.append(drawLanguage(code));
      button.addEventListener("click", () => {
        closeLanguages();
        if (code !== state.lang) setLanguage(code);
      });
      return button;
    }),
  );
  $("languages").hidden = false;
  $("language-button").setAttribute("aria-expanded", "true");
  list.querySelector("[aria-current]")?.focus({ preventScroll: true });
}

function closeLanguages() {
  if ($("languages").hidden) return;
  $("languages").hidden = true;
  $("language-button").setAttribute("aria-expanded", "false");
}

// --- data for the day ---------------------------------------------------------------------------------

async function loadToday() {
  try {
    state.today = await api.request("/api/v1/today");
    fetchedEarly.set("/api/v1/today", state.today);
    // A clock or week strip already on screen gets the day's events and colours.
    if (state.screen === "answer" && state.answer) renderPictures(state.answer);
    setPictureContext({ today: state.today });
  } catch (error) {
    if (error instanceof api.NeedsPairing) needsPairing();
  }
}

async function keepAnswers() {
  const { date } = localNow();
  for (const lang of state.languages) {
    const fresh = store.isFresh(lang, date) && Date.now() - (state.answersKeptAt[lang] || 0) < ANSWERS_REFRESH;
    if (fresh || !api.isOnline()) continue;
    try {
      const answers = await api.request(`/api/v1/answers?lang=${encodeURIComponent(lang)}`, { timeout: 30000 });
      if (answers && !answers.fromCache) {
        fetchedEarly.set(`/api/v1/answers?lang=${encodeURIComponent(lang)}`, answers);
        store.keep(lang, answers);
        state.answersKeptAt[lang] = Date.now();
      } else if (answers && answers.date === date && !store.isFresh(lang, date)) {
        store.keep(lang, answers);
      }
    } catch (error) {
      if (error instanceof api.NeedsPairing) return needsPairing();
      if (error instanceof api.Offline) return;
    }
  }
  // Fetch the pictures of the kept answers once, so that the service worker has them offline.
  await serviceWorkerControls();
  const keys = new Set(state.languages.flatMap((lang) => store.keptPictures(lang)));
  for (const event of state.today?.events || []) keys.add(`event/${event.kind}`); // around the clock
  keys.add("garment/jacket"); // the "what to wear" button
  for (const key of keys) {
    if (!api.isOnline()) return;
    await warmPicture(key);
  }
  if (state.languages.every((lang) => store.isFresh(lang, date))) document.documentElement.dataset.kept = "true";
}

// --- kiosk behaviour ----------------------------------------------------------------------------------

let wakeLock = null;

async function keepAwake() {
  if (!("wakeLock" in navigator) || wakeLock || document.visibilityState !== "visible") return;
  try {
    wakeLock = await navigator.wakeLock.request("screen");
    wakeLock.addEventListener("release", () => {
      wakeLock = null;
    });
  } catch {
    /* not allowed now (battery saver, no user gesture yet): tried again on the next touch */
  }
}

function letScreenSleep() {
  if (wakeLock) wakeLock.release().catch(() => {});
  wakeLock = null;
}

function fallAsleep() {
  speaker.cancel();
  show("sleep");
  // The next child starts in the preschool's own language.
  if (state.lang !== state.defaultLang) setLanguage(state.defaultLang, { reask: false });
  // In opening hours the screen stays on (a dark tablet does not wake to a child's tap); at night it may sleep.
  if (!isOpenNow()) letScreenSleep();
  if (state.pendingReload) location.reload();
}

function wake() {
  state.lastTouch = Date.now();
  show("home");
  setMood("idle");
  keepAwake();
}

function touched() {
  state.lastTouch = Date.now();
  if (state.screen !== "sleep") keepAwake();
}

function tick() {
  if (!state.booted) return;
  const now = Date.now();
  if (speaker.speaking) state.lastTouch = now; // the idle time starts when Laiban has finished
  const idle = (now - state.lastTouch) / 1000;
  if (state.screen === "answer" && idle >= state.idleSeconds) goHome();
  else if (state.screen === "home" && idle >= state.idleSeconds * SLEEP_AFTER_IDLE) fallAsleep();
  const { date } = localNow();
  if (date !== state.day) {
    state.day = date;
    loadToday();
    keepAnswers();
  }
}

async function pollServer() {
  let kiosk;
  try {
    kiosk = await api.request("/api/v1/kiosk");
  } catch (error) {
    if (error instanceof api.NeedsPairing) needsPairing();
    return;
  }
  if (kiosk.fromCache) return;
  if (kiosk.version && state.version && kiosk.version !== state.version) {
    // The server was updated: its pictures may have changed too, so the kept copies go.
    if ("caches" in window) {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith("laiban-pictures")).map((name) => caches.delete(name)));
    }
    state.pendingReload = true;
    if (state.screen === "home" || state.screen === "sleep") location.reload();
    return;
  }
  const before = JSON.stringify([state.kiosk?.preschool?.modules, state.languages, state.kiosk?.speech]);
  configure(kiosk);
  const after = JSON.stringify([kiosk.preschool.modules, state.languages, kiosk.speech]);
  if (before !== after && state.screen !== "answer") renderHome();
  if (before !== after) setUpTalk();
  keepAnswers();
}

function lockDown() {
  const prevent = (event) => event.preventDefault();
  document.addEventListener("contextmenu", prevent);
  document.addEventListener("selectstart", prevent);
  document.addEventListener("dragstart", prevent);
  document.addEventListener("gesturestart", prevent); // Safari pinch
  document.addEventListener("dblclick", prevent);
  document.addEventListener("touchmove", (event) => event.touches.length > 1 && event.preventDefault(), {
    passive: false,
  });
  window.addEventListener("wheel", (event) => event.ctrlKey && event.preventDefault(), { passive: false });
  window.addEventListener("pointerdown", touched, { capture: true });
  window.addEventListener("keydown", touched, { capture: true });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.screen !== "sleep") keepAwake();
  });
  window.addEventListener("online", api.retrySoon);
}

function needsPairing() {
  state.booted = false;
  speaker.cancel();
  api.forgetDevice();
  store.forgetAll();
  if ("caches" in window) {
    caches.keys().then((names) => names.filter((name) => name.startsWith("laiban-data")).forEach((name) => caches.delete(name)));
  }
  for (const id of ["captions", "pictures", "children", "actions", "modules"]) $(id).replaceChildren();
  document.documentElement.lang = "sv";
  document.documentElement.dir = "ltr";
  show("pairing");
  $("offline").hidden = true;
}

function configure(kiosk) {
  state.kiosk = kiosk;
  state.version = state.version || kiosk.version || null;
  const preschool = kiosk.preschool;
  const spoken = (kiosk.spoken_languages || preschool.languages.slice(0, 1)).filter((code) => preschool.languages.includes(code));
  state.languages = spoken.length ? spoken : [preschool.languages[0] || "sv"];
  state.defaultLang = state.languages[0];
  if (Array.isArray(kiosk.rtl_languages)) state.rtl = kiosk.rtl_languages;
  setWords(kiosk);
  if (Number(kiosk.idle_seconds) > 0) state.idleSeconds = Number(kiosk.idle_seconds);
  setPictureContext({ languageNames: kiosk.language_names || {} });
  if (!state.languages.includes(state.lang)) state.lang = state.defaultLang;
}

let talkWired = false;

/** Shows the talk button when the server listens (wired once, on first need), hides it when not. */
async function setUpTalk() {
  const listens = Boolean(state.kiosk?.speech?.stt);
  if (talkWired || !listens) {
    $("talk-button").hidden = !listens || !talkWired;
    return;
  }
  talkWired = true;
  const { setUpTalk: wire } = await import("./talk.js");
  talkWired = wire($("talk-button"), {
    lang: () => state.lang,
    previous: () => (state.screen === "answer" && state.answer ? state.answer : null),
    onState: (mood) => {
      $("talk-button").dataset.state = mood;
      if (mood !== "idle") setMood(mood);
    },
    onAnswer: (answer) => showAnswer(answer, { text: answer.question || "" }, "server"),
    onOffline: () => showAnswer(answerOffline({ text: "" }), { text: "" }, "offline"),
    onError: () => showAnswer(answerOffline({ text: "" }), { text: "" }, "offline"),
  });
}

function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    const entries = [...fetchedEarly].map(([path, data]) => [path, JSON.stringify(data)]);
    navigator.serviceWorker.controller?.postMessage({ type: "keep", entries });
  });
  navigator.serviceWorker.register("/kiosk/sw.js", { scope: "/kiosk" }).catch(() => {
    /* served without the worker: works online, just not offline after a reload */
  });
}

/** Resolves when the service worker controls the page (at most a few seconds' wait on the first visit). */
function serviceWorkerControls() {
  if (!("serviceWorker" in navigator) || navigator.serviceWorker.controller) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** The kiosk can be used: the module buttons are on screen with their pictures (or 2 s have passed). */
async function ready() {
  const loaded = (img) =>
    img.complete ? Promise.resolve() : new Promise((resolve) => {
      img.addEventListener("load", resolve, { once: true });
      img.addEventListener("error", resolve, { once: true });
    });
  const pictures = [...document.querySelectorAll("#home img")].map(loaded);
  await Promise.race([Promise.all(pictures), new Promise((resolve) => setTimeout(resolve, 2000))]);
  requestAnimationFrame(() => {
    document.documentElement.dataset.ready = "true";
    performance.mark("kiosk-ready");
    document.dispatchEvent(new Event("kiosk-ready"));
  });
}

async function boot() {
  lockDown();
  api.onConnectivity((online) => {
    $("offline").hidden = online || state.screen === "pairing";
    if (!online) return;
    if (!state.booted && state.screen === "unreachable") location.reload();
    else if (state.booted) {
      loadToday();
      keepAnswers();
    }
  });
  $("home-button").addEventListener("click", goHome);
  $("laiban").addEventListener("click", () => ask({ intent: "about" }));
  $("language-button").addEventListener("click", () => ($("languages").hidden ? openLanguages() : closeLanguages()));
  $("languages").addEventListener("click", (event) => event.target === $("languages") && closeLanguages());
  document.addEventListener("keydown", (event) => event.key === "Escape" && closeLanguages());
  $("sleep").addEventListener("click", wake);
  setInterval(tick, 500);

  if (!api.deviceToken()) return needsPairing();
  let kiosk;
  try {
    kiosk = await api.request("/api/v1/kiosk");
  } catch (error) {
    if (error instanceof api.NeedsPairing) return needsPairing();
    show("unreachable"); // the retry loop in api.js reloads the page when the server answers
    $("offline").hidden = false;
    return;
  }
  if (!kiosk.fromCache) fetchedEarly.set("/api/v1/kiosk", kiosk);
  configure(kiosk);
  setLanguage(state.lang, { reask: false });
  show("home");
  setMood("idle");
  state.booted = true;
  state.lastTouch = Date.now();
  ready();
  // Let the browser fetch the pictures before the rest of the start-up work.
  await new Promise((resolve) => setTimeout(resolve, 0));
  state.day = localNow().date;
  registerServiceWorker();
  keepAwake();
  setUpTalk();
  await loadToday();
  keepAnswers();
  setInterval(pollServer, VERSION_POLL);
  setInterval(loadToday, TODAY_REFRESH);
}

boot();
