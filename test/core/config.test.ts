import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CONFIG_FIELDS, ConfigError, loadConfig, configReference } from '../../src/config.js';
import { CONFIG_ERROR_CODE, isConfigError, mergeSettings } from '../../src/core/settings.js';
import { APP_SETTINGS } from '../../src/apps/settings.js';

describe('configuration', () => {
  test('defaults need no environment', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.dataDir, './data');
    assert.equal(c.logLevel, 'info');
  });

  test('a configuration error is known by its stable code, from any copy of the class (the hub-alone bundle has its own)', () => {
    const ours = new ConfigError(['AIRWAVES_PORT: expected a number']);
    assert.equal(ours.code, CONFIG_ERROR_CODE);
    assert.equal(isConfigError(ours), true);
    // What the bundle's copy throws: another class, the same code.
    class BundledConfigError extends Error {
      readonly code = CONFIG_ERROR_CODE;
    }
    assert.equal(isConfigError(new BundledConfigError('invalid configuration')), true);
    // A name alone is not enough, nor is a code on something that is not an Error.
    const named = Object.assign(new Error('x'), { name: 'ConfigError' });
    assert.equal(isConfigError(named), false);
    assert.equal(isConfigError({ code: CONFIG_ERROR_CODE }), false);
  });

  test('a bad port names the variable and what was expected', () => {
    assert.throws(
      () => loadConfig({ AIRWAVES_PORT: 'abc' }),
      (err: unknown) => err instanceof ConfigError && /AIRWAVES_PORT/.test(err.message) && /number/i.test(err.message) && /abc/.test(err.message),
    );
  });

  test('every bad field is reported at once', () => {
    try {
      loadConfig({ AIRWAVES_PORT: '70000', AIRWAVES_LOG_LEVEL: 'loud' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 2);
      assert.match(err.message, /AIRWAVES_LOG_LEVEL/);
    }
  });

  test('namespaces come from AIRWAVES_NAMESPACES as JSON, with defaults filled in', () => {
    const c = loadConfig({ AIRWAVES_NAMESPACES: '[{"name":"game","presence":true}]' });
    assert.equal(c.namespaces[0].name, 'game');
    assert.equal(c.namespaces[0].presence, true);
    assert.equal(c.namespaces[0].historySize, 100);
    assert.throws(() => loadConfig({ AIRWAVES_NAMESPACES: '[{"name":"Bad Name"}]' }), /AIRWAVES_NAMESPACES at 0\.name/);
    assert.throws(() => loadConfig({ AIRWAVES_NAMESPACES: '{oops' }), /AIRWAVES_NAMESPACES: expected JSON/);
  });

  test('a config file is read, environment wins over it, unknown fields are errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aw-config-'));
    const file = join(dir, 'airwaves.json');
    writeFileSync(file, JSON.stringify({ port: 9000, host: '127.0.0.1' }));
    const c = loadConfig({ AIRWAVES_CONFIG: file, AIRWAVES_PORT: '9100' });
    assert.equal(c.port, 9100);
    assert.equal(c.host, '127.0.0.1');
    writeFileSync(file, JSON.stringify({ prot: 1 }));
    assert.throws(() => loadConfig({ AIRWAVES_CONFIG: file }), /unknown field "prot"/);
  });

  test('the reference lists every variable', () => {
    const doc = configReference();
    for (const v of ['AIRWAVES_PORT', 'AIRWAVES_HOST', 'AIRWAVES_DATA_DIR', 'AIRWAVES_LOG_LEVEL', 'AIRWAVES_API_KEY']) assert.match(doc, new RegExp(v));
  });
});

describe('settings beside each app', () => {
  test("every app's settings are in the one table, read like the core's", () => {
    for (const group of APP_SETTINGS) {
      for (const [field, [variable]] of Object.entries(group)) {
        assert.equal(CONFIG_FIELDS[field as keyof typeof CONFIG_FIELDS][0], variable, field);
        assert.match(configReference(), new RegExp(`\`${variable}\``));
      }
    }
    const c = loadConfig({ AIRWAVES_RADIO_STATIONS: '[{"id":"night","seed":3,"mood":"drift"}]', AIRWAVES_LIVE_RTMP_PORT: '0', LLM_MODEL: 'local' });
    assert.deepEqual(c.radioStations, [{ id: 'night', seed: 3, mood: 'drift' }]);
    assert.equal(c.liveRtmpPort, 0);
    assert.equal(c.llmModel, 'local');
  });

  test("an app's bad setting names its variable; an app's secret is never echoed", () => {
    assert.throws(() => loadConfig({ AIRWAVES_MARKET_SIM_RATE: 'fast' }), (err: unknown) => err instanceof ConfigError && /AIRWAVES_MARKET_SIM_RATE/.test(err.message) && /fast/.test(err.message));
    assert.throws(() => loadConfig({ AIRWAVES_RADIO_STATIONS: '[oops' }), /AIRWAVES_RADIO_STATIONS: expected JSON/);
    assert.throws(() => loadConfig({}, { llmApiKey: 42 as unknown as string }), (err: unknown) => err instanceof ConfigError && /llmApiKey/.test(err.message) && !/42/.test(err.message));
  });

  test('two groups may not declare the same field or read the same variable', () => {
    const a = { one: ['AIRWAVES_ONE', z.string().optional(), 'one'] } as const;
    assert.throws(() => mergeSettings(a, { one: ['AIRWAVES_OTHER', z.string().optional(), 'again'] } as const), /field "one" is declared twice/);
    assert.throws(() => mergeSettings(a, { two: ['AIRWAVES_ONE', z.string().optional(), 'same variable'] } as const), /AIRWAVES_ONE is read by both "one" and "two"/);
    assert.deepEqual(Object.keys(mergeSettings(a, { two: ['AIRWAVES_TWO', z.string().optional(), 'two'] } as const)), ['one', 'two']);
  });
});
