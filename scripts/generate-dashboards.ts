import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRAFANA_DASHBOARD_PATH, grafanaDashboardText } from '../lib/dashboards/grafana';
import { repoRoot } from '../lib/repo-root';

/** Writes the Grafana dashboard generated from lib/dashboards/definition.ts (npm run dashboards). */
writeFileSync(join(repoRoot(), GRAFANA_DASHBOARD_PATH), grafanaDashboardText());
process.stdout.write(`wrote ${GRAFANA_DASHBOARD_PATH}\n`);
