export type * from './types.ts';
export * from './errors.ts';
export * from './diagnostic.ts';
export * from './dev-pki.ts';
export * from './inspect.ts';
export * from './material.ts';
