export { Counter, Gauge, Histogram, MetricsRegistry, renderAll, PROMETHEUS_CONTENT_TYPE, type MetricsSource } from './registry.js';
