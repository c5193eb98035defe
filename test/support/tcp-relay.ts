// A loopback TCP relay in front of a server such as the OpenTelemetry
// Collector: clients use the relay's port, so the server can be stopped and
// a new one started (on another port) behind the same endpoint. It keeps the
// first MiB clients sent, to check what went over the wire (headers).
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;
  sent = '';

  private constructor(private upstreamPort: number) {}

  static async start(upstreamPort: number): Promise<TcpRelay> {
    const relay = new TcpRelay(upstreamPort);
    await relay.listen();
    return relay;
  }

  /** Refuses new connections and cuts open ones, as a server that went away. */
  async pause(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port, now in front of another server. */
  async resume(upstreamPort: number): Promise<void> {
    this.upstreamPort = upstreamPort;
    await this.listen();
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.upstreamPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        if (this.sent.length < 1 << 20) this.sent += chunk.toString('latin1');
      });
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
  }
}
