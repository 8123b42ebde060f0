/**
 * @module apps/studio/shared/vocabulary
 * The closed sets of the studio's data: conversation and job statuses, tiers, categories, generators. The
 * schema's CHECK constraints, the API's validation and the browser UI's menus all read them from
 * here (a module of its own, so the UI bundle takes the lists without the database layer).
 */
export const CONVERSATION_STATUSES = ['draft', 'generated', 'pending_review', 'approved', 'rejected', 'needs_revision', 'failed'] as const;
export const TIERS = ['template', 'scenario', 'edge_case'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const JOB_STATUSES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
/**
 * What can write a conversation: the seed (studio:seed, with the offline writer), or a job's
 * generator (generator.ts: the offline writer, an OpenAI-compatible endpoint).
 */
export const GENERATORS = ['seed', 'offline', 'openai-compatible'] as const;
export type GeneratorName = (typeof GENERATORS)[number];
export const GENERATOR_SEED: GeneratorName = 'seed';

export const CATEGORIES = [
  'billing', 'refunds', 'shipping', 'account_access', 'technical', 'onboarding', 'cancellation', 'complaint', 'feature_request',
  'privacy', 'security', 'pricing', 'upgrade', 'hardware', 'scheduling',
] as const;
