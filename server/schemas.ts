/** Schemas for everything the admin API and CSV import accept. Parse once, at the boundary. */
import { z } from 'zod';
import { parseDuration } from './domain/duration.js';
import { parseMac, reservedMacReason, type Mac } from './domain/mac.js';
import { displayTextProblem, secretTextProblem } from './domain/text-rules.js';
import { parseSipUri } from './sip/uri.js';
import { isCidr } from './services/network-allowlist.js';
import { PIN_MAX_LENGTH } from './services/pin.js';
import { vendorIds } from '../vendors/registry.js';

/**
 * Text for names, labels and addresses: nothing a vendor's output escaping would drop or alter
 * (control characters, U+2028/U+2029, …; server/domain/text-rules.ts), so nothing can add a line
 * to a key=value config and what the admin typed is what the phone shows.
 */
export const safeText = (max: number) =>
  z
    .string()
    .max(max)
    .superRefine((s, ctx) => {
      const problem = displayTextProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

/**
 * A secret the admin sets (a SIP password): also no invisible format characters and no
 * whitespace at either end, so every vendor's config carries it exactly as typed.
 */
export const secretText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((s, ctx) => {
      const problem = secretTextProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

export const extensionSchema = z.string().regex(/^[A-Za-z0-9._+-]{1,32}$/, 'expected 1–32 letters, digits or . _ + -');
export const macSchema = z
  .string()
  .max(17)
  .transform((s, ctx) => {
    const mac = parseMac(s);
    if (!mac) {
      ctx.addIssue({ code: 'custom', message: 'expected a MAC like 001565aabbcc or 00:15:65:AA:BB:CC' });
      return z.NEVER;
    }
    return mac;
  });
/** A MAC given to create a device: also refuses the all-zero, broadcast and multicast addresses. */
export const deviceMacSchema = macSchema.superRefine((mac, ctx) => {
  const reason = reservedMacReason(mac);
  if (reason) ctx.addIssue({ code: 'custom', message: reason });
});
const vendorSchema = z.string().refine((v) => vendorIds.includes(v), { message: `expected one of ${vendorIds.join(', ')}` });
const modelSchema = z.string().regex(/^[A-Za-z0-9._ -]{1,40}$/, 'expected 1–40 letters, digits or . _ - space');
const sipContactSchema = z
  .string()
  .max(200)
  .refine((s) => parseSipUri(s) !== null, { message: 'expected a SIP URI like sip:10.0.0.5:5060 or sip:10.0.0.5;transport=tcp' });
const durationSchema = z.string().refine((s) => parseDuration(s) !== null, { message: 'expected a duration like "90s", "15m", "12h" or "0", at most "36500d"' });
const dialString = z.string().regex(/^[0-9*#+]{1,15}$/, 'expected a dial string of digits, * # +');

export const userCreateSchema = z.strictObject({
  extension: extensionSchema,
  displayName: safeText(64).min(1),
  sipUsername: z.string().regex(/^[A-Za-z0-9._+-]{1,64}$/, 'expected 1–64 letters, digits or . _ + -').optional(),
  sipPassword: secretText(128),
  // Digits and the longest length here, so a bad PIN is named with the body's other problems;
  // the configured minimum length is the service's (hotdesk.pinMinLength).
  pin: z.string().regex(/^[0-9]*$/, 'PIN must contain digits only').max(PIN_MAX_LENGTH, `PIN must be at most ${PIN_MAX_LENGTH} digits`).nullable().optional(),
  hotdeskAllowed: z.boolean().optional(),
  email: z.email().max(254).nullable().optional(),
});
export const userPatchSchema = userCreateSchema.omit({ extension: true }).partial();

export const locationCreateSchema = z.strictObject({
  name: safeText(100).min(1),
  address: safeText(300).nullable().default(null),
  emergencyNumbers: z.array(dialString).min(1).max(10).default(['911']),
  callbackNumber: dialString.nullable().default(null),
});
export const locationPatchSchema = z.strictObject({
  name: safeText(100).min(1).optional(),
  address: safeText(300).nullable().optional(),
  emergencyNumbers: z.array(dialString).min(1).max(10).optional(),
  callbackNumber: dialString.nullable().optional(),
});

const deviceFields = {
  vendor: vendorSchema,
  model: modelSchema.nullable().default(null),
  label: safeText(64).nullable().default(null),
  ownerExtension: extensionSchema.nullable().default(null),
  hotdeskEnabled: z.boolean().default(false),
  locationId: z.number().int().positive().nullable().default(null),
  sipContact: sipContactSchema.nullable().default(null),
  sessionTimeout: durationSchema.nullable().default(null),
};
export const deviceCreateSchema = z.strictObject({ mac: deviceMacSchema, ...deviceFields });
export const devicePatchSchema = z.strictObject({
  vendor: vendorSchema.optional(),
  model: modelSchema.nullable().optional(),
  label: safeText(64).nullable().optional(),
  ownerExtension: extensionSchema.nullable().optional(),
  hotdeskEnabled: z.boolean().optional(),
  locationId: z.number().int().positive().nullable().optional(),
  sipContact: sipContactSchema.nullable().optional(),
  sessionTimeout: durationSchema.nullable().optional(),
});

export const loginSchema = z.strictObject({ extension: extensionSchema, pin: z.string().max(64) });

export type Parsed<S extends z.ZodType> = z.output<S>;
export type { Mac };

// ---- security (download auth, allowlists, admin tokens, audit) ----
const cidrSchema = z.string().max(64).refine(isCidr, { message: 'expected a CIDR like "10.0.0.0/8" or an IP address' });
/** PUT /devices/:mac/download-auth. `mode: "default"` follows security.downloadAuth.defaultMode. */
export const downloadAuthPutSchema = z
  .strictObject({
    mode: z.enum(['default', 'off', 'provision', 'enforce']).optional(),
    allowlist: z.array(cidrSchema).max(100).nullable().optional(),
  })
  .refine((b) => b.mode !== undefined || b.allowlist !== undefined, { message: 'send mode and/or allowlist' });
export const enrolSchema = z.strictObject({
  for: z.string().refine((s) => { const ms = parseDuration(s); return ms !== null && ms <= 7 * 86_400_000; }, { message: 'expected a duration up to "7d" ("0" closes the window)' }).default('1h'),
});
export const tokenNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1–64 letters, digits or . _ -');
export const tokenCreateSchema = z.strictObject({ name: tokenNameSchema, role: z.enum(['admin', 'pbx', 'readonly']) });
export const auditQuerySchema = z.strictObject({
  actor: z.string().max(64).optional(),
  action: z.string().max(64).optional(),
  target: z.string().max(128).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
