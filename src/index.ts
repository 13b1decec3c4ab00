import { loadConfig, processEnvironment } from './config/environment.js';
import { runCluster } from './server/cluster.js';
import { failStart, startGateway } from './server/start.js';

async function main(): Promise<void> {
  const config = loadConfig(processEnvironment());
  if (config.workers > 1) await runCluster(config);
  else await startGateway(config);
}

main().catch(failStart);
