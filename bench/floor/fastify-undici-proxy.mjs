/**
 * The floor of Tollgate's stack: a Fastify 5 server whose one route forwards the body to the upstream through an
 * undici Agent (dispatch API, as Tollgate) and answers the upstream's bytes. No authentication, limits, metering,
 * ledger, logs or metrics. `node bench/floor/fastify-undici-proxy.mjs --port=P --upstream=URL`; bench/floor.ts
 * drives it like Tollgate to show what Fastify and undici alone cost per request on this machine.
 */
import Fastify from 'fastify';
import { Agent } from 'undici';

const argument = (name) => process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
const upstream = new URL(argument('upstream'));
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 512 });
const app = Fastify({ logger: false });
app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

function forward(body) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let status = 0;
    agent.dispatch(
      { origin: upstream.origin, path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-floor' }, body },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode) { status = statusCode; },
        onResponseData(_controller, chunk) { chunks.push(chunk); },
        onResponseEnd() { resolve({ status, body: Buffer.concat(chunks) }); },
        onResponseError(_controller, error) { reject(error); },
      },
    );
  });
}

app.post('/v1/chat/completions', async (request, reply) => {
  const answer = await forward(request.body);
  return reply.code(answer.status).type('application/json').send(answer.body);
});

await app.listen({ port: Number(argument('port')), host: '127.0.0.1' });
