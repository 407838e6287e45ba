/**
 * A real authoritative DNS server on 127.0.0.1 for tests: UDP and TCP on the same port, so
 * Mailroom (or a Mailroom child process with MAILROOM_DNS_SERVERS=dns.address) resolves
 * through the same code path it uses in production, truncation and TCP retry included.
 *
 * It answers like a real server would: unknown names are NXDOMAIN, a known name without the
 * asked type is NOERROR with no answers (also for names that only have children, like
 * example.com when only _dmarc.example.com is set), and CNAMEs are followed within the zone.
 * Everything is served with TTL 0 so a changed record is seen on the next lookup.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import type { DnsRecordToPublish } from '../../src/domains/records.ts';

export type DnsRecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'CNAME';
export interface MxValue {
  exchange: string;
  priority: number;
}
/** One TXT record: a string (split into 255-byte chunks when longer) or explicit chunks. */
export type TxtValue = string | string[];
/** TIMEOUT drops the query unanswered, so the client's own timeout fires. */
export type DnsFailure = 'SERVFAIL' | 'REFUSED' | 'TIMEOUT';

export interface TestDnsServer {
  /** "127.0.0.1:PORT", ready for createResolver([...]) or MAILROOM_DNS_SERVERS. */
  readonly address: string;
  readonly port: number;
  /** Every question received, in order (names as asked). */
  readonly queries: Array<{ name: string; type: string }>;
  /** Replaces the records of that type at the name; [] makes the name exist with no such records. */
  set(name: string, type: 'A' | 'AAAA' | 'CNAME', values: string | string[]): void;
  set(name: string, type: 'MX', values: MxValue | MxValue[]): void;
  /** A string is one record; an array is a list of records, each a string or its chunks. */
  set(name: string, type: 'TXT', values: string | TxtValue[]): void;
  /** Forgets one name (its records and any failure), or everything. */
  clear(name?: string): void;
  /** Serves the records Mailroom asks a user to publish (replacing those names' records of the same types). */
  publish(records: DnsRecordToPublish[]): void;
  /** Every query for the name fails this way until cleared (null stops failing). */
  failWith(name: string, failure: DnsFailure | null): void;
  /** Every UDP answer about the name comes this many ms late (a slow resolver); 0 stops it. */
  delay(name: string, ms: number): void;
  close(): Promise<void>;
}

type Stored = { type: 'A' | 'AAAA' | 'CNAME'; value: string } | { type: 'MX'; value: MxValue } | { type: 'TXT'; value: string[] };

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const MAX_CNAME_HOPS = 8;

