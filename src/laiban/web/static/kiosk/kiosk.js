// The kiosk start: checks the stored device token against the server and shows whose tablet this is.
"use strict";
const statusLine = document.getElementById("status");
const title = document.getElementById("preschool");
const token = localStorage.getItem("laiban.deviceToken");

async function start() {
  if (!token) {
    statusLine.textContent = "Surfplattan är inte kopplad till någon förskola ännu.";
    return;
  }
  const response = await fetch("/api/v1/kiosk", { headers: { Authorization: "Bearer " + token } });
  if (response.status === 401) {
    localStorage.removeItem("laiban.deviceToken");
    statusLine.textContent = "Surfplattan har kopplats bort. Koppla den igen från administrationen.";
    return;
  }
  const body = await response.json();
  title.textContent = body.preschool.name;
  statusLine.textContent = "Hej! Jag är Laiban.";
}

start().catch(() => { statusLine.textContent = "Laiban svarar inte just nu."; });
