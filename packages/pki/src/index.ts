export type * from './types.ts';
export * from './errors.ts';
export * from './dev-pki.ts';
