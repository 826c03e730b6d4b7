// Starts GOV.UK Frontend's components (the skip link, the service navigation's menu button).
import { initAll } from './govuk/govuk-frontend.min.js'

initAll()
