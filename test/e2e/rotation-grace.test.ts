// Rotation noise: a key and its certificate written a little apart (certbot-style, in place) are a
// normal gap, logged at info and waited for; only a pair still mismatched after
// `gateway.watch.pairGrace` is a rejected reload (error log, failed-reload metric). Real `gatehouse
// run` with 2 workers, watching real files.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CaHandle, createCa, issueCertificate } from '@gatehouse/pki';
import { type GatewayProcess, startGateway, tempDir, writeConfig } from '../support/gateway.ts';
import { gatewayHead, oneRoute } from '../support/gateway-config.ts';

const dir = tempDir('gh-pair-grace-');
let ca: CaHandle;
let gateway: GatewayProcess;
let adminPort = 0;
const certPath = join(dir, 'live.crt');
const keyPath = join(dir, 'live.key');

function rejectedReloads(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: adminPort, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        const line = body.split('\n').find((l) => l.startsWith('gatehouse_config_reloads_total{result="rejected"'));
        resolve(Number(line?.split(' ').at(-1) ?? Number.NaN));
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function issue(n: number) {
  return issueCertificate(ca, { name: `v${n}`, cn: 'pair.test', dns: ['pair.test'], usage: 'server' });
}

before(async () => {
  ca = await createCa(dir, { name: 'ca' });
  const v1 = await issue(1);
  writeFileSync(certPath, v1.certPem);
  writeFileSync(keyPath, v1.keyPem, { mode: 0o600 });
  const head = await gatewayHead({
    tls: { cert: certPath, key: keyPath },
    gateway: ['  watch: { debounce: 50ms, pollInterval: 0s, pairGrace: 2s }'],
  });
  adminPort = head.adminPort;
  const config = writeConfig(dir, [...head.lines, ...oneRoute('http://127.0.0.1:9')]);
  gateway = await startGateway(config, { workers: 2 });
});
after(async () => {
  await gateway?.stop();
});

describe('rotation noise (pairGrace)', () => {
  it('rotation noise: a key written before its certificate is waited for at info, without a rejection', async () => {
    const next = await issue(2);
    const before = await rejectedReloads();
    const mark = gateway.lines.length;
    writeFileSync(keyPath, next.keyPem);
    const waiting = await gateway.waitForLogAfter(
      mark,
      (l) => l.msg === 'waiting for the matching key',
      10_000,
      '"waiting for the matching key"',
    );
    assert.equal(waiting.level, 'info');
    await sleep(300);
    writeFileSync(certPath, next.certPem);
    await gateway.waitForLogAfter(mark, (l) => l.msg === 'reload accepted', 10_000, '"reload accepted"');
    const rejections = gateway.lines.slice(mark).filter((l) => l.msg === 'reload rejected');
    assert.deepEqual(rejections, [], 'no rejection logged for a normal rotation');
    assert.equal(await rejectedReloads(), before, 'the failed-reload metric did not move');
  });

  it('rotation noise: a pair still mismatched after the grace period is rejected at error level and counted', async () => {
    const stray = await issue(3);
    const before = await rejectedReloads();
    const mark = gateway.lines.length;
    const started = Date.now();
    writeFileSync(keyPath, stray.keyPem);
    const rejected = await gateway.waitForLogAfter(
      mark,
      (l) => l.msg === 'reload rejected',
      15_000,
      '"reload rejected" after the grace period',
    );
    assert.equal(rejected.level, 'error');
    assert.ok(Date.now() - started >= 1_900, 'not before the grace period is over');
    assert.match(JSON.stringify(rejected.errors), /does not belong to the certificate/, JSON.stringify(rejected));
    assert.equal(await rejectedReloads(), before + 1);
  });
});
