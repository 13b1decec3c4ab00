import { describe, expect, it } from 'vitest';
import { foundationModelId } from './bedrock-url.js';

describe('foundationModelId', () => {
  it('names the foundation model behind a model id, an inference profile or an ARN', () => {
    expect(foundationModelId('anthropic.claude-3-5-haiku-20241022-v1:0')).toBe('anthropic.claude-3-5-haiku-20241022-v1:0');
    for (const prefix of ['us', 'eu', 'apac', 'au', 'ca', 'jp', 'us-gov', 'global']) {
      expect(foundationModelId(`${prefix}.anthropic.claude-sonnet-4-5-20250929-v1:0`)).toBe('anthropic.claude-sonnet-4-5-20250929-v1:0');
    }
    expect(foundationModelId('arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0')).toBe(
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
    expect(foundationModelId('arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0')).toBe('anthropic.claude-3-haiku-20240307-v1:0');
    // A vendor whose name merely starts like a prefix keeps it.
    expect(foundationModelId('usb.model-v1')).toBe('usb.model-v1');
  });
});
