// Laiban's voice. `speaker.say(answer)` speaks an answer caption by caption and reports which caption is
// being spoken, so the screen can highlight it. Speaking always interrupts what was being said.
//
// Where the sound comes from is decided in one place, `sayAnswer`: the server's voice when the answer
// carries an `audio` URL (the server speaks: `speech.tts` in GET /api/v1/kiosk), fetched with the device
// token (the URL needs it, so it cannot be an <audio src>) and played from a blob; else, or when that
// fails, the browser's speech synthesis with the spoken form of each caption (`speech_captions`) in a
// voice for the answer's language. No voice at all → captions only, nothing is spoken.

import { deviceToken } from "./api.js";

const AUDIO_TIMEOUT = 8000;

// The voice each language prefers, when the tablet has several.
const PREFERRED = {
  sv: "sv-SE", en: "en-GB", ar: "ar-SA", fa: "fa-IR", fi: "fi-FI", so: "so-SO", ti: "ti-ET",
  tr: "tr-TR", pl: "pl-PL", es: "es-ES", de: "de-DE", fr: "fr-FR", uk: "uk-UA", ru: "ru-RU",
  bs: "bs-BA", hr: "hr-HR", sr: "sr-RS", ku: "ku-TR", nb: "nb-NO", da: "da-DK",
};
const RATE = 0.9;

const synth = typeof window !== "undefined" && "speechSynthesis" in window ? window.speechSynthesis : null;
let voices = [];

function loadVoices() {
  voices = synth ? synth.getVoices() : [];
}
if (synth) {
  loadVoices();
  synth.addEventListener?.("voiceschanged", loadVoices);
}

/** The best voice the browser has for `lang` ("sv"), or null. */
export function voiceFor(lang) {
  if (!voices.length) loadVoices();
  const base = String(lang).toLowerCase();
  const candidates = voices.filter((voice) => voice.lang.toLowerCase().replace("_", "-").split("-")[0] === base);
  if (!candidates.length) return null;
  const preferred = (PREFERRED[base] || "").toLowerCase();
  const score = (voice) =>
    (voice.lang.toLowerCase().replace("_", "-") === preferred ? 4 : 0) +
    (voice.localService ? 2 : 0) +
    (voice.default ? 1 : 0);
  return candidates.sort((a, b) => score(b) - score(a))[0];
}

function utter(text, voice) {
  return new Promise((resolve) => {
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.voice = voice;
    utterance.lang = voice.lang;
    utterance.rate = RATE;
    // Some engines never fire "end" (a known Chromium bug): give up after a generous time.
    const watchdog = setTimeout(resolve, 3000 + text.length * 140);
    const done = () => {
      clearTimeout(watchdog);
      resolve();
    };
    utterance.addEventListener("end", done);
    utterance.addEventListener("error", done);
    synth.speak(utterance);
  });
}

export class Speaker {
  /** `onCaption(index)`: the caption being spoken now (-1: none); `onSpeaking(bool)`. */
  constructor({ onCaption = () => {}, onSpeaking = () => {} } = {}) {
    this.onCaption = onCaption;
    this.onSpeaking = onSpeaking;
    this.run = 0;
    this.speaking = false;
    this.audio = null;
  }

  /** Whether anything can be heard for `lang` (else: captions only). */
  canSpeak(lang) {
    return Boolean(synth && voiceFor(lang));
  }

  /** Stop talking at once. */
  cancel() {
    this.run += 1;
    if (synth) synth.cancel();
    if (this.audio) {
      this.audio.pause();
      this.audio = null;
    }
    this.setSpeaking(false);
    this.onCaption(-1);
  }

  setSpeaking(value) {
    if (this.speaking !== value) {
      this.speaking = value;
      this.onSpeaking(value);
    }
  }

  /** Say the whole answer, or only caption `only`. Resolves when done or interrupted. */
  async say(answer, only = null) {
    this.cancel();
    const run = this.run;
    const captions = answer.captions || [];
    const spoken = answer.speech_captions && answer.speech_captions.length === captions.length
      ? answer.speech_captions
      : captions;
    const indices = only === null ? captions.map((_, index) => index) : [only];
    try {
      await this.sayAnswer(answer, spoken, indices, run);
    } finally {
      if (run === this.run) {
        this.setSpeaking(false);
        this.onCaption(-1);
      }
    }
  }

  /** The one place that decides where the sound comes from. */
  async sayAnswer(answer, spoken, indices, run) {
    if (answer.audio && indices.length === (answer.captions || []).length) {
      if ((await this.play(answer.audio, run)) || run !== this.run) return;
    }
    const voice = synth ? voiceFor(answer.lang) : null;
    if (!voice) return; // captions only
    this.setSpeaking(true);
    for (const index of indices) {
      if (run !== this.run) return;
      this.onCaption(index);
      await utter(spoken[index], voice);
    }
  }

  /**
   * The server's audio of the whole answer; all captions stay highlighted meanwhile. Resolves true when it
   * was played (or interrupted), false when it could not be (then the browser's voice speaks instead).
   * The kiosk's service worker keeps the day's audio, so a kept answer is heard offline too.
   */
  async play(url, run) {
    // The device token goes only to this server's own audio URLs, whatever an answer says.
    if (!/^\/api\/v1\/speech\/[\w.~-]+$/.test(String(url))) return false;
    let blob;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), AUDIO_TIMEOUT);
    try {
      const response = await fetch(url, {
        headers: { Authorization: `Bearer ${deviceToken()}` },
        credentials: "omit",
        signal: controller.signal,
      });
      if (!response.ok) return false;
      blob = await response.blob();
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
    if (run !== this.run) return true;
    const source = URL.createObjectURL(blob);
    return new Promise((resolve) => {
      const audio = new Audio(source);
      this.audio = audio;
      this.setSpeaking(true);
      this.onCaption("all");
      let started = false;
      const done = (played) => {
        if (this.audio === audio) this.audio = null;
        URL.revokeObjectURL(source);
        resolve(played);
      };
      audio.addEventListener("playing", () => (started = true));
      audio.addEventListener("ended", () => done(true));
      audio.addEventListener("pause", () => done(true)); // cancel() pauses it
      audio.addEventListener("error", () => done(started));
      audio.play().catch(() => done(started || run !== this.run));
    });
  }

  /** Say a short sentence of the kiosk's own (e.g. "Tack!"). */
  async sayText(text, lang) {
    await this.say({ lang, captions: [text] });
  }
}
