/** Terminal and SVG renderings of Fisher matrices. */

const SHADES = [' ', '░', '▒', '▓', '█'];

/**
 * Scales values to [0, 1]: log10 between the smallest positive value and the maximum when they
 * span more than two decades (Fisher values usually do), else linear from 0 to the maximum.
 */
export function scaler(values: ArrayLike<number>): {
  scale: (v: number) => number;
  log: boolean;
  min: number;
  max: number;
} {
  let max = 0;
  let minPos = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > max) max = v;
    if (v > 0 && v < minPos) minPos = v;
  }
  if (max <= 0) return { scale: () => 0, log: false, min: 0, max: 0 };
  if (minPos < max / 100) {
    const lo = Math.log10(minPos);
    const span = Math.log10(max) - lo || 1;
    return {
      scale: (v) => (v <= 0 ? 0 : Math.max(0, Math.min(1, (Math.log10(v) - lo) / span))),
      log: true,
      min: minPos,
      max,
    };
  }
  return { scale: (v) => Math.max(0, Math.min(1, v / max)), log: false, min: 0, max };
}

/** One shade character per value (space = lowest, full block = highest). */
export function shade(x: number): string {
  if (x <= 0) return SHADES[0];
  return SHADES[Math.min(SHADES.length - 1, 1 + Math.floor(x * (SHADES.length - 1)))];
}

/** Rows x cols heatmap in unicode shade blocks, each cell two characters wide, with labels. */
export function terminalHeatmap(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  options: { rowLabel?: (r: number) => string; title?: string } = {},
): string {
  const { scale, log, min, max } = scaler(data);
  const label = options.rowLabel ?? ((r: number) => `L${r}`);
  const width = Math.max(...Array.from({ length: rows }, (_, r) => label(r).length));
  const lines: string[] = [];
  if (options.title) lines.push(options.title);
  const header =
    ' '.repeat(width + 1) + Array.from({ length: cols }, (_, c) => String(c % 100).padStart(2)).join('');
  lines.push(header);
  for (let r = 0; r < rows; r++) {
    let s = `${label(r).padStart(width)} `;
    for (let c = 0; c < cols; c++) {
      const ch = shade(scale(data[r * cols + c]));
      s += ch + ch;
    }
    lines.push(s);
  }
  lines.push(
    `${' '.repeat(width + 1)}scale (${log ? 'log' : 'linear'}): ' '=${log ? fmt(min) : '0'} ... '█'=${fmt(max)}`,
  );
  return lines.join('\n');
}

export function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** Sorted copy and quantiles (linear interpolation between order statistics). */
export function quantiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  const s = Float64Array.from(values as ArrayLike<number>).sort();
  if (s.length === 0) return qs.map(() => NaN);
  return qs.map((q) => {
    const pos = q * (s.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  });
}

/** Per-layer summary of an [L, I] neuron Fisher: mean, median, max and a sorted profile. */
export function neuronSummary(neuron: ArrayLike<number>, layers: number, intermediate: number) {
  return Array.from({ length: layers }, (_, l) => {
    const row = Array.prototype.slice.call(neuron, l * intermediate, (l + 1) * intermediate) as number[];
    const sum = row.reduce((a, b) => a + b, 0);
    const [min, p10, median, p90, max] = quantiles(row, [0, 0.1, 0.5, 0.9, 1]);
    return { layer: l, mean: sum / intermediate, min, p10, median, p90, max };
  });
}
