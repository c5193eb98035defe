// Loads each probe once per node and shares it between profiles. A probe's
// object is opened, configured, loaded (on a worker thread: register, update
// and unregister are async, and run one at a time) and attached the first
// time a profile needs it; profiles then come and go by rewriting only that
// object's `targets` map (cgroup id → profile bitmask + slot), and the last
// profile to leave detaches it. Collected deltas are routed to profiles by the bitmask in
// force when they were counted, each profile getting them through its own
// probe options (its definition's forProfile).
import pino, { type Logger } from 'pino';
import type { BpfLink, BpfMap, BpfObject } from '../native/index.js';
import type { ProbeSpec } from '../api/probes.js';
import { mergeProbeResults, withTopLists } from '../api/merge.js';
import type { ProbeResults } from '../api/results.js';
import { foldTop } from '../api/top-list.js';
import { PROBE_NAMES, type OptionsOf, type ProbeName, type ResultOf } from '../probes/registry.js';
import type { ProbeCatalog } from './probes/catalog.js';
import {
  MAX_PROFILE_SLOTS,
  TARGETS_MAP,
  type ProbeDefinition,
  type ProbeEvent,
  type ProbeReader,
  type TargetLinker,
} from './probes/probe.js';
import { encodeTargetValue as encodeTarget } from './probes/target-value.js';
import { probeFailure, type ProbeFailure } from './probe-failure.js';
import { SlotAllocator } from './slot-allocator.js';

/** Entries of a targets map (LOUPE_MAX_TARGETS in bpf/loupe.h) when its object is not loaded yet to ask. */
export const DEFAULT_MAX_TARGETS = 1024;
/** Keys an accumulated top list keeps before folding the rest into one '(other)' entry. */
export const DEFAULT_MAX_TOP_KEYS = 1000;

export interface ProfileSpec {
  /** One entry per probe, with this profile's options for it. */
  probes: readonly ProbeSpec[];
  /** Cgroup ids (cgroup2 directory inodes) whose processes this profile traces. */
  targets: readonly bigint[];
}

export interface ProfileState {
  profileId: string;
  /** This profile's bit in every targets map. */
  slot: number;
  /** Probes loaded and counting for this profile. */
  active: ProbeName[];
  /** Probes this profile asked for that could not be loaded, or not with its options, and why. */
  failed: ProbeFailure[];
}

/** Accumulated results of one profile: probe → cgroup id → result since the profile joined. */
export type ProfileResults = { [N in ProbeName]?: Map<bigint, ResultOf<N>> };

/** One cgroup's part of a profile's accumulated results. */
export function cgroupResults(results: ProfileResults, cgroupId: bigint): ProbeResults {
  const of: Record<string, unknown> = {};
  for (const probe of PROBE_NAMES) {
    const result = results[probe]?.get(cgroupId);
    if (result !== undefined) of[probe] = result;
  }
  return of as ProbeResults;
}

export interface ProbeManagerOptions {
  /** Probes this agent can load; one missing here fails like one that does not load. */
  catalog: ProbeCatalog;
  /** Opens a probe's BPF object (not loaded yet); see openProbeObject. */
  openObject: (definition: ProbeDefinition, name: ProbeName) => BpfObject;
  /** Rare events, with the ids of the profiles that wanted each. */
  onEvent?: (event: ProbeEvent, profileIds: string[]) => void;
  logger?: Logger;
  maxTopKeys?: number;
}

interface TargetEntry {
  mask: bigint;
  slot: number;
  /** The probe's own bits (ProbeDefinition.targetFlags). */
  flags: number;
}

interface LoadedProbe {
  name: ProbeName;
  definition: ProbeDefinition;
  object: BpfObject;
  targetsMap: BpfMap;
  links: BpfLink[];
  /** Links for what the targeted processes run (ProbeDefinition.targetLinker), and what makes them. */
  targetLinks: BpfLink[];
  linker: TargetLinker | undefined;
  /** The users' options the kernel side was last set for (JSON), and the links' attachSetting. */
  appliedOptions: string;
  attachSetting: number | string | undefined;
  reader: ProbeReader;
  /** Mirror of the kernel targets map. */
  targets: Map<bigint, TargetEntry>;
  slots: SlotAllocator;
  /** Profiles using this probe. */
  users: Set<string>;
}

