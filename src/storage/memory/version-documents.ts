/**
 * The in-memory twin of sqlite/version-documents.ts: documents kept with a model version as JSON
 * text (so what goes in and what comes out never alias), by id, and newest first for a model or one
 * of its versions. A second put of an id replaces the document and keeps its place, as the SQLite
 * upsert keeps its sequence.
 */
export interface MemoryVersionDocuments<T> {
  put(doc: T & { readonly id: string; readonly model: string; readonly version: number }): void;
  get(id: string): T | undefined;
  /** Newest first, of `version` when given, at most `limit`. */
  list(model: string, version: number | undefined, limit: number): T[];
}

export function memoryVersionDocuments<T>(): MemoryVersionDocuments<T> {
  // in insertion order: newest last
  const docs: { id: string; model: string; version: number; text: string }[] = [];
  const parse = (text: string): T => JSON.parse(text) as T;
  return {
    put(doc) {
      const entry = { id: doc.id, model: doc.model, version: doc.version, text: JSON.stringify(doc) };
      const at = docs.findIndex((d) => d.id === doc.id);
      if (at >= 0) docs[at] = entry;
      else docs.push(entry);
    },
    get(id) {
      const found = docs.find((d) => d.id === id);
      return found === undefined ? undefined : parse(found.text);
    },
    list(model, version, limit) {
      return docs
        .filter((d) => d.model === model && (version === undefined || d.version === version))
        .reverse()
        .slice(0, limit)
        .map((d) => parse(d.text));
    },
  };
}
