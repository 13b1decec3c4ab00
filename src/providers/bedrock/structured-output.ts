/**
 * Converse has no generic JSON mode, so `response_format` is served with a tool the model is asked to call:
 * its input is the JSON answer. The response side recognises the tool by name and turns its input back into
 * message content, so the client sees an ordinary JSON reply.
 */
import type { ChatCompletionRequest } from '../../spec/openai.js';
import type { ConverseToolSpecification } from './converse-types.js';

/** The name of the tool that carries a structured (JSON) answer. Unlikely to clash with a client's tools. */
export const STRUCTURED_OUTPUT_TOOL_NAME = 'tollgate_json_response';

/** The tool spec for the request's `response_format`, or undefined when the client asked for plain text. */
export function structuredOutputTool(request: ChatCompletionRequest): ConverseToolSpecification | undefined {
  const format = request.response_format;
  if (format === undefined || format.type === 'text') return undefined;
  if (format.type === 'json_schema') {
    const schema = format.json_schema.schema ?? { type: 'object' };
    const description = format.json_schema.description ?? `Respond with the final answer as JSON (${format.json_schema.name}).`;
    return { toolSpec: { name: STRUCTURED_OUTPUT_TOOL_NAME, description, inputSchema: { json: schema } } };
  }
  return {
    toolSpec: {
      name: STRUCTURED_OUTPUT_TOOL_NAME,
      description: 'Respond with the final answer as a JSON object.',
      inputSchema: { json: { type: 'object' } },
    },
  };
}
