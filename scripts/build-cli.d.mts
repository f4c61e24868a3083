// Types for build-cli.mjs, which tests call to build the command where they can see it.
export declare function buildCli(outdir?: string): Promise<void>;
