import { failStart, startGateway } from './server/start.js';

startGateway().catch(failStart);
