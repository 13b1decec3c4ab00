import { describe, expect, it } from 'vitest';
import { isGatewayError } from './errors.js';
import { callFunction, forcedFunctionName, functionTools } from './function-calls.js';
import type { FunctionTool, Tool, ToolCall, ToolChoice } from './openai.js';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('function calls for formats that carry only functions', () => {
  it('answers the function of a function call', () => {
    const call: ToolCall = { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } };
    expect(callFunction(call, 'messages[1].tool_calls[0]')).toEqual({ name: 'lookup', arguments: '{"q":1}' });
  });

  it('refuses a call of another kind with a 400 naming it', () => {
    const custom: ToolCall = { id: 'call_2', type: 'custom', custom: { name: 'grep', input: 'x' } };
    const error = thrown(() => callFunction(custom, 'messages[3].tool_calls[1]'));
    expect(isGatewayError(error)).toBe(true);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_tool', param: 'messages[3].tool_calls[1]' });
    expect((error as Error).message).toContain('"custom"');
  });

  it('answers the name a function choice forces, and refuses other choices', () => {
    expect(forcedFunctionName({ type: 'function', function: { name: 'lookup' } })).toBe('lookup');
    const allowed: ToolChoice = { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [] } };
    expect(thrown(() => forcedFunctionName(allowed))).toMatchObject({ status: 400, code: 'unsupported_tool', param: 'tool_choice' });
  });

  it('keeps only the function tools', () => {
    const lookup: FunctionTool = { type: 'function', function: { name: 'lookup' } };
    const custom: Tool = { type: 'custom', custom: { name: 'grep' } };
    expect(functionTools([custom, lookup])).toEqual([lookup]);
    expect(functionTools(undefined)).toEqual([]);
  });
});
