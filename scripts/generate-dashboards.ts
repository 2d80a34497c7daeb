import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRAFANA_DASHBOARD_PATH, grafanaDashboardText } from '../lib/dashboards/grafana';
import { DASHBOARD_SVG_PATH, dashboardSvg } from '../lib/dashboards/svg';
import { repoRoot } from '../lib/repo-root';

/** Writes the Grafana dashboard and the README's picture, both generated from lib/dashboards/definition.ts (npm run dashboards). */
writeFileSync(join(repoRoot(), GRAFANA_DASHBOARD_PATH), grafanaDashboardText());
writeFileSync(join(repoRoot(), DASHBOARD_SVG_PATH), dashboardSvg());
process.stdout.write(`wrote ${GRAFANA_DASHBOARD_PATH} and ${DASHBOARD_SVG_PATH}\n`);
