// A small PNG backend for figures (no dependencies): an RGB raster with lines, dashes, discs, rings and a
// 5x7 bitmap font of our own drawing, deflated with node:zlib. Enough for a readable chart; not a canvas.
import { deflateSync } from 'node:zlib';
import type { Figure, Op } from './figure.js';

// 5x7 glyphs for ' '..'~': 7 rows per glyph, each row 5 bits (left = high bit) as one base-32 digit.
const ASCII =
  '00000004444404aa00000aavavaa4fke5u4op248j3cik8lid44000002488842842224804lel40044v440' +
  '0000c48000v00000000cc01248g0ehjlphe4c4444eeh1248vv2421he26aiv22vgu11he68guhhev124888' +
  'ehhehheehhf12c0cc0cc00cc0c48248g84200v0v008421248eh12404eh1dlleehhvhhhuhhuhhuehggghe' +
  'sihhhisvgguggvvggugggehgnhhfhhhvhhhe44444e72222ichikokihggggggvhrllhhhhhpljhhehhhhhe' +
  'uhhugggehhhliduhhukihfgge11uv444444hhhhhhehhhhha4hhhlllahha4ahhhhha444v1248gve88888e' +
  '0g84210e22222e4ah0000000000v840000000e1fhfggmphhu00egghe11djhhf00ehvge698s8880fhhf1e' +
  'ggmphhh40c444e20622icggikokic44444e00qllhh00mphhh00ehhhe00uhugg00djf1100mpggg00ege1u' +
  '88s889600hhhjd00hhha400hhlla00ha4ah00hhf1e00v248v244844244444448442448008l200';
const EXTRA: Record<string, string> = { 'Δ': '044aahv', '…': '000000l' };
// Letters with a descender, drawn two rows lower (their rows start at the x-height).
const DESCENDERS: Record<string, string> = { g: 'fhhf11e', p: 'uhhuggg', q: 'fhhf111', y: 'hhhf11e' };

function glyph(ch: string): { rows: number[]; drop: number } {
  const code = ch.charCodeAt(0);
  const low = DESCENDERS[ch];
  const s = low ?? EXTRA[ch] ?? (code >= 32 && code <= 126 ? ASCII.slice((code - 32) * 7, (code - 31) * 7) : '0hh4400'); // unknown: a box-ish mark
  return { rows: [...s].map((d) => parseInt(d, 32)), drop: low ? 2 : 0 };
}

type Rgb = [number, number, number];