export async function startDnsServer(): Promise<TestDnsServer> {
  const zone = new Map<string, Map<string, Stored[]>>();
  const failures = new Map<string, DnsFailure>();
  const delays = new Map<string, number>();
  const queries: Array<{ name: string; type: string }> = [];

  function respond(query: DecodedPacket, udpLimit: number | null): Buffer | null {
    const question = query.questions?.[0];
    if (!question) return null;
    queries.push({ name: question.name, type: question.type });
    const failure = failures.get(norm(question.name));
    if (failure === 'TIMEOUT') return null;
    const { rcode, answers } = failure ? { rcode: RCODE[failure], answers: [] } : resolve(question);
    const edns = query.additionals?.some((a) => a.type === 'OPT') ?? false;
    const reply = (withAnswers: Answer[], truncated: boolean): Packet => ({
      type: 'response',
      id: query.id,
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER |
        ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) |
        (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
        rcode,
      questions: [question],
      answers: withAnswers,
      additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    });
    const full = dnsPacket.encode(reply(answers, false));
    // Like a real server: too big for the client's UDP buffer means "truncated, ask over TCP".
    if (udpLimit !== null && full.length > (edns ? Math.max(udpLimit, 512) : 512)) {
      return dnsPacket.encode(reply([], true));
    }
    return full;
  }

  function resolve(question: Question): { rcode: number; answers: Answer[] } {
    const answers: Answer[] = [];
    let owner = question.name;
    for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
      const node = zone.get(norm(owner));
      if (!node) return { rcode: nameExists(norm(owner)) ? RCODE.NOERROR : RCODE.NXDOMAIN, answers };
      const direct = node.get(question.type);
      const cname = node.get('CNAME') ?? [];
      if (direct || question.type === 'CNAME' || cname.length === 0) {
        answers.push(...(direct ?? []).map((r) => toAnswer(owner, r)));
        return { rcode: RCODE.NOERROR, answers };
      }
      answers.push(toAnswer(owner, cname[0]));
      owner = (cname[0].value as string).replace(/\.$/, '');
    }
    return { rcode: RCODE.SERVFAIL, answers: [] };
  }

  function nameExists(name: string): boolean {
    for (const known of zone.keys()) if (known.endsWith(`.${name}`)) return true;
    return false;
  }

  function set(name: string, type: DnsRecordType, values: unknown): void {
    const list = type === 'TXT' && typeof values === 'string' ? [values] : Array.isArray(values) ? values : [values];
    const stored = list.map((value): Stored => {
      if (type === 'TXT') return { type, value: typeof value === 'string' ? [value] : [...(value as string[])] };
      if (type === 'MX') return { type, value: value as MxValue };
      return { type, value: String(value) };
    });
    const key = norm(name);
    const node = zone.get(key) ?? new Map<string, Stored[]>();
    node.set(type, stored);
    zone.set(key, node);
  }

  const tcpSockets = new Set<net.Socket>();
  const onTcpConnection = (socket: net.Socket) => {
    tcpSockets.add(socket);
    socket.on('close', () => tcpSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + message.length);
        const answer = handle(message, null);
        if (answer) socket.write(Buffer.concat([lengthPrefix(answer.length), answer]));
      }
    });
  };

  function handle(message: Buffer, udpLimit: number | null): Buffer | null {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return null; // not DNS: a real server would drop it too
    }
    if (udpLimit !== null) {
      const opt = query.additionals?.find((a) => a.type === 'OPT');
      if (opt && 'udpPayloadSize' in opt) udpLimit = opt.udpPayloadSize;
    }
    return respond(query, udpLimit);
  }

  const { udp, tcp, port } = await bindSamePort(onTcpConnection);
  udp.on('message', (message, peer) => {
    const answer = handle(message, 512);
    if (!answer) return;
    const late = delays.get(norm(dnsPacket.decode(answer).questions?.[0]?.name ?? '')) ?? 0;
    const send = () => udp.send(answer, peer.port, peer.address);
    if (late > 0) setTimeout(send, late).unref();
    else send();
  });
  return {
    address: `127.0.0.1:${port}`,
    port,
    queries,
    set,
    clear(name?: string) {
      if (name === undefined) {
        zone.clear();
        failures.clear();
      } else {
        zone.delete(norm(name));
        failures.delete(norm(name));
      }
    },
    publish(records) {
      const grouped = new Map<string, DnsRecordToPublish[]>();
      for (const r of records) grouped.set(`${norm(r.name)} ${r.type}`, [...(grouped.get(`${norm(r.name)} ${r.type}`) ?? []), r]);
      for (const group of grouped.values()) {
        const { name, type } = group[0];
        if (type === 'MX') set(name, 'MX', group.map((r) => ({ exchange: r.value, priority: r.priority ?? 10 })));
        else set(name, type, group.map((r) => r.value));
      }
    },
    delay(name, ms) {
      if (ms > 0) delays.set(norm(name), ms);
      else delays.delete(norm(name));
    },
    failWith(name, failure) {
      if (failure === null) failures.delete(norm(name));
      else failures.set(norm(name), failure);
    },
    async close() {
      for (const socket of tcpSockets) socket.destroy();
      await Promise.all([new Promise<void>((done) => tcp.close(() => done())), new Promise<void>((done) => udp.close(() => done()))]);
    },
  };
}

function toAnswer(owner: string, record: Stored): Answer {
  const base = { name: owner, ttl: 0, class: 'IN' as const };
  switch (record.type) {
    case 'MX':
      return { ...base, type: 'MX', data: { preference: record.value.priority, exchange: record.value.exchange } };
    case 'TXT':
      return { ...base, type: 'TXT', data: record.value.flatMap(chunk255) };
    default:
      return { ...base, type: record.type, data: record.value };
  }
}

/** A TXT character-string holds at most 255 bytes; dns-packet would silently corrupt a longer one. */
function chunk255(text: string): Buffer[] {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) chunks.push(bytes.subarray(i, i + 255));
  return chunks.length > 0 ? chunks : [Buffer.alloc(0)];
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(length);
  return prefix;
}

function norm(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** UDP takes any free port first; TCP then needs that same number, which something else may hold. */
async function bindSamePort(
  onTcpConnection: (socket: net.Socket) => void,
): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((done, fail) => {
      udp.once('error', fail);
      udp.bind(0, '127.0.0.1', () => done());
    });
    const port = udp.address().port;
    const tcp = net.createServer(onTcpConnection);
    try {
      await new Promise<void>((done, fail) => {
        tcp.once('error', fail);
        tcp.listen(port, '127.0.0.1', () => done());
      });
      return { udp, tcp, port };
    } catch (err) {
      await new Promise<void>((done) => udp.close(() => done()));
      if (attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}
