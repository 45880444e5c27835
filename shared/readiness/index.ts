export { queueCheck, STORE_PROBE_KEY, storeCheck } from './checks.js';
export { CHECK_TIMEOUT_MS, describeReadiness, evaluateReadiness } from './evaluate.js';
export { CheckResult, type ReadinessCheck, ReadinessReport } from './report.js';
export { type ReadinessWatch, watchReadiness } from './watch.js';
