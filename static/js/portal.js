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
document.addEventListener("click", function (event) {
  // Worklist "no longer needed": one form for the page, aimed at the row's task.
  var button = event.target.closest("[data-action=cancel-task]");
  if (!button) { return; }
  var modal = document.getElementById("cancel-task-modal");
  var form = document.getElementById("cancel-task-form");
  if (!modal || !form) { return; }
  form.action = button.dataset.cancelUrl;
  form.dataset.confirm = button.dataset.confirm;
  form.reset();
  modal.querySelector("[data-cancel-person]").textContent = button.dataset.person;
  modal.addEventListener("shown.bs.modal", function () { form.querySelector("[name=reason]").focus(); }, { once: true });
  bootstrap.Modal.getOrCreateInstance(modal).show();
});
