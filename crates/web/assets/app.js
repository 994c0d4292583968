// vulnbridge UI: the little JavaScript beyond htmx. Served from the binary like htmx; pages work
// without it.

// Upload progress of a report import: htmx fires htmx:xhr:progress while it sends a request
// body; once the file is sent, the server is importing it.
document.addEventListener('htmx:xhr:progress', function (evt) {
  var bar = document.getElementById('upload-progress');
  var status = document.getElementById('upload-status');
  if (!bar || !evt.detail || !evt.detail.lengthComputable || evt.detail.total === 0) {
    return;
  }
  var percent = Math.round((evt.detail.loaded * 100) / evt.detail.total);
  bar.hidden = false;
  bar.value = percent;
  if (status) {
    status.textContent = percent < 100 ? 'Uploading… ' + percent + ' %' : 'Importing…';
  }
});
