// Upload progress: shows how much of a large file has been sent, then how the check or load
// is going. Without JavaScript the form still works and the status page refreshes itself.
const form = document.querySelector('[data-upload-form]')
if (form && window.FormData && window.XMLHttpRequest) {
  form.addEventListener('submit', function (event) {
    const input = form.querySelector('input[type=file]')
    if (!input || !input.files || input.files.length === 0) return // let the server explain
    event.preventDefault()
    const box = form.querySelector('[data-upload-progress]')
    const bar = box.querySelector('progress')
    const text = box.querySelector('[data-upload-progress-text]')
    box.hidden = false
    form.querySelector('button[type=submit], #upload-button').disabled = true
    const xhr = new XMLHttpRequest()
    xhr.open('POST', form.action)
    xhr.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) return
      const pct = Math.round((e.loaded / e.total) * 100)
      bar.value = pct
      bar.textContent = pct + '%'
      text.textContent = pct + '% sent'
    })
    xhr.addEventListener('load', function () {
      if (xhr.responseURL && xhr.status < 400) {
        window.location.assign(xhr.responseURL)
      } else {
        document.open()
        document.write(xhr.responseText)
        document.close()
      }
    })
    xhr.addEventListener('error', function () {
      text.textContent = 'The files could not be sent. Check your connection and try again.'
    })
    xhr.send(new FormData(form))
  })
}

const status = document.querySelector('[data-upload-status]')
if (status && window.fetch) {
  const id = status.getAttribute('data-upload-status')
  const bar = status.querySelector('progress')
  const label = status.querySelector('label')
  const stage = status.querySelector('[data-upload-stage]')
  const poll = function () {
    fetch('/upload/' + id + '/status', { credentials: 'same-origin' })
      .then(function (r) { return r.json() })
      .then(function (s) {
        const pct = Math.round(s.progress * 100)
        bar.value = pct
        bar.textContent = pct + '%'
        label.textContent = s.stage
        stage.textContent = pct + '% done. This page updates by itself.'
        if (s.busy) window.setTimeout(poll, 1000)
        else window.location.reload()
      })
      .catch(function () { window.setTimeout(poll, 3000) })
  }
  window.setTimeout(poll, 1000)
}
