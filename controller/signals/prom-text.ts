// A minimal parser of the Prometheus text exposition format (version 0.0.4), enough to read what prom-client
// and vLLM serve: `# HELP` / `# TYPE` comments (skipped), and sample lines
//   name{label="value",...} value [timestamp]
// with label values escaped as \\, \" and \n, values as Go floats (NaN, +Inf, -Inf included).
// prom-client has no parser and the npm parsers we found are unmaintained, so this is ours (tested against
// prom-client's own output). A malformed line is an error naming its line number: a router serving garbage
// must show up as a failed scrape, not as zeros.

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export class PromParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'PromParseError';
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(s: string, line: number): number {
  switch (s) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) throw new PromParseError(`bad value "${s}"`, line);
  return v;
}

/** Labels from `text` starting just after "{"; returns them and the index just after "}". */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start;
  const skipSpace = () => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  for (;;) {
    skipSpace();
    if (text[i] === '}') return { labels, end: i + 1 };
    const name = LABEL.exec(text.slice(i))?.[0];
    if (!name) throw new PromParseError(`bad label name at column ${i + 1}`, line);
    i += name.length;
    skipSpace();
    if (text[i] !== '=') throw new PromParseError(`expected "=" after label ${name}`, line);
    i++;
    skipSpace();
    if (text[i] !== '"') throw new PromParseError(`expected a quoted value for label ${name}`, line);
    i++;
    let value = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) throw new PromParseError(`unterminated value of label ${name}`, line);
      i++;
      if (ch === '"') break;
      if (ch === '\\') {
        const esc = text[i++];
        if (esc === 'n') value += '\n';
        else if (esc === '\\' || esc === '"') value += esc;
        else throw new PromParseError(`bad escape \\${esc ?? ''} in label ${name}`, line);
      } else value += ch;
    }
    labels[name] = value;
    skipSpace();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new PromParseError(`expected "," or "}" after label ${name}`, line);
  }
}

export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    const name = NAME.exec(s)?.[0];
    if (!name) throw new PromParseError(`bad metric name in "${s.slice(0, 60)}"`, line);
    let i = name.length;
    while (s[i] === ' ' || s[i] === '\t') i++;
    let labels: Record<string, string> = {};
    if (s[i] === '{') {
      const parsed = parseLabels(s, i + 1, line);
      labels = parsed.labels;
      i = parsed.end;
    }
    const rest = s.slice(i).trim().split(/[ \t]+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new PromParseError(`expected "value [timestamp]" after ${name}`, line);
    const sample: PromSample = { name, labels, value: parseValue(rest[0]!, line) };
    if (rest[1] !== undefined) {
      const ts = Number(rest[1]);
      if (!Number.isInteger(ts)) throw new PromParseError(`bad timestamp "${rest[1]}"`, line);
      sample.timestampMs = ts;
    }
    out.push(sample);
  });
  return out;
}
