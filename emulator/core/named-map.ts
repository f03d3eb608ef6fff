/**
 * A Map of resources by SID that also finds them by unique name in O(1): Sync addresses a map or a document by either,
 * and a scan of every map per request made the emulator's cost grow with the number of agents (one map each), which
 * Twilio's does not. A unique name is fixed when the resource is created (Sync's update endpoints cannot change it),
 * so the index is kept by set, delete and clear alone.
 */
export class NamedMap<T extends { uniqueName: string | null }> extends Map<string, T> {
  private readonly sidByName = new Map<string, string>();

  /** Starts empty: Map's constructor would call set() for initial entries before the index exists. */
  constructor() {
    super();
  }

  override set(sid: string, value: T): this {
    const holder = value.uniqueName == null ? undefined : this.sidByName.get(value.uniqueName);
    // The create endpoints answer 409 / 54301 before this: a second holder of a name is a bug of the emulator's.
    if (holder !== undefined && holder !== sid)
      throw new Error(`unique name ${value.uniqueName} is taken by ${holder}`);
    this.unindex(sid);
    super.set(sid, value);
    if (value.uniqueName != null) this.sidByName.set(value.uniqueName, sid);
    return this;
  }

  override delete(sid: string): boolean {
    this.unindex(sid);
    return super.delete(sid);
  }

  override clear(): void {
    this.sidByName.clear();
    super.clear();
  }

  /** The resource whose unique name is `name`, if any. */
  byName(name: string): T | undefined {
    const sid = this.sidByName.get(name);
    return sid === undefined ? undefined : super.get(sid);
  }

  /** The resource whose SID or unique name is `id`. */
  find(id: string): T | undefined {
    return super.get(id) ?? this.byName(id);
  }

  private unindex(sid: string): void {
    const name = super.get(sid)?.uniqueName;
    if (name != null && this.sidByName.get(name) === sid) this.sidByName.delete(name);
  }
}
