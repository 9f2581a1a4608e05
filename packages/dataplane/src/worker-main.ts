// Entry point of a data-plane worker process (the primary's `cluster.setupPrimary({ exec })`).
import { setFlagsFromString } from 'node:v8';
import { startWorker } from './worker.ts';

// V8 doubles the young generation under a high allocation rate up to 2 × 64 MiB on a large-memory
// machine, and never gives it back: at 200 connections that was ~95 MiB of each worker's RSS.
// Per-request garbage dies young, so a fixed small nursery costs a little more scavenging
// (3–7 µs per request measured at 50–200 connections) for a bounded footprint. The semi-space maximum itself can only be
// set at start-up (the primary owns execArgv); the growth factor is read at every scavenge.
setFlagsFromString('--semi-space-growth-factor=1');
startWorker();
