import { describe, expect, it } from 'vitest';
import { toGeminiSchema } from './gemini-schema.js';

describe('toGeminiSchema', () => {
  it('inlines local references, including pydantic-style definitions', () => {
    const schema = {
      type: 'object',
      properties: { owner: { $ref: '#/definitions/Person' }, pets: { type: 'array', items: { $ref: '#/$defs/Pet' } } },
      definitions: { Person: { type: 'object', title: 'Person', properties: { name: { type: 'string' } } } },
      $defs: { Pet: { type: 'string', enum: ['cat', 'dog'] } },
    };
    expect(toGeminiSchema(schema)).toEqual({
      type: 'object',
      properties: {
        owner: { type: 'object', title: 'Person', properties: { name: { type: 'string' } } },
        pets: { type: 'array', items: { type: 'string', enum: ['cat', 'dog'] } },
      },
    });
  });

  it('stops a self-referencing schema instead of recursing forever', () => {
    const schema = { $ref: '#/$defs/Node', $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' } } } } };
    const converted = toGeminiSchema(schema);
    let depth = 0;
    let node: Record<string, unknown> | undefined = converted;
    while (node && typeof node === 'object' && 'properties' in node) {
      node = (node.properties as Record<string, Record<string, unknown>>).next;
      depth += 1;
    }
    expect(depth).toBeGreaterThan(5);
    expect(depth).toBeLessThan(40);
  });

  it('expresses nullable and multi-type unions, unwraps a single allOf and drops unknown keywords', () => {
    expect(toGeminiSchema({ type: 'null' })).toEqual({ nullable: true });
    expect(toGeminiSchema({ type: ['string', 'integer', 'null'], description: 'd' })).toEqual({
      nullable: true,
      anyOf: [{ type: 'string' }, { type: 'integer' }],
      description: 'd',
    });
    expect(toGeminiSchema({ allOf: [{ type: 'string', format: 'date-time' }], description: 'when', examples: ['x'], deprecated: true })).toEqual({
      type: 'string',
      format: 'date-time',
      description: 'when',
    });
    expect(toGeminiSchema({ type: 'array', items: [{ type: 'number', format: 'double' }, { type: 'string' }], uniqueItems: true })).toEqual({
      type: 'array',
      items: { type: 'number', format: 'double' },
    });
  });
});
