// The access line written directly (access-log.ts) against the same record serialised by pino, in a
// child process whose stdout is the log (a worker's), and the millisecond text it is built with.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { millisecondsJson } from '../src/access-log.ts';

const accessLogUrl = pathToFileURL(new URL('../src/access-log.ts', import.meta.url).pathname).href;

describe('access line', () => {
  it('writes the millisecond text JSON gives for the value rounded to the microsecond', () => {
    const values: number[] = [0, 0.0004, 0.0005, 0.0015, 1e-9, 999.9995, 1e12 - 0.0001, 2 ** 40 + 0.125];
    for (let us = 0; us <= 2_000_000; us++) values.push(us / 1000);
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 200_000; i++) values.push(10 ** (random() * 15 - 4) * random());
    values.push(-1.5, 1e16, Number.NaN, Number.POSITIVE_INFINITY);
    for (const ms of values) assert.equal(millisecondsJson(ms), String(Math.round(ms * 1000) / 1000), `${ms}`);
  });

  it('is the line pino writes for the same record, but for the time', () => {
    // The same record through the direct writer (createLogger's JSON logger, on stdout) and through
    // pino's serialiser (a logger without the direct destination, on stderr). Two streams: the
    // direct writer's sonic-boom writes asynchronously, so on one stream the order is not fixed.
    const probe = `
      import pino from 'pino';
      import { accessLabels, createLogger, flushLogs, writeAccessLine } from '${accessLogUrl}';
      const { logger } = await createLogger({ level: 'info', format: 'json', accessLog: true });
      const viaPino = pino(
        { base: { pid: process.pid, role: 'worker' }, formatters: { level: (label) => ({ level: label }) } },
        pino.destination({ dest: 2, sync: true }),
      );
      const base = {
        requestId: '0f1e2d3c-4b5a-4968-8776-000000abcdef', routeName: 'api', backendEndpoint: 'http://10.0.0.7:8080',
        method: 'GET', path: '/v1/items?q=1', status: 200, bytes: 1215, durationMs: 1.2345678,
        tlsVersion: null, tlsResumed: null, clientSubject: null, upstreamConnectMs: 0, upstreamResponseMs: 0.75049,
        retries: 0, errorCode: null, clientAborted: false, deniedBy: null, authUser: null,
      };
      const route = { accessLabels: accessLabels('api', null) };
      const backend = { accessLabels: accessLabels('api', 'http://10.0.0.7:8080') };
      const records = [
        { ...base, route, backend },
        { ...base, route, backend: null, backendEndpoint: null, status: 403, deniedBy: 'ip-allow', upstreamResponseMs: -1 },
        { ...base, route: null, backend: null, routeName: null, backendEndpoint: null, status: 404, durationMs: 0 },
        { ...base, route, backend, path: '/"quoted"\\\\back\\u0001/é/✓', method: 'PROPFIND', durationMs: 12000.1 },
        { ...base, route, backend, tlsVersion: 'TLSv1.3', tlsResumed: true, clientSubject: 'CN="a",O=b',
          upstreamConnectMs: 3.5, retries: 1, errorCode: 'GH_UPSTREAM_RESET', authUser: 'ünïcode',
          clientAborted: true, status: 499, logFields: { headers: { 'user-agent': 'x' }, query: { q: '1' } } },
      ];
      for (const record of records) {
        writeAccessLine(logger, record);
        flushLogs();
        writeAccessLine(viaPino, record);
      }
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      encoding: 'utf8',
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, GATEHOUSE_LOG_FORMAT: 'json' },
    });
    assert.equal(run.status, 0, run.stderr);
    const direct = run.stdout.trimEnd().split('\n');
    const viaPino = run.stderr.split('\n').filter((line) => line.startsWith('{'));
    assert.equal(direct.length, 5);
    assert.equal(viaPino.length, 5);
    const withoutTime = (line: string): string => line.replace(/"time":\d+,/, '');
    for (let i = 0; i < direct.length; i++) {
      assert.equal(withoutTime(direct[i] as string), withoutTime(viaPino[i] as string));
      JSON.parse(direct[i] as string);
    }
    assert.match(direct[0] as string, /"route":"api","backend":"http:\/\/10\.0\.0\.7:8080","method":"GET"/);
    assert.match(direct[2] as string, /"route":null,"backend":null/);
  });
});
