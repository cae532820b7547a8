// One small icon per component kind (and for workloads), drawn inline: no icon font, no CDN.
import type { NodeKind } from "../model/graph";

const PATHS: Record<NodeKind, string> = {
  service: "M4 5h16v14H4z M4 9h16",
  gateway: "M12 3l9 9-9 9-9-9z M8 12h8 M13 9l3 3-3 3",
  database: "M5 6c0-1.7 3.1-3 7-3s7 1.3 7 3v12c0 1.7-3.1 3-7 3s-7-1.3-7-3z M5 6c0 1.7 3.1 3 7 3s7-1.3 7-3 M5 12c0 1.7 3.1 3 7 3s7-1.3 7-3",
  cache: "M13 2L5 14h6l-1 8 8-12h-6z",
  queue: "M3 7h18 M3 12h18 M3 17h18 M17 4l4 3-4 3",
  external: "M12 3a9 9 0 100 18 9 9 0 000-18z M3 12h18 M12 3c3 3 3 15 0 18 M12 3c-3 3-3 15 0 18",
  workload: "M9 8a3 3 0 100-.01z M3 20c0-3.3 2.7-6 6-6s6 2.7 6 6 M16 12h6 M19 9l3 3-3 3",
};

export function KindIcon({ kind, size = 20 }: { kind: NodeKind; size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor"
      strokeWidth={1.7} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={PATHS[kind]} />
    </svg>
  );
}
