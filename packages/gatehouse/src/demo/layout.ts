// Where everything of `gatehouse demo` lives: ports derived from one base (8080 gives the familiar
// 8080 / 8443 / 9180), and the files under the data directory.
import { join } from 'node:path';
import type { DemoPki } from '@gatehouse/pki';

export const DEFAULT_PORT_BASE = 8080;

export interface DemoPorts {
  web: number;
  webSecure: number;
  admin: number;
  blue: number;
  green: number;
}

export function demoPorts(base: number): DemoPorts {
  return { web: base, webSecure: base + 363, admin: base + 1100, blue: base + 1, green: base + 364 };
}

/** The highest port a base uses must stay a valid port. */
export const MAX_PORT_BASE = 65535 - 1100;

export interface DemoFiles {
  dir: string;
  pkiDir: string;
  config: string;
}

export function demoFiles(dir: string): DemoFiles {
  return { dir, pkiDir: join(dir, 'pki'), config: join(dir, 'gatehouse.yaml') };
}

/** The PKI files the config and the curl lines name. */
export interface DemoMaterial {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
  backendCa: string;
  backendCert: string;
  backendKey: string;
  gatewayClientCert: string;
  gatewayClientKey: string;
}

export function demoMaterial(pki: DemoPki): DemoMaterial {
  return {
    ca: pki.ca.certPath,
    serverCert: pki.server.certPath,
    serverKey: pki.server.keyPath,
    clientCert: pki.client.certPath,
    clientKey: pki.client.keyPath,
    rogueCert: pki.rogueClient.certPath,
    rogueKey: pki.rogueClient.keyPath,
    backendCa: pki.backendCa.certPath,
    backendCert: pki.backend.certPath,
    backendKey: pki.backend.keyPath,
    gatewayClientCert: pki.gatewayClient.certPath,
    gatewayClientKey: pki.gatewayClient.keyPath,
  };
}
