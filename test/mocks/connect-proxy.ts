/**
 * An egress proxy as corporate networks run them (Squid, say), reduced to what a client of one relies on: `CONNECT
 * host:port` opens a tunnel (200 Connection Established) through which the client speaks to the upstream itself; a
 * proxy that requires credentials answers 407 without `Proxy-Authorization: Basic …` matching them. It records
 * every CONNECT it received, and forwards nothing but tunnels.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ConnectRequest {
  /** `host:port` the client asked to reach. */
  target: string;
  headers: IncomingHttpHeaders;
}

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  connects: ConnectRequest[];
  /** Requests sent to the proxy as to an origin (absolute-form), which this proxy refuses with 405. */
  plainRequests: number;
  close(): Promise<void>;
}

/** @param credentials `user:password` the proxy requires, or none */
export async function startConnectProxy(credentials?: string): Promise<ConnectProxy> {
  const connects: ConnectRequest[] = [];
  const sockets = new Set<Socket>();
  const proxy: ConnectProxy = { url: '', connects, plainRequests: 0, close: async () => undefined };
  const server = createServer((_request, response) => {
    proxy.plainRequests += 1;
    response.writeHead(405, { 'content-type': 'text/plain' }).end('only CONNECT');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (request, clientSocket: Socket, head: Buffer) => {
    const target = request.url ?? '';
    connects.push({ target, headers: request.headers });
    const expected = credentials === undefined ? undefined : `Basic ${Buffer.from(credentials).toString('base64')}`;
    if (expected !== undefined && request.headers['proxy-authorization'] !== expected) {
      clientSocket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="egress"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const separator = target.lastIndexOf(':');
    const upstream = connect(Number(target.slice(separator + 1)), target.slice(0, separator), () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.once('close', () => sockets.delete(upstream));
    upstream.on('error', () => clientSocket.destroy());
    clientSocket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
