/** Bounded memory for maps whose insertion order is their recency order (limiters, abuse trackers). */

/** How far into the least recently used entries an eviction looks for a spare one. */
const EVICTION_SCAN = 32;

/**
 * Removes entries until `map` holds at most `max`, never `keep` (the entry just added). Among the
 * {@link EVICTION_SCAN} least recently used it prefers one that `spare` says loses nothing (a full
 * bucket, an ended window: the same as a new one); else the least recently used goes. Returns
 * how many it removed.
 */
export function evictLeastRecent<V>(map: Map<string, V>, max: number, keep: string, spare: (value: V) => boolean): number {
  let removed = 0;
  while (map.size > max) {
    let victim: string | undefined;
    let oldest: string | undefined;
    let scanned = 0;
    for (const [key, value] of map) {
      if (key === keep) continue;
      oldest ??= key;
      if (spare(value)) {
        victim = key;
        break;
      }
      if (++scanned >= EVICTION_SCAN) break;
    }
    const chosen = victim ?? oldest;
    if (chosen === undefined) break;
    map.delete(chosen);
    removed++;
  }
  return removed;
}
