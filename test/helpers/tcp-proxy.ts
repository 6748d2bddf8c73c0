import net from 'node:net';

/**
 * A loopback TCP proxy that can be cut and restored: a real network outage between the
 * collector and a server, without stopping the server the rest of the suite shares.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  #port = 0;

  private constructor(host: string, port: number) {
    this.#target = { host, port };
  }

  static async start(targetUrl: string): Promise<TcpProxy> {
    const url = new URL(targetUrl);
    const proxy = new TcpProxy(url.hostname, Number(url.port || 5432));
    await proxy.up();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.#port);
    return u.toString();
  }

  /**
   * Sends new connections to another port of the same host (a server restarted on a new
   * port), keeping the proxy's own port. Open connections are left as they are.
   */
  retarget(port: number): void {
    this.#target.port = port;
  }

  /** Accepts connections again, on the same port. */
  async up(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.#target.port, this.#target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** Refuses new connections and cuts the open ones, as a datastore going away would. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
