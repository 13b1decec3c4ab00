/**
 * The checks every non-OpenAI provider must pass end to end: the official `openai` SDK (chat, streamed chat, tool
 * calls plain and streamed, tool results, embeddings) and the official `@anthropic-ai/sdk` through `/v1/messages`
 * (messages, streams, tool use plain and streamed, tool results), both pointed at a live Tollgate in front of the
 * provider's local mock. A provider file describes its upstream with a `ProviderUnderTest` and calls
 * `describeSdkMatrix`; what is special to the provider (auth, tokens, deployments) it tests beside.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { testAdminKey, type LiveGateway } from '../support/live-gateway.js';

/** The tool every tool test declares. */
export const weatherTool = {
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
} as const;

/** A tool call an upstream is scripted to make (for mocks that do not call tools on their own). */
export interface ScriptedToolCall {
  id: string;
  name: string;
  arguments: Record<string, string>;
}

export interface ProviderUnderTest {
  /** The gateway (started in the caller's beforeAll, hence a getter). */
  gateway(): LiveGateway;
  /** The client-facing chat model, `provider/model`. */
  chatModel: string;
  /**
   * The model a `/v1/messages` reply names: the chat model as asked for, unless the provider answers a Messages
   * request natively (Claude on Vertex), whose reply names the model as the upstream does.
   */
  messagesReplyModel?: string;
  /** Headers every request carries (e.g. `x-tollgate-key-id` to pin the key under test). */
  headers?: Record<string, string>;
  /** The assistant text the mock answers a plain prompt with. */
  replyTo(prompt: string): string;
  /** The last chat request the upstream received, in its own wire format (after the gateway translated it). */
  lastChatBody(): unknown;
  /** How many requests the upstream has received so far (to count what one client call caused). */
  upstreamRequestCount(): number;
  /**
   * Tool calling: `native` when the mock calls the first declared tool by itself with every required argument set
   * to `city`; `scripted` when the test must queue the upstream's tool-call reply; `none` when the provider has
   * no tool calling (the gateway must refuse a forced call and answer an optional one with text).
   */
  tools: { kind: 'native'; city: string } | { kind: 'scripted'; script(call: ScriptedToolCall, stream: boolean): void } | { kind: 'none' };
  /**
   * Whether a streamed reply reports token usage (default true). Replicate's event stream carries none, so the
   * gateway has none to give; that provider asserts the usage chunk is absent rather than invented.
   */
  streamUsage?: boolean;
  /** Whether the upstream format carries tool-call ids back with tool results (Gemini pairs them by name). */
  toolResultsCarryIds: boolean;
  /**
   * What differs on `/v1/messages` for a provider that takes a Messages request as written there (Claude on Bedrock,
   * through InvokeModel): its reply text, its last request, its scripted tool calls.
   */
  messagesRoute?: Partial<Pick<ProviderUnderTest, 'replyTo' | 'lastChatBody' | 'tools'>>;
  /** Embeddings: the model and the vector the mock gives `text` at position `index`, or none offered. */
  embeddings:
    | { model: string; expected(text: string, index: number): number[]; lastBody(): unknown }
    | { unsupported: true; model: string };
}

function openAIClient(provider: ProviderUnderTest): OpenAI {
  return new OpenAI({ apiKey: testAdminKey, baseURL: `${provider.gateway().url}/v1`, maxRetries: 0, defaultHeaders: provider.headers ?? {} });
}

function anthropicClient(provider: ProviderUnderTest): Anthropic {
  return new Anthropic({ apiKey: testAdminKey, baseURL: provider.gateway().url, maxRetries: 0, defaultHeaders: provider.headers ?? {} });
}

