// The care worklist (templates/care/worklist.html loads this file; no inline scripts, the CSP forbids them).
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
