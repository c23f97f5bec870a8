import { once } from 'node:events';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope recipients (RCPT TO). */
  to: string[];
  from: string;
  subject: string;
  text: string;
  /** The whole message as it came over the wire. */
  raw: string;
}

/**
 * A real SMTP server in this process (smtp-server), parsing each message with
 * mailparser. No TLS and no auth: it listens on loopback for a test only. stop() and
 * start() on the same port simulate an outage.
 */
export async function startSmtpServer(port = 0) {
  const received: ReceivedMail[] = [];
  let server: SMTPServer | null = null;
  let boundPort = port;

  async function start(): Promise<void> {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then((parsed) => {
              received.push({
                to: session.envelope.rcptTo.map((r) => r.address),
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                raw: raw.toString('utf8'),
              });
              callback();
            })
            .catch((error: unknown) => callback(error as Error));
        });
      },
    });
    server.listen(boundPort, '127.0.0.1');
    await once(server.server, 'listening');
    const address = server.server.address();
    if (address && typeof address === 'object') boundPort = address.port;
  }

  await start();
  return {
    received,
    get port() {
      return boundPort;
    },
    get url() {
      return `smtp://127.0.0.1:${boundPort}`;
    },
    to: (address: string) => received.filter((mail) => mail.to.includes(address)),
    async stop(): Promise<void> {
      const current = server;
      server = null;
      if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    start,
  };
}
export type SmtpTestServer = Awaited<ReturnType<typeof startSmtpServer>>;
