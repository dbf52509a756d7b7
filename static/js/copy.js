// Copy one answer of a drafted notification to the clipboard, to paste it into the authority's online form.
// Each <button data-copy="ID"> copies the text of the element with that id. No inline script (CSP).
(function () {
  "use strict";
  function copied(button) {
    var done = button.getAttribute("data-copied") || "";
    var label = button.textContent;
    if (!done) { return; }
    button.textContent = done;
    window.setTimeout(function () { button.textContent = label; }, 1500);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.textContent;
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { copied(button); });
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      document.body.removeChild(area);
      copied(button);
    }
  });
})();
