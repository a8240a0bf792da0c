// Signals from the routers' (and optionally vLLM's) /metrics: a Prometheus text parser, the reading the
// autoscaler and the meter need, and a scraper that sums several routers and survives one being down.
export { parsePrometheusText, PromParseError, type PromSample } from './prom-text.js';
export { readRouter, sumReadings, cascadeCounters, pairKey, emptyReading, type RouterReading } from './router-reading.js';
export { RouterScraper, combineScrapes, expandHeadless, fetchSamples, scrapeEngines, type ScrapeResult, type ScraperOptions, type SourceStatus, type ScrapeAttempt } from './scraper.js';
export { readEngine } from './engine-reading.js';
