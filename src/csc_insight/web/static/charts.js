// Draws every chart on the page with the vendored vega-embed. Each chart's Vega-Lite spec is
// in a <script type="application/json"> block (data, not code). The expression interpreter
// (ast: true) keeps Vega from compiling code at run time, so no 'unsafe-eval' is needed.
/* global vegaEmbed */
for (const holder of document.querySelectorAll('[data-chart-spec]')) {
  const source = document.getElementById(holder.getAttribute('data-chart-spec'))
  if (!source || typeof vegaEmbed !== 'function') continue
  const spec = JSON.parse(source.textContent)
  vegaEmbed(holder, spec, {
    actions: false,
    ast: true,
    defaultStyle: false,
    tooltip: false,
    renderer: 'svg'
  })
    .then(function (result) {
      const svg = holder.querySelector('svg')
      if (svg) {
        svg.setAttribute('aria-hidden', 'true')
        svg.setAttribute('focusable', 'false')
      }
      holder.setAttribute('data-chart-drawn', 'true')
      return result
    })
    .catch(function (error) {
      holder.setAttribute('data-chart-error', String(error))
    })
}
