/**
 * Devices of the signed-in account that send without AUTH (the device lane):
 * list, register (client address ranges, senders, daily limit), remove. The
 * device table is accounts/devices.ts's.
 */
import { Type } from 'typebox';
import { listDevices, registerDevice, removeDevice, type Device } from '../../accounts/devices.ts';
import { keyUsageLast24h } from '../../queue/usage.ts';
import type { ApiApp, HttpDeps } from '../deps.ts';
import { principalOf } from '../auth.ts';
import { ERRORS, NoContent, Timestamp, iso } from '../schemas.ts';

const DeviceItem = Type.Object({
  id: Type.String(), name: Type.String(),
  ipRanges: Type.Array(Type.String(), { description: 'CIDR ranges its mail comes from; no two devices overlap' }),
  from: Type.Array(Type.String(), { description: 'addresses and whole domains it may send as, envelope and header From' }),
  dailyLimit: Type.Integer({ description: "its own emails per rolling 24 hours, within the account's" }),
  sentLast24h: Type.Integer(),
  createdAt: Timestamp,
});

const deviceJson = (device: Device, sent: number) => ({
  id: device.id, name: device.name, ipRanges: device.ipRanges, from: device.from, dailyLimit: device.dailyLimit, sentLast24h: sent, createdAt: iso(device.createdAt),
});

export function deviceRoutes(app: ApiApp, deps: HttpDeps): void {
  const { store } = deps;

  app.get('/devices', {
    schema: { tags: ['devices'], summary: "The account's devices that send without logging in", response: { 200: Type.Object({ items: Type.Array(DeviceItem) }), ...ERRORS } },
  }, async (request) => {
    const devices = await listDevices(store, principalOf(request).accountId);
    const sent = await keyUsageLast24h(store.db, devices.map((d) => d.id), Date.now());
    return { items: devices.map((device) => deviceJson(device, sent.get(device.id) ?? 0)) };
  });

  app.post('/devices', {
    schema: {
      tags: ['devices'], summary: 'Register a device: mail from its address ranges is taken without AUTH, only for its senders and within its limit',
      body: Type.Object({
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        ipRanges: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 100 }),
        from: Type.Array(Type.String({ maxLength: 254 }), { minItems: 1, maxItems: 100 }),
        dailyLimit: Type.Integer(),
      }, { additionalProperties: false }),
      response: { 201: DeviceItem, ...ERRORS },
    },
  }, async (request, reply) => {
    const device = await registerDevice(store, principalOf(request).accountId, request.body);
    return reply.code(201).send(deviceJson(device, 0));
  });

  app.delete('/devices/:id', {
    schema: {
      tags: ['devices'], summary: 'Remove a device: its addresses need AUTH again at once', params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      response: { 204: NoContent, ...ERRORS },
    },
  }, async (request, reply) => {
    await removeDevice(store, request.params.id, principalOf(request).accountId);
    return reply.code(204).send(null);
  });
}
