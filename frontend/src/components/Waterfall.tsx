// A sampled request as a waterfall: one bar per span (visit), indented under its parent,
// queueing (sent → start) lighter than service (start → end), failures in red.
import type { Result } from "../api";

interface Span {
  span_id: string; parent_span_id: string | null; component: string; operation: string;
  replica: number | null; sent_s: number; start_s: number | null; end_s: number | null;
  status: string; attempt: number; kind: string;
}

export function Waterfall({ trace }: { trace: Result }) {
  const spans = trace.spans as Span[];
  const depth = new Map<string, number>();
  for (const span of spans) depth.set(span.span_id, span.parent_span_id ? (depth.get(span.parent_span_id) ?? 0) + 1 : 0);
  const t0 = Math.min(...spans.map((s) => s.sent_s));
  const t1 = Math.max(...spans.map((s) => s.end_s ?? s.start_s ?? s.sent_s), t0 + 1e-6);
  const width = 560;
  const scale = (t: number) => ((t - t0) / (t1 - t0)) * width;
  const ms = (s: number) => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return (
    <table className="waterfall" data-testid="waterfall">
      <tbody>
        {spans.map((span) => {
          const start = span.start_s ?? span.end_s ?? span.sent_s;
          const end = span.end_s ?? start;
          return (
            <tr key={span.span_id}>
              <td className="wf-name" style={{ paddingLeft: 6 + 14 * (depth.get(span.span_id) ?? 0) }}>
                {span.component}.{span.operation}{span.replica !== null ? ` [${span.replica}]` : ""}
                {span.kind !== "entry" && span.kind !== "call" ? <span className="hint"> {span.kind} {span.attempt}</span> : null}
              </td>
              <td>
                <svg width={width} height={16} role="img" aria-label={`${span.component} ${span.status}`}>
                  <rect x={scale(span.sent_s)} y={5} width={Math.max(1, scale(start) - scale(span.sent_s))} height={6} fill="#c9d6ea" />
                  <rect x={scale(start)} y={2} width={Math.max(1.5, scale(end) - scale(start))} height={12}
                    fill={span.status === "ok" ? "#1b5fc1" : "#d1495b"} rx={2} />
                </svg>
              </td>
              <td className="wf-time">{ms(end - span.sent_s)} {span.status !== "ok" ? <span className="bad">{span.status}</span> : null}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
