// The controller configuration's schema (zod): every field of ControllerConfig with its default, so that a file
// with only what differs is enough. Errors name the path of the bad field (see load.ts).
import { z } from 'zod';
import { BUILTIN_DEFAULT_GPU_PROFILE, BUILTIN_GPU_PROFILES } from './profiles.js';
import type { ControllerConfig } from './types.js';

/** Pinned vLLM image used when a tier names none (the official image; it runs as root, see plan/deployment.ts). */
export const DEFAULT_VLLM_IMAGE = 'vllm/vllm-openai:v0.10.0';

// Kubernetes name shapes (DNS-1123 subdomain for object names, label for namespaces).
const dnsSubdomain = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS-1123 subdomain (lowercase letters, digits, "-", ".")').max(253);
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lowercase letters, digits, "-")').max(63);
/** Extended resource names look like domain/name (nvidia.com/gpu, amd.com/gpu, gpu.intel.com/i915). */
const resourceName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be an extended resource name such as nvidia.com/gpu');

const TolerationSchema = z
  .object({
    key: z.string().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string().optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: z.number().int().optional(),
  })
  .strict()
  .refine((t) => !(t.operator === 'Exists' && t.value !== undefined), { message: 'operator Exists takes no value' });

export const GpuProfileSchema = z
  .object({
    resourceName,
    nodeSelector: z.record(z.string(), z.string()).optional(),
    tolerations: z.array(TolerationSchema).optional(),
    /** A Kubernetes Affinity object, passed through as written. */
    affinity: z.record(z.string(), z.unknown()).optional(),
    runtimeClassName: dnsSubdomain.optional(),
    memoryGiB: z.number().positive().optional(),
  })
  .strict();

const RouterTargetSchema = z
  .object({
    configMapNamespace: dnsLabel.default('tiermix-system'),
    configMapName: dnsSubdomain.default('tiermix-router'),
    /** Router settings other than cascades, merged in as given (the router validates them when it loads them). */
    base: z.record(z.string(), z.unknown()).optional(),
    metricsUrls: z.array(z.string().url()).optional(),
  })
  .strict();

const LeaderElectionSchema = z
  .object({
    enabled: z.boolean().default(true),
    leaseName: dnsSubdomain.default('tiermix-controller'),
    leaseNamespace: dnsLabel.default('tiermix-system'),
    leaseDurationSeconds: z.number().int().min(1).default(15),
    renewDeadlineSeconds: z.number().int().min(1).default(10),
    retryPeriodSeconds: z.number().int().min(1).default(2),
  })
  .strict()
  .refine((l) => l.renewDeadlineSeconds < l.leaseDurationSeconds, { message: 'renewDeadlineSeconds must be less than leaseDurationSeconds', path: ['renewDeadlineSeconds'] })
  .refine((l) => l.retryPeriodSeconds < l.renewDeadlineSeconds, { message: 'retryPeriodSeconds must be less than renewDeadlineSeconds', path: ['retryPeriodSeconds'] });

export const ControllerConfigSchema = z
  .object({
    /** Replaces the built-in profiles when given (no merge: the operator owns the list). */
    gpuProfiles: z
      .record(dnsSubdomain, GpuProfileSchema)
      .prefault(() => structuredClone(BUILTIN_GPU_PROFILES) as Record<string, z.input<typeof GpuProfileSchema>>),
    defaultGpuProfile: z.string().min(1).default(BUILTIN_DEFAULT_GPU_PROFILE),
    vllmImage: z.string().min(1).default(DEFAULT_VLLM_IMAGE),
    router: RouterTargetSchema.prefault({}),
    namespaces: z.array(dnsLabel).default([]),
    leaderElection: LeaderElectionSchema.prefault({}),
    autoscalerIntervalSeconds: z.number().positive().default(10),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!(c.defaultGpuProfile in c.gpuProfiles)) {
      const known = Object.keys(c.gpuProfiles).sort().join(', ') || '(none)';
      ctx.addIssue({ code: 'custom', path: ['defaultGpuProfile'], message: `"${c.defaultGpuProfile}" is not a gpuProfiles entry (known: ${known})` });
    }
  });

// Keep the schema's output assignable to the contract type.
type Parsed = z.output<typeof ControllerConfigSchema>;
const _check: (p: Parsed) => ControllerConfig = (p) => p as ControllerConfig & Parsed;
void _check;
