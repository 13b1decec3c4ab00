/**
 * Replicate HTTP API shapes (https://replicate.com/docs/reference/http), limited to what Tollgate reads or writes.
 */

export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';

/** A prediction as returned by create, get and cancel. */
export interface ReplicatePrediction {
  id: string;
  model?: string;
  version?: string;
  input?: Record<string, unknown>;
  /** For language models usually an array of text fragments; other models return other shapes. */
  output?: unknown;
  logs?: string | null;
  error?: unknown;
  status: PredictionStatus | string;
  created_at?: string;
  started_at?: string | null;
  completed_at?: string | null;
  metrics?: { predict_time?: number; total_time?: number; input_token_count?: number; output_token_count?: number; [extra: string]: unknown };
  urls?: { get?: string; cancel?: string; stream?: string; web?: string };
}

/** The body of a create call: `version` only on `POST /v1/predictions`. */
export interface CreatePredictionBody {
  version?: string;
  input: Record<string, unknown>;
  stream?: boolean;
}

/** Replicate's problem-details error body. */
export interface ReplicateProblem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  invalid_fields?: unknown[];
}
