/**
 * The thinnest Node HTTP proxy, as issue 6 measured its floor with: node:http on both sides, a keep-alive Agent to
 * the upstream, the request body and the reply relayed as bytes. No framework, routing, validation or parsing.
 * `node bench/floor/node-http-proxy.mjs --port=P --upstream=URL [--relay=chunks]`; bench/floor.ts drives it beside
 * Fastify + undici and Tollgate, so that what this machine charges for any Node proxy can be told from what the stack
 * adds. A reply is relayed whole, unless `--relay=chunks` (bench/open-streams.ts): then an event stream's chunks are
 * written to the client as they arrive, as a streaming gateway must.
 */
import http from 'node:http';

const argument = (name) => process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
const upstream = new URL(argument('upstream'));
const relayChunks = argument('relay') === 'chunks';
const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((request, response) => {
  const parts = [];
  request.on('data', (part) => parts.push(part));
  request.on('end', () => {
    const body = Buffer.concat(parts);
    const outgoing = http.request(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        path: request.url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer sk-floor' },
      },
      (answer) => {
        const type = answer.headers['content-type'] ?? 'application/json';
        if (relayChunks && type.startsWith('text/event-stream')) {
          response.writeHead(answer.statusCode ?? 502, { 'content-type': type });
          answer.on('data', (chunk) => response.write(chunk));
          answer.on('end', () => response.end());
          return;
        }
        const chunks = [];
        answer.on('data', (chunk) => chunks.push(chunk));
        answer.on('end', () => {
          const payload = Buffer.concat(chunks);
          response.writeHead(answer.statusCode ?? 502, { 'content-type': type, 'content-length': payload.length });
          response.end(payload);
        });
      },
    );
    outgoing.on('error', () => {
      response.writeHead(502);
      response.end();
    });
    outgoing.end(body);
  });
});

server.listen(Number(argument('port')), '127.0.0.1');