const openAITool: OpenAI.ChatCompletionTool = { type: 'function', function: { ...weatherTool, parameters: { ...weatherTool.parameters } } };
const anthropicTool: Anthropic.Tool = {
  name: weatherTool.name,
  description: weatherTool.description,
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

/** Queues the upstream's tool call when the mock needs it; returns the arguments the client must then see. */
function prepareToolCall(provider: ProviderUnderTest, stream: boolean, id: string): Record<string, string> {
  const { tools } = provider;
  if (tools.kind === 'native') return { city: tools.city };
  if (tools.kind === 'scripted') {
    const call = { id, name: weatherTool.name, arguments: { city: 'Paris' } };
    tools.script(call, stream);
    return call.arguments;
  }
  throw new Error('prepareToolCall on a provider without tool calling');
}

function wireText(provider: ProviderUnderTest): string {
  return JSON.stringify(provider.lastChatBody());
}

/** Decodes the OpenAI SDK's base64 embedding (little-endian float32) the way the SDK itself does. */
function float32(values: number[]): number[] {
  return Array.from(new Float32Array(values));
}

/** Registers the SDK tests for one provider. */
export function describeSdkMatrix(label: string, provider: ProviderUnderTest): void {
  describe(`${label}: the openai SDK through Tollgate`, () => {
    it('completes a chat without streaming', async () => {
      const prompt = 'hello from the openai sdk';
      const before = provider.upstreamRequestCount();
      const { data: completion, response } = await openAIClient(provider)
        .chat.completions.create({ model: provider.chatModel, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: prompt }] })
        .withResponse();
      expect(completion.object).toBe('chat.completion');
      expect(completion.choices[0]?.message.role).toBe('assistant');
      expect(completion.choices[0]?.message.content).toBe(provider.replyTo(prompt));
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
      expect(response.headers.get('x-tollgate-provider')).toBe(provider.chatModel.split('/')[0]);
      if (provider.headers?.['x-tollgate-key-id']) expect(response.headers.get('x-tollgate-key-id')).toBe(provider.headers['x-tollgate-key-id']);
      expect(wireText(provider)).toContain(prompt);
      expect(wireText(provider)).toContain('Be brief.');
      // Replicate creates a prediction and may poll; every other provider answers in one exchange.
      expect(provider.upstreamRequestCount() - before).toBeGreaterThanOrEqual(1);
    });

    it('streams a chat, with usage when asked', async () => {
      const prompt = 'stream these words please';
      const stream = await openAIClient(provider).chat.completions.create({
        model: provider.chatModel,
        messages: [{ role: 'user', content: prompt }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let finish: string | null | undefined;
      let usage: OpenAI.CompletionUsage | null | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks += 1;
        expect(chunk.object).toBe('chat.completion.chunk');
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(provider.replyTo(prompt));
      expect(chunks).toBeGreaterThan(1);
      expect(finish).toBe('stop');
      if (provider.streamUsage === false) expect(usage).toBeUndefined();
      else expect(usage?.completion_tokens).toBeGreaterThan(0);
      expect(wireText(provider)).toContain(prompt);
    });

    if (provider.tools.kind === 'none') {
      it('refuses a forced tool call with a 400 and answers an optional one with text', async () => {
        const client = openAIClient(provider);
        const before = provider.upstreamRequestCount();
        const forced = await client.chat.completions
          .create({ model: provider.chatModel, messages: [{ role: 'user', content: 'weather?' }], tools: [openAITool], tool_choice: 'required' })
          .catch((caught: unknown) => caught);
        expect(forced).toBeInstanceOf(OpenAI.BadRequestError);
        expect((forced as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/tool/i);
        expect(provider.upstreamRequestCount()).toBe(before);
        const optional = await client.chat.completions.create({
          model: provider.chatModel,
          messages: [{ role: 'user', content: 'weather in Oslo?' }],
          tools: [openAITool],
          tool_choice: 'auto',
        });
        expect(optional.choices[0]?.message.content).toBe(provider.replyTo('weather in Oslo?'));
        expect(optional.choices[0]?.message.tool_calls ?? []).toEqual([]);
      });
      return;
    }

    it('calls a tool without streaming, and sends its result back', async () => {
      const client = openAIClient(provider);
      const expected = prepareToolCall(provider, false, 'call_plain_0001');
      const completion = await client.chat.completions.create({
        model: provider.chatModel,
        messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
        tools: [openAITool],
        tool_choice: 'required',
      });
      expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
      const call = completion.choices[0]?.message.tool_calls?.[0];
      expect(call?.type).toBe('function');
      if (call?.type !== 'function') return;
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual(expected);
      expect(call.id).toBeTruthy();
      expect(wireText(provider)).toContain('get_weather');

      const followUp = await client.chat.completions.create({
        model: provider.chatModel,
        tools: [openAITool],
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 degrees' },
        ],
      });
      expect(followUp.choices[0]?.finish_reason).toBe('stop');
      expect(typeof followUp.choices[0]?.message.content).toBe('string');
      expect(wireText(provider)).toContain('Sunny, 21 degrees');
      if (provider.toolResultsCarryIds) expect(wireText(provider)).toContain(call.id);
    });

    it('streams a tool call', async () => {
      const expected = prepareToolCall(provider, true, 'call_stream_0002');
      const stream = await openAIClient(provider).chat.completions.create({
        model: provider.chatModel,
        messages: [{ role: 'user', content: 'Weather in Paris, streamed?' }],
        tools: [openAITool],
        tool_choice: 'required',
        stream: true,
      });
      const calls = new Map<number, { id?: string; name: string; arguments: string }>();
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        finish = choice?.finish_reason ?? finish;
        for (const delta of choice?.delta.tool_calls ?? []) {
          const entry = calls.get(delta.index) ?? { name: '', arguments: '' };
          if (delta.id) entry.id = delta.id;
          entry.name += delta.function?.name ?? '';
          entry.arguments += delta.function?.arguments ?? '';
          calls.set(delta.index, entry);
        }
      }
      expect(finish).toBe('tool_calls');
      expect([...calls.values()]).toHaveLength(1);
      const call = calls.get(0)!;
      expect(call.id).toBeTruthy();
      expect(call.name).toBe('get_weather');
      expect(JSON.parse(call.arguments)).toEqual(expected);
    });

    if ('unsupported' in provider.embeddings) {
      const embeddings = provider.embeddings;
      it('answers embeddings with a 400 saying the provider has none', async () => {
        const before = provider.upstreamRequestCount();
        const error = await openAIClient(provider)
          .embeddings.create({ model: embeddings.model, input: 'a' })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('embeddings_not_supported');
        expect(provider.upstreamRequestCount()).toBe(before);
      });
    } else {
      const embeddings = provider.embeddings;
      it('embeds, as floats and as the base64 the SDK asks for by default', async () => {
        const client = openAIClient(provider);
        const inputs = ['first text to embed', 'second'];
        const floats = await client.embeddings.create({ model: embeddings.model, input: inputs, encoding_format: 'float' });
        expect(floats.object).toBe('list');
        expect(floats.data.map((entry) => entry.index)).toEqual([0, 1]);
        for (const [index, text] of inputs.entries()) {
          const expected = embeddings.expected(text, index);
          expect(floats.data[index]!.embedding).toHaveLength(expected.length);
          floats.data[index]!.embedding.forEach((value, position) => expect(value).toBeCloseTo(expected[position]!, 6));
        }
        expect(JSON.stringify(embeddings.lastBody())).toContain('second');
        // Without encoding_format the SDK asks for base64 and decodes it back into float32 values.
        const decoded = await client.embeddings.create({ model: embeddings.model, input: 'first text to embed' });
        expect(decoded.data).toHaveLength(1);
        expect(decoded.data[0]!.embedding).toEqual(float32(embeddings.expected('first text to embed', 0)));
      });
    }
  });

  describeMessagesMatrix(label, provider.messagesRoute === undefined ? provider : messagesView(provider));
}

/**
 * The provider as `/v1/messages` sees it: its own members, those of `messagesRoute` in their place. Each member is
 * read when a test reads it, for providers whose members are getters valid only once the tests run.
 */
function messagesView(provider: ProviderUnderTest): ProviderUnderTest {
  return new Proxy(provider, {
    get(target, name, receiver) {
      const override = target.messagesRoute as Record<string | symbol, unknown> | undefined;
      return override !== undefined && override[name] !== undefined ? override[name] : Reflect.get(target, name, receiver);
    },
  });
}

/** Registers the Anthropic SDK's tests for one provider. */
function describeMessagesMatrix(label: string, provider: ProviderUnderTest): void {
  describe(`${label}: the Anthropic SDK through Tollgate /v1/messages`, () => {
    it('creates a message without streaming', async () => {
      const prompt = 'hello from the anthropic sdk';
      const message = await anthropicClient(provider).messages.create({
        model: provider.chatModel,
        max_tokens: 200,
        system: 'Answer briefly.',
        messages: [{ role: 'user', content: prompt }],
      });
      expect(message.type).toBe('message');
      expect(message.role).toBe('assistant');
      expect(message.model).toBe(provider.messagesReplyModel ?? provider.chatModel);
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: provider.replyTo(prompt) })]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage.input_tokens).toBeGreaterThan(0);
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      expect(wireText(provider)).toContain(prompt);
      expect(wireText(provider)).toContain('Answer briefly.');
    });

    it('streams a message', async () => {
      const prompt = 'stream to the anthropic sdk';
      const stream = anthropicClient(provider).messages.stream({ model: provider.chatModel, max_tokens: 200, messages: [{ role: 'user', content: prompt }] });
      const eventTypes: string[] = [];
      let text = '';
      stream.on('streamEvent', (event) => eventTypes.push(event.type));
      stream.on('text', (delta) => {
        text += delta;
      });
      const message = await stream.finalMessage();
      expect(text).toBe(provider.replyTo(prompt));
      expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: provider.replyTo(prompt) })]);
      expect(message.stop_reason).toBe('end_turn');
      if (provider.streamUsage !== false) expect(message.usage.output_tokens).toBeGreaterThan(0);
      expect(eventTypes[0]).toBe('message_start');
      expect(eventTypes.at(-1)).toBe('message_stop');
      expect(wireText(provider)).toContain(prompt);
    });

    if (provider.tools.kind === 'none') {
      it('refuses a forced tool use with a 400', async () => {
        const error = await anthropicClient(provider)
          .messages.create({
            model: provider.chatModel,
            max_tokens: 100,
            messages: [{ role: 'user', content: 'weather?' }],
            tools: [anthropicTool],
            tool_choice: { type: 'any' },
          })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      });
      return;
    }

    it('uses a tool without streaming, and takes its result back', async () => {
      const client = anthropicClient(provider);
      const expected = prepareToolCall(provider, false, 'toolu_plain_0003');
      const message = await client.messages.create({
        model: provider.chatModel,
        max_tokens: 200,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [anthropicTool],
        tool_choice: { type: 'any' },
      });
      expect(message.stop_reason).toBe('tool_use');
      const toolUse = message.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
      expect(toolUse?.name).toBe('get_weather');
      expect(toolUse?.input).toEqual(expected);
      expect(toolUse?.id).toBeTruthy();
      expect(wireText(provider)).toContain('get_weather');

      const followUp = await client.messages.create({
        model: provider.chatModel,
        max_tokens: 200,
        tools: [anthropicTool],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: message.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: 'Sunny, 21 degrees' }] },
        ],
      });
      expect(followUp.stop_reason).toBe('end_turn');
      expect(followUp.content[0]?.type).toBe('text');
      expect(wireText(provider)).toContain('Sunny, 21 degrees');
      if (provider.toolResultsCarryIds) expect(wireText(provider)).toContain(toolUse!.id);
    });

    it('streams a tool use', async () => {
      const expected = prepareToolCall(provider, true, 'toolu_stream_0004');
      const stream = anthropicClient(provider).messages.stream({
        model: provider.chatModel,
        max_tokens: 200,
        messages: [{ role: 'user', content: 'Weather in Paris, streamed?' }],
        tools: [anthropicTool],
        tool_choice: { type: 'tool', name: 'get_weather' },
      });
      let partialJson = '';
      stream.on('inputJson', (delta) => {
        partialJson += delta;
      });
      const message = await stream.finalMessage();
      expect(message.stop_reason).toBe('tool_use');
      const toolUse = message.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
      expect(toolUse?.name).toBe('get_weather');
      expect(toolUse?.input).toEqual(expected);
      expect(JSON.parse(partialJson)).toEqual(expected);
    });
  });
}
