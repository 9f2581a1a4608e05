// Entry point of a data-plane worker process (the primary's `cluster.setupPrimary({ exec })`).
import { startWorker } from './worker.ts';

startWorker();