interface Profile {
  id: string;
  slot: number;
  spec: ProfileSpec;
  failed: Map<ProbeName, ProbeFailure>;
  results: ProfileResults;
}

export class TooManyProfilesError extends Error {
  constructor(profileId: string) {
    super(
      `cannot trace profile ${profileId}: ${MAX_PROFILE_SLOTS} profiles already share this node's probes; ` +
        'delete or suspend a profile first',
    );
    this.name = 'TooManyProfilesError';
  }
}

export class TooManyTargetsError extends Error {
  constructor(profileId: string, probe: ProbeName, wanted: number, capacity: number) {
    super(
      `cannot trace profile ${profileId}: probe ${probe} would need ${wanted} target cgroups on this node, ` +
        `its targets map holds ${capacity}; narrow the profiles' pod selectors`,
    );
    this.name = 'TooManyTargetsError';
  }
}

export function encodeTargetKey(cgroupId: bigint): Buffer {
  const key = Buffer.alloc(8);
  key.writeBigUInt64LE(cgroupId);
  return key;
}

/** struct loupe_target in bpf/loupe.h. */
export function encodeTargetValue(entry: TargetEntry): Buffer {
  return encodeTarget({ profiles: entry.mask, slot: entry.slot, flags: entry.flags });
}

/** The profile's options for a probe; undefined when it does not ask for it. */
function specOf<N extends ProbeName>(profile: Profile, probe: N): OptionsOf<N> | undefined {
  return profile.spec.probes.find((spec): spec is OptionsOf<N> => spec.name === probe);
}

/** The options of a probe's users, in a stable order (slots), for its definition's hooks. */
function usersSpecs(probe: ProbeName, users: readonly Profile[]): ProbeSpec[] {
  return [...users].sort((a, b) => a.slot - b.slot).flatMap((user) => specOf(user, probe) ?? []);
}

