import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { providerKeyInputSchema } from '../spec/schemas/provider-key.js';
import { concurrencyInputSchema, customProviderConfigSchema, networkConfigInputSchema } from '../spec/schemas/provider.js';

const providerEntrySchema = z
  .object({
    network_config: networkConfigInputSchema.optional(),
    concurrency_and_buffer_size: concurrencyInputSchema.optional(),
    custom_provider_config: customProviderConfigSchema.optional(),
    keys: z.array(providerKeyInputSchema).optional(),
  })
  .strict();

/** The declarative configuration file (`TOLLGATE_CONFIG`, JSON or YAML). */
export const configFileSchema = z
  .object({
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/), providerEntrySchema).default({}),
  })
  .strict();
export type ConfigFile = z.infer<typeof configFileSchema>;
export type ConfigFileProvider = z.infer<typeof providerEntrySchema>;

/** Reads and validates the file; the error names the file and every problem, never a secret value. */
export function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`TOLLGATE_CONFIG: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new Error(`TOLLGATE_CONFIG: ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = configFileSchema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`TOLLGATE_CONFIG: ${file} is invalid:\n${problems.join('\n')}`);
  }
  return result.data;
}
