import { fileURLToPath } from 'node:url';
import { startLoadGenerator } from './lib/load-generator.js';
import { requestBody } from './lib/scenarios.js';
import { startMock } from './lib/systems.js';
import { startTollgate } from './lib/tollgate.js';
import { freePort, spawnPinned, waitForPort } from './lib/processes.js';
import { flag, setUpTool } from './lib/tool-setup.js';
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url));
const { gatewayCores, loadCores } = setUpTool();
const mock = await startMock({ cores: loadCores, delayMs: 0, chunkDelayMs: 0 });
const load = await startLoadGenerator(loadCores);
const port = await freePort();
const floor = spawnPinned({ name: 'fu', command: process.execPath, args: ['--import', '/tmp/exp/trace.mjs', fileURLToPath(new URL('floor/fastify-undici-proxy.mjs', import.meta.url)), `--port=${port}`, `--upstream=${mock.url}`], cores: gatewayCores });
await waitForPort(port, 15000, floor);
const running = await startTollgate({ name: 'trace', repositoryRoot, upstreamUrl: mock.url, cores: gatewayCores, logLevel: 'info', nodeArguments: ['--import', '/tmp/exp/trace.mjs'] });
const systems = [['tollgate', { url: `${running.url}/v1/chat/completions`, headers: { authorization: `Bearer ${running.apiKey}` }, body: requestBody('chat', running.model) }], ['floor', { url: `http://127.0.0.1:${port}/v1/chat/completions`, headers: {}, body: requestBody('chat', 'gpt-4o-mini') }]] as const;
const pids: Record<string, number> = { tollgate: running.process.pid, floor: floor.pid };
for (const [name, target] of systems) await load.run({ kind: 'latency', target, mode: 'sequential', durationS: 4 });
for (const [name] of systems) process.kill(pids[name]!, 'SIGUSR2');
for (let round = 0; round < 3; round += 1) for (const [name, target] of systems) {
  const result: any = await load.run({ kind: 'latency', target, mode: 'sequential', durationS: 3 });
  console.log(name, result.latencyMs.p50);
}
await running.stop();
await floor.stop();
await load.stop();
await mock.process.stop();
