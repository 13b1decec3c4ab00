import { z } from 'zod';
import { modelName } from './model-name.js';

/**
 * Tollgate's `fallbacks`: the models tried in order when the primary fails, each as its name or as `{ model }`, the
 * form Anthropic's SDK (its beta `fallbacks`) and other gateways send. Per-attempt settings beside the model are
 * refused by name (an unknown member), since every attempt takes the request as it is.
 */
export const fallbacksSchema = z.array(z.union([modelName, z.strictObject({ model: modelName })]));

