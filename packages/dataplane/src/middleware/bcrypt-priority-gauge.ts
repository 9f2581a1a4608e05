// Whether a worker's bcrypt checks run in its low-priority thread (bcrypt-verifier.ts). Its own
// module, registered when the worker starts, so that /metrics shows it (0) before any basicAuth
// step has loaded the verifier.
import client from 'prom-client';

export const bcryptLowPriority = new client.Gauge({
  name: 'gatehouse_bcrypt_low_priority',
  help: '1 while bcrypt checks run in a thread at the lowest CPU priority, 0 when they run on the thread pool',
});
