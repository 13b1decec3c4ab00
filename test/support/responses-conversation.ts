/** A stateless Responses conversation, as a client such as Codex holds one: the tests of Responses requests sent as written share it. */
import type OpenAI from 'openai';

/** An earlier reasoning item as a stateless client sends it back: its encrypted content, no stored id to look up. */
export const earlierReasoning = { type: 'reasoning' as const, id: 'rs_earlier', summary: [], encrypted_content: `gAAAAAB${'x'.repeat(400)}` };

/** The second turn of a stateless conversation with a reasoning model, addressed to `model`: what the chat format has no place for. */
export function statelessSecondTurn(model: string): Omit<OpenAI.Responses.ResponseCreateParamsNonStreaming, 'stream'> & { input: OpenAI.Responses.ResponseInputItem[] } {
  return {
    model,
    instructions: 'Answer briefly.',
    input: [
      { role: 'user', content: 'What is 2 + 2?' },
      earlierReasoning,
      { role: 'assistant', content: '4' },
      { role: 'user', content: 'And times three?' },
    ],
    reasoning: { effort: 'low', summary: 'auto' },
    include: ['reasoning.encrypted_content'],
    store: false,
    max_output_tokens: 400,
  };
}
