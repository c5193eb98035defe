// Where in a period a periodic writer writes: at a phase drawn from its name,
// so that many writers on one period (5,000 agents, 500 profile statuses)
// write evenly over it instead of together. A writer's history cannot bunch
// them: after any write, the next periodic one waits for the writer's slot.

/** A name's place in every period: a hash of it (FNV-1a, then murmur3's finalizer so similar names spread), as a fraction of the period. */
export function slotPhase(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return ((hash ^ (hash >>> 16)) >>> 0) / 0x1_0000_0000;
}

/** The first slot at or after nowMs: slots fall at phase × period past every multiple of the period. */
export function nextSlotMs(nowMs: number, periodMs: number, phase: number): number {
  const offset = phase * periodMs;
  return Math.ceil((nowMs - offset) / periodMs) * periodMs + offset;
}
