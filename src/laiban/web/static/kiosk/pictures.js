// Pictures by key. A key "folder/name" is the SVG /static/pictures/folder/name.svg, falling back to the
// folder's default.svg and then to Laiban himself. A few keys are drawn here because they depend on the
// moment: clock/HH:MM (an analog clock with the day's events around the dial), thermometer/<°C>,
// week/<weekday> (the week strip in the preschool's colours) and language/<code> (a round badge with
// the language's own name). upload/<sha> is a picture staff uploaded: fetched with the device token.

import { uploadBlob } from "./api.js";
import { weekdayLetters } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const ROOT = "/static/pictures/";
const LAST_RESORT = `${ROOT}laiban/idle.svg`;
const INK = "#23303d";
const FONT = "ui-rounded, 'Arial Rounded MT Bold', system-ui, sans-serif";
const SEGMENT = /^[\p{L}\p{N}_-][\p{L}\p{N}_.-]*$/u;

// Monday first; the keys name weekdays in Swedish (måndag…) or English (monday…).
const WEEKDAYS = {
  måndag: 0, tisdag: 1, onsdag: 2, torsdag: 3, fredag: 4, lördag: 5, söndag: 6,
  monday: 0, tuesday: 1, wednesday: 2, thursday: 3, friday: 4, saturday: 5, sunday: 6,
};
// The Swedish preschool weekday colours, used until /api/v1/today tells the preschool's own.
const WEEK_COLOURS = ["#43a047", "#1e88e5", "#ffffff", "#8d6e63", "#fdd835", "#e53935", "#f48fb1"];
const BADGE_COLOURS = ["#1a5fb4", "#26734d", "#a51d2d", "#613583", "#865e3c", "#0b6e79", "#9c4221"];

let context = { lang: "sv", today: null, languageNames: {} };

/** What drawn pictures need to know: the kiosk language, GET /api/v1/today, the languages' names. */
export function setPictureContext(values) {
  context = { ...context, ...values };
}

function svg(name, attrs = {}, children = []) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child);
  return node;
}

function canvas(viewBox, children, kind) {
  return svg(
    "svg",
    { viewBox, class: `picture-art drawn drawn-${kind}`, "aria-hidden": "true", focusable: "false" },
    children,
  );
}

function text(content, attrs) {
  const node = svg("text", { "font-family": FONT, "font-weight": 700, "text-anchor": "middle", fill: INK, ...attrs });
  node.textContent = content;
  return node;
}

/** The URL of a picture key's SVG, or null when the key is not a plain folder/name. */
export function pictureUrl(key) {
  const parts = String(key).split("/");
  if (parts.length < 2 || !parts.every((part) => SEGMENT.test(part))) return null;
  return ROOT + parts.map(encodeURIComponent).join("/") + ".svg";
}

function fallbacks(key) {
  const chain = [pictureUrl(key)];
  const folder = String(key).split("/")[0];
  if (SEGMENT.test(folder)) chain.push(`${ROOT}${encodeURIComponent(folder)}/default.svg`);
  chain.push(LAST_RESORT);
  return [...new Set(chain.filter(Boolean))];
}

function image(chain) {
  const element = new Image();
  element.alt = "";
  element.decoding = "async";
  element.draggable = false;
  element.className = "picture-art";
  let step = 0;
  element.addEventListener("error", () => {
    step += 1;
    if (step < chain.length) element.src = chain[step];
  });
  element.src = chain[0];
  return element;
}

// --- uploads ------------------------------------------------------------------------------------------

const uploads = new Map(); // sha → Promise<{blob, url}>

function uploadImage(sha) {
  const element = image([]);
  element.classList.add("upload");
  let pending = uploads.get(sha);
  if (!pending) {
    pending = uploadBlob(sha).then((blob) => ({ blob, url: URL.createObjectURL(blob) }));
    uploads.set(sha, pending);
    pending.catch(() => uploads.delete(sha));
  }
  pending.then(
    ({ blob, url }) => {
      // Should blob: URLs be refused (an older Content-Security-Policy), use a data: URL instead.
      element.addEventListener(
        "error",
        () => {
          const reader = new FileReader();
          reader.onload = () => {
            element.src = String(reader.result);
          };
          reader.readAsDataURL(blob);
        },
        { once: true },
      );
      element.src = url;
    },
    () => {
      element.src = LAST_RESORT;
    },
  );
  return element;
}

