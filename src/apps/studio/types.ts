/**
 * @module apps/studio/types
 * The studio's tables as Kysely sees them, and the shapes the API returns.
 */
import type { ColumnType, Generated } from 'kysely';
import type { ConversationStatus, JOB_STATUSES, TIERS } from './shared/vocabulary.js';

export type { ConversationStatus };
export type Tier = (typeof TIERS)[number];
export type JobStatus = (typeof JOB_STATUSES)[number];
export type Role = 'system' | 'user' | 'assistant';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export interface ReviewEvent {
  at: string;
  from: ConversationStatus;
  to: ConversationStatus;
  reviewer: string | null;
  note: string | null;
  bulk?: boolean;
}

export interface TemplateVariable {
  name: string;
  values: string[];
}

export interface ConversationsTable {
  id: Generated<string>;
  title: string;
  persona: Generated<string>;
  emotion: Generated<string>;
  tier: Tier;
  status: Generated<ConversationStatus>;
  category: ColumnType<string[], string[] | undefined, string[]>;
  quality_score: Generated<number>;
  parameters: Json<Record<string, unknown>>;
  review_history: Json<ReviewEvent[]>;
  template_id: string | null;
  scenario_id: string | null;
  job_id: string | null;
  job_position: Generated<number | null>;
  turn_count: Generated<number>;
  prompt_tokens: Generated<number>;
  completion_tokens: Generated<number>;
  total_tokens: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  search: ColumnType<string, never, never>;
}

export interface TurnsTable {
  conversation_id: string;
  turn_number: number;
  role: Role;
  content: string;
  tokens: Generated<number>;
}

export interface TurnEditsTable {
  id: Generated<string>;
  conversation_id: string;
  turn_number: number;
  at: Timestamp;
  editor: string | null;
  /** The turn's text before this edit. */
  before: string;
}

export interface TemplatesTable {
  id: Generated<string>;
  name: string;
  description: Generated<string>;
  tier: Generated<Tier>;
  system_prompt: string;
  opening_line: string;
  variables: Json<TemplateVariable[]>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ScenariosTable {
  id: Generated<string>;
  name: string;
  description: Generated<string>;
  persona: string;
  emotion: string;
  category: ColumnType<string[], string[] | undefined, string[]>;
  context: Generated<string>;
  parameters: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface JobsTable {
  id: Generated<string>;
  template_id: string;
  scenario_ids: ColumnType<string[], string[], string[]>;
  requested: number;
  completed: Generated<number>;
  failed: Generated<number>;
  status: Generated<JobStatus>;
  generator: string;
  error: string | null;
  created_at: Timestamp;
  started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  updated_at: Timestamp;
  /** Node whose worker holds the job (jobs.ts), and until when its lease runs. */
  claimed_by: Generated<string | null>;
  lease_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface StudioDB {
  studio_conversations: ConversationsTable;
  studio_conversation_turns: TurnsTable;
  studio_turn_edits: TurnEditsTable;
  studio_templates: TemplatesTable;
  studio_scenarios: ScenariosTable;
  studio_generation_jobs: JobsTable;
}

export interface Turn {
  role: Role;
  content: string;
}

/** One generated conversation, before it is stored. */
export interface GeneratedConversation {
  title: string;
  persona: string;
  emotion: string;
  tier: Tier;
  status: ConversationStatus;
  category: string[];
  qualityScore: number;
  parameters: Record<string, unknown>;
  turns: Turn[];
  templateId: string | null;
  scenarioId: string | null;
  jobId: string | null;
  /** Position in its job (unique per job: a chunk written twice is refused, never duplicated). */
  jobPosition?: number | null;
  createdAt?: Date;
}

/** A template as the API takes it (create or replace). */
export interface TemplateInput {
  name: string;
  description?: string;
  tier?: Tier;
  system_prompt: string;
  opening_line: string;
  variables?: TemplateVariable[];
}
/** A scenario as the API takes it (create or replace). */
export interface ScenarioInput {
  name: string;
  description?: string;
  persona: string;
  emotion: string;
  category?: string[];
  context?: string;
  parameters?: Record<string, unknown>;
}
