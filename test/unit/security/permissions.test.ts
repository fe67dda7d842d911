/** Roles, globs and the model/endpoint parameters of routes, and the authorize decision on its own. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorize, matchesGlob, PERMISSIONS, permissionsOf, resourceOfRoute, ROLES, type AuthRequest } from '../../../src/security/index.js';

test('admin holds every permission; no other role holds admin or payloads:read', () => {
  assert.deepEqual([...permissionsOf(['admin'])].sort(), [...PERMISSIONS].sort());
  for (const role of ['deployer', 'viewer', 'predictor'] as const) {
    assert.ok(!(ROLES[role] as readonly string[]).includes('admin'), role);
    assert.ok(!(ROLES[role] as readonly string[]).includes('payloads:read'), role);
  }
  assert.deepEqual([...permissionsOf(['nobody'])], []);
});

test('globs match within a name and escape everything else', () => {
  assert.ok(matchesGlob(['fraud-*'], 'fraud-eu'));
  assert.ok(!matchesGlob(['fraud-*'], 'fraud'));
  assert.ok(matchesGlob(['*'], 'x'));
  assert.ok(matchesGlob(['a*c'], 'abbbc'));
  assert.ok(!matchesGlob(['a.c'], 'abc'), 'a dot is a dot');
});

test('route parameters that name models and endpoints', () => {
  assert.deepEqual(resourceOfRoute('/v2/models/:name/versions/:version/infer'), { endpoint: 'name' });
  assert.deepEqual(resourceOfRoute('/api/v1/endpoints/:name/traffic'), { endpoint: 'name' });
  assert.deepEqual(resourceOfRoute('/api/v1/models/:model/aliases/:alias'), { model: 'model' });
  assert.deepEqual(resourceOfRoute('/api/v1/keys/:id'), {});
});

test('authorize: role, then scope by path, then by query, and changes that name nothing', () => {
  const req = (over: Partial<AuthRequest>): AuthRequest => ({ method: 'GET', route: '/x', permission: 'models:read', resource: {}, authorization: undefined, params: {}, query: {}, ...over });
  const scoped = { id: 'key:t', roles: ['deployer'], scope: { models: ['m-*'], endpoints: ['e-*'] } };
  assert.throws(() => authorize({ id: 'key:v', roles: ['viewer'] }, req({ permission: 'models:write' })), { code: 'SECURITY_FORBIDDEN' });
  authorize(scoped, req({ resource: { model: 'model' }, params: { model: 'm-1' } }));
  assert.throws(() => authorize(scoped, req({ resource: { model: 'model' }, params: { model: 'other' } })), /models \[m-\*\]/);
  assert.throws(() => authorize(scoped, req({ permission: 'models:read', query: { endpoint: 'other' } })), /endpoint "other"/);
  authorize(scoped, req({ permission: 'models:read' }));
  assert.throws(() => authorize(scoped, req({ permission: 'endpoints:write', method: 'POST' })), /must name one/);
});
