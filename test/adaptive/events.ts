import diagnostics from 'node:diagnostics_channel';

/** Collects every event published on `name` until `stop()`. */
export function collect<T>(name: string): { events: T[]; stop: () => void } {
  const events: T[] = [];
  const listener = (message: unknown) => events.push(message as T);
  diagnostics.subscribe(name, listener);
  return { events, stop: () => diagnostics.unsubscribe(name, listener) };
}
