/**
 * @module apps/support/shared/demo-users
 * The help desk's demo people, seeded at start and offered on the UI's demo login. A module of
 * its own so the browser bundle takes the list without the database layer.
 */
export const DEMO_USERS: readonly { id: string; name: string; role: 'agent' | 'customer' }[] = [
  { id: 'agent-ana', name: 'Ana (agent)', role: 'agent' },
  { id: 'agent-ben', name: 'Ben (agent)', role: 'agent' },
  { id: 'cust-carla', name: 'Carla', role: 'customer' },
  { id: 'cust-dev', name: 'Dev', role: 'customer' },
];
