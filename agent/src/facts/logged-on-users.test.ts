import { describe, expect, it } from '@jest/globals';
import { interactiveUser, parseWho, upnsOf } from './logged-on-users.ts';

const who = [
  'root     pts/0        2026-01-05 08:10 (10.0.0.5)',
  'alice@corp.example.com tty2   2026-01-05 08:12 (:0)',
  '',
].join('\n');

describe('logged-on users', () => {
  it('reads user, terminal and origin from who', () => {
    expect(parseWho(who)).toEqual([
      { user: 'root', line: 'pts/0', from: '10.0.0.5' },
      { user: 'alice@corp.example.com', line: 'tty2', from: ':0' },
    ]);
  });

  it('prefers the person at the console over a remote shell', () => {
    expect(interactiveUser(parseWho(who))).toBe('alice@corp.example.com');
    expect(interactiveUser(parseWho('bob pts/1 2026-01-05 09:00 (host)'))).toBe('bob');
    expect(interactiveUser([])).toBeUndefined();
  });

  it('reports only names shaped like user@domain as UPNs, each once', () => {
    expect(
      upnsOf(['alice', 'alice@corp.example.com', 'bob@localhost', 'alice@corp.example.com', 'a b@x.y']),
    ).toEqual(['alice@corp.example.com']);
  });
});
