export * from './outlier.ts';
export * from './state.ts';
