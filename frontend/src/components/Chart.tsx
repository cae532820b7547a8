// A time chart (uPlot): lines per key, the warm-up and fault windows shaded, and the replay
// time as a vertical line that moves without redrawing the data.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { tickDecimals, tickRoom, ticks } from "../model/ticks";

export interface Band { from: number; to: number; label: string; colour: string }
export interface ChartProps {
  title: string;
  unit: string;
  xMax: number;
  x: number[];
  lines: { label: string; values: (number | null)[] }[];
  bands: Band[];
  cursor: number | null;
  onPick?: (t: number) => void;
}

/** An axis's ticks at round steps, one per `spacing` px of its length at most, labelled with
 * the step's decimals. */
function roundTicks(spacing: number, horizontal: boolean): Pick<uPlot.Axis, "splits" | "values"> {
  return {
    splits: (u, _axis, min, max) =>
      ticks(min, max, tickRoom((horizontal ? u.bbox.width : u.bbox.height) / devicePixelRatio, spacing)),
    values: (_u, splits) => {
      const digits = splits.length > 1 ? tickDecimals(splits[1] - splits[0]) : 0;
      return splits.map((v) => v.toLocaleString(undefined, { maximumFractionDigits: digits }));
    },
  };
}

export const PALETTE = ["#1b5fc1", "#d1495b", "#2a9d8f", "#e9a23b", "#7b4fc9", "#4d5b6a", "#c2185b", "#00897b"];

export function Chart({ title, unit, xMax, x, lines, bands, cursor, onPick }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const cursorRef = useRef(cursor);
  const bandsRef = useRef(bands);
  const pick = useRef(onPick);
  pick.current = onPick;
  bandsRef.current = bands;

  useEffect(() => {
    const el = host.current!;
    const opts: uPlot.Options = {
      width: el.clientWidth || 400, height: 170,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      // y from 0, so that 0.79–0.81 does not look like a swing from nothing to everything
      scales: { x: { time: false, range: [0, xMax] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
      // the y axis as wide as its longest tick label ("51,000"), so its unit never covers it
      axes: [{ label: "t (s)", size: 34, labelSize: 14, ...roundTicks(50, true) },
        { label: unit, labelSize: 14, ...roundTicks(25, false), size: (_u, values) => Math.max(52, 24 + 7 * Math.max(0, ...(values ?? []).map((v) => String(v).length))) }],
      series: [{}, ...lines.map((line, i) => ({ label: line.label, stroke: PALETTE[i % PALETTE.length], width: 1.6, spanGaps: false }))],
      hooks: {
        drawClear: [(u: uPlot) => {
          const ctx = u.ctx;
          for (const band of bandsRef.current) {
            const left = u.valToPos(band.from, "x", true);
            const right = u.valToPos(Math.min(band.to, u.scales.x.max ?? band.to), "x", true);
            if (right <= left) continue;
            ctx.fillStyle = band.colour;
            ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
          }
        }],
        draw: [(u: uPlot) => {
          const t = cursorRef.current;
          if (t === null) return;
          const px = u.valToPos(t, "x", true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "#111";
          ctx.lineWidth = 1.5 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(px, u.bbox.top);
          ctx.lineTo(px, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.restore();
        }],
      },
    };
    const chart = new uPlot(opts, [x, ...lines.map((l) => l.values)] as uPlot.AlignedData, el);
    plot.current = chart;
    const click = () => {
      const left = chart.cursor.left;
      if (left !== undefined && left >= 0) pick.current?.(chart.posToVal(left, "x"));
    };
    chart.over.addEventListener("click", click);
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height: 170 }));
    resize.observe(el);
    return () => { resize.disconnect(); chart.destroy(); };
  }, [x, lines, unit, xMax]);

  useEffect(() => {
    cursorRef.current = cursor;
    plot.current?.redraw(false);
  }, [cursor, bands]);

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={host} />
    </figure>
  );
}
