import { isIP } from 'node:net';

/**
 * The address an enrollment attempt comes from. Behind `trustedProxies` reverse proxies that each append the
 * address they were reached from to `x-forwarded-for`, the client is that many entries from the right (what
 * the client wrote itself lies further left and is never read); with none, the socket's peer. A header
 * shorter than the proxies configured, or an entry that is not an IP address, falls back to the peer, so a
 * misconfiguration throttles more, never less.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trustedProxies: number,
): string {
  const fallback = peer ?? 'unknown';
  if (trustedProxies === 0 || forwardedFor === undefined) return fallback;
  // Repeated headers (or metadata entries) are one list, in order.
  const entries = (typeof forwardedFor === 'string' ? [forwardedFor] : forwardedFor)
    .flatMap((header) => header.split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const client = entries[entries.length - trustedProxies];
  return client !== undefined && isIP(client) !== 0 ? client : fallback;
}

/** The address of a gRPC peer as grpc-js spells it (`ipv4:10.0.0.1:5000`, `ipv6:[::1]:5000`). */
export function grpcPeerAddress(peer: string): string {
  const address = peer.replace(/^ipv[46]:/, '');
  if (address.startsWith('[')) return address.slice(1, address.indexOf(']'));
  const colon = address.lastIndexOf(':');
  return colon < 0 ? address : address.slice(0, colon);
}

/**
 * The part of an address one client is assumed to hold: the whole IPv4 address, and the /64 of an IPv6
 * address (a single host is routinely given a whole /64, so counting single IPv6 addresses would let it
 * try 2^64 times as often). IPv4 addresses mapped into IPv6 count as IPv4.
 */
export function addressBucketName(address: string): string {
  const unzoned = address.split('%', 1)[0] ?? address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(unzoned);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIP(unzoned) !== 6) return unzoned;
  const [head = '', tail] = unzoned.split('::');
  const groupsOf = (part: string) =>
    part === '' ? [] : part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
