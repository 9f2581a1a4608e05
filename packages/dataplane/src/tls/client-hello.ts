// Reads the server name and the offered ALPN protocols from the first bytes of a TLS connection
// (the ClientHello, RFC 8446 4.1.2), before OpenSSL sees them. Node's SNICallback is not told the
// offered protocols and a certificate cannot be changed once ALPN is chosen, so a TLS-ALPN-01
// validation (ALPN `acme-tls/1`) is recognised here, and only while such a challenge is pending.
// Pure: bytes in, facts out.

export interface ClientHelloFacts {
  serverName: string | null;
  alpn: string[];
}

/** `incomplete`: more bytes are needed; `null`: not a TLS ClientHello this parser understands. */
export function parseClientHello(buf: Buffer): ClientHelloFacts | 'incomplete' | null {
  if (buf.length < 5) return 'incomplete';
  // One handshake record: content type 22, then version and length.
  if (buf[0] !== 22) return null;
  const recordLength = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLength) return 'incomplete';
  const body = buf.subarray(5, 5 + recordLength);
  if (body.length < 4 || body[0] !== 1) return null; // handshake type 1: ClientHello
  const helloLength = body.readUIntBE(1, 3);
  // A ClientHello larger than one record (rare: huge extensions) is left to OpenSSL.
  if (4 + helloLength > body.length) return null;
  const hello = body.subarray(4, 4 + helloLength);
  let at = 2 + 32; // client_version, random
  const skip = (lengthBytes: number): boolean => {
    if (at + lengthBytes > hello.length) return false;
    const n = hello.readUIntBE(at, lengthBytes);
    at += lengthBytes + n;
    return at <= hello.length;
  };
  if (!skip(1) || !skip(2) || !skip(1)) return null; // session id, cipher suites, compression
  const facts: ClientHelloFacts = { serverName: null, alpn: [] };
  if (at === hello.length) return facts; // no extensions
  if (at + 2 > hello.length) return null;
  const end = at + 2 + hello.readUInt16BE(at);
  if (end > hello.length) return null;
  at += 2;
  while (at + 4 <= end) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    const data = hello.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    if (at > end) return null;
    if (type === 0) facts.serverName = readServerName(data);
    else if (type === 16) facts.alpn = readAlpn(data);
  }
  return facts;
}

function readServerName(data: Buffer): string | null {
  // server_name_list: length, then (type 0 = host_name, length, name)*
  let at = 2;
  while (at + 3 <= data.length) {
    const type = data[at];
    const length = data.readUInt16BE(at + 1);
    if (at + 3 + length > data.length) return null;
    if (type === 0) return data.toString('latin1', at + 3, at + 3 + length).toLowerCase();
    at += 3 + length;
  }
  return null;
}

function readAlpn(data: Buffer): string[] {
  const out: string[] = [];
  let at = 2;
  while (at < data.length) {
    const length = data[at] as number;
    if (at + 1 + length > data.length) break;
    out.push(data.toString('latin1', at + 1, at + 1 + length));
    at += 1 + length;
  }
  return out;
}
