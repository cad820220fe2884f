// Today's answers, kept on the tablet so that the main picture questions still answer without a network.
// GET /api/v1/answers?lang=xx gives every tap answer of the enabled modules (never pickup, which is
// personal) and the time question every five minutes of the opening day. They are kept in localStorage
// (works on every origin, a few hundred KB) and in memory, one entry per language, and used only on the
// day they were made for.

const PREFIX = "laiban.answers.";
const memory = new Map();

/** The kept answers for `lang`, or null. */
export function kept(lang) {
  if (memory.has(lang)) return memory.get(lang);
  let value = null;
  try {
    value = JSON.parse(localStorage.getItem(PREFIX + lang) || "null");
  } catch {
    value = null;
  }
  memory.set(lang, value);
  return value;
}

export function keep(lang, answers) {
  memory.set(lang, answers);
  try {
    localStorage.setItem(PREFIX + lang, JSON.stringify(answers));
  } catch {
    /* full or unavailable: the copy in memory still serves this session */
  }
}

/** Forget every kept answer (the tablet was unpaired or paired to another preschool). */
export function forgetAll() {
  memory.clear();
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(PREFIX)) localStorage.removeItem(key);
    }
  } catch {
    /* nothing kept */
  }
}

/** Whether `lang` has answers for `date` ("YYYY-MM-DD"). */
export function isFresh(lang, date) {
  const answers = kept(lang);
  return Boolean(answers && answers.date === date);
}

function minutesOf(hhmm) {
  const [hours, minutes] = hhmm.split(":").map(Number);
  return hours * 60 + minutes;
}

/**
 * The kept answer to a tapped `intent` in `lang` for the local `date` and `time` ("HH:MM"), or null. For
 * the time question: the five-minute slot nearest to now, if there is one within five minutes.
 */
export function keptAnswer(lang, intent, date, time) {
  const answers = kept(lang);
  if (!answers || answers.date !== date) return null;
  if (intent === "time") {
    const slots = answers.time || {};
    const now = minutesOf(time);
    let best = null;
    let distance = Infinity;
    for (const slot of Object.keys(slots)) {
      const apart = Math.abs(minutesOf(slot) - now);
      if (apart < distance) {
        best = slot;
        distance = apart;
      }
    }
    return best !== null && distance <= 5 ? slots[best] : null;
  }
  return (answers.answers && answers.answers[intent]) || null;
}

/** Every picture key the kept answers of `lang` show (to warm the service worker's picture cache). */
export function keptPictures(lang) {
  const answers = kept(lang);
  if (!answers) return [];
  const all = [...Object.values(answers.answers || {}), ...Object.values(answers.time || {})];
  return [...new Set(all.flatMap((answer) => answer.pictures || []))];
}
