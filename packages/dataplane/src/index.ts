// Public surface of the data plane for the primary (packages/control): where the worker entry is,
// and the IPC contract. Everything else in this package runs inside the workers: nothing here may
// import the forwarder or the metrics (they would register worker metrics in the primary).
import { fileURLToPath } from 'node:url';

// `.ts` when Node runs the sources, `.js` when it runs dist/ (packages/gatehouse/launcher/gatehouse.js).
const EXTENSION = import.meta.url.slice(import.meta.url.lastIndexOf('.'));

/** Absolute path of the worker entry, for `cluster.setupPrimary({ exec: workerEntryPath, serialization: 'advanced' })`. */
export const workerEntryPath: string = fileURLToPath(new URL(`./worker-main${EXTENSION}`, import.meta.url));

/**
 * Every module file a worker loads from this repository's .ts sources, the lazy ones included
 * (access-log.ts is imported when the first generation arrives, redis-store.ts when a config names
 * `gateway.redis`): the primary compiles them once into
 * Node's compile cache before forking, so that no worker has to type-strip (the stripper costs about
 * 30 MiB of each worker's memory). None from dist/: there is nothing to strip, and V8's code cache
 * alone made each idle worker 1.5 MiB larger (81 → 82.5 MiB) for one more Node start-up per fork.
 */
export const workerWarmupPaths: readonly string[] =
  EXTENSION === '.ts'
    ? [
        workerEntryPath,
        fileURLToPath(new URL('./access-log.ts', import.meta.url)),
        fileURLToPath(new URL('./middleware/rate-limit/redis-store.ts', import.meta.url)),
      ]
    : [];

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
