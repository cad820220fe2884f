// Pairing: exchange the one-time code (from the URL or typed in) for the device token, keep the token
// on this tablet only, forget whatever an earlier pairing kept for offline use, then open the kiosk.
"use strict";
const form = document.getElementById("pair-form");
const input = document.getElementById("code");
const statusLine = document.getElementById("status");

async function forgetKeptData() {
  for (const key of Object.keys(localStorage)) {
    if (key.startsWith("laiban.answers.")) localStorage.removeItem(key);
  }
  if ("caches" in window) {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("laiban-data")).map((name) => caches.delete(name)));
  }
}

async function pair(code) {
  statusLine.textContent = "Kopplar…";
  try {
    const response = await fetch("/api/v1/devices/pair", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
    const body = await response.json();
    if (!response.ok) {
      statusLine.textContent = response.status === 429
        ? "För många försök. Vänta en stund och försök igen."
        : "Koden fungerar inte. Den kan vara använd eller för gammal – skapa en ny i administrationen.";
      return;
    }
    history.replaceState(null, "", "/kiosk/pair");  // the code must not stay in the history
    await forgetKeptData().catch(() => undefined);
    localStorage.setItem("laiban.deviceToken", body.token);
    location.replace("/kiosk");
  } catch (error) {
    statusLine.textContent = "Laiban svarar inte. Kontrollera nätverket och försök igen.";
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  pair(input.value.trim());
});

const fromUrl = new URLSearchParams(location.search).get("code");
if (fromUrl) {
  input.value = fromUrl;
  pair(fromUrl);
}
