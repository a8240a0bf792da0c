// The router's configuration: what an operator writes in YAML (or what the controller renders into a
// ConfigMap). Validated with zod so that every error names the path of the bad field.
import { z } from 'zod';

const positive = z.number().positive();
const url = z.string().url().refine((u) => /^https?:\/\//.test(u), { message: 'must be an http:// or https:// URL' });
// Tier and cascade names become model ids in the OpenAI API and Prometheus label values.
const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/, 'use letters, digits, ".", "_", "-" or "/" (1-128 characters)');

export const TimeoutsSchema = z
  .object({
    /** Connection setup to one replica. */
    connectSeconds: positive.default(2),
    /** Whole upstream request (answer or verification) to one replica, first byte to last. */
    requestSeconds: positive.default(120),
  })
  .strict();

export const TierSchema = z
  .object({
    name,
    /** Model name sent upstream in the `model` field (vLLM's --served-model-name). */
    model: z.string().min(1),
    /** vLLM replicas of this tier (base URLs, without /v1). */
    endpoints: z.array(url).default([]),
    /** GPUs one replica holds (its tensor-parallel size); the unit of cost. */
    gpusPerReplica: z.number().int().min(1).default(1),
    timeouts: TimeoutsSchema.default({ connectSeconds: 2, requestSeconds: 120 }),
  })
  .strict();

export const VerificationSchema = z
  .object({
    /** Verifier samples k, drawn in one upstream request with n=k. */
    samples: z.number().int().min(1).max(64).default(8),
    temperature: z.number().min(0).max(2).default(1.0),
    maxTokens: z.number().int().min(1).max(4096).default(250),
    /** Id of the built-in few-shot prompt; recorded with every decision so results stay comparable. */
    prompt: z.string().default('tiermix-verify-v1'),
  })
  .strict();

export const ThresholdPolicySchema = z
  .object({
    type: z.literal('threshold'),
    /** Return a tier's answer when its self-verification confidence is at least this. */
    threshold: z.number().min(0).max(1).default(0.5),
  })
  .strict();

// tiermix's N-tier POMDP (docs/policy.md). CONTRACT: the controller renders this block from a ModelCascade's
// spec.routing; keep controller/plan's router-config builder in step when changing it.
export const PomdpObjectiveSchema = z.union([
  /** Price of one GPU-second in accuracy, fixed. */
  z.object({ lambda: z.number().min(0) }).strict(),
  /** Target GPU-seconds per request; the router adjusts lambda online to hold it (router/policy/pomdp/lambda.ts). */
  z
    .object({
      gpuSecondsPerRequest: positive,
      /** lambda before the first request finishes. */
      initialLambda: positive.default(0.05),
      /** Half-life of the running average of GPU-seconds per request, in seconds. */
      halfLifeSeconds: positive.default(60),
    })
    .strict(),
]);

// Costs the POMDP prices a call at: gpusPerReplica x occupancy seconds (service time / calls sharing the replica).
export const PomdpCostsSchema = z
  .object({
    /** measured: start from the values below, then a running mean of the metered calls; configured: the values below, fixed. */
    source: z.enum(['measured', 'configured']).default('measured'),
    /** Occupancy seconds of one answer per tier, smallest first; default: the modelled values in the model's pomdp.json. */
    answerSeconds: z.array(z.number().min(0)).optional(),
    /** The same for one self-verification (k samples) per tier. */
    verifySeconds: z.array(z.number().min(0)).optional(),
    /** Calls the running mean spans per tier and purpose (measured only). */
    window: z.number().int().min(1).max(100_000).default(50),
    /** The policy prices with the estimate as of at most this long ago (measured only); solved trees stay valid meanwhile. */
    publishSeconds: z.number().min(0).max(3600).default(10),
  })
  .strict();

export const PomdpPolicySchema = z
  .object({
    type: z.literal('pomdp'),
    /**
     * Directory written by `tiermix train` (model.onnx, manifest.json and the POMDP's fitted parameters), or
     * `builtin:default-ladder` for the model shipped in router/classifier/models/default-ladder.
     */
    model: z.string().min(1).default('builtin:default-ladder'),
    /** Use the ONNX classifier's output as the prior; false = the fitted joint prior only. */
    classifier: z.boolean().default(true),
    objective: PomdpObjectiveSchema.default({ lambda: 0.05 }),
    costs: PomdpCostsSchema.default(PomdpCostsSchema.parse({})),
    /**
     * Round the classifier's probabilities to multiples of this before deciding, so that requests with nearly the
     * same prior share a solved tree (decision latency); 0 = exact. See docs/policy.md for its effect on quality.
     */
    priorQuantum: z.number().min(0).max(0.2).default(0.02),
  })
  .strict();

