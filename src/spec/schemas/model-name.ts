import { z } from 'zod';
import { storableText } from '../storable-text.js';

/**
 * The longest model name a request may give: the usage ledger's model column holds 300 characters. Providers' own
 * names stay far below it (Bedrock's inference-profile ARNs, the longest, run to about 120).
 */
export const MAX_MODEL_NAME_LENGTH = 300;

/**
 * A model an inference request names (its `model`, and each of its `fallbacks`): text the ledger records as given,
 * so a name it could not hold is a 400 at the door rather than a row cut to fit.
 */
export const modelName = storableText(z.string().min(1).max(MAX_MODEL_NAME_LENGTH));
