// The few words the kiosk itself says or names (aria-labels, offline sentences). Everything else a child
// sees or hears comes from the server's answers. Swedish is the fallback for every other language.

const LABELS = {
  sv: {
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
  },
  en: {
    modules: "What do you want to know?",
    "module.weather": "Weather and clothes",
    "module.lunch": "Food",
    "module.clock": "The clock and the day",
    "module.pickup": "Who picks me up?",
    "module.calendar": "Calendar",
    "module.activities": "What are we doing today?",
    "intent.clothes": "What should I wear?",
    "intent.weather": "What is the weather like?",
    "intent.schedule": "What happens next?",
    "intent.date": "What day is it?",
    "intent.time": "What time is it?",
    home: "Home",
    laiban: "Laiban",
    language: "Change language",
    talk: "Talk to Laiban",
    listening: "Laiban is listening",
    again: "Hear it again",
    children: "Who are you?",
    "rating.1": "Not tasty",
    "rating.2": "So-so",
    "rating.3": "Tasty",
    "rating.4": "Very tasty",
    "rating.up": "Good clothes",
    "rating.down": "Not good clothes",
    thanks: "Thank you!",
    offline: "No connection",
    "offline.answer": "I can't answer that right now. Ask a teacher, or tap a picture.",
    "offline.hear": "I can't hear you right now. Tap a picture!",
    "offline.clock": "Look at the clock!",
    "offline.nobody": "Ask a teacher.",
    wake: "Wake Laiban up",
  },
};

/** The kiosk's own label `key` in `lang` (Swedish when the language has none). */
export function t(lang, key) {
  const own = hasLabels(lang) ? LABELS[lang] : LABELS.sv;
  return own[key] || LABELS.sv[key] || key;
}

/** Whether the kiosk has its own words in `lang` (otherwise its offline sentences are Swedish). */
export function hasLabels(lang) {
  return Object.prototype.hasOwnProperty.call(LABELS, lang);
}

// Short weekday letters for the drawn week strip, Monday first.
const WEEKDAY_LETTERS = {
  sv: ["M", "T", "O", "T", "F", "L", "S"],
  en: ["M", "T", "W", "T", "F", "S", "S"],
};

export function weekdayLetters(lang) {
  return WEEKDAY_LETTERS[lang] || WEEKDAY_LETTERS.sv;
}
