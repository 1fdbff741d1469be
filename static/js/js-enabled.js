// Loaded first thing in <body> (a file, not an inline script, so a strict Content-Security-Policy can forbid
// inline scripts): tells GOV.UK Frontend and the MOJ patterns that JavaScript runs, before the page paints.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
