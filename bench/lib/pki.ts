// The bench's throwaway PKI, made with @gatehouse/pki's openssl-based dev PKI: one CA that signs the
// gateway's serving certificate, the origin's certificate and the gateway's client certificate
// towards the origin; plus a few spare serving certificates for the rotation scenario.
import { createCa, issueCertificate, type LeafHandle } from '@gatehouse/pki';

export interface BenchPki {
  caPath: string;
  server: LeafHandle;
  origin: LeafHandle;
  /** Presented by Gatehouse to the origin's mTLS port. */
  gatewayClient: LeafHandle;
  /** Serving certificates the rotation scenario swaps in turn (each with its own key). */
  rotation: LeafHandle[];
}

const local = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] };

export async function createBenchPki(dir: string, rotationCount: number): Promise<BenchPki> {
  const ca = await createCa(dir, { name: 'bench-ca', cn: 'Gatehouse Bench CA' });
  const [server, origin, gatewayClient, ...rotation] = await Promise.all([
    issueCertificate(ca, { name: 'server', cn: 'localhost', ...local, usage: 'server' }),
    issueCertificate(ca, {
      name: 'origin',
      cn: 'origin.bench',
      dns: ['origin.bench', 'localhost'],
      ips: ['127.0.0.1'],
      usage: 'server',
    }),
    issueCertificate(ca, { name: 'gateway-client', cn: 'gatehouse-bench', usage: 'client' }),
    ...Array.from({ length: rotationCount }, (_, i) =>
      issueCertificate(ca, { name: `rotation-${i}`, cn: 'localhost', ...local, usage: 'server' }),
    ),
  ]);
  return {
    caPath: ca.certPath,
    server: server as LeafHandle,
    origin: origin as LeafHandle,
    gatewayClient: gatewayClient as LeafHandle,
    rotation,
  };
}
