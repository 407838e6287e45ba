/**
 * A port this node listens on — SMTP submission, implicit TLS, the MX, HTTP —
 * as the node sees it: a name for people, the bound address, and how to stop.
 * The node announces its listeners (registry.ts), the certificate loop hands
 * them a renewed certificate, and the doctor reads which ports to check.
 */
import type { TlsCredentials } from '../tls/credentials.ts';

export interface Listener {
  name: string;
  host: string;
  port: number;
  close(): Promise<void>;
  /** TLS listeners: new handshakes present this certificate; established sessions keep theirs. */
  setCertificate?(tls: TlsCredentials): void | Promise<void>;
}
