// gateway.entryPoints.passThrough: Goma's forwards as written in its docs, tcp/udp expanded, and the
// errors (bad port, bad target, a port claimed twice, a port an HTTP listener already has).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors, minimalRoute, ok, oneError, yaml } from './helpers.ts';

const passThrough = (...forwards: string[]) => [
  'gateway:',
  '  timeouts: { upstreamConnect: 3s }',
  '  entryPoints:',
  '    passThrough:',
  '      forwards:',
  ...forwards,
  ...minimalRoute,
];

describe('passThrough', () => {
  it("reads Goma's full example: tcp/udp becomes two forwards, timeout is the dial timeout in seconds (0: the default)", () => {
    const config = ok(
      yaml(
        ...passThrough(
          '        - protocol: tcp',
          '          port: 61557',
          '          target: srv1.example.com:22',
          '          timeout: 5',
          '        - protocol: tcp/udp',
          '          port: 53',
          '          target: 10.25.10.15:53',
          '          timeout: 0',
          '        - { protocol: udp, port: 54, target: "[fd00::1]:54", host: 127.0.0.1 }',
        ),
      ),
    );
    const p = config.gateway.entryPoints.passThrough;
    assert.deepEqual(
      p.forwards.map((f) => [f.protocol, f.host, f.port, f.targetHost, f.targetPort, f.dialTimeoutMs, f.at.line]),
      [
        ['tcp', '', 61557, 'srv1.example.com', 22, 5000, 6],
        ['tcp', '', 53, '10.25.10.15', 53, 3000, 10],
        ['udp', '', 53, '10.25.10.15', 53, 3000, 10],
        ['udp', '127.0.0.1', 54, 'fd00::1', 54, 3000, 14],
      ],
    );
    assert.equal(p.udpSessionIdleMs, 60_000);
    assert.equal(p.udpMaxSessions, 1024);
  });

  it('refuses a port out of range and a target that is not HOST:PORT, at their lines', () => {
    oneError(yaml(...passThrough('        - { protocol: tcp, port: 70000, target: "a:1" }')), 'GH_CONFIG_RANGE', 6, 34);
    for (const target of ['a', 'a:', ':22', 'a:0', 'a:65536', 'fd00::1:22', '[fd00::1]', 'a b:1']) {
      const e = oneError(
        yaml(...passThrough(`        - { protocol: tcp, port: 2000, target: "${target}" }`)),
        'GH_CONFIG_ADDRESS',
        6,
        48,
      );
      assert.equal(e.path, 'gateway.entryPoints.passThrough.forwards[0].target');
    }
    oneError(yaml(...passThrough('        - { protocol: sctp, port: 2000, target: "a:1" }')), 'GH_CONFIG_ENUM', 6, 23);
    oneError(yaml(...passThrough('        - { protocol: tcp, port: 2000 }')), 'GH_CONFIG_REQUIRED', 6, 11);
  });

  it('refuses a port two forwards of one protocol claim, tcp/udp included, but not tcp and udp apart', () => {
    const all = errors(
      yaml(
        ...passThrough(
          '        - { protocol: tcp, port: 2000, target: "a:1" }',
          '        - { protocol: udp, port: 2000, target: "a:1" }',
          '        - { protocol: tcp/udp, port: 2000, target: "b:1" }',
        ),
      ),
    );
    assert.deepEqual(
      all.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`),
      [
        '8:38 GH_CONFIG_DUPLICATE_FORWARD tcp port 2000 is already forwarded by gateway.entryPoints.passThrough.forwards[0]',
        '8:38 GH_CONFIG_DUPLICATE_FORWARD udp port 2000 is already forwarded by gateway.entryPoints.passThrough.forwards[1]',
      ],
    );
    ok(
      yaml(
        ...passThrough(
          '        - { protocol: tcp, port: 2000, target: "a:1" }',
          '        - { protocol: udp, port: 2000, target: "b:1" }',
        ),
      ),
    );
  });

  it("refuses a tcp port that is the web, webSecure or admin listener's, unless the interfaces differ", () => {
    const clash = (listeners: string[], forward: string) =>
      yaml(
        'gateway:',
        ...listeners,
        '  entryPoints:',
        '    web: { address: ":8080" }',
        '    passThrough:',
        '      forwards:',
        forward,
        ...minimalRoute,
      );
    const web = oneError(
      clash([], '        - { protocol: tcp, port: 8080, target: "a:1" }'),
      'GH_CONFIG_ADDRESS',
      6,
      34,
    );
    assert.equal(web.message, "tcp port 8080 is also the web listener's port");
    const admin = oneError(
      clash(['  admin: { address: "127.0.0.1:9180" }'], '        - { protocol: tcp, port: 9180, target: "a:1" }'),
      'GH_CONFIG_ADDRESS',
      7,
      34,
    );
    assert.equal(admin.message, "tcp port 9180 is also the admin listener's port");
    // A UDP socket does not take a TCP port; another interface does not share the admin's.
    ok(clash([], '        - { protocol: udp, port: 8080, target: "a:1" }'));
    ok(
      clash(
        ['  admin: { address: "127.0.0.1:9180" }'],
        '        - { protocol: tcp, port: 9180, target: "a:1", host: 127.0.0.2 }',
      ),
    );
  });

  it('reads the UDP session settings', () => {
    const config = ok(
      yaml(
        'gateway:',
        '  entryPoints:',
        '    passThrough:',
        '      udpSessionIdleTimeout: 5s',
        '      udpMaxSessions: 8',
        ...minimalRoute,
      ),
    );
    assert.deepEqual(config.gateway.entryPoints.passThrough, {
      forwards: [],
      udpSessionIdleMs: 5000,
      udpMaxSessions: 8,
    });
  });
});
