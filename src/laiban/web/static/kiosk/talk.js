// The talk button: tap to start listening, tap again (or wait 8 s) to stop; the recording goes to the
// server's speech-to-text, POST /api/v1/listen, which answers like POST /api/v1/ask. Loaded only when the
// server says it can listen (`speech.stt` in GET /api/v1/kiosk); otherwise the button stays hidden.

import { Offline, request } from "./api.js";

const LONGEST = 8000;

/**
 * Wires `button`. `lang()` is the kiosk language; `onState("listening"|"thinking"|"idle")`;
 * `onAnswer(answer)`; `onOffline()` when the server cannot be reached; `onError()` otherwise.
 */
export function setUpTalk(button, { lang, onState, onAnswer, onOffline, onError }) {
  if (!("MediaRecorder" in window) || !navigator.mediaDevices) return false;
  let recorder = null;
  let stopTimer = 0;

  async function start() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      onError();
      return;
    }
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
    recorder.addEventListener("stop", async () => {
      for (const track of stream.getTracks()) track.stop();
      recorder = null;
      onState("thinking");
      const audio = new Blob(chunks, { type: chunks[0]?.type || "audio/webm" });
      try {
        const answer = await request(`/api/v1/listen?lang=${encodeURIComponent(lang())}`, {
          method: "POST",
          body: audio,
          headers: { "Content-Type": audio.type },
          timeout: 15000,
        });
        onAnswer(answer);
      } catch (error) {
        if (error instanceof Offline) onOffline();
        else onError(error);
      } finally {
        onState("idle");
      }
    });
    recorder.start();
    onState("listening");
    stopTimer = setTimeout(stop, LONGEST);
  }

  function stop() {
    clearTimeout(stopTimer);
    if (recorder && recorder.state === "recording") recorder.stop();
  }

  button.addEventListener("click", () => (recorder ? stop() : start()));
  button.hidden = false;
  return true;
}
