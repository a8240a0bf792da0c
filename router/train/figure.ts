// A figure as a list of drawing operations in layout units, so one layout renders to SVG (here) and to
// PNG (png.ts) alike.
export type Op =
  | { t: 'rect'; x: number; y: number; w: number; h: number; fill?: string; stroke?: string }
  | { t: 'path'; points: [number, number][]; color: string; width: number; dash?: number[] }
  | { t: 'circle'; cx: number; cy: number; r: number; fill?: string; stroke?: string; width?: number }
  | { t: 'text'; x: number; y: number; text: string; size: number; color?: string; anchor?: 'start' | 'middle' | 'end'; rotate?: number; bold?: boolean };

export interface Figure {
  width: number;
  height: number;
  ops: Op[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (v: number) => +v.toFixed(2);

function svgOp(op: Op): string {
  switch (op.t) {
    case 'rect':
      return `<rect x="${n(op.x)}" y="${n(op.y)}" width="${n(op.w)}" height="${n(op.h)}" fill="${op.fill ?? 'none'}"${op.stroke ? ` stroke="${op.stroke}"` : ''}/>`;
    case 'path': {
      const d = op.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${n(x)},${n(y)}`).join(' ');
      return `<path d="${d}" fill="none" stroke="${op.color}" stroke-width="${op.width}"${op.dash ? ` stroke-dasharray="${op.dash.join(' ')}"` : ''}/>`;
    }
    case 'circle':
      return `<circle cx="${n(op.cx)}" cy="${n(op.cy)}" r="${op.r}" fill="${op.fill ?? 'none'}"${op.stroke ? ` stroke="${op.stroke}" stroke-width="${op.width ?? 1}"` : ''}/>`;
    case 'text': {
      const rot = op.rotate ? ` transform="rotate(${op.rotate} ${n(op.x)} ${n(op.y)})"` : '';
      return `<text x="${n(op.x)}" y="${n(op.y)}" font-size="${op.size}" fill="${op.color ?? '#000000'}" text-anchor="${op.anchor ?? 'start'}"${op.bold ? ' font-weight="bold"' : ''}${rot}>${esc(op.text)}</text>`;
    }
  }
}

export function figureToSvg(fig: Figure): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${fig.width}" height="${fig.height}" viewBox="0 0 ${fig.width} ${fig.height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    ...fig.ops.map(svgOp),
    '</svg>',
    '',
  ].join('\n');
}
