// Goma's extraConfig folder through `gatehouse run` (2 workers) under steady load: a route file is
// edited, broken and fixed, and a new file is added, with the folder watched. Every change goes
// through the same validate-then-two-phase rollout as the main file; the broken file is named with
// its line and column and the last good generation keeps serving; no request fails.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { type Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayProcess, type LogLine, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead } from '../support/gateway-config.ts';
import { call, type Reply } from '../support/http.ts';
import { startLoad } from '../support/load.ts';

function get(port: number, path: string, agent: Agent | false = false): Promise<Reply> {
  return call({ port, path, agent });
}

async function named(name: string): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.end(name));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Replaces a file the way editors and deploy tools do: write beside it, rename over it. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const route = (name: string, path: string, target: string) =>
  `routes:\n  - name: ${name}\n    path: ${path}\n    target: ${target}\n`;

describe('extraConfig folder, watched, under load', () => {
  let v1: { server: Server; url: string };
  let v2: { server: Server; url: string };
  let gateway: GatewayProcess;
  let port: number;
  let extra: string;

  before(async () => {
    v1 = await named('v1');
    v2 = await named('v2');
    const dir = tempDir('gatehouse-extra-config-');
    extra = join(dir, 'extra');
    mkdirSync(extra);
    writeFileSync(join(extra, 'api.yaml'), route('api', '/api', v1.url));
    const head = await gatewayHead({
      admin: false,
      gateway: [
        '  watch: { enabled: true, debounce: 100ms, pollInterval: 2s }',
        '  extraConfig:',
        '    directory: extra',
        '    watch: true',
      ],
    });
    port = head.webPort;
    const config = writeConfig(
      dir,
      `${head.text}routes:
  - name: home
    path: /
    target: ${v1.url}
`,
    );
    gateway = await startGateway(config, { workers: 2 });
  });

  after(async () => {
    await gateway?.stop();
    v1?.server.close();
    v2?.server.close();
  });

  /** The first log line after `mark` that passes `test`. */
  function logAfter(mark: number, test: (l: LogLine) => boolean, what: string): Promise<LogLine> {
    return gateway.waitForLogAfter(mark, test, 30_000, what);
  }

  async function until(path: string, body: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answer = await get(port, path);
      if (answer.body === body) return;
      if (Date.now() > deadline) assert.fail(`${path} still answers ${answer.status} ${answer.body}, not ${body}`);
      await sleep(50);
    }
  }

  it('takes edits, keeps serving through a broken file, and takes the fix, with no failed request', async (t) => {
    assert.equal((await get(port, '/api')).body, 'v1');
    // Steady keep-alive load on a route from the extra file and one from the main file.
    const paths = ['/api', '/api/x', '/', '/api'];
    const load = startLoad(t, {
      concurrency: paths.length,
      maxRequests: 80_000,
      maxMs: 90_000,
      pauseMs: 5,
      async request(loop, agent) {
        const path = paths[loop]!;
        const answer = await get(port, path, agent).catch((error: Error) => error);
        if (answer instanceof Error) return `${path}: ${answer.message}`;
        return answer.status === 200 ? null : `${path}: ${answer.status} ${answer.body.slice(0, 100)}`;
      },
    });
    // Each change is made while requests flow: wait for some to be answered before the next one.
    await load.answered(25);

    // 1. An edit: /api moves to v2.
    let mark = gateway.lines.length;
    replace(join(extra, 'api.yaml'), route('api', '/api', v2.url));
    await logAfter(mark, (l) => l.msg === 'reload accepted', 'reload accepted after the edit');
    await until('/api', 'v2');

    await load.answered(25);
    // 2. Broken: the reload is rejected at the file, line and column; the last good generation serves.
    mark = gateway.lines.length;
    replace(join(extra, 'api.yaml'), `${route('api', '/api', v1.url)}    weigth: 3\n`);
    const rejected = await logAfter(mark, (l) => l.msg === 'reload rejected', 'reload rejected');
    const errors = (rejected.errors as string[]).join('\n');
    assert.match(
      errors,
      new RegExp(`${join(extra, 'api.yaml').replaceAll('/', '\\/')}:5:5: error: routes\\[1\\]\\.weigth: unknown key`),
    );
    await sleep(300);
    assert.equal((await get(port, '/api')).body, 'v2', 'the last good generation keeps serving');

    await load.answered(25);
    // 3. Fixed, and a new file added to the folder.
    mark = gateway.lines.length;
    writeFileSync(join(extra, 'more.yml'), route('more', '/more', v2.url));
    replace(join(extra, 'api.yaml'), route('api', '/api', v1.url));
    await until('/api', 'v1');
    await until('/more', 'v2');

    await load.answered(25);
    // 4. A duplicate route name is refused, naming both files.
    mark = gateway.lines.length;
    writeFileSync(join(extra, 'dup.yaml'), route('more', '/dup', v1.url));
    const duplicate = await logAfter(mark, (l) => l.msg === 'reload rejected', 'duplicate rejected');
    const message = (duplicate.errors as string[]).join('\n');
    assert.match(
      message,
      // Files are read in name order: dup.yaml comes first, so more.yml holds the second use.
      /more\.yml:2:11: error: routes\[3\]\.name: route name "more" is already used by routes\[2\] \(.*dup\.yaml:2\)/,
    );

    await load.answered(25);
    const result = await load.stop();
    assert.deepEqual(result.errors, [], `${result.failed} failed of ${result.ok + result.failed}`);
    assert.ok(result.ok >= 125, `only ${result.ok} requests`);
  });
});
