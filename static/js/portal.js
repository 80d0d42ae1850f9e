// Veterans Portal page behaviour. No inline scripts (the CSP forbids them).
document.addEventListener("htmx:responseError", function (event) {
  var box = document.getElementById("messages") || document.getElementById("content");
  var alert = document.createElement("div");
  alert.className = "alert alert-danger";
  alert.textContent = document.documentElement.lang === "en"
    ? "The request failed (" + event.detail.xhr.status + "). Please try again."
    : "请求失败（" + event.detail.xhr.status + "），请重试。";
  box.prepend(alert);
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
});
document.addEventListener("htmx:afterOnLoad", function (event) {
  // Tabs loaded by htmx: mark the clicked tab active.
  var tab = event.detail.elt;
  if (tab && tab.dataset && tab.dataset.tab) {
    tab.closest(".nav").querySelectorAll(".nav-link").forEach(function (link) { link.classList.remove("active"); });
    tab.classList.add("active");
  }
});
// The register's search box: a full ID number never goes into a URL (server logs, browser history). It is posted to
// the search view, which answers with the list under a look-up token (?idt=…); the digits of a number being typed
// are not sent at all. Name, pinyin and phone searches stay ordinary GET requests.
var FULL_ID_NUMBER = /^(\d{15}|\d{17}[\dX])$/;
var PART_OF_ID_NUMBER = /^\d{13,17}X?$/;
document.addEventListener("htmx:configRequest", function (event) {
  var form = event.detail.elt;
  if (!form || !form.dataset || !form.dataset.idSearchUrl) { return; }
  var params = event.detail.parameters;
  var text = String(params.get("q") || "").normalize("NFKC").replace(/[^0-9A-Za-z]/g, "").toUpperCase();
  if (text) {
    params.delete("idt");  // a new search replaces the one of the token
    form.querySelectorAll("input[name=idt], #id-search-note").forEach(function (old) { old.remove(); });
  }
  if (FULL_ID_NUMBER.test(text)) {
    event.detail.verb = "post";
    event.detail.path = form.dataset.idSearchUrl;
    event.detail.useUrlParams = false;
    event.detail.headers["Content-Type"] = "application/x-www-form-urlencoded";
  } else if (PART_OF_ID_NUMBER.test(text)) {
    event.preventDefault();
  }
});