function parseColor(c: string): Rgb {
  const m = /^#([0-9a-f]{6})$/i.exec(c);
  if (!m) return c === 'white' ? [255, 255, 255] : [0, 0, 0];
  const v = parseInt(m[1]!, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

export class Raster {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 3).fill(255);
  }

  dot(x: number, y: number, c: Rgb, alpha = 1): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const o = (yi * this.width + xi) * 3;
    for (let k = 0; k < 3; k++) this.data[o + k] = Math.round(this.data[o + k]! * (1 - alpha) + c[k]! * alpha);
  }

  disc(cx: number, cy: number, r: number, c: Rgb): void {
    for (let y = Math.floor(cy - r); y <= Math.ceil(cy + r); y++) {
      for (let x = Math.floor(cx - r); x <= Math.ceil(cx + r); x++) {
        const d = Math.hypot(x - cx, y - cy);
        if (d <= r + 0.5) this.dot(x, y, c, Math.min(1, r + 0.5 - d));
      }
    }
  }

  ring(cx: number, cy: number, r: number, width: number, c: Rgb): void {
    for (let y = Math.floor(cy - r - width); y <= Math.ceil(cy + r + width); y++) {
      for (let x = Math.floor(cx - r - width); x <= Math.ceil(cx + r + width); x++) {
        const d = Math.abs(Math.hypot(x - cx, y - cy) - r);
        if (d <= width / 2 + 0.5) this.dot(x, y, c, Math.min(1, width / 2 + 0.5 - d));
      }
    }
  }

  /** A thick line by stamping discs every half pixel; `dash` = [on, off] lengths. */
  line(x1: number, y1: number, x2: number, y2: number, width: number, c: Rgb, dash?: number[], phase = 0): number {
    const len = Math.hypot(x2 - x1, y2 - y1);
    const period = dash ? dash[0]! + dash[1]! : 0;
    for (let s = 0; s <= len; s += 0.5) {
      if (dash && (phase + s) % period >= dash[0]!) continue;
      const t = len === 0 ? 0 : s / len;
      if (width <= 1.2) this.dot(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t, c);
      else this.disc(x1 + (x2 - x1) * t, y1 + (y2 - y1) * t, width / 2 - 0.5, c);
    }
    return phase + len;
  }

  /** Text with the bitmap font at an integer scale; rotate = -90 writes bottom to top. */
  text(x: number, y: number, s: string, scale: number, c: Rgb, anchor: 'start' | 'middle' | 'end', rotate = 0, bold = false): void {
    const advance = 6 * scale;
    const w = s.length * advance - scale;
    const start = anchor === 'start' ? 0 : anchor === 'middle' ? -w / 2 : -w;
    [...s].forEach((ch, i) => {
      const { rows, drop } = glyph(ch);
      rows.forEach((bits, row) => {
        for (let col = 0; col < 5; col++) {
          if (!(bits & (16 >> col))) continue;
          for (let dy = 0; dy < scale; dy++) {
            for (let dx = 0; dx < scale + (bold ? 1 : 0); dx++) {
              const u = start + i * advance + col * scale + dx; // along the text
              const v = (row + drop - 7) * scale + dy; // baseline at 0
              if (rotate === -90) this.dot(x + v, y - u, c);
              else this.dot(x + u, y + v, c);
            }
          }
        }
      });
    });
  }
}

function draw(r: Raster, op: Op, k: number): void {
  switch (op.t) {
    case 'rect':
      if (op.fill) for (let y = op.y; y < op.y + op.h; y++) r.line(op.x * k, y * k, (op.x + op.w) * k, y * k, k, parseColor(op.fill));
      if (op.stroke) {
        const c = parseColor(op.stroke);
        const [x1, y1, x2, y2] = [op.x * k, op.y * k, (op.x + op.w) * k, (op.y + op.h) * k];
        r.line(x1, y1, x2, y1, k, c), r.line(x2, y1, x2, y2, k, c), r.line(x2, y2, x1, y2, k, c), r.line(x1, y2, x1, y1, k, c);
      }
      return;
    case 'path': {
      let phase = 0;
      const dash = op.dash?.map((d) => d * k);
      for (let i = 1; i < op.points.length; i++) {
        const [a, b] = [op.points[i - 1]!, op.points[i]!];
        phase = r.line(a[0] * k, a[1] * k, b[0] * k, b[1] * k, op.width * k, parseColor(op.color), dash, phase);
      }
      return;
    }
    case 'circle':
      if (op.fill) r.disc(op.cx * k, op.cy * k, op.r * k, parseColor(op.fill));
      if (op.stroke) r.ring(op.cx * k, op.cy * k, op.r * k, (op.width ?? 1) * k, parseColor(op.stroke));
      return;
    case 'text': {
      // The 5x7 font at scale s stands in for a sans-serif of about 5.5 x s px (similar advance per character).
      const scale = Math.max(1, Math.round((op.size * k) / 11));
      r.text(op.x * k, op.y * k, op.text, scale, parseColor(op.color ?? '#000000'), op.anchor ?? 'start', op.rotate ?? 0, op.bold);
    }
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 255]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

export function encodePng(r: Raster): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(r.width, 0);
  ihdr.writeUInt32BE(r.height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const stride = r.width * 3;
  const raw = Buffer.alloc((stride + 1) * r.height);
  for (let y = 0; y < r.height; y++) raw.set(r.data.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter 0
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** Render a figure at `scale` pixels per layout unit. */
export function figureToPng(fig: Figure, scale = 2): Buffer {
  const r = new Raster(Math.round(fig.width * scale), Math.round(fig.height * scale));
  for (const op of fig.ops) draw(r, op, scale);
  return encodePng(r);
}
