import net from 'node:net';

/** How the network path to the endpoint behaves. */
export type PathState =
  /** Connections reach the endpoint. */
  | 'open'
  /** Nothing listens: connections are refused at once (a stopped endpoint). */
  | 'refused'
  /** Connections are accepted and never answered (a host gone behind a firewall or NAT). */
  | 'blackholed';

/**
 * A loopback TCP path to an endpoint that can be refused or blackholed and restored, keeping its
 * port. Open connections are cut whenever the state changes: a path that breaks breaks them.
 */
export class OutagePath {
  readonly #targetPort: number;
  readonly #sockets = new Set<net.Socket>();
  #server: net.Server | undefined;
  #port = 0;
  #state: PathState = 'open';

  private constructor(targetPort: number) {
    this.#targetPort = targetPort;
  }

  static async start(targetPort: number): Promise<OutagePath> {
    const path = new OutagePath(targetPort);
    await path.#listen();
    return path;
  }

  get port(): number {
    return this.#port;
  }

  get state(): PathState {
    return this.#state;
  }

  async set(state: PathState): Promise<void> {
    this.#state = state;
    this.#cutAll();
    if (state === 'refused') await this.#close();
    else await this.#listen();
  }

  async close(): Promise<void> {
    this.#cutAll();
    await this.#close();
  }

  #cutAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  async #listen(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = net.createServer((client) => {
      this.#track(client);
      if (this.#state !== 'open') {
        // Read and discard, never answer: the peer waits for its own timeout.
        client.resume();
        return;
      }
      const upstream = net.connect(this.#targetPort, '127.0.0.1');
      this.#track(upstream);
      const cut = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', cut);
      upstream.on('close', cut);
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

  async #close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
