import { describe, expect, it } from '@jest/globals';
import { addressBucketName, clientAddress, grpcPeerAddress } from './enrollment-throttle.ts';

describe('the client address of an enrollment attempt', () => {
  it('is the socket peer when no proxy is trusted, whatever x-forwarded-for says', () => {
    expect(clientAddress('203.0.113.7', '198.51.100.1', 0)).toBe('203.0.113.7');
  });

  it('is the entry the trusted proxies appended, never one the client wrote further left', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.1, 203.0.113.7', 1)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.2', '198.51.100.1, 203.0.113.7, 10.0.0.9', 2)).toBe('203.0.113.7');
    expect(clientAddress('10.0.0.2', ['198.51.100.1', '203.0.113.7'], 1)).toBe('203.0.113.7');
  });

  it('falls back to the peer for a header shorter than the proxies trusted or an entry that is no address', () => {
    expect(clientAddress('10.0.0.2', '203.0.113.7', 2)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', 'not-an-address', 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', undefined, 1)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', [], 1)).toBe('10.0.0.2');
  });

  it('is read from a gRPC peer of either address family', () => {
    expect(grpcPeerAddress('ipv4:203.0.113.7:51000')).toBe('203.0.113.7');
    expect(grpcPeerAddress('ipv6:[2001:db8::1]:51000')).toBe('2001:db8::1');
  });
});

describe('the address bucket', () => {
  it('is the whole IPv4 address, also when mapped into IPv6', () => {
    expect(addressBucketName('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBucketName('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('is the /64 of an IPv6 address, however it is spelled', () => {
    const bucket = '2001:db8:0:1::/64';
    expect(addressBucketName('2001:db8:0:1::1')).toBe(bucket);
    expect(addressBucketName('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe(bucket);
    expect(addressBucketName('2001:db8:0:1:a:b:c:d%eth0')).toBe(bucket);
    expect(addressBucketName('::1')).toBe('0:0:0:0::/64');
    expect(addressBucketName('2001:db8:0:2::1')).not.toBe(bucket);
  });
});
