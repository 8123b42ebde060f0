/**
 * @module apps/studio/routes/library
 * Templates and scenarios, the inputs of generation: list (cached 5 min, dropped on every write),
 * create, replace, delete. A duplicate name is a 409, not a server fault.
 */
import type { FastifyInstance } from 'fastify';
import { AirwavesError, Errors } from '../../../core/errors.js';
import { isUniqueViolation } from '../../../db/database.js';
import { activeJobOfTemplate, deleteScenario, deleteTemplate, insertScenario, insertTemplate, listScenarios, listTemplates, updateScenario, updateTemplate } from '../queries.js';
import type { ScenarioInput, TemplateInput } from '../types.js';
import { curator, errors, scenarioBody, scenarioItem, tags, templateBody, templateItem, uuidParam } from './schemas.js';
import type { StudioRouteContext } from './context.js';

/** Unique-name violations are the caller's mistake, not a server fault. */
function conflictOnDuplicate(err: unknown, what: string): never {
  if (isUniqueViolation(err)) throw new AirwavesError(Errors.conflict, `a ${what} with that name already exists`);
  throw err;
}

export function registerLibraryRoutes(http: FastifyInstance, { db, templatesCache, scenariosCache }: StudioRouteContext): void {
  http.get('/templates', { config: curator, schema: { tags, summary: 'All templates (cached 5 min, invalidated on write)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: templateItem } } } } } }, async () =>
    templatesCache.get('all', async () => ({ items: await listTemplates(db) })),
  );
  http.post<{ Body: TemplateInput }>(
    '/templates',
    { config: curator, schema: { tags, summary: 'Create a template', body: templateBody, response: { 201: templateItem, ...errors } } },
    async (req, reply) => {
      const b = req.body;
      const row = await insertTemplate(db, b).catch((err) => conflictOnDuplicate(err, 'template'));
      templatesCache.invalidate();
      return reply.status(201).send(row);
    },
  );
  http.put<{ Params: { id: string }; Body: TemplateInput }>(
    '/templates/:id',
    { config: curator, schema: { tags, summary: 'Replace a template', params: uuidParam, body: templateBody, response: { 200: templateItem, ...errors } } },
    async (req) => {
      const b = req.body;
      const row = await updateTemplate(db, req.params.id, b).catch((err) => conflictOnDuplicate(err, 'template'));
      if (!row) throw new AirwavesError(Errors.notFound, `template ${req.params.id} does not exist`);
      templatesCache.invalidate();
      return row;
    },
  );
  http.delete<{ Params: { id: string } }>(
    '/templates/:id',
    { config: curator, schema: { tags, summary: 'Delete a template (its conversations keep their data)', params: uuidParam, response: { 204: { type: 'null' }, ...errors } } },
    async (req, reply) => {
      const inUse = await activeJobOfTemplate(db, req.params.id);
      if (inUse) throw new AirwavesError(Errors.conflict, `template is used by running job ${inUse.id}`);
      if (!(await deleteTemplate(db, req.params.id))) throw new AirwavesError(Errors.notFound, `template ${req.params.id} does not exist`);
      templatesCache.invalidate();
      return reply.status(204).send();
    },
  );

  http.get('/scenarios', { config: curator, schema: { tags, summary: 'All scenarios (cached 5 min, invalidated on write)', response: { 200: { type: 'object', properties: { items: { type: 'array', items: scenarioItem } } } } } }, async () =>
    scenariosCache.get('all', async () => ({ items: await listScenarios(db) })),
  );
  http.post<{ Body: ScenarioInput }>(
    '/scenarios',
    { config: curator, schema: { tags, summary: 'Create a scenario', body: scenarioBody, response: { 201: scenarioItem, ...errors } } },
    async (req, reply) => {
      const b = req.body;
      const row = await insertScenario(db, b).catch((err) => conflictOnDuplicate(err, 'scenario'));
      scenariosCache.invalidate();
      return reply.status(201).send(row);
    },
  );
  http.put<{ Params: { id: string }; Body: ScenarioInput }>(
    '/scenarios/:id',
    { config: curator, schema: { tags, summary: 'Replace a scenario', params: uuidParam, body: scenarioBody, response: { 200: scenarioItem, ...errors } } },
    async (req) => {
      const b = req.body;
      const row = await updateScenario(db, req.params.id, b).catch((err) => conflictOnDuplicate(err, 'scenario'));
      if (!row) throw new AirwavesError(Errors.notFound, `scenario ${req.params.id} does not exist`);
      scenariosCache.invalidate();
      return row;
    },
  );
  http.delete<{ Params: { id: string } }>(
    '/scenarios/:id',
    { config: curator, schema: { tags, summary: 'Delete a scenario', params: uuidParam, response: { 204: { type: 'null' }, ...errors } } },
    async (req, reply) => {
      if (!(await deleteScenario(db, req.params.id))) throw new AirwavesError(Errors.notFound, `scenario ${req.params.id} does not exist`);
      scenariosCache.invalidate();
      return reply.status(204).send();
    },
  );
}
