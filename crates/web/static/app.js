// Optional: the page works without it. Wires the "Print this report" button.
document.querySelectorAll('[data-print]').forEach(function (b) {
  b.addEventListener('click', function () { window.print(); });
});
