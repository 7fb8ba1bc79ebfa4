/** What calling something did: threw synchronously, returned, or returned a promise that settled. */
export type Outcome =
  | { how: 'threw'; error: unknown }
  | { how: 'rejected'; error: unknown }
  | { how: 'returned' | 'resolved'; value: unknown };

/** Runs `run` and reports how it ended, waiting for a returned promise. */
export async function outcomeOf(run: () => unknown): Promise<Outcome> {
  let value: unknown;
  try {
    value = run();
  } catch (error) {
    return { how: 'threw', error };
  }
  if (value instanceof Promise) {
    try {
      return { how: 'resolved', value: await value };
    } catch (error) {
      return { how: 'rejected', error };
    }
  }
  return { how: 'returned', value };
}

/** The error a row expects: its class, its stable `code` (if the class has one) and its message. */
export interface ExpectedError {
  readonly type: abstract new (...args: never[]) => Error;
  readonly code?: string;
  readonly message: RegExp;
  /** How it must surface: a synchronous throw, or a rejected promise. */
  readonly how: 'threw' | 'rejected';
}

/**
 * Everything wrong with `outcome` against `expected`, as readable lines; empty when it
 * matches. A bare `TypeError` from deep inside is always wrong, whatever the row expects.
 */
export function errorProblems(outcome: Outcome, expected: ExpectedError): string[] {
  if ('value' in outcome) {
    return [`${outcome.how} ${describe(outcome.value)} instead of failing`];
  }
  const error = outcome.error as (Error & { code?: unknown }) | undefined;
  const problems: string[] = [];
  if (error instanceof TypeError) {
    problems.push(`bare TypeError: ${error.message}`);
  }
  if (outcome.how !== expected.how) {
    problems.push(`${outcome.how} where it should have ${expected.how}`);
  }
  if (!(error instanceof expected.type)) {
    const kind = (outcome.error as { constructor?: { name?: string } } | null | undefined)
      ?.constructor?.name;
    problems.push(`${kind ?? typeof outcome.error}, want ${expected.type.name}`);
  }
  if (expected.code !== undefined && error?.code !== expected.code) {
    problems.push(`code ${String(error?.code)}, want ${expected.code}`);
  }
  if (!expected.message.test(String(error?.message))) {
    problems.push(`message ${JSON.stringify(error?.message)} does not match ${expected.message}`);
  }
  return problems;
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  return typeof value === 'object'
    ? `an object (${(value as object).constructor?.name})`
    : typeof value;
}

/** A bad value as a test title shows it: strings quoted, bigints with `n`, objects by kind. */
export function titleOf(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol' || typeof value === 'number') return String(value);
  if (typeof value === 'function')
    return value.name ? `function ${value.name}` : 'an arrow function';
  if (Array.isArray(value)) return `[${value.map(titleOf).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const kind =
      Object.getPrototypeOf(value) === null ? 'null-prototype object' : value.constructor.name;
    return kind === 'Object' ? '{ ... }' : `a ${kind}`;
  }
  return String(value);
}

/** `text` with regex metacharacters escaped. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
