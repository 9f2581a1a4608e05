// Types of build-dist.mjs, for the TypeScript that imports it (bench, tests).
export declare class BuildFailedError extends Error {
  readonly code: 'GH_BUILD_FAILED';
  readonly output: string;
}
export declare function buildDist(root: string, node?: string): void;
