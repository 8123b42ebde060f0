/**
 * @module apps/studio/content
 * The offline conversation writer: a seeded PRNG and a vocabulary of personas, emotions,
 * topics and phrasings, combined by templates into varied multi-turn support conversations.
 * Same seed, same conversation: jobs resumed after a restart write exactly what they would have.
 */
import type { ConversationStatus, GeneratedConversation, TemplateVariable, Tier, Turn } from './types.js';
import { CATEGORIES } from './shared/vocabulary.js';

/** A stable 32-bit hash of a string (FNV-1a), to seed core/random's PRNG from ids. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const pick = <T>(rng: () => number, items: readonly T[]): T => items[Math.floor(rng() * items.length)];

export const PERSONAS = [
  'first-time homebuyer', 'small business owner', 'retired teacher', 'graduate student', 'night-shift nurse', 'freelance designer',
  'software engineer', 'busy parent', 'frequent traveler', 'rural farmer', 'startup founder', 'high school student', 'truck driver',
  'restaurant manager', 'hospital administrator', 'wedding planner', 'amateur astronomer', 'marathon runner', 'landlord',
  'new immigrant', 'accountant', 'veterinarian', 'elderly widower', 'college athlete', 'musician on tour', 'warehouse supervisor',
  'data scientist', 'journalist', 'pharmacist', 'real estate agent', 'chef', 'bookshop owner', 'photographer', 'electrician',
  'museum curator', 'yoga instructor', 'air traffic controller', 'social worker', 'game developer', 'beekeeper',
] as const;

export const EMOTIONS = [
  'frustrated', 'anxious', 'curious', 'grateful', 'confused', 'angry', 'hopeful', 'impatient', 'skeptical', 'relieved',
  'overwhelmed', 'cheerful', 'disappointed', 'embarrassed', 'determined', 'worried', 'calm', 'excited', 'suspicious', 'exhausted',
] as const;

export const TOPICS = [
  'a double charge on the invoice', 'a parcel stuck in customs', 'a forgotten password', 'a router that keeps dropping',
  'moving to an annual plan', 'a damaged blender', 'two-factor codes that never arrive', 'exporting their data',
  'a late refund', 'a missing loyalty discount', 'an app that crashes on start', 'changing the delivery address',
  'a subscription they never signed up for', 'a broken zipper on a jacket', 'sharing an account with family',
  'an expired gift card', 'a warranty claim for headphones', 'slow video streaming', 'a locked bank card',
  'a calendar sync conflict', 'deleting their profile', 'a price drop after purchase', 'a smart thermostat offline',
  'a wrong size delivered', 'a tax receipt for the business', 'migrating from a competitor', 'a flight rebooking',
  'a noisy washing machine', 'a phishing email pretending to be us', 'an invoice in the wrong currency',
  'a recurring timeout in the API', 'a cracked phone screen', 'an overdue library fine', 'a gym membership freeze',
  'a hotel booking with the wrong dates', 'insurance coverage abroad', 'a lost suitcase', 'a printer that will not pair',
  'a coupon code that fails at checkout', 'setting up payroll',
] as const;

const OPENERS = [
  'Hi, I need help with {topic}.', 'Hello — I have a problem: {topic}.', 'Can someone look into {topic}? This is urgent.',
  "I've been waiting days about {topic}.", 'Quick question about {topic}.', 'Good morning. I am writing about {topic}.',
] as const;
const FOLLOWUPS = [
  'I already tried restarting and it did not help.', 'My order number is {num}.', 'This is the third time I am asking.',
  'Could you explain what happens next?', 'Is there a fee for that?', 'How long will it take?', 'Can I speak to a supervisor?',
  'That makes sense, thank you.', 'I am not sure I follow — can you clarify?', 'What information do you need from me?',
] as const;
const ANSWERS = [
  'I am sorry about {topic}. Let me check your account right away.', 'Thanks for the details. I can see what happened with {topic}.',
  'I understand how {emotion} this must feel. Here is what I can do.', 'Good news: this is something I can fix from here.',
  'To keep your account safe, please confirm the email on file.', 'I have escalated this to the specialist team; you will hear back within 24 hours.',
  'I have applied a credit of {amount} to your account.', 'The next step is a short verification, then the change takes effect immediately.',
] as const;
const TITLE_SHAPES = [
  '{Emotion} {persona} asks about {topic}', '{Persona} reports {topic}', 'Help with {topic} for a {persona}',
  '{Emotion} customer: {topic}', 'Follow-up on {topic}', '{Persona} wants to resolve {topic}',
] as const;

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{?\s*([A-Za-z_]+)\s*\}?\}/g, (m, name: string) => {
    const lower = name.toLowerCase();
    const v = vars[name] ?? vars[lower];
    if (v === undefined) return m;
    return name[0] === name[0].toUpperCase() && name[0] !== name[0].toLowerCase() ? cap(v) : v;
  });
}

/** Rough token estimate (≈4 characters a token): good enough for budgeting training sets. */
export const estimateTokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export interface WriteOptions {
  rng: () => number;
  tier?: Tier;
  status?: ConversationStatus;
  persona?: string;
  emotion?: string;
  category?: string[];
  systemPrompt?: string;
  openingLine?: string;
  variables?: TemplateVariable[];
  context?: string;
  extraParameters?: Record<string, unknown>;
  templateId?: string | null;
  scenarioId?: string | null;
  jobId?: string | null;
}

