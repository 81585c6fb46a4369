// Checks the Grafana dashboard (grafana/dashboards/*.json): every panel has a unique id, a place on the grid and
// queries; every query names only metrics the Api and the Workers export at /metrics; and prints every query, with the
// dashboard's variables filled in, as a Prometheus rules file, so that `promtool check rules` parses the PromQL.
// Usage: node check-dashboard.mjs DASHBOARD.json >rules.yml
import { readFileSync } from "node:fs";

const known = new Set([
  "aggregator_syncs_total",
  "aggregator_sync_duration_seconds_bucket", "aggregator_sync_duration_seconds_sum", "aggregator_sync_duration_seconds_count",
  "aggregator_provider_requests_total",
  "aggregator_provider_request_duration_seconds_bucket", "aggregator_provider_request_duration_seconds_sum",
  "aggregator_provider_request_duration_seconds_count",
  "aggregator_resources_written_total",
  "aggregator_token_refreshes_total",
  "aggregator_connections",
  "aggregator_queue_depth",
  "aggregator_webhook_deliveries_total",
  "aggregator_record_rebuild_duration_seconds_bucket", "aggregator_record_rebuild_duration_seconds_sum",
  "aggregator_record_rebuild_duration_seconds_count",
  "aggregator_cache_requests_total",
  "http_server_request_duration_seconds_bucket", "http_server_request_duration_seconds_sum", "http_server_request_duration_seconds_count",
]);
const variables = { "$__rate_interval": "1m", "$provider": ".*", "$job": ".*" };

const file = process.argv[2];
const dashboard = JSON.parse(readFileSync(file, "utf8"));
const errors = [];
const ids = new Set();
const rules = [];
const panels = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
if (!dashboard.uid || !dashboard.title) errors.push("the dashboard needs a uid and a title");
for (const panel of panels) {
  const name = `panel ${panel.id} "${panel.title}"`;
  if (ids.has(panel.id)) errors.push(`${name}: the id is used twice`);
  ids.add(panel.id);
  if (!panel.gridPos || panel.gridPos.w < 1 || panel.gridPos.x + panel.gridPos.w > 24) errors.push(`${name}: no place on the 24-column grid`);
  if (panel.type === "row") continue;
  if (!(panel.targets ?? []).length) errors.push(`${name}: no query`);
  for (const target of panel.targets ?? []) {
    const metrics = target.expr.match(/\b(aggregator|http_server)_[a-z_]+\b/g) ?? [];
    for (const metric of metrics.filter((m) => !known.has(m))) errors.push(`${name}: ${metric} is not a metric the Aggregator exports`);
    if (metrics.length === 0) errors.push(`${name}: query ${target.refId} names no Aggregator metric`);
    let expr = target.expr;
    for (const [variable, value] of Object.entries(variables)) expr = expr.split(variable).join(value);
    if (/\$\w/.test(expr)) errors.push(`${name}: query ${target.refId} uses a variable the dashboard does not define`);
    rules.push({ record: `dashboard:panel_${panel.id}:${target.refId.toLowerCase()}`, expr });
  }
}
if (errors.length > 0) {
  for (const error of errors) console.error(`${file}: ${error}`);
  process.exit(1);
}
console.log("groups:\n  - name: dashboard\n    rules:");
for (const rule of rules) console.log(`      - record: ${rule.record}\n        expr: ${JSON.stringify(rule.expr)}`);
