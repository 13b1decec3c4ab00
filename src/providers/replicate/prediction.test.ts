import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../spec/errors.js';
import { isPending, joinOutput, predictionToChatResult, readPrediction, readPredictionUsage } from './prediction.js';
import type { ReplicatePrediction } from './wire-types.js';

const identity = { model: 'meta/meta-llama-3-8b-instruct', requestId: 'req-1', now: () => 1_700_000_000_900 };

function fixture(name: string): ReplicatePrediction {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as ReplicatePrediction;
}

describe('predictionToChatResult', () => {
  it('joins the output fragments and reads usage from metrics', () => {
    const { completion, usage } = predictionToChatResult(fixture('prediction-succeeded.json'), identity);
    expect(completion).toMatchObject({
      id: 'chatcmpl-gm3qorzdhgbfurvjtvhg6dckhu',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'meta/meta-llama-3-8b-instruct',
      choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Soft fur in the hills,\nGentle eyes watch the world go by,\nLlamas graze in peace.' } }],
      usage: { prompt_tokens: 17, completion_tokens: 18, total_tokens: 35 },
    });
    expect(usage).toEqual({ inputTokens: 17, outputTokens: 18, cachedInputTokens: 0 });
  });

  it('reports length when the output reached the requested token limit', () => {
    const prediction = fixture('prediction-succeeded.json');
    prediction.input = { prompt: 'x', max_new_tokens: 18 };
    expect(predictionToChatResult(prediction, identity).completion.choices[0]!.finish_reason).toBe('length');
  });

  it('turns a failed prediction into a 502 carrying its error text', () => {
    try {
      predictionToChatResult(fixture('prediction-failed.json'), identity);
      throw new Error('expected an error');
    } catch (error) {
      expect(isGatewayError(error)).toBe(true);
      if (!isGatewayError(error)) return;
      expect(error).toMatchObject({ status: 502, code: 'prediction_failed', upstream: true });
      expect(error.message).toContain('CUDA out of memory');
    }
  });

  it('turns a canceled prediction into a 502', () => {
    const prediction = { ...fixture('prediction-failed.json'), status: 'canceled', error: null };
    expect(() => predictionToChatResult(prediction, identity)).toThrow(/was canceled/);
  });
});

describe('prediction helpers', () => {
  it('knows pending states and reads usage only when reported', () => {
    expect(isPending(fixture('prediction-starting.json'))).toBe(true);
    expect(isPending({ ...fixture('prediction-starting.json'), status: 'processing' })).toBe(true);
    expect(isPending(fixture('prediction-succeeded.json'))).toBe(false);
    expect(readPredictionUsage(fixture('prediction-failed.json'))).toBeUndefined();
  });

  it('joins output of every shape', () => {
    expect(joinOutput(['a', 'b'])).toBe('ab');
    expect(joinOutput('plain')).toBe('plain');
    expect(joinOutput(null)).toBe('');
    expect(joinOutput({ text: 'x' })).toBe('{"text":"x"}');
  });

  it('rejects a reply that is not a prediction', () => {
    const reply = (text: string) => ({ status: 201, headers: {}, body: new TextEncoder().encode(text) });
    expect(readPrediction(reply(JSON.stringify(fixture('prediction-starting.json')))).status).toBe('starting');
    expect(() => readPrediction(reply('not json'))).toThrow(/not JSON/);
    expect(() => readPrediction(reply('{"hello":1}'))).toThrow(/not a prediction/);
  });
});