export const PolicySchema = z.discriminatedUnion('type', [ThresholdPolicySchema, PomdpPolicySchema]);

export const CascadeSchema = z
  .object({
    name,
    /** Smallest (cheapest) tier first. */
    tiers: z.array(TierSchema).min(1),
    /** This cascade's routing policy; default: the top-level `policy`. */
    policy: PolicySchema.optional(),
  })
  .strict();

export const ScaleFromZeroSchema = z
  .object({
    /**
     * A tier with no endpoints (scaled to zero, or its pods still loading): hold the request up to this long for
     * an endpoint to appear (the configuration is reloaded meanwhile), then serve it from the nearest warm tier.
     */
    holdSeconds: z.number().min(0).max(3600).default(30),
  })
  .strict();

export const RetrySchema = z
  .object({
    /** Replicas tried per tier for one upstream call (the first try included). */
    attemptsPerTier: z.number().int().min(1).max(10).default(2),
    /** How many times a failing tier may hand the request to the next larger tier. */
    tierFallbacks: z.number().int().min(0).max(10).default(1),
  })
  .strict();

export const ApiKeysSchema = z
  .object({
    /** File with one key per line (blank lines and # comments ignored). */
    file: z.string().optional(),
    /** Environment variable holding keys, comma separated. */
    env: z.string().optional(),
  })
  .strict();

export const ServerSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Largest request body accepted, in bytes. */
    bodyLimitBytes: z.number().int().min(1024).default(1_048_576),
    /** Seconds to let requests in flight finish on shutdown. */
    shutdownGraceSeconds: z.number().min(0).default(30),
    apiKeys: ApiKeysSchema.optional(),
  })
  .strict();

export const RouterConfigSchema = z
  .object({
    server: ServerSchema.default(ServerSchema.parse({})),
    verification: VerificationSchema.default(VerificationSchema.parse({})),
    policy: PolicySchema.default({ type: 'threshold', threshold: 0.5 }),
    retry: RetrySchema.default(RetrySchema.parse({})),
    scaleFromZero: ScaleFromZeroSchema.default(ScaleFromZeroSchema.parse({})),
    /**
     * May be empty: the controller writes `cascades: []` before any ModelCascade exists. The router then answers
     * every model with 404 until a cascade is added.
     */
    cascades: z.array(CascadeSchema),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // Requests name a cascade or a tier in `model`, so every name must be unique across both.
    const seen = new Map<string, string>();
    cfg.cascades.forEach((c, ci) => {
      const where = `cascades.${ci}.name`;
      if (seen.has(c.name)) {
        ctx.addIssue({ code: 'custom', path: ['cascades', ci, 'name'], message: `"${c.name}" is already used at ${seen.get(c.name)}` });
      } else seen.set(c.name, where);
      c.tiers.forEach((t, ti) => {
        const at = `cascades.${ci}.tiers.${ti}.name`;
        if (seen.has(t.name)) {
          ctx.addIssue({ code: 'custom', path: ['cascades', ci, 'tiers', ti, 'name'], message: `"${t.name}" is already used at ${seen.get(t.name)}` });
        } else seen.set(t.name, at);
      });
    });
  });

export type Timeouts = z.infer<typeof TimeoutsSchema>;
export type TierConfig = z.infer<typeof TierSchema>;
export type CascadeConfig = z.infer<typeof CascadeSchema>;
export type VerificationConfig = z.infer<typeof VerificationSchema>;
export type PolicyConfig = z.infer<typeof PolicySchema>;
export type PomdpPolicyConfig = z.infer<typeof PomdpPolicySchema>;
export type PomdpObjectiveConfig = z.infer<typeof PomdpObjectiveSchema>;
export type PomdpCostsConfig = z.infer<typeof PomdpCostsSchema>;
export type ScaleFromZeroConfig = z.infer<typeof ScaleFromZeroSchema>;
export type RetryConfig = z.infer<typeof RetrySchema>;
export type ServerConfig = z.infer<typeof ServerSchema>;
export type RouterConfig = z.infer<typeof RouterConfigSchema>;