// --- drawn pictures -----------------------------------------------------------------------------------

function minutesOf(value) {
  const [hours, minutes] = String(value).split(":").map(Number);
  return (hours || 0) * 60 + (minutes || 0);
}

function onDial(minutes, radius) {
  const angle = ((minutes % 720) / 720) * 2 * Math.PI;
  return [100 + radius * Math.sin(angle), 100 - radius * Math.cos(angle)];
}

/**
 * An analog clock at `hhmm`; with today's schedule: the opening hours as an arc and (when `events`) the
 * day's events as small pictures around the rim.
 */
export function drawClock(hhmm, { events: withEvents = true } = {}) {
  const shown = minutesOf(hhmm);
  const parts = [svg("circle", { cx: 100, cy: 100, r: 94, fill: "#ffffff", stroke: INK, "stroke-width": 6 })];
  const today = context.today;
  if (today && today.day_starts_at && today.day_ends_at) {
    const start = minutesOf(today.day_starts_at);
    const end = minutesOf(today.day_ends_at);
    const span = end - start;
    if (span >= 720) {
      parts.push(svg("circle", { cx: 100, cy: 100, r: 84, fill: "none", stroke: "#ffe08a", "stroke-width": 12 }));
    } else if (span > 0) {
      const [x1, y1] = onDial(start, 84);
      const [x2, y2] = onDial(end, 84);
      const large = span > 360 ? 1 : 0;
      parts.push(
        svg("path", {
          d: `M ${x1.toFixed(1)} ${y1.toFixed(1)} A 84 84 0 ${large} 1 ${x2.toFixed(1)} ${y2.toFixed(1)}`,
          fill: "none",
          stroke: "#ffe08a",
          "stroke-width": 12,
          "stroke-linecap": "round",
        }),
      );
    }
  }
  for (let hour = 1; hour <= 12; hour += 1) {
    const [x1, y1] = onDial(hour * 60, 90);
    const [x2, y2] = onDial(hour * 60, 78);
    parts.push(svg("line", { x1, y1, x2, y2, stroke: INK, "stroke-width": hour % 3 === 0 ? 6 : 3, "stroke-linecap": "round" }));
    const [tx, ty] = onDial(hour * 60, 63);
    parts.push(text(String(hour), { x: tx.toFixed(1), y: (ty + 7).toFixed(1), "font-size": 20 }));
  }
  const events = (withEvents && today && today.events) || [];
  const loading = [];
  for (const event of events) {
    const at = minutesOf(event.at);
    const [dx, dy] = onDial(at, 94);
    parts.push(svg("circle", { cx: dx, cy: dy, r: 5, fill: "#e66100", stroke: "#ffffff", "stroke-width": 2 }));
    const [ix, iy] = onDial(at, 124);
    const picture = svg("image", {
      x: (ix - 19).toFixed(1),
      y: (iy - 19).toFixed(1),
      width: 38,
      height: 38,
      class: "clock-event",
    });
    const chain = fallbacks(`event/${event.kind}`).slice(0, 2);
    let step = 0;
    loading.push(
      new Promise((resolve) => {
        picture.addEventListener("load", resolve);
        picture.addEventListener("error", () => {
          step += 1;
          if (step < chain.length) picture.setAttribute("href", chain[step]);
          else {
            picture.remove();
            resolve();
          }
        });
      }),
    );
    picture.setAttribute("href", chain[0]);
    parts.push(picture);
  }
  const [hx, hy] = onDial(shown, 48);
  const minuteAngle = ((shown % 60) / 60) * 2 * Math.PI;
  const mx = 100 + 74 * Math.sin(minuteAngle);
  const my = 100 - 74 * Math.cos(minuteAngle);
  parts.push(svg("line", { x1: 100, y1: 100, x2: hx, y2: hy, stroke: INK, "stroke-width": 11, "stroke-linecap": "round" }));
  parts.push(svg("line", { x1: 100, y1: 100, x2: mx, y2: my, stroke: "#1a5fb4", "stroke-width": 6, "stroke-linecap": "round" }));
  parts.push(svg("circle", { cx: 100, cy: 100, r: 8, fill: INK }));
  const clock = canvas(events.length ? "-44 -44 288 288" : "0 0 200 200", parts, "clock");
  if (loading.length) {
    // Marked until the event pictures have loaded (tests wait for it before a screenshot).
    clock.dataset.loading = "true";
    Promise.all(loading).then(() => delete clock.dataset.loading);
  }
  return clock;
}

