/**
 * @module apps/studio/routes/schemas
 * The studio API's shared pieces: its prefix, the auth rules (every route needs a curator or the
 * admin), and the JSON schemas of its bodies and items (so they are in /openapi.json and bad
 * shapes are refused before any SQL).
 */
import { errorResponseSchema } from '../../../http/errors.js';
import { rule } from '../../../auth/rules.js';
import { UUID_RE } from '../filters.js';
import { CONVERSATION_STATUSES, GENERATORS, TIERS } from '../shared/vocabulary.js';

export const CACHE_TTL_MS = 5 * 60 * 1000;
/** Bodies already serialised as JSON text are sent with this type and skip the serialiser. */
export const JSON_TYPE = 'application/json; charset=utf-8';

export const errors = { 400: errorResponseSchema, 401: errorResponseSchema, 403: errorResponseSchema, 404: errorResponseSchema, 409: errorResponseSchema, 429: errorResponseSchema };
/** Every studio route, reads included: the data is the product (a curator, or the admin). */
export const curator = rule.roles('curator');
/** Exports are download links: the token may come as ?access_token= (a link cannot send a header). */
export const curatorDownload = { auth: { roles: ['curator'] as const, queryToken: true } };
export const tags = ['studio'];
export const uuidParam = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID_RE.source } } } as const;

export const filterProps = {
  status: { type: 'string', maxLength: 200, description: `comma-separated: ${CONVERSATION_STATUSES.join(', ')}` },
  tier: { type: 'string', maxLength: 100, description: `comma-separated: ${TIERS.join(', ')}` },
  category: { type: 'string', maxLength: 1000, description: 'comma-separated; rows with any of them' },
  quality_min: { type: 'number', minimum: 0, maximum: 10 },
  quality_max: { type: 'number', minimum: 0, maximum: 10 },
  created_from: { type: 'string', maxLength: 40, description: 'ISO 8601, inclusive' },
  created_to: { type: 'string', maxLength: 40, description: 'ISO 8601, exclusive' },
  params: { type: 'string', maxLength: 2000, description: 'JSON object: rows whose parameters contain it' },
  q: { type: 'string', maxLength: 200, description: 'full-text search (websearch syntax); sort=relevance (the default) ranks the newest 1,000 matches' },
  template_id: { type: 'string', maxLength: 40 },
  scenario_id: { type: 'string', maxLength: 40 },
  job_id: { type: 'string', maxLength: 40 },
  reviewed_by: { type: 'string', minLength: 1, maxLength: 100, description: 'rows whose review history has an entry by this reviewer' },
  generator: { type: 'string', maxLength: 100, description: `comma-separated: ${GENERATORS.join(', ')} (what wrote the rows; seed: studio:seed)` },
} as const;

export const conversationItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    persona: { type: 'string' },
    emotion: { type: 'string' },
    tier: { type: 'string' },
    status: { type: 'string' },
    category: { type: 'array', items: { type: 'string' } },
    quality_score: { type: 'number' },
    parameters: { type: 'object', additionalProperties: true },
    review_history: { type: 'array', items: { type: 'object', additionalProperties: true } },
    template_id: { type: ['string', 'null'] },
    scenario_id: { type: ['string', 'null'] },
    job_id: { type: ['string', 'null'] },
    template_name: { type: ['string', 'null'] },
    scenario_name: { type: ['string', 'null'] },
    generator: { type: 'string', description: 'what wrote the text: the generator of its job (offline, openai-compatible), or seed (studio:seed, offline)' },
    turn_count: { type: 'integer' },
    prompt_tokens: { type: 'integer' },
    completion_tokens: { type: 'integer' },
    total_tokens: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const statusBody = {
  type: 'object',
  required: ['status'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: [...CONVERSATION_STATUSES] },
    expected: { type: 'string', enum: [...CONVERSATION_STATUSES], description: 'refuse with 409 unless the conversation is in this status' },
    note: { type: 'string', maxLength: 2000 },
    reviewer: { type: 'string', maxLength: 100, description: 'who decided, when the admin API key acts for someone; otherwise the signed-in user is recorded' },
  },
} as const;

export const templateBody = {
  type: 'object',
  required: ['name', 'system_prompt', 'opening_line'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 120 },
    description: { type: 'string', maxLength: 2000 },
    tier: { type: 'string', enum: [...TIERS] },
    system_prompt: { type: 'string', minLength: 1, maxLength: 8000 },
    opening_line: { type: 'string', minLength: 1, maxLength: 4000 },
    variables: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['name', 'values'],
        additionalProperties: false,
        properties: { name: { type: 'string', pattern: '^[A-Za-z_]{1,40}$' }, values: { type: 'array', maxItems: 200, items: { type: 'string', maxLength: 500 } } },
      },
    },
  },
} as const;
export const templateItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    ...templateBody.properties,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

export const scenarioBody = {
  type: 'object',
  required: ['name', 'persona', 'emotion'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 120 },
    description: { type: 'string', maxLength: 2000 },
    persona: { type: 'string', minLength: 1, maxLength: 200 },
    emotion: { type: 'string', minLength: 1, maxLength: 100 },
    category: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 } },
    context: { type: 'string', maxLength: 4000 },
    parameters: { type: 'object', additionalProperties: true },
  },
} as const;
export const scenarioItem = {
  type: 'object',
  properties: { id: { type: 'string' }, ...scenarioBody.properties, created_at: { type: 'string', format: 'date-time' }, updated_at: { type: 'string', format: 'date-time' } },
} as const;

export const jobItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    template_id: { type: 'string' },
    scenario_ids: { type: 'array', items: { type: 'string' } },
    requested: { type: 'integer' },
    completed: { type: 'integer' },
    failed: { type: 'integer' },
    status: { type: 'string' },
    generator: { type: 'string' },
    error: { type: ['string', 'null'] },
    channel: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    started_at: { type: ['string', 'null'], format: 'date-time' },
    finished_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
