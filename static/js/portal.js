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
