// Progressive enhancement only: every page and form works without JavaScript.
import { initAll as govukInitAll } from "../govuk/govuk-frontend.min.js";
import { initAll as mojInitAll } from "../moj/moj-frontend.min.js";

govukInitAll();
mojInitAll();

// "Print this page" buttons are hidden until JavaScript can print (the browser's own print works anyway).
for (const button of document.querySelectorAll("[data-jjp-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// htmx brings in new content (search results): initialise the components inside it, such as sortable tables.
// (htmx also fires this for the whole page at start-up, which initAll above has already done.)
document.body.addEventListener("htmx:load", (event) => {
  const scope = event.detail.elt;
  if (scope === document.body) return;
  govukInitAll({ scope });
  mojInitAll({ scope });
});
