export { CheckResult, ReadinessReport, type ReadinessCheck } from './report.js';
export { CHECK_TIMEOUT_MS, describeReadiness, evaluateReadiness } from './evaluate.js';
export { queueCheck, storeCheck, STORE_PROBE_KEY } from './checks.js';
export { watchReadiness, type ReadinessWatch } from './watch.js';
