// The day view (admin/templates/day.html). htmx ignores error answers by default, but a refused change
// answers 400 with the row and its message in it: show that row. Any other failure (an expired session,
// a lost connection) is told in a sentence instead of nothing happening.
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  if (detail.xhr.status === 400 && detail.elt.closest("[data-swap-errors]")) {
    detail.shouldSwap = true;
    detail.isError = false;
  }
});
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.elt.closest("[data-swap-errors]")) {
    window.alert("Det gick inte att spara. Ladda om sidan och försök igen.");
  }
});
document.addEventListener("htmx:sendError", (event) => {
  if (event.detail.elt.closest("[data-swap-errors]")) {
    window.alert("Ingen kontakt med Laiban. Kontrollera nätverket och försök igen.");
  }
});
