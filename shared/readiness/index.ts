export { queueCheck, storeCheck } from './checks.js';
export { evaluateReadiness } from './evaluate.js';
export { type ReadinessCheck, ReadinessReport } from './report.js';
export { type ReadinessWatch, watchReadiness } from './watch.js';
