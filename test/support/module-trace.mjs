// Preloaded (`node --import`) into a gateway under test to see which module files it runs: every
// process and thread appends each module URL it loads to GATEHOUSE_MODULE_TRACE_DIR/<pid>-<thread>.
// Cluster workers and worker threads inherit the --import flag, so the trace covers all of them.
// Plain JavaScript: a .ts preload would itself load the type stripper it is there to catch.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

const dir = process.env.GATEHOUSE_MODULE_TRACE_DIR;
if (!dir) throw new Error('module-trace.mjs: GATEHOUSE_MODULE_TRACE_DIR is not set');
const file = join(dir, `${process.pid}-${threadId}`);

registerHooks({
  load(url, context, nextLoad) {
    // Synchronous on purpose: a process that exits right after loading still leaves its line.
    appendFileSync(file, `${url}\n`);
    return nextLoad(url, context);
  },
});
