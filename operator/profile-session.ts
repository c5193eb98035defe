// A profile's session in time: when it started, when it expires (startedAt +
// duration, wall clock; suspending does not extend it), and whether agents
// should be tracing it now.
import { parseDuration } from '../api/duration.js';
import type { TraceProfile } from '../api/traceprofile.js';

export interface ProfileSession {
  startedAt: string;
  expiresAt?: string;
}

/** metav1.Time precision: whole seconds, so a timestamp written once reads back identical. */
export function kubeTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The session recorded in status, or one starting now for a profile seen for the first time. */
export function sessionOf(profile: Pick<TraceProfile, 'spec' | 'status'>, nowMs: number): ProfileSession {
  const startedAt = profile.status?.startedAt ?? kubeTime(nowMs);
  const durationMs = profile.spec.duration === undefined ? undefined : parseDuration(profile.spec.duration);
  if (durationMs === undefined) return { startedAt };
  return { startedAt, expiresAt: kubeTime(Date.parse(startedAt) + durationMs) };
}

export function isExpired(session: ProfileSession, nowMs: number): boolean {
  return session.expiresAt !== undefined && nowMs >= Date.parse(session.expiresAt);
}

/** Agents trace the profile: not suspended, not expired, not being deleted. */
export function isProfileActive(profile: Pick<TraceProfile, 'metadata' | 'spec' | 'status'>, nowMs: number): boolean {
  if (profile.spec.suspend || profile.metadata.deletionTimestamp !== undefined) return false;
  // Not started yet: the session starts when the operator first records it, so it cannot have expired.
  if (profile.status?.startedAt === undefined) return true;
  return !isExpired(sessionOf(profile, nowMs), nowMs);
}
