/**
 * The help desk's event model: a closed set of types, each payload checked, errors naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, familyOf, makeEvent, parseStreamEvent } from '../../src/apps/support/events.js';
import { isAirwavesError } from '../../src/core/errors.js';
import { deliveryId } from '../../src/apps/support/event-bus.js';

const meta = { actorId: 'agent-ana', actorRole: 'agent' as const };
const valid = () => ({
  eventId: randomUUID(),
  type: 'status_change',
  timestamp: Date.now(),
  roomId: 'ticket-1',
  payload: { ticketId: 'ticket-1', from: 'open', to: 'pending' },
  metadata: meta,
});

function refusal(input: unknown): string {
  try {
    parseStreamEvent(input);
  } catch (err) {
    assert.ok(isAirwavesError(err), String(err));
    assert.equal(err.code, 'bad_request');
    return err.message;
  }
  assert.fail('event was accepted');
}

test('the event model accepts exactly the eight help desk event types', () => {
  assert.deepEqual([...EVENT_TYPES].sort(), ['assignment_change', 'chat_message', 'control_mode_changed', 'remote_session_end', 'remote_session_start', 'status_change', 'typing_start', 'typing_stop']);
  assert.equal(parseStreamEvent(valid()).type, 'status_change');
  assert.match(refusal({ ...valid(), type: 'screen_share' }), /^invalid event: type: /);
});

test('a bad event is refused with the path of the offending field', () => {
  assert.match(refusal({ ...valid(), payload: { ticketId: 'ticket-1', from: 'open', to: 'archived' } }), /payload\.to/);
  assert.match(refusal({ ...valid(), eventId: 'not-a-uuid' }), /eventId/);
  assert.match(refusal({ ...valid(), roomId: 'has spaces' }), /roomId/);
  assert.match(refusal({ ...valid(), metadata: { actorId: 'x', actorRole: 'admin' } }), /metadata\.actorRole/);
  const { timestamp: _t, ...noTimestamp } = valid();
  assert.match(refusal(noTimestamp), /timestamp/);
  assert.match(refusal({ ...valid(), type: 'chat_message', payload: { messageId: '1', authorId: 'a', authorName: 'A', body: 'x'.repeat(4001), createdAt: 'now' } }), /payload\.body/);
});

test('server-made events are validated too, and families route types to their streams', () => {
  const e = makeEvent('typing_start', 'ticket-1', { userId: 'u', userName: 'U' }, meta);
  assert.equal(e.type, 'typing_start');
  assert.ok(e.timestamp > 0);
  assert.throws(() => makeEvent('control_mode_changed', 'ticket-1', { sessionId: 's', ticketId: 't', agentId: 'a', agentName: 'A', from: 'view_only', to: 'remote' as 'full_control' }, meta), /payload\.to/);
  assert.deepEqual(EVENT_TYPES.map(familyOf), ['chat', 'chat', 'chat', 'ticket', 'ticket', 'remote', 'remote', 'remote']);
});

test('an event fanned out to several channels gets one delivery id per channel', () => {
  const e = parseStreamEvent(valid());
  assert.equal(deliveryId(e, 0), e.eventId);
  assert.equal(deliveryId(e, 1), `${e.eventId}.1`);
  assert.notEqual(deliveryId(e, 1), deliveryId(e, 2));
});
