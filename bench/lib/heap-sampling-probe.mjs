/**
 * Preloaded into a gateway under test by bench/allocation-sites.ts (`node --import …/heap-sampling-probe.mjs`): V8's
 * sampling heap profiler through the inspector, told to keep the samples of objects the collector has already freed,
 * so that the profile counts what was allocated (the garbage a request makes), not what is still alive. The first
 * SIGUSR2 starts sampling and writes `{"started":true}`; the next stops it and writes the profile; both to the file
 * named by HEAP_SAMPLING_PROBE_FILE (JSON).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const output = process.env.HEAP_SAMPLING_PROBE_FILE;
const session = new Session();
session.connect();
const post = (method, parameters) =>
  new Promise((resolve, reject) => session.post(method, parameters, (error, result) => (error ? reject(error) : resolve(result))));
let sampling = false;

process.on('SIGUSR2', async () => {
  if (!sampling) {
    await post('HeapProfiler.enable');
    // One sample per 512 bytes allocated on average: fine enough for sites of a few hundred bytes a request.
    await post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    sampling = true;
    if (output) writeFileSync(output, JSON.stringify({ started: true }));
    return;
  }
  const { profile } = await post('HeapProfiler.stopSampling');
  sampling = false;
  if (output) writeFileSync(output, JSON.stringify(profile));
});
