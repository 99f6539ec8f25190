// The few converge.agent.v1 messages (proto/agent/v1/agent.proto) a k6 agent session exchanges over
// WebSocket, encoded and decoded by hand: k6 has no protobuf library for binary frames (its gRPC module does
// its own encoding, so the gRPC scenario needs none of this). Plain JavaScript without k6 imports, so it can
// also be checked against the generated code under Node. Field numbers and wire types follow agent.proto;
// proto3 zero values are left out, as protobuf encoders do.

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** AgentFacts.os_family and device_type, CommandResult.outcome values used here. */
export const OS_FAMILY_LINUX = 3;
export const DEVICE_TYPE_WORKSTATION = 1;
export const COMMAND_OUTCOME_COMPLETED = 1;

function utf8Bytes(text) {
  const bytes = [];
  for (const char of text) {
    const code = char.codePointAt(0);
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else {
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 63),
        0x80 | ((code >> 6) & 63),
        0x80 | (code & 63),
      );
    }
  }
  return bytes;
}

function utf8Text(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length;) {
    const byte = bytes[i];
    let code;
    if (byte < 0x80) [code, i] = [byte, i + 1];
    else if (byte < 0xe0) [code, i] = [((byte & 31) << 6) | (bytes[i + 1] & 63), i + 2];
    else if (byte < 0xf0) {
      [code, i] = [((byte & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63), i + 3];
    } else {
      code =
        ((byte & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
      i += 4;
    }
    text += String.fromCodePoint(code);
  }
  return text;
}

/** Non-negative integers only (these messages carry no negative numbers). */
function varint(bytes, value) {
  let rest = value;
  while (rest >= 128) {
    bytes.push((rest % 128) | 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
}

function tag(bytes, field, wireType) {
  varint(bytes, field * 8 + wireType);
}

function lengthDelimited(bytes, field, content) {
  tag(bytes, field, LENGTH_DELIMITED);
  varint(bytes, content.length);
  for (const byte of content) bytes.push(byte);
}

function string(bytes, field, text) {
  if (text) lengthDelimited(bytes, field, utf8Bytes(text));
}

function unsigned(bytes, field, value) {
  if (!value) return;
  tag(bytes, field, VARINT);
  varint(bytes, value);
}

function toArrayBuffer(bytes) {
  return new Uint8Array(bytes).buffer;
}

/** AgentMessage { hello: Hello { facts } } */
export function helloFrame(facts) {
  const encoded = [];
  string(encoded, 1, facts.hardwareUuid);
  string(encoded, 2, facts.serialNumber);
  string(encoded, 3, facts.manufacturer);
  string(encoded, 4, facts.model);
  string(encoded, 5, facts.osInstallId);
  string(encoded, 6, facts.hostname);
  unsigned(encoded, 7, facts.osFamily);
  string(encoded, 8, facts.osName);
  string(encoded, 9, facts.osVersion);
  unsigned(encoded, 10, facts.deviceType);
  for (const upn of facts.loggedOnUpns || []) lengthDelimited(encoded, 11, utf8Bytes(upn));
  string(encoded, 12, facts.agentVersion);
  const hello = [];
  lengthDelimited(hello, 1, encoded);
  const message = [];
  lengthDelimited(message, 1, hello);
  return toArrayBuffer(message);
}

/** AgentMessage { heartbeat: Heartbeat {} } */
export function heartbeatFrame() {
  const message = [];
  lengthDelimited(message, 2, []);
  return toArrayBuffer(message);
}

/** AgentMessage { command_result: CommandResult { … } } */
export function commandResultFrame(result) {
  const encoded = [];
  string(encoded, 1, result.commandId);
  unsigned(encoded, 2, result.outcome);
  unsigned(encoded, 3, result.exitCode);
  string(encoded, 4, result.finalOutputLine);
  unsigned(encoded, 5, result.durationMs);
  string(encoded, 8, result.sessionId);
  const message = [];
  lengthDelimited(message, 4, encoded);
  return toArrayBuffer(message);
}

/** Reads the fields of one message: `{ [field]: value }`, numbers for varints, byte arrays for the rest. */
function fields(bytes) {
  const found = {};
  let at = 0;
  const readVarint = () => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++];
      value += (byte & 127) * scale;
      if (byte < 128) return value;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === VARINT) found[field] = readVarint();
    else if (wireType === LENGTH_DELIMITED) {
      const length = readVarint();
      found[field] = bytes.subarray(at, at + length);
      at += length;
    } else if (wireType === FIXED64) at += 8;
    else if (wireType === FIXED32) at += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
  return found;
}

const text = (bytes) => (bytes ? utf8Text(bytes) : '');

/**
 * GatewayMessage as `{ kind: 'welcome' | 'command' | 'cancel' | 'drain' | undefined, … }` with the fields a
 * session uses (a Command's script is not read: the k6 agent answers without running anything).
 */
export function readGatewayMessage(buffer) {
  const message = fields(new Uint8Array(buffer));
  if (message[1]) {
    const welcome = fields(message[1]);
    return { kind: 'welcome', agentId: text(welcome[1]), heartbeatIntervalMs: welcome[2] || 0 };
  }
  if (message[2]) {
    const command = fields(message[2]);
    return { kind: 'command', id: text(command[1]), sessionId: text(command[2]) };
  }
  if (message[3]) return { kind: 'cancel', commandId: text(fields(message[3])[1]) };
  if (message[4]) {
    const drain = fields(message[4]);
    return { kind: 'drain', reconnectAfterMs: drain[1] || 0, reason: text(drain[2]) };
  }
  return { kind: undefined };
}
