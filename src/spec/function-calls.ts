import { errors } from './errors.js';
import type { FunctionTool, Tool, ToolCall, ToolChoice } from './openai.js';

/**
 * The function of an assistant's tool call, for the providers whose formats carry only function calls. A call of
 * another kind (an OpenAI custom tool's) has no form there: a 400 naming it, not a TypeError in a translator.
 */
export function callFunction(call: ToolCall, param: string): { name: string; arguments: string } {
  if (call.type === 'function') return call.function;
  throw errors.badRequest(`${param}: only function tool calls can be sent to this provider, not calls of type "${String(call.type)}".`, {
    param,
    code: 'unsupported_tool',
  });
}

/** The name of the function a `tool_choice` object forces, under the same rule (`allowed_tools` and others: a 400). */
export function forcedFunctionName(choice: Exclude<ToolChoice, string>): string {
  if (choice.type === 'function') return choice.function.name;
  throw errors.badRequest(`tool_choice: only "none", "auto", "required" or a function can be asked of this provider, not type "${String(choice.type)}".`, {
    param: 'tool_choice',
    code: 'unsupported_tool',
  });
}

/** The function tools of a request (the kind every provider's format can carry). */
export function functionTools(tools: readonly Tool[] | undefined): FunctionTool[] {
  return (tools ?? []).filter((tool): tool is FunctionTool => tool.type === 'function');
}
