// Public surface of the data plane for the primary (packages/control): where the worker entry is,
// and the IPC contract. Everything else in this package runs inside the workers: nothing here may
// import the forwarder or the metrics (they would register worker metrics in the primary).
import { fileURLToPath } from 'node:url';

/** Absolute path of the worker entry, for `cluster.setupPrimary({ exec: workerEntryPath, serialization: 'advanced' })`. */
export const workerEntryPath: string = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/**
 * Every module file a worker loads from this repository's .ts sources, the lazy ones included
 * (access-log.ts is imported when the first generation arrives, redis-store.ts when a config names
 * `gateway.redis`): the primary compiles them once into
 * Node's compile cache before forking, so that no worker has to type-strip (the stripper costs about
 * 30 MiB of each worker's memory).
 */
export const workerWarmupPaths: readonly string[] = [
  workerEntryPath,
  fileURLToPath(new URL('./access-log.ts', import.meta.url)),
  fileURLToPath(new URL('./middleware/rate-limit/redis-store.ts', import.meta.url)),
];

export * from './messages.ts';
export { Balancer } from './upstream/balancer.ts';
export { METHOD_NOT_ALLOWED, NO_ROUTE, Router, rewritePath } from './request/router.ts';
export {
  ERROR_KINDS,
  type ErrorKind,
  GatehouseDataplaneError,
  GenerationBuildError,
  ListenerBindError,
} from './errors.ts';
export {
  type BucketRule,
  type BucketState,
  bucketRule,
  isIdle,
  leaseSize,
  msUntilToken,
  newBucket,
  type RateUnit,
  refill,
  strike,
  UNIT_MS,
} from './middleware/rate-limit/token-bucket.ts';
export {
  type LeaseAnswer,
  type LeaseAnswerMessage,
  type LeaseAsk,
  type LeaseAskMessage,
  type RateLimitStoreMessage,
  rateLimitBucketId,
} from './middleware/rate-limit/lease-messages.ts';
