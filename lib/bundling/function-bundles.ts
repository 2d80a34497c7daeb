import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import * as esbuild from 'esbuild';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Every function's bundle from one esbuild build.
 *
 * NodejsFunction runs esbuild once per function, and each run parses the same AWS SDK, Kubernetes
 * client and Powertools again: 22 runs cost about 40 s of CPU per synthesis on 2 cores, one build
 * with 22 entry points about 13 s (measured on this repository, 2026-12-02). Without code
 * splitting each output is a whole bundle, as a separate build would make it. The CDK still
 * stages each function's bundle as its own asset, hashed by its output, and skips bundling
 * where NodejsFunction would (`aws:cdk:bundling-stacks`).
 */
export interface FunctionBundlesProps {
  /** Directory the entry paths are relative to, and esbuild's working directory. */
  readonly projectRoot: string;
  /** Entry file (relative to projectRoot) per function id. */
  readonly entries: Readonly<Record<string, string>>;
}

/** The esbuild options of every bundle: what NodejsFunction was given, as esbuild's own options. */
function buildOptions(props: FunctionBundlesProps, outdir: string) {
  return {
    absWorkingDir: props.projectRoot,
    entryPoints: Object.fromEntries(Object.entries(props.entries).map(([id, entry]) => [`${id}/index`, path.join(props.projectRoot, entry)])),
    outdir,
    bundle: true,
    platform: 'node' as const,
    // The oldest Node the bundles run on: 20 locally (the sandbox and tests), 24 in Lambda.
    target: 'node20',
    format: 'cjs' as const,
    minify: true,
    // Error names are the Retry/Catch contract; every CertflowError also carries a literal
    // name, and keepNames keeps the classes of the libraries' errors readable in logs too.
    keepNames: true,
    sourcemap: true,
    // Lambda's --enable-source-maps needs the mappings, not the sources: without their text
    // the maps are a fraction of the size to upload, read and parse at each cold start.
    sourcesContent: false,
    // Bundle everything, the AWS SDK included: the bundle is what runs (and what we measure),
    // not whichever SDK version the runtime happens to ship.
    external: [],
    // axios (inside node-vault) pulls in form-data -> mime-types -> mime-db, a 134 KB table of
    // MIME types used only for multipart uploads, which certflow never sends; form-data falls
    // back to octet-stream.
    alias: { 'mime-db': path.join(props.projectRoot, 'lib', 'bundling', 'mime-db-stub.json') },
    // esbuild's per-bundle size lines drown synth output; errors still print.
    logLevel: 'error' as const,
  };
}

export class FunctionBundles {
  /** Each function's output files (name within its asset directory, then contents), once built. */
  private built: Map<string, Array<[string, Uint8Array]>> | undefined;

  constructor(private readonly props: FunctionBundlesProps) {}

  /** The function's code: its bundle, staged by the CDK as an asset hashed by its content. */
  code(functionId: string): lambda.Code {
    if (!(functionId in this.props.entries)) throw new Error(`no bundle entry for ${functionId}`);
    const local: ILocalBundling = { tryBundle: (outputDir) => this.writeInto(functionId, outputDir) };
    return lambda.Code.fromAsset(this.props.projectRoot, {
      assetHashType: AssetHashType.OUTPUT,
      // Only local bundling: the image is never pulled (as NodejsFunction does without Docker).
      // The command names the entry: the CDK caches staged assets by their bundling options, so
      // each function's options must differ.
      bundling: { image: DockerImage.fromRegistry('dummy'), command: ['esbuild', this.props.entries[functionId]!], local },
    });
  }

  /**
   * Builds every bundle in memory on the first call, then writes one function's bundle into the
   * directory the CDK stages it from. The build's output directory is the staging directory's
   * parent, so each bundle is laid out (`<id>/index.js`) at the depth of its asset directory and
   * its source map's relative paths hold once it is there.
   */
  private writeInto(functionId: string, outputDir: string): boolean {
    if (!this.built) {
      const result = esbuild.buildSync({ ...buildOptions(this.props, path.dirname(outputDir)), write: false });
      this.built = new Map();
      for (const file of result.outputFiles) {
        const [id, name] = path.relative(path.dirname(outputDir), file.path).split(path.sep);
        if (!id || !name) continue;
        this.built.set(id, [...(this.built.get(id) ?? []), [name, file.contents]]);
      }
    }
    const files = this.built.get(functionId);
    if (!files) throw new Error(`esbuild made no bundle for ${functionId}`);
    for (const [name, contents] of files) fs.writeFileSync(path.join(outputDir, name), contents);
    // Each bundle is written once: the memory goes with it.
    this.built.delete(functionId);
    return true;
  }
}
