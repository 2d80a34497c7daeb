import packageJson from '../../package.json';

/** The package's version: inlined into the compiled CLI, so `certflow version` reads no file. */
export const CLI_VERSION: string = packageJson.version;
