// The few words the kiosk itself says or names (aria-labels, offline sentences). Everything else a child
// sees or hears comes from the server's answers. The words live in the server's message catalogs
// (src/laiban/web/kiosk_words.py) and arrive with GET /api/v1/kiosk, one set per spoken language (the
// service worker keeps that response, so they are there offline too). Only the Swedish words are written
// here, for the moments before the first response and for a word a language's catalog lacks.

const SWEDISH = {
  modules: "Vad vill du veta?",
  "module.weather": "Väder och kläder",
  "module.lunch": "Mat",
  "module.clock": "Klockan och dagen",
  "module.pickup": "Vem hämtar mig?",
  "module.calendar": "Kalender",
  "module.activities": "Vad ska vi göra idag?",
  "intent.clothes": "Vad ska jag ha på mig?",
  "intent.weather": "Hur är vädret?",
  "intent.schedule": "Vad händer sen?",
  "intent.date": "Vilken dag är det?",
  "intent.time": "Vad är klockan?",
  home: "Hem",
  laiban: "Laiban",
  language: "Byt språk",
  talk: "Prata med Laiban",
  listening: "Laiban lyssnar",
  again: "Lyssna igen",
  children: "Vem är du?",
  "rating.1": "Inte gott",
  "rating.2": "Sådär",
  "rating.3": "Gott",
  "rating.4": "Jättegott",
  "rating.up": "Bra kläder",
  "rating.down": "Inte bra kläder",
  thanks: "Tack!",
  offline: "Ingen anslutning",
  "offline.answer": "Jag kan inte svara på det just nu. Fråga en pedagog, eller tryck på en bild.",
  "offline.hear": "Jag kan inte höra dig just nu. Tryck på en bild!",
  "offline.clock": "Titta på klockan!",
  "offline.nobody": "Fråga en pedagog.",
  wake: "Väck Laiban",
};
const SWEDISH_WEEKDAYS = ["M", "T", "O", "T", "F", "L", "S"];

let words = { sv: SWEDISH };
let weekdays = { sv: SWEDISH_WEEKDAYS };

/** Takes the words of GET /api/v1/kiosk (`words` and `weekday_letters`, per language). */
export function setWords(kiosk) {
  words = { ...(kiosk?.words || {}), sv: { ...SWEDISH, ...(kiosk?.words?.sv || {}) } };
  weekdays = { ...(kiosk?.weekday_letters || {}), sv: SWEDISH_WEEKDAYS };
}

/** The kiosk's own label `key` in `lang` (Swedish when the language lacks it). */
export function t(lang, key) {
  const own = hasLabels(lang) ? words[lang] : SWEDISH;
  return own[key] || SWEDISH[key] || key;
}

/** Whether the kiosk has its own words in `lang` (otherwise its offline sentences are Swedish). */
export function hasLabels(lang) {
  return Object.prototype.hasOwnProperty.call(words, lang) && Object.keys(words[lang]).length > 0;
}

/** Short weekday letters for the drawn week strip, Monday first (CLDR's narrow names). */
export function weekdayLetters(lang) {
  const letters = Object.prototype.hasOwnProperty.call(weekdays, lang) ? weekdays[lang] : null;
  return Array.isArray(letters) && letters.length === 7 ? letters : SWEDISH_WEEKDAYS;
}
