import type { LoggerService } from '@nestjs/common';

/** One line a Nest logger was asked to write. */
export interface LogLine {
  readonly level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  readonly text: string;
}

/**
 * A Nest `LoggerService` that keeps every line (message and every extra argument, context
 * included, as text) for assertions, at every level, and prints nothing.
 */
export class CapturingLogger implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.keep('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.keep('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.keep('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.keep('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.keep('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.keep('fatal', message, rest);
  }

  /** Every line as one string, for `toContain` / `not.toMatch`. */
  get text(): string {
    return this.lines.map((line) => `[${line.level}] ${line.text}`).join('\n');
  }

  /** Lines at `level` that contain `fragment`. */
  find(level: LogLine['level'], fragment: string): LogLine[] {
    return this.lines.filter((line) => line.level === level && line.text.includes(fragment));
  }

  private keep(level: LogLine['level'], message: unknown, rest: unknown[]): void {
    const text = [message, ...rest].map((part) => textOf(part)).join(' ');
    this.lines.push({ level, text });
  }
}

function textOf(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return `${part.name}: ${part.message}\n${part.stack ?? ''}`;
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}
