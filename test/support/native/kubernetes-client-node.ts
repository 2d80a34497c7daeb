import { loadNatively } from '../../../sandbox/runner/native-load';

/**
 * @kubernetes/client-node as Node loads it, not as jest does (jest.config.js `moduleNameMapper`).
 * The package is ES modules only: jest transforms its few hundred files to CommonJS and evaluates
 * them again in every test file that reaches the Kubernetes adapter, about 1.2 s of CPU a file
 * (measured 2026-12-03). Node 20.19+ requires ES modules itself and keeps one copy per worker. The
 * client is the same code either way.
 */
module.exports = loadNatively('@kubernetes/client-node', __dirname);