/** Writes one conversation from the vocabulary, steered by whatever the template and scenario fix. */
export function writeConversation(o: WriteOptions): GeneratedConversation {
  const { rng } = o;
  const persona = o.persona ?? pick(rng, PERSONAS);
  const emotion = o.emotion ?? pick(rng, EMOTIONS);
  const topic = pick(rng, TOPICS);
  const vars: Record<string, string> = {
    persona,
    emotion,
    topic,
    num: String(100000 + Math.floor(rng() * 900000)),
    amount: `$${(5 + Math.floor(rng() * 95)).toFixed(2)}`,
  };
  for (const v of o.variables ?? []) if (v.values.length) vars[v.name] = pick(rng, v.values);
  const category = o.category?.length ? o.category : [...new Set([pick(rng, CATEGORIES), ...(rng() < 0.4 ? [pick(rng, CATEGORIES)] : [])])];
  const exchanges = 1 + Math.floor(rng() * 4);
  const turns: Turn[] = [
    { role: 'system', content: fill(o.systemPrompt ?? 'You are a patient, precise support agent. The customer is a {persona} who feels {emotion}.', vars) },
    { role: 'user', content: fill(o.openingLine ?? pick(rng, OPENERS), vars) + (o.context ? ` ${fill(o.context, vars)}` : '') },
  ];
  for (let i = 0; i < exchanges; i++) {
    turns.push({ role: 'assistant', content: fill(pick(rng, ANSWERS), vars) });
    if (i < exchanges - 1) turns.push({ role: 'user', content: fill(pick(rng, FOLLOWUPS), vars) });
  }
  const tier = o.tier ?? (rng() < 0.6 ? 'template' : rng() < 0.8 ? 'scenario' : 'edge_case');
  return {
    title: fill(pick(rng, TITLE_SHAPES), vars).slice(0, 200),
    persona,
    emotion,
    tier,
    status: o.status ?? 'generated',
    category,
    qualityScore: Math.round((3 + rng() * 7) * 10) / 10,
    parameters: { temperature: Math.round((0.2 + rng() * 0.9) * 10) / 10, exchanges, language: rng() < 0.85 ? 'en' : 'en-GB', ...o.extraParameters },
    turns,
    templateId: o.templateId ?? null,
    scenarioId: o.scenarioId ?? null,
    jobId: o.jobId ?? null,
  };
}