export class ProbeManager {
  private readonly profiles = new Map<string, Profile>();
  private readonly probes = new Map<ProbeName, LoadedProbe>();
  private readonly profileSlots = new SlotAllocator(MAX_PROFILE_SLOTS);
  private readonly log: Logger;
  private readonly maxTopKeys: number;
  /** The end of the last register, update or unregister (see serialized). */
  private changes: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: ProbeManagerOptions) {
    this.log = options.logger ?? pino({ level: 'silent' });
    this.maxTopKeys = options.maxTopKeys ?? DEFAULT_MAX_TOP_KEYS;
  }

  async register(profileId: string, spec: ProfileSpec): Promise<ProfileState> {
    return this.serialized(async () => {
      if (this.profiles.has(profileId)) throw new Error(`profile ${profileId} is already registered; use update()`);
      this.checkCapacity(profileId, spec);
      const slot = this.profileSlots.allocate();
      if (slot === undefined) throw new TooManyProfilesError(profileId);
      this.profiles.set(profileId, { id: profileId, slot, spec, failed: new Map(), results: {} });
      await this.sync();
      return this.state(profileId);
    });
  }

  /** Changes a profile's probes, their options or its targets; counts it already has are kept. */
  async update(profileId: string, spec: ProfileSpec): Promise<ProfileState> {
    return this.serialized(async () => {
      const profile = this.profile(profileId);
      this.checkCapacity(profileId, spec);
      this.collect(); // what was counted so far goes through the options in force when it was counted
      profile.spec = spec;
      profile.failed.clear(); // probes that failed get another try
      await this.sync();
      return this.state(profileId);
    });
  }

  /** Stops tracing for a profile and forgets its results; read them first. */
  async unregister(profileId: string): Promise<void> {
    return this.serialized(async () => {
      const profile = this.profile(profileId);
      this.profiles.delete(profileId);
      await this.sync();
      this.profileSlots.release(profile.slot);
    });
  }

  state(profileId: string): ProfileState {
    const profile = this.profile(profileId);
    return {
      profileId,
      slot: profile.slot,
      active: [...this.probes.values()].filter((p) => p.users.has(profileId)).map((p) => p.name),
      failed: [...profile.failed.values()],
    };
  }

  /** Accumulated results of a profile since it registered (or since it added each probe). */
  results(profileId: string): ProfileResults {
    return this.profile(profileId).results;
  }

  /** The setting probe `name`'s links were attached with (the profile probe's sampling rate), while it is loaded. */
  attachSettingOf(name: ProbeName): number | string | undefined {
    return this.probes.get(name)?.attachSetting;
  }

  /** Names of the probes loaded now. */
  loadedProbes(): ProbeName[] {
    return [...this.probes.keys()];
  }

  /** Each loaded probe's object and the profiles sharing it, for cost accounting (engine/cost). */
  loadedObjects(): { name: ProbeName; object: BpfObject; users: string[] }[] {
    return [...this.probes.values()].map((p) => ({ name: p.name, object: p.object, users: [...p.users] }));
  }

  /**
   * Reads every loaded probe and adds what happened since the last call to
   * the profiles that wanted it; first links what targeted processes started
   * running since the last call, so it is counted from now on.
   */
  collect(): void {
    for (const probe of this.probes.values()) {
      this.linkTargets(probe);
      this.collectProbe(probe);
    }
  }

  /** Detaches and closes everything, and a probe still loading as soon as it is loaded; the manager is unusable afterwards. */
  close(): void {
    this.closed = true;
    for (const probe of [...this.probes.values()]) this.unload(probe);
    this.profiles.clear();
  }

  /**
   * Runs register, update and unregister one at a time: each awaits probe
   * loads, and the next must see the probes and profiles the last one left.
   */
  private serialized<T>(run: () => Promise<T>): Promise<T> {
    const result = this.changes.then(() => {
      if (this.closed) throw new Error('the probe manager is closed');
      return run();
    });
    this.changes = result.catch(() => undefined);
    return result;
  }

  private profile(profileId: string): Profile {
    const profile = this.profiles.get(profileId);
    if (profile === undefined) throw new Error(`profile ${profileId} is not registered`);
    return profile;
  }

  /** Rejects a spec before anything changes if a probe's targets map could not hold it. */
  private checkCapacity(profileId: string, spec: ProfileSpec): void {
    for (const { name: probe } of spec.probes) {
      const wanted = new Set(spec.targets);
      for (const other of this.profiles.values()) {
        if (other.id !== profileId && specOf(other, probe) !== undefined) other.spec.targets.forEach((t) => wanted.add(t));
      }
      const capacity = this.probes.get(probe)?.slots.capacity ?? DEFAULT_MAX_TARGETS;
      if (wanted.size > capacity) throw new TooManyTargetsError(profileId, probe, wanted.size, capacity);
    }
  }

  /**
   * Brings loaded probes and their targets maps in line with the registered
   * profiles. Probes that need loading load side by side, each on a worker
   * thread (BpfObject.loadAsync).
   */
  private async sync(): Promise<void> {
    const usersByProbe = new Map<ProbeName, Profile[]>();
    for (const profile of this.profiles.values()) {
      if (profile.spec.targets.length === 0) continue; // nothing of it runs here: it needs no probe
      for (const spec of profile.spec.probes) {
        const optionsError = (this.options.catalog[spec.name] as ProbeDefinition | undefined)?.optionsError?.(spec);
        if (optionsError !== undefined) {
          profile.failed.set(spec.name, { probe: spec.name, message: optionsError });
          continue;
        }
        const users = usersByProbe.get(spec.name) ?? [];
        if (!users.includes(profile)) usersByProbe.set(spec.name, [...users, profile]);
      }
    }
    for (const probe of [...this.probes.values()]) {
      if (!usersByProbe.has(probe.name)) this.unload(probe);
    }
    // Tried for all of its users already: update() retries.
    const toLoad = [...usersByProbe].filter(([name, users]) => !this.probes.has(name) && !users.every((u) => u.failed.has(name)));
    const loaded = await Promise.all(toLoad.map(([name, users]) => this.load(name, users)));
    for (const probe of loaded) {
      if (probe === undefined) continue;
      this.probes.set(probe.name, probe);
      for (const user of usersByProbe.get(probe.name) ?? []) user.failed.delete(probe.name);
    }
    for (const [name, users] of usersByProbe) {
      const probe = this.probes.get(name);
      if (probe === undefined) continue;
      if (!loaded.includes(probe) && !this.applyOptions(probe, users)) continue;
      this.retarget(probe, users);
    }
  }

  /** Opens, loads and attaches a probe for these users; undefined (and the users failed) when that fails. */
  private async load(name: ProbeName, users: Profile[]): Promise<LoadedProbe | undefined> {
    const definition = this.options.catalog[name] as ProbeDefinition | undefined;
    let object: BpfObject | undefined;
    let links: BpfLink[] = [];
    try {
      if (definition === undefined) throw new Error(`probe ${name} is not in this agent's catalog`);
      object = this.options.openObject(definition, name);
      definition.configure?.(object);
      await object.loadAsync();
      if (this.closed) throw new Error('the probe manager was closed while the probe loaded');
      const targetsMap = object.map(TARGETS_MAP);
      const specs = usersSpecs(name, users);
      definition.applyOptions?.(object, specs);
      links = definition.attach(object, specs);
      const linker = definition.targetLinker?.(object);
      let loaded: LoadedProbe | undefined;
      // Events only arrive once the reader polls, by which time `loaded` is set.
      const reader = definition.reader(object, (event) => loaded && this.routeEvent(loaded, event));
      loaded = {
        name,
        definition,
        object,
        targetsMap,
        links,
        targetLinks: [],
        linker,
        appliedOptions: JSON.stringify(specs),
        attachSetting: definition.attachSetting?.(specs),
        reader,
        targets: new Map(),
        slots: new SlotAllocator(targetsMap.maxEntries),
        users: new Set(),
      };
      this.log.info({ probe: name, links: links.length }, 'probe loaded and attached');
      return loaded;
    } catch (err) {
      for (const link of links) link.destroy();
      object?.close();
      const failure = probeFailure(name, err);
      for (const user of users) user.failed.set(name, failure);
      this.log.error(
        { probe: name, err: failure.message, program: failure.program, verifierLog: failure.verifierLog },
        'probe failed to load',
      );
      return undefined;
    }
  }

  /** Releases everything the probe holds even when one step fails, so nothing stays attached. */
  private unload(probe: LoadedProbe): void {
    this.probes.delete(probe.name);
    const steps: [string, () => void][] = [
      ['collect', () => this.collectProbe(probe)], // counts since the last collect belong to the profiles leaving
      ['close reader', () => probe.reader.close()],
      ...[...probe.links, ...probe.targetLinks].map((link): [string, () => void] => ['destroy link', () => link.destroy()]),
      ['close object', () => probe.object.close()],
    ];
    for (const [step, run] of steps) {
      try {
        run();
      } catch (err) {
        this.log.error({ probe: probe.name, err }, `probe unload: ${step} failed`);
      }
    }
    this.log.info({ probe: probe.name }, 'probe detached');
  }

  /**
   * Sets the kernel side of a loaded probe for its users' options, before
   * their cgroups enter the targets map: applyOptions, then a collect so that
   * what it enables (a syscall's own histogram) and the counts it goes with
   * start from the same moment; and new links when attachSetting changed (the
   * object, its maps and counts stay). false when re-attaching failed: the
   * probe is then unloaded and failed for its users, until update() retries.
   */
  private applyOptions(probe: LoadedProbe, users: Profile[]): boolean {
    const specs = usersSpecs(probe.name, users);
    const options = JSON.stringify(specs);
    if (options === probe.appliedOptions) return true;
    const { definition } = probe;
    if (definition.applyOptions !== undefined) {
      definition.applyOptions(probe.object, specs);
      this.collectProbe(probe);
    }
    probe.appliedOptions = options;
    const setting = definition.attachSetting?.(specs);
    if (setting === probe.attachSetting) return true;
    try {
      for (const link of probe.links.splice(0)) link.destroy();
      probe.links = definition.attach(probe.object, specs);
      probe.attachSetting = setting;
      this.log.info({ probe: probe.name, setting, links: probe.links.length }, 'probe re-attached for new options');
      return true;
    } catch (err) {
      const failure = probeFailure(probe.name, err);
      this.unload(probe);
      for (const user of users) user.failed.set(probe.name, failure);
      this.log.error({ probe: probe.name, setting, err: failure.message }, 'probe failed to re-attach; detached');
      return false;
    }
  }

  /** Rewrites the probe's targets map for these users, after routing what was counted under the old one. */
  private retarget(probe: LoadedProbe, users: Profile[]): void {
    const wanted = new Map<bigint, { mask: bigint; flags: number }>();
    const usersByCgroup = new Map<bigint, Profile[]>();
    for (const user of users) {
      for (const cgroupId of user.spec.targets) usersByCgroup.set(cgroupId, [...(usersByCgroup.get(cgroupId) ?? []), user]);
    }
    for (const [cgroupId, targeting] of usersByCgroup) {
      const mask = targeting.reduce((m, user) => m | (1n << BigInt(user.slot)), 0n);
      wanted.set(cgroupId, { mask, flags: probe.definition.targetFlags?.(usersSpecs(probe.name, targeting)) ?? 0 });
    }
    const same = (id: bigint, w: { mask: bigint; flags: number }) => {
      const current = probe.targets.get(id);
      return current?.mask === w.mask && current.flags === w.flags;
    };
    const changed = wanted.size !== probe.targets.size || [...wanted].some(([id, w]) => !same(id, w));
    if (changed) this.collectProbe(probe);
    for (const [cgroupId, entry] of [...probe.targets]) {
      if (wanted.has(cgroupId)) continue;
      probe.targetsMap.delete(encodeTargetKey(cgroupId));
      probe.definition.syncTarget?.(probe.object, cgroupId, undefined);
      probe.targets.delete(cgroupId);
      probe.slots.release(entry.slot);
    }
    for (const [cgroupId, { mask, flags }] of wanted) {
      if (same(cgroupId, { mask, flags })) continue;
      const slot = probe.targets.get(cgroupId)?.slot ?? probe.slots.allocate();
      // checkCapacity keeps us from here unless the object's map is smaller than DEFAULT_MAX_TARGETS
      if (slot === undefined) throw new Error(`probe ${probe.name}: its targets map is full (${probe.slots.capacity} cgroups)`);
      const entry = { mask, slot, flags };
      const value = encodeTargetValue(entry);
      probe.targetsMap.update(encodeTargetKey(cgroupId), value);
      probe.definition.syncTarget?.(probe.object, cgroupId, value);
      probe.targets.set(cgroupId, entry);
    }
    probe.users = new Set(users.map((u) => u.id));
    this.linkTargets(probe);
  }

  /** Adds the links its linker makes for the processes of the probe's targets; a failure costs those links, not the probe. */
  private linkTargets(probe: LoadedProbe): void {
    if (probe.linker === undefined) return;
    try {
      const { links, problems } = probe.linker.link([...probe.targets.keys()]);
      probe.targetLinks.push(...links);
      if (links.length > 0) this.log.info({ probe: probe.name, links: links.length }, 'probe attached for new target processes');
      for (const problem of problems) this.log.warn({ probe: probe.name, problem }, 'probe could not attach for a target process');
    } catch (err) {
      this.log.error({ probe: probe.name, err }, 'probe failed to attach for its target processes');
    }
  }

  private profilesInMask(probe: LoadedProbe, mask: bigint): Profile[] {
    return [...this.profiles.values()].filter((p) => probe.users.has(p.id) && ((mask >> BigInt(p.slot)) & 1n) === 1n);
  }

  private collectProbe(probe: LoadedProbe): void {
    const deltas = probe.reader.collect();
    for (const [cgroupId, delta] of deltas) {
      const target = probe.targets.get(cgroupId);
      if (target === undefined) continue; // counted for a cgroup no profile targets any more
      for (const profile of this.profilesInMask(probe, target.mask)) {
        const spec = specOf(profile, probe.name);
        const result = spec === undefined || probe.definition.forProfile === undefined ? delta : probe.definition.forProfile(spec, delta);
        if (result !== undefined) this.accumulate(profile, probe.name, cgroupId, result as ResultOf<typeof probe.name>);
      }
    }
  }

  private accumulate<N extends ProbeName>(profile: Profile, probe: N, cgroupId: bigint, delta: ResultOf<N>): void {
    const byCgroup = (profile.results[probe] ?? new Map()) as Map<bigint, ResultOf<N>>;
    (profile.results as Record<N, Map<bigint, ResultOf<N>>>)[probe] = byCgroup;
    const before = byCgroup.get(cgroupId);
    const merged = before === undefined ? delta : mergeProbeResults(probe, [before, delta]);
    byCgroup.set(cgroupId, withTopLists(probe, merged, (list) => foldTop(list, this.maxTopKeys)));
  }

  private routeEvent(probe: LoadedProbe, event: ProbeEvent): void {
    const profileIds = this.profilesInMask(probe, event.profileMask).map((p) => p.id);
    if (profileIds.length > 0) this.options.onEvent?.(event, profileIds);
  }
}
