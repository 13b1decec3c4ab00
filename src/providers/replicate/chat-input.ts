/**
 * OpenAI chat request → the `input` of a Replicate language-model prediction. Replicate has no chat format:
 * each model declares its own inputs. Most language models (Meta Llama, Mistral, IBM Granite, ...) take
 * `prompt` plus `system_prompt` and apply their own chat template, so messages are flattened into those two.
 */
import { errors } from '../../spec/errors.js';
import type { ChatCompletionRequest, ChatMessage } from '../../spec/openai.js';
import { callFunction } from '../../spec/function-calls.js';

/**
 * Builds the prediction input. A conversation that is a single user turn is sent as that turn's text; a longer one
 * becomes a "User:/Assistant:" transcript ending with "Assistant:" so the model answers the last turn.
 * Refuses what cannot be expressed as text: non-text parts, required tool calls, JSON modes and `n` > 1.
 */
export function toReplicateInput(request: ChatCompletionRequest): Record<string, unknown> {
  refuseUnsupported(request);
  const system: string[] = [];
  const turns: Array<{ speaker: string; text: string }> = [];
  request.messages.forEach((message, index) => {
    const text = messageText(message, index);
    switch (message.role) {
      case 'system':
      case 'developer':
        if (text !== '') system.push(text);
        return;
      case 'user':
        turns.push({ speaker: 'User', text });
        return;
      case 'assistant':
        turns.push({ speaker: 'Assistant', text: assistantText(message, text, index) });
        return;
      default:
        // Tool results can only reach the model as text; they are kept so a conversation moved here still reads.
        turns.push({ speaker: 'Tool result', text });
    }
  });

  const input: Record<string, unknown> = { prompt: renderPrompt(turns) };
  if (system.length > 0) input.system_prompt = system.join('\n\n');

  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') {
    // Models name the limit differently (Llama 3 `max_tokens`, Llama 2 and others `max_new_tokens`); Replicate
    // ignores inputs a model does not declare (replicate/cog#2943), so sending both reaches either kind.
    input.max_tokens = maxTokens;
    input.max_new_tokens = maxTokens;
  }
  if (typeof request.temperature === 'number') input.temperature = request.temperature;
  if (typeof request.top_p === 'number') input.top_p = request.top_p;
  if (typeof request.top_k === 'number') input.top_k = request.top_k;
  if (typeof request.seed === 'number') input.seed = request.seed;
  if (typeof request.presence_penalty === 'number') input.presence_penalty = request.presence_penalty;
  if (typeof request.frequency_penalty === 'number') input.frequency_penalty = request.frequency_penalty;
  const stops = typeof request.stop === 'string' ? [request.stop] : Array.isArray(request.stop) ? request.stop : [];
  // Replicate's language models take stop sequences as one comma-separated string.
  if (stops.length > 0) input.stop_sequences = stops.join(',');
  return input;
}

function renderPrompt(turns: Array<{ speaker: string; text: string }>): string {
  if (turns.length === 1 && turns[0]!.speaker === 'User') return turns[0]!.text;
  const lines = turns.map((turn) => `${turn.speaker}: ${turn.text}`);
  // A conversation ending with an assistant turn asks the model to continue that turn.
  if (turns.at(-1)?.speaker !== 'Assistant') lines.push('Assistant:');
  return lines.join('\n\n');
}

function assistantText(message: ChatMessage, text: string, index: number): string {
  const calls = (message.tool_calls ?? []).map((call, callIndex) => {
    const called = callFunction(call, `messages[${index}].tool_calls[${callIndex}]`);
    return `[called ${called.name}(${called.arguments})]`;
  });
  return [text, ...calls].filter((part) => part !== '').join('\n');
}

function messageText(message: ChatMessage, index: number): string {
  const content = message.content;
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, partIndex) => {
      if (part.type === 'text') return part.text;
      throw errors.badRequest(`Replicate language models take text only; "${part.type}" content is not supported.`, {
        param: `messages[${index}].content[${partIndex}]`,
        code: 'unsupported_content',
      });
    })
    .join('');
}

function refuseUnsupported(request: ChatCompletionRequest): void {
  if (typeof request.n === 'number' && request.n > 1) {
    throw errors.badRequest('Replicate returns one answer per prediction; `n` greater than 1 is not supported.', {
      param: 'n',
      code: 'unsupported_parameter',
    });
  }
  const choice = request.tool_choice;
  const forced = choice === 'required' || (typeof choice === 'object' && choice !== null);
  // With "auto" the model may answer without calling a tool, which is all it can do here; forcing a call cannot work.
  if (forced && (request.tools?.length ?? 0) > 0) {
    throw errors.badRequest('Replicate language models have no tool calling; tool_choice cannot require a call.', {
      param: 'tool_choice',
      code: 'unsupported_parameter',
    });
  }
  const format = request.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') {
    throw errors.badRequest('Replicate language models have no JSON mode; response_format cannot be honoured.', {
      param: 'response_format',
      code: 'unsupported_parameter',
    });
  }
}
