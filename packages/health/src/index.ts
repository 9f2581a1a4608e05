export { type BackendHealth, backendKey } from '@gatehouse/config/backend-health';
export * from './outlier.ts';
export { DEFAULT_PROBE_TIMEOUT_MS, describeProbeError, type ProbeTask, type ProbeTls } from './probe-task.ts';
export * from './scheduler.ts';
export * from './state.ts';
