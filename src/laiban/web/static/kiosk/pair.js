// Pairing: exchange the one-time code (from the URL or typed in) for the device token, keep the token
// on this tablet only, then open the kiosk.
"use strict";
const form = document.getElementById("pair-form");
const input = document.getElementById("code");
const statusLine = document.getElementById("status");

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
    localStorage.setItem("laiban.deviceToken", body.token);
    history.replaceState(null, "", "/kiosk/pair");  // the code must not stay in the history
    location.href = "/kiosk";
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
