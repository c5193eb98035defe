// The JSON document `loupe trace --output json` prints, and `loupe report`
// reads back: one schema for both, so a report can tell a Loupe document
// from another tool's and say which field is wrong.
import { z } from 'zod';
import { ProfileCostSchema } from './cost.js';
import { ProbeNameSchema, ProbeResultsSchema } from './results.js';
import { TimelineSchema } from './timeline.js';

const TRACE_END_REASONS = ['duration', 'SIGINT', 'SIGTERM'] as const;

export const TraceDocumentSchema = z.object({
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  durationMs: z.number().int().min(0),
  endedBy: z.enum(TRACE_END_REASONS),
  probes: z.array(ProbeNameSchema),
  failed: z.array(z.object({ probe: ProbeNameSchema, message: z.string(), program: z.string().optional(), verifierLog: z.string().optional() })),
  totals: ProbeResultsSchema,
  targets: z.array(z.object({ target: z.string(), cgroupId: z.string(), results: ProbeResultsSchema })),
  cost: ProfileCostSchema.optional(),
  /** Absent in documents from before timelines. */
  timeline: TimelineSchema.optional(),
});
export type TraceDocument = z.infer<typeof TraceDocumentSchema>;
