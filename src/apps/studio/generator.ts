/**
 * @module apps/studio/generator
 * Where generated conversations come from. The offline generator is deterministic and
 * template-driven (the default, and what tests and seeds use); when LLM_BASE_URL is set, any
 * OpenAI-compatible chat endpoint writes the assistant side instead.
 */
import { seededRandom } from '../../core/random.js';
import { hashSeed, writeConversation } from './content.js';
import type { GeneratedConversation, TemplateVariable, Tier, Turn } from './types.js';

export interface TemplateRecord {
  id: string;
  name: string;
  tier: Tier;
  system_prompt: string;
  opening_line: string;
  variables: TemplateVariable[];
}

export interface ScenarioRecord {
  id: string;
  name: string;
  persona: string;
  emotion: string;
  category: string[];
  context: string;
  parameters: Record<string, unknown>;
}

export interface GenerationRequest {
  jobId: string;
  /** Position of this conversation in its job: with the job id it fixes the seed. */
  index: number;
  template: TemplateRecord;
  scenario: ScenarioRecord | null;
}

export interface ConversationGenerator {
  readonly name: string;
  generate(request: GenerationRequest, signal?: AbortSignal): Promise<GeneratedConversation>;
}

function draft(request: GenerationRequest): GeneratedConversation {
  const { template, scenario } = request;
  const rng = seededRandom(hashSeed(`${request.jobId}:${request.index}`));
  return writeConversation({
    rng,
    tier: scenario ? (template.tier === 'edge_case' ? 'edge_case' : 'scenario') : template.tier,
    status: 'pending_review',
    persona: scenario?.persona,
    emotion: scenario?.emotion,
    category: scenario?.category,
    systemPrompt: template.system_prompt,
    openingLine: template.opening_line,
    variables: template.variables,
    context: scenario?.context,
    extraParameters: { ...scenario?.parameters, template: template.name, ...(scenario ? { scenario: scenario.name } : {}) },
    templateId: template.id,
    scenarioId: scenario?.id ?? null,
    jobId: request.jobId,
  });
}

export class OfflineGenerator implements ConversationGenerator {
  readonly name = 'offline';
  async generate(request: GenerationRequest): Promise<GeneratedConversation> {
    return draft(request);
  }
}

interface ChatCompletion {
  choices?: { message?: { content?: string } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/**
 * Asks an OpenAI-compatible endpoint to continue the conversation the template starts. The model
 * is asked for JSON turns; a reply that is not JSON is kept as one assistant turn.
 */
export class OpenAICompatibleGenerator implements ConversationGenerator {
  readonly name = 'openai-compatible';
  constructor(private readonly options: { baseUrl: string; model: string; apiKey?: string; timeoutMs?: number }) {}

  async generate(request: GenerationRequest, signal?: AbortSignal): Promise<GeneratedConversation> {
    const base = draft(request);
    const opening = base.turns.slice(0, 2);
    const body = {
      model: this.options.model,
      temperature: Number(base.parameters.temperature ?? 0.7),
      messages: [
        {
          role: 'system',
          content:
            'You write training conversations between a customer and a support agent. Reply with JSON only: ' +
            '{"title": string, "turns": [{"role": "user"|"assistant", "content": string}]} continuing the conversation below, ending with an assistant turn.',
        },
        { role: 'user', content: JSON.stringify({ system: opening[0].content, first_user_message: opening[1].content, persona: base.persona, emotion: base.emotion }) },
      ],
    };
    const url = `${this.options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/chat/completions`;
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}) },
      body: JSON.stringify(body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (!res.ok) throw new Error(`LLM endpoint answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const completion = (await res.json()) as ChatCompletion;
    const content = completion.choices?.[0]?.message?.content;
    if (typeof content !== 'string' || !content.trim()) throw new Error('LLM endpoint returned no message content');
    let turns: Turn[] = [{ role: 'assistant', content: content.trim() }];
    let title = base.title;
    try {
      const parsed = JSON.parse(content.replace(/^```(json)?|```$/g, '').trim()) as { title?: unknown; turns?: unknown };
      if (Array.isArray(parsed.turns)) {
        const valid = parsed.turns.filter(
          (t): t is Turn => typeof t === 'object' && t !== null && ['user', 'assistant'].includes((t as Turn).role) && typeof (t as Turn).content === 'string',
        );
        if (valid.length) turns = valid;
      }
      if (typeof parsed.title === 'string' && parsed.title.trim()) title = parsed.title.trim().slice(0, 200);
    } catch {
      // Not JSON: the whole reply is the agent's answer.
    }
    return { ...base, title, turns: [...opening, ...turns], parameters: { ...base.parameters, generator: this.name, model: this.options.model } };
  }
}

export function generatorFromConfig(config: { llmBaseUrl?: string; llmModel: string; llmApiKey?: string }): ConversationGenerator {
  return config.llmBaseUrl ? new OpenAICompatibleGenerator({ baseUrl: config.llmBaseUrl, model: config.llmModel, apiKey: config.llmApiKey }) : new OfflineGenerator();
}