/** A thermometer filled to `degrees` (°C), with the number beside it. */
export function drawThermometer(degrees) {
  const value = Number(degrees);
  const known = Number.isFinite(value);
  const warm = !known || value > 0;
  const colour = warm ? "#c01c28" : "#1c71d8";
  const fraction = known ? Math.min(1, Math.max(0, (value + 25) / 60)) : 0.5;
  const height = 8 + 140 * fraction;
  const parts = [
    svg("rect", { x: 26, y: 14, width: 44, height: 180, rx: 22, fill: "#ffffff", stroke: INK, "stroke-width": 5 }),
    svg("rect", { x: 37, y: 180 - height, width: 22, height: height + 10, rx: 11, fill: colour }),
    svg("circle", { cx: 48, cy: 202, r: 30, fill: colour, stroke: INK, "stroke-width": 5 }),
    svg("line", { x1: 70, y1: 180 - 140 * (25 / 60), x2: 84, y2: 180 - 140 * (25 / 60), stroke: INK, "stroke-width": 4 }),
  ];
  const shown = known ? `${Math.round(value) < 0 ? "−" : ""}${Math.abs(Math.round(value))}°` : "?";
  parts.push(text(shown, { x: 162, y: 140, "font-size": 62, fill: colour === "#c01c28" ? "#a51d2d" : "#1a5fb4" }));
  return canvas("0 0 240 240", parts, "thermometer");
}

/** The week Monday–Sunday in the preschool's colours, `name` (a weekday) highlighted. */
export function drawWeek(name) {
  const wanted = WEEKDAYS[String(name).toLowerCase()];
  const week = (context.today && context.today.week) || [];
  const colours = WEEK_COLOURS.map((fallback, index) => (week[index] && week[index].colour) || fallback);
  const todayIndex = week.findIndex((day) => day.today);
  const highlighted = wanted === undefined ? todayIndex : wanted;
  const letters = weekdayLetters(context.lang);
  const parts = [];
  for (let index = 0; index < 7; index += 1) {
    const chosen = index === highlighted;
    const cx = 36 + index * 62;
    if (chosen) {
      parts.push(svg("path", { d: `M ${cx - 12} 4 L ${cx + 12} 4 L ${cx} 18 Z`, fill: INK }));
    }
    parts.push(
      svg("circle", {
        cx,
        cy: 58,
        r: chosen ? 31 : 23,
        fill: colours[index],
        stroke: INK,
        "stroke-width": chosen ? 6 : 3,
      }),
    );
    parts.push(text(letters[index], { x: cx, y: 124, "font-size": chosen ? 28 : 20 }));
  }
  return canvas("0 0 444 134", parts, "week");
}

function badgeColour(code) {
  let sum = 0;
  for (const char of String(code)) sum = (sum * 31 + char.codePointAt(0)) % 9973;
  return BADGE_COLOURS[sum % BADGE_COLOURS.length];
}

