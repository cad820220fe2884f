// The talk button: tap to start listening, tap again (or wait 8 s) to stop; the recording goes to the
// server's speech-to-text, POST /api/v1/listen, which answers like POST /api/v1/ask (plus `transcript`;
// intent "not_heard" with "I didn't hear anything" when there were no words). The body is the recording
// as MediaRecorder made it (WebM/Opus in Chrome, Ogg or WebM in Firefox, MP4/AAC in Safari); the server
// recognises the format itself. Loaded only when the server says it can listen (`speech.stt` in
// GET /api/v1/kiosk); otherwise the button stays hidden.

import { ApiError, Offline, request } from "./api.js";

const LONGEST = 8000; // ms; the server takes up to 15 s

/**
 * Wires `button`. `lang()` is the kiosk language; `previous()` the answer on screen as
 * `{intent, slots}` or null (so that "say it again" and a name after "who are you?" work);
 * `onState("listening"|"thinking"|"idle")`; `onAnswer(answer)`; `onOffline()` when the server cannot be
 * reached; `onError()` otherwise.
 */
export function setUpTalk(button, { lang, previous = () => null, onState, onAnswer, onOffline, onError }) {
  if (!("MediaRecorder" in window) || !navigator.mediaDevices) return false;
  let recorder = null;
  let stopTimer = 0;
  let sending = false; // a recording is on its way: taps wait for its answer

  async function start() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      onError();
      return;
    }
    const chunks = [];
    const recording = new MediaRecorder(stream);
    recorder = recording;
    recording.addEventListener("dataavailable", (event) => chunks.push(event.data));
    recording.addEventListener("stop", async () => {
      for (const track of stream.getTracks()) track.stop();
      recorder = null;
      onState("thinking");
      const audio = new Blob(chunks, { type: chunks[0]?.type || recording.mimeType || "audio/webm" });
      if (!audio.size) {
        onState("idle"); // stopped before anything was recorded: nothing to send
        return;
      }
      const query = new URLSearchParams({ lang: lang() });
      const before = previous();
      if (before) query.set("previous", JSON.stringify({ intent: before.intent, slots: before.slots || {} }));
      sending = true;
      try {
        const answer = await request(`/api/v1/listen?${query}`, {
          method: "POST",
          body: audio,
          headers: { "Content-Type": audio.type || "application/octet-stream" },
          timeout: 20000,
        });
        onAnswer(answer);
      } catch (error) {
        if (error instanceof ApiError && error.status === 501) button.hidden = true; // no longer listens
        if (error instanceof Offline) onOffline();
        else onError(error);
      } finally {
        sending = false;
        onState("idle");
      }
    });
    recording.start();
    onState("listening");
    stopTimer = setTimeout(stop, LONGEST);
  }

  function stop() {
    clearTimeout(stopTimer);
    if (recorder && recorder.state === "recording") recorder.stop();
  }

  button.addEventListener("click", () => {
    if (recorder) stop();
    else if (!sending) start();
  });
  button.hidden = false;
  return true;
}
