#!/usr/bin/env node
// The `gatehouse` command. Each sub-command is one module in ./commands that exports
// `summary`, `usage` and `main(argv): Promise<number>` (the exit code). Modules load lazily so
// that `gatehouse version` does not pay for the data plane.
import { setFlagsFromString } from 'node:v8';
import type { Command } from './command.ts';

// V8 doubles the young generation while allocation goes on and never gives it back: loading the
// modules of `gatehouse run` grew the primary's to 2 × 16 MiB, 12 MiB of its idle RSS. The primary
// serves no request, so it keeps V8's initial size (the workers do the same in worker-main.ts). Set
// here, before any command module loads; the flag is read at every scavenge.
setFlagsFromString('--semi-space-growth-factor=1');

const commands: Record<string, () => Promise<Command>> = {
  run: () => import('./commands/run.ts'),
  validate: () => import('./commands/validate.ts'),
  demo: () => import('./commands/demo.ts'),
  reload: () => import('./commands/reload.ts'),
  restart: () => import('./commands/restart.ts'),
  status: () => import('./commands/status.ts'),
  schema: () => import('./commands/schema.ts'),
  version: () => import('./commands/version.ts'),
};

async function loadAll(): Promise<Array<[string, Command | null]>> {
  const out: Array<[string, Command | null]> = [];
  for (const [name, load] of Object.entries(commands)) {
    out.push([name, await load().catch(() => null)]);
  }
  return out;
}

async function printHelp(): Promise<void> {
  const lines = ['Usage: gatehouse <command> [options]', '', 'Commands:'];
  for (const [name, command] of await loadAll()) {
    if (command) lines.push(`  ${name.padEnd(10)} ${command.summary}`);
  }
  lines.push('', 'Run `gatehouse <command> --help` for the options of one command.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await printHelp();
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') return main(['version']);
  const load = commands[name];
  if (!load) {
    process.stderr.write(`gatehouse: unknown command "${name}"\n`);
    await printHelp();
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  return command.main(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`gatehouse: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