/** A round badge with the language's own name ("Svenska", "English", "العربية"). */
export function drawLanguage(code) {
  const name = context.languageNames[code] || String(code).toUpperCase();
  const length = [...name].length;
  const size = length <= 4 ? 30 : length <= 7 ? 22 : length <= 10 ? 17 : 13;
  return canvas(
    "0 0 120 120",
    [
      svg("circle", { cx: 60, cy: 60, r: 56, fill: badgeColour(code), stroke: "#ffffff", "stroke-width": 4 }),
      text(name, { x: 60, y: 60 + size * 0.35, "font-size": size, fill: "#ffffff" }),
    ],
    "language",
  );
}

/** A calendar sheet for a day: a band in the weekday's colour (Monday = 0) and the day of the month. */
export function drawDay(weekday, dayOfMonth) {
  const week = (context.today && context.today.week) || [];
  const colour = (week[weekday] && week[weekday].colour) || WEEK_COLOURS[weekday] || "#ffffff";
  return canvas(
    "0 0 120 120",
    [
      svg("rect", { x: 12, y: 16, width: 96, height: 92, rx: 14, fill: "#ffffff", stroke: INK, "stroke-width": 5 }),
      svg("path", { d: "M 12 44 V 30 A 14 14 0 0 1 26 16 H 94 A 14 14 0 0 1 108 30 V 44 Z", fill: colour, stroke: INK, "stroke-width": 5 }),
      svg("line", { x1: 38, y1: 8, x2: 38, y2: 24, stroke: INK, "stroke-width": 6, "stroke-linecap": "round" }),
      svg("line", { x1: 82, y1: 8, x2: 82, y2: 24, stroke: INK, "stroke-width": 6, "stroke-linecap": "round" }),
      text(String(dayOfMonth), { x: 60, y: 94, "font-size": 44 }),
    ],
    "day",
  );
}

const FACES = {
  1: { fill: "#e57373", mouth: "M 36 84 Q 60 62 84 84" },
  2: { fill: "#ffb74d", mouth: "M 38 78 L 82 78" },
  3: { fill: "#dce775", mouth: "M 36 72 Q 60 92 84 72" },
  4: { fill: "#81c784", mouth: "M 32 68 Q 60 108 88 68 Z" },
};

/** A face for ratings: 1 (did not like it) … 4 (loved it). */
export function drawFace(level) {
  const face = FACES[level] || FACES[3];
  return canvas(
    "0 0 120 120",
    [
      svg("circle", { cx: 60, cy: 60, r: 54, fill: face.fill, stroke: INK, "stroke-width": 5 }),
      svg("circle", { cx: 42, cy: 48, r: 7, fill: INK }),
      svg("circle", { cx: 78, cy: 48, r: 7, fill: INK }),
      svg("path", {
        d: face.mouth,
        fill: face.mouth.endsWith("Z") ? INK : "none",
        stroke: INK,
        "stroke-width": 6,
        "stroke-linecap": "round",
        "stroke-linejoin": "round",
      }),
    ],
    "face",
  );
}

// --- by key -------------------------------------------------------------------------------------------

/** Keys drawn here (no file to fetch). */
export function isDrawn(key) {
  return /^(clock|thermometer|week|language|face)\//.test(key);
}

/** A new element showing picture `key`; `events: false` draws a clock without the day's events. */
export function createPicture(key, { events = true } = {}) {
  const [folder, ...rest] = String(key).split("/");
  const name = rest.join("/");
  if (folder === "clock" && /^\d{1,2}:\d{2}$/.test(name)) return drawClock(name, { events });
  if (folder === "thermometer") return drawThermometer(name);
  if (folder === "week") return drawWeek(name);
  if (folder === "language") return drawLanguage(name);
  if (folder === "face") return drawFace(Number(name));
  if (folder === "upload" && /^[0-9a-f]{64}$/.test(name)) return uploadImage(name);
  return image(fallbacks(key));
}

/** Fetch a picture's file once so that the service worker keeps it for offline use. */
export function warmPicture(key) {
  if (isDrawn(key) || key.startsWith("upload/")) return Promise.resolve();
  const [first, fallback] = fallbacks(key);
  return fetch(first)
    .then((response) => (response.ok || !fallback ? response.blob() : fetch(fallback).then((again) => again.blob())))
    .catch(() => undefined);
}
