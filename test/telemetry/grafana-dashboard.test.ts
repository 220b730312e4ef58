// The Grafana dashboard in docs/ queries only metrics the workers publish, by labels they carry.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { INJECTOR_METRIC_LABELS, INJECTOR_METRICS_EXPOSED, SDK_METRICS_USED } from '../../src/telemetry/metric-names';

const DASHBOARD_PATH = path.resolve(__dirname, '..', '..', 'docs', 'grafana', 'openclaw-injector.json');

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { query?: unknown }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
const queries = [
  ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
  ...dashboard.templating.list.map((variable) => variable.query).filter((query): query is string => typeof query === 'string' && query.includes('(')),
];
const metricsIn = (query: string) => [...query.matchAll(/\b(openclaw|temporal)_[a-z0-9_]+/g)].map((match) => match[0]);

describe('the Grafana dashboard', () => {
  it('has a query on every panel', () => {
    expect(dashboard.panels.length).toBeGreaterThan(0);
    expect(dashboard.panels.every((panel) => panel.targets.length > 0 && panel.targets.every((t) => metricsIn(t.expr).length > 0))).toBe(true);
  });

  it('queries only metrics the injector registers or the SDK publishes', () => {
    const known = new Set([...INJECTOR_METRICS_EXPOSED, ...SDK_METRICS_USED]);
    const unknown = queries.flatMap(metricsIn).filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });

  it('reads each of the injector\'s metric families', () => {
    const used = new Set(queries.flatMap(metricsIn));
    const families = INJECTOR_METRICS_EXPOSED.filter((name) => !/_(bucket|sum|count)$/.test(name) || name.endsWith('_bucket'));
    expect(families.filter((name) => !used.has(name))).toEqual([]);
  });

  it('groups and filters the injector\'s metrics only by labels they carry', () => {
    const labels = queries
      .filter((query) => query.includes('openclaw_'))
      .flatMap((query) => [...query.matchAll(/by \(([^)]*)\)/g)].flatMap((match) => match[1].split(',').map((label) => label.trim())));
    const filters = queries.flatMap((query) => [...query.matchAll(/\{([A-Za-z_]+)=~?"/g)].map((match) => match[1]));
    const unknown = [...labels, ...filters].filter((label) => label !== 'le' && !INJECTOR_METRIC_LABELS.includes(label));
    expect(unknown).toEqual([]);
  });
});
